"""The Configure dialog says which meter it configures and what its database keeps, in English and in French."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from _ha_api import HomeAssistantApi, wait_for
from _stack import DEFAULT_PROFILE, DOMAIN, add_meter
from playwright.sync_api import Page, expect

from .ui import log_in, numbers_shown, set_language

if TYPE_CHECKING:
    from .conftest import Meters

# Each language's button, the heading of the ledger's summary in the dialog, and its first words.
WORDS = {
    "en": ("Configure", "What your database keeps now", "At the per-minute privacy level, your database stores"),
    "fr": (
        "Configurer",
        "Ce que garde votre base de données aujourd'hui",
        "Au niveau de confidentialité « par minute », votre base de données enregistre",
    ),
}


def read_since(api: HomeAssistantApi, device_id: str, moment: str) -> bool:
    """Return whether one of the device's entities got a state from the meter after a moment (server time)."""
    template = (
        f"{{{{ expand(device_entities('{device_id}')) | selectattr('last_updated', '>', as_datetime('{moment}'))"
        " | rejectattr('state', 'in', ['unavailable', 'unknown']) | list | count }}"
    )
    return int(api.render_template(template)) > 0


def open_options(page: Page, api: HomeAssistantApi, language: str, title: str) -> None:
    """Open the meter's Configure dialog from the integration's page; wait for the summary."""
    button, heading, summary = WORDS[language]
    page.goto(f"{api.base_url}/config/integrations/integration/{DOMAIN}")
    page.get_by_role("button", name=button, exact=True).first.click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog.get_by_text(heading)).to_be_visible()
    expect(dialog.get_by_text(title).first).to_be_visible()  # which meter
    expect(dialog.get_by_text(summary)).to_be_visible()


def test_the_options_show_the_ledger(
    page: Page, home_assistant: HomeAssistantApi, meters: Meters, screenshots: Path, module_artifacts: Path
):
    """One meter added, its values flowing: the dialog shows its name and the ledger's summary in each language."""
    result = add_meter(home_assistant, meters.start(DEFAULT_PROFILE))
    (device_id,) = home_assistant.device_ids(DOMAIN)
    wait_for(partial(numbers_shown, home_assistant, device_id), timeout=300, interval=1, what="values")
    log_in(page, home_assistant)
    page.set_viewport_size({"width": 1280, "height": 1400})

    open_options(page, home_assistant, "en", result["title"])
    page.screenshot(path=screenshots / "options-ledger-en.png")
    page.screenshot(path=module_artifacts / "options-ledger-en-full.png", full_page=True)

    reloaded = home_assistant.render_template("{{ now().isoformat() }}")
    set_language(page, home_assistant, "fr")  # the entry reloads: wait for values read since (restored ones show)
    wait_for(partial(read_since, home_assistant, device_id, reloaded), timeout=300, interval=1, what="new values")
    open_options(page, home_assistant, "fr", result["title"])
    page.screenshot(path=screenshots / "options-ledger-fr.png")
