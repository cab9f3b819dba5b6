"""No entity name is cut on a device page, for any simulated meter, in English and in French."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from _ha_api import HomeAssistantApi, wait_for
from _stack import DEFAULT_PROFILE, DOMAIN, add_meter
from playwright.sync_api import Page
import pytest

from .ui import RowName, log_in, numbers_shown, open_device_page, row_names, set_language

if TYPE_CHECKING:
    from .conftest import Meters

PROFILES = (
    DEFAULT_PROFILE,  # the demo's, shown in the README
    "standard_tri",
    "standard_mono",
    "standard_base",
    "standard_producer",
    "historic_base",
    "historic_hc",
    "historic_tempo",
    "historic_ejp",
    "historic_tri",
)


def new_devices(api: HomeAssistantApi, known: set[str]) -> set[str]:
    """Return the integration's devices not known yet."""
    return api.device_ids(DOMAIN) - known


@pytest.fixture(scope="module")
def devices(home_assistant: HomeAssistantApi, meters: Meters) -> dict[str, str]:
    """Add one meter of each profile through the config flow; return each profile's device id, once it has values."""
    devices: dict[str, str] = {}
    for profile in PROFILES:
        known = home_assistant.device_ids(DOMAIN)
        add_meter(home_assistant, meters.start(profile))
        new = wait_for(partial(new_devices, home_assistant, known), timeout=300, interval=1, what=profile)
        (devices[profile],) = new
    for profile, device_id in devices.items():
        wait_for(partial(numbers_shown, home_assistant, device_id), timeout=300, interval=1, what=f"{profile}'s values")
    return devices


def cut_rows(
    page: Page, api: HomeAssistantApi, devices: dict[str, str], language: str, artifacts: Path
) -> tuple[list[str], list[str]]:
    """Open each device page; return its cut names and its tight ones as "profile: name (widths)".

    Keep a screenshot of each page.
    """
    cut, tight = [], []
    for profile, device_id in devices.items():
        names: list[RowName] = row_names(open_device_page(page, api, device_id))
        cut += [f"{profile}: {name}" for name in names if name.cut]
        tight += [f"{profile}: {name}" for name in names if name.tight and not name.cut]
        page.screenshot(path=artifacts / f"{profile}-{language}.png", full_page=True)
    return cut, tight


def values_back(api: HomeAssistantApi, numbers: dict[str, int]) -> bool:
    """Return whether each device shows as many numbers as before (a row's width depends on its value)."""
    return all(numbers_shown(api, device_id) >= count for device_id, count in numbers.items())


def test_no_name_is_cut(page: Page, home_assistant: HomeAssistantApi, devices: dict[str, str], module_artifacts: Path):
    log_in(page, home_assistant)
    english, english_tight = cut_rows(page, home_assistant, devices, "en", module_artifacts)
    demo = devices[DEFAULT_PROFILE]
    english_names = {name.text for name in row_names(open_device_page(page, home_assistant, demo))}
    numbers = {device_id: numbers_shown(home_assistant, device_id) for device_id in devices.values()}

    set_language(page, home_assistant, "fr")  # the entities added again: wait for their values
    wait_for(partial(values_back, home_assistant, numbers), timeout=300, interval=2, what="the values")
    assert {name.text for name in row_names(open_device_page(page, home_assistant, demo))} != english_names
    french, french_tight = cut_rows(page, home_assistant, devices, "fr", module_artifacts)

    report = "\n".join(["English, cut:", *english, "French, cut:", *french])
    # Whether a name is cut depends on the value beside it: the names a wider value would cut, for the record.
    tight = "\n".join(["English, tight:", *english_tight, "French, tight:", *french_tight])
    (module_artifacts / "cut-names.txt").write_text(f"{report}\n{tight}\n")
    assert not english + french, f"entity names cut on the device page:\n{report}"
