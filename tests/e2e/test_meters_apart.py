"""Two meters a household tells apart: named by it, a port typed in reconfigure, French words, a change of level."""

from __future__ import annotations

from pathlib import Path
import re
from typing import TYPE_CHECKING

from _ha_api import HomeAssistantApi, wait_for
from _stack import DOMAIN, add_meter
from playwright.sync_api import Locator, Page, expect
import pytest

from .ui import log_in, open_grid_dialog, open_import_picker, picker_items, set_language

if TYPE_CHECKING:
    from .conftest import Meters

# A house and its solar production: two meters, each named by the household in the config flow.
PROFILES = {"Maison": "standard_tri", "Production": "standard_producer"}
# Nothing listens there: the typed port must be the one probed, and refused.
NOBODY = "socket://127.0.0.1:1"


@pytest.fixture(scope="module")
def urls(meters: Meters) -> dict[str, str]:
    """Serve the two meters; return each name's address."""
    return {name: meters.start(profile) for name, profile in PROFILES.items()}


@pytest.fixture(scope="module")
def entries(home_assistant: HomeAssistantApi, urls: dict[str, str]) -> dict[str, str]:
    """Add both meters through the config flow with their names; return each title's entry id once values show."""
    for name, url in urls.items():
        add_meter(home_assistant, url, name=name)
    for name in PROFILES:
        wait_for(
            lambda name=name: power(home_assistant, name) not in {None, "unknown", "unavailable"},
            timeout=300,
            interval=1,
            what=f"{name}'s first values",
        )
    return {entry["title"]: entry["entry_id"] for entry in home_assistant.config_entries(DOMAIN)}


def power(api: HomeAssistantApi, name: str) -> str | None:
    """Return the state of a meter's apparent power (its entity id follows the meter's name)."""
    return api.integration_states(DOMAIN).get(f"sensor.{name.lower()}_apparent_power")


def entry_row(page: Page, api: HomeAssistantApi, title: str) -> Locator:
    """Open the integration's page; return the row of the entry of that title."""
    page.goto(f"{api.base_url}/config/integrations/integration/{DOMAIN}")
    row = page.locator("ha-config-entry-row").filter(has_text=title)
    expect(row).to_be_visible()
    return row


def reconfigure(page: Page, api: HomeAssistantApi, title: str) -> Locator:
    """Start reconfiguring an entry through its ⋮ menu (the entry's own, before its device's); return the dialog."""
    menu = entry_row(page, api, title).locator("ha-dropdown").first
    menu.locator("ha-icon-button[slot=trigger]").click()
    menu.locator("ha-dropdown-item[value=reconfigure]").click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog.locator("ha-selector-serial_port")).to_be_visible()
    return dialog


def type_port(page: Page, dialog: Locator, port: str) -> Locator:
    """Choose "Enter manually" in the port field and type a port; return the text box."""
    dialog.locator("ha-selector-serial_port ha-picker-field").click()
    page.get_by_text("Enter manually", exact=True).click()
    box = dialog.get_by_role("textbox", name="Port")
    box.fill(port)
    return box


def test_meters_are_named_apart(
    page: Page, home_assistant: HomeAssistantApi, entries: dict[str, str], module_artifacts: Path
):
    """Each meter is its entry's title and its device's name, in no language; the picker tells them apart."""
    assert set(entries) == set(PROFILES)
    log_in(page, home_assistant)
    set_language(page, home_assistant, "fr")
    try:
        page.goto(f"{home_assistant.base_url}/config/integrations/integration/{DOMAIN}")
        for name in PROFILES:
            expect(page.locator("ha-config-entry-row").filter(has_text=name)).to_be_visible()
        body = page.locator("body").inner_text()
        assert "Linky -" not in body, body  # no title in the language of its day
        page.screenshot(path=module_artifacts / "entries-fr.png")

        offered = picker_items(open_import_picker(open_grid_dialog(page, home_assistant)))
        page.screenshot(path=module_artifacts / "picker-fr.png")
    finally:
        set_language(page, home_assistant, "en")
    assert {item.device for item in offered} == set(PROFILES), offered
    assert len({(item.name, item.device) for item in offered}) == len(offered), offered
    # The Tempo house: its six periods, not the total beside them, which would count twice.
    assert not [item for item in offered if item.device == "Maison" and item.name == "Énergie soutirée"], offered


def test_reconfigure_probes_the_typed_port(
    page: Page, home_assistant: HomeAssistantApi, entries: dict[str, str], urls: dict[str, str], module_artifacts: Path
):
    """A port typed and entered is the one probed: refused, never a success on the old one; the right one succeeds
    with the integration's own words, which name it."""
    log_in(page, home_assistant)
    dialog = reconfigure(page, home_assistant, "Maison")
    type_port(page, dialog, NOBODY).press("Enter")
    submit = dialog.get_by_role("button", name="Submit")
    if submit.is_visible():  # Enter did not send the form: the person clicks
        submit.click()
    expect(dialog.get_by_text("The host refused the connection")).to_be_visible()
    expect(dialog.get_by_text(re.compile("is now read on"))).to_have_count(0)
    page.screenshot(path=module_artifacts / "reconfigure-refused.png")

    type_port(page, dialog, urls["Maison"])
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_text(f"Maison is now read on {urls['Maison']}.")).to_be_visible()
    page.screenshot(path=module_artifacts / "reconfigure-done.png")


def test_french_reconfigure_ends_in_french(
    page: Page, home_assistant: HomeAssistantApi, entries: dict[str, str], urls: dict[str, str], module_artifacts: Path
):
    """Reconfigure's end in a French interface is the integration's own French, not Home Assistant's English."""
    log_in(page, home_assistant)
    set_language(page, home_assistant, "fr")
    try:
        dialog = reconfigure(page, home_assistant, "Production")
        dialog.get_by_role("button", name="Valider").click()
        expect(dialog.get_by_text(f"Production est lu sur {urls['Production']}", exact=False)).to_be_visible()
        page.screenshot(path=module_artifacts / "reconfigure-fr.png")
        assert "Reconfiguration was successful" not in dialog.inner_text()
    finally:
        set_language(page, home_assistant, "en")


def test_level_change_keeps_the_values(
    page: Page, home_assistant: HomeAssistantApi, entries: dict[str, str], module_artifacts: Path
):
    """Half-hourly chosen in the Configure dialog: the power keeps its last value, never unknown until :00 or :30."""
    log_in(page, home_assistant)
    entry_row(page, home_assistant, "Maison").get_by_role("button", name="Configure").first.click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog.get_by_text("keep showing their last value")).to_be_visible()  # the dialog says what happens
    dialog.get_by_role("radio", name=re.compile(r"^Half-hourly")).check()
    page.screenshot(path=module_artifacts / "level-half-hourly.png")
    before = home_assistant.render_template("{{ now().isoformat() }}")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_be_hidden()

    # The entry reloads at the new level: wait until its meter is read again.
    reloaded = (
        "{{ is_state('sensor.maison_link', 'receiving') and states.sensor.maison_link.last_changed > as_datetime('"
        + before
        + "') }}"
    )
    wait_for(lambda: home_assistant.render_template(reloaded) == "True", timeout=120, interval=1, what="the reload")
    # Before the first half hour ends: the last value, not unknown.
    assert power(home_assistant, "Maison") not in {None, "unknown", "unavailable"}


def test_builtin_port_says_what_it_is(page: Page, home_assistant: HomeAssistantApi, module_artifacts: Path):
    """The computer's built-in serial port, offered in the list: nothing arrives, and the error says it is a built-in
    port, naming it, so that it still reads true once the person switches to typing another port."""
    log_in(page, home_assistant)
    page.goto(f"{home_assistant.base_url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search for a brand name").fill("Linky Local")
    page.get_by_role("button", name="Linky Local", exact=True).click()
    dialog = page.locator("dialog-data-entry-flow")
    dialog.locator("ha-selector-serial_port ha-picker-field").click()
    expect(page.get_by_text("Enter manually", exact=True)).to_be_visible()
    page.screenshot(path=module_artifacts / "port-list.png")
    builtin = page.locator("ha-combo-box-item").filter(has_text=re.compile(r"ttyS\d|ttyAMA\d|Built-in"))
    if not builtin.count():
        pytest.skip("this machine has no built-in serial port")
    builtin.first.click()
    dialog.get_by_role("button", name="Submit").click()
    error = dialog.get_by_text(re.compile(r"Nothing arrived on /dev/tty(S|AMA)\d+: it is a serial port built into"))
    expect(error).to_be_visible()
    dialog.locator("ha-selector-serial_port ha-picker-field").click()
    page.get_by_text("Enter manually", exact=True).click()
    expect(error).to_be_visible()  # still about the port it names, not the one being typed
    page.screenshot(path=module_artifacts / "builtin-port.png")
