"""A person adds the simulated meter through Home Assistant's UI and watches its values change."""

from __future__ import annotations

from pathlib import Path
import re
import time
from typing import TYPE_CHECKING

from _ha_api import HomeAssistantApi, wait_for
from _stack import DEFAULT_PROFILE, DOMAIN
from playwright.sync_api import Locator, Page, expect
import pytest

from .ui import call_ws, log_in, numbers_shown, open_device_page, row_names, set_language

if TYPE_CHECKING:
    from .conftest import Meters

# What a failed integration looks like on an integration card or in a notification.
FAILED = re.compile(r"Failed setup|Failed to set up|retry|Not loaded|could not be set up", re.IGNORECASE)

# One sensor row as the accessibility tree reads it: "- text: Voltage phase 1 230 V". A row not updated yet reads
# "Voltage phase 1 Unknown": units are short.
SENSOR_ROW = re.compile(r"^- text: (?P<name>.+?) (?P<value>-?\d[\d,.]*) ?(?P<unit>[A-Za-z]{1,5})$")


def numeric_sensors(card: Locator) -> dict[str, str]:
    """Return the rows of a device page's card that show a number with its unit, by name."""
    values = {}
    rows = card.locator("hui-sensor-entity-row")
    for index in range(rows.count()):
        if match := SENSOR_ROW.match(rows.nth(index).aria_snapshot().strip()):
            values[match["name"]] = f"{match['value']} {match['unit']}"
    return values


def wait_for_a_change(card: Locator, timeout: float) -> tuple[str, str, str]:
    """Wait until a numeric row of the card shows another number than it first did; return (name, before, after)."""
    first: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, value in numeric_sensors(card).items():
            if first.setdefault(name, value) != value:
                return name, first[name], value
        time.sleep(1)
    raise AssertionError(f"no value changed on the device page within {timeout:.0f} s: {first}")


@pytest.fixture(scope="module")
def meter_url(meters: Meters) -> str:
    """Serve the demo's simulated meter."""
    return meters.start(DEFAULT_PROFILE)


def test_add_meter_through_the_ui(page: Page, home_assistant: HomeAssistantApi, meter_url: str, module_artifacts: Path):
    started = time.monotonic()
    steps: list[str] = []

    def step(what: str) -> None:
        steps.append(f"{time.monotonic() - started:6.1f} s  {what}")

    log_in(page, home_assistant)
    page.get_by_role("link", name="Settings").click()
    step("logged in")

    page.get_by_role("link", name="Devices & services").click()
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search for a brand name").fill("Linky Local")
    page.get_by_role("button", name="Linky Local", exact=True).click()
    page.locator("ha-selector-serial_port ha-picker-field").click()
    page.get_by_text("Enter manually").click()
    page.get_by_role("textbox", name="Port").fill(meter_url)
    page.get_by_role("button", name="Submit").click()
    # Once the meter is found, its privacy level: per minute is offered.
    expect(page.get_by_role("radio", name=re.compile(r"^Per minute \(recommended\)"))).to_be_checked()
    page.get_by_role("button", name="Submit").click()
    device_name = page.get_by_role("textbox", name="Device name").input_value()
    assert device_name
    page.get_by_role("button", name="Skip and finish").click()
    step(f"config flow finished: {device_name}")

    entries = home_assistant.config_entries(DOMAIN)
    assert [entry["state"] for entry in entries] == ["loaded"]

    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Devices & services").click()
    page.get_by_role("link", name=re.compile(r"^Linky Local\b")).click()
    page.get_by_role("button", name=re.compile(f"^{re.escape(device_name)}")).click()
    expect(page).to_have_url(re.compile(r"/config/devices/device/\w+$"))
    sensors = page.locator("ha-device-entities-card").filter(has=page.get_by_role("heading", name="Sensors"))
    expect(sensors.locator("hui-sensor-entity-row").first).to_be_visible()
    step("device page open")

    # At the default privacy level values are published once a minute, at the end of each minute's window; the
    # first change has been seen up to two windows after the device page opened.
    name, before, after = wait_for_a_change(sensors, timeout=200)
    step(f"live: {name} went from {before} to {after}")
    page.screenshot(path=module_artifacts / "device-page.png")
    page.screenshot(path=module_artifacts / "device-page-full.png", full_page=True)
    (module_artifacts / "steps.txt").write_text("\n".join(steps) + "\n")
    print("\n" + "\n".join(steps))  # noqa: T201 - how long each step took, for the report


def test_first_screen_shows_nothing_failed(page: Page, home_assistant: HomeAssistantApi, module_artifacts: Path):
    """After log-in, neither the first screen nor Devices & services shows an integration that failed."""
    log_in(page, home_assistant)
    expect(page.get_by_role("heading").first).to_be_visible()
    page.screenshot(path=module_artifacts / "first-screen.png")
    assert not FAILED.search(first_screen := page.locator("body").aria_snapshot()), first_screen

    page.goto(f"{home_assistant.base_url}/config/integrations/dashboard")
    cards = page.locator("ha-integration-card")
    expect(cards.filter(has_text="Linky Local")).to_be_visible()
    page.screenshot(path=module_artifacts / "integrations.png")
    assert not FAILED.search(integrations := page.locator("body").aria_snapshot()), integrations
    assert [entry for entry in home_assistant.all_config_entries() if entry["state"] != "loaded"] == []

    # The sidebar's counts: notifications, and repairs (on Settings).
    assert call_ws(page, {"type": "persistent_notification/get"}) == []
    assert call_ws(page, {"type": "repairs/list_issues"}) == {"issues": []}
    # Nor does the log: no error, no traceback.
    log = (module_artifacts / "config" / "home-assistant.log").read_text()
    assert not [line for line in log.splitlines() if " ERROR " in line or line.startswith("Traceback")], log


def test_device_page_screenshots(page: Page, home_assistant: HomeAssistantApi, screenshots: Path):
    """The README's pictures of the demo meter's device page, in English and in French."""
    (device_id,) = home_assistant.device_ids(DOMAIN)
    log_in(page, home_assistant)
    english = {name.text for name in row_names(open_device_page(page, home_assistant, device_id))}
    page.screenshot(path=screenshots / "device-page-en.png")
    numbers = numbers_shown(home_assistant, device_id)

    set_language(page, home_assistant, "fr")  # its entities added again: wait for their values
    wait_for(lambda: numbers_shown(home_assistant, device_id) >= numbers, timeout=300, interval=1, what="values")
    french = {name.text for name in row_names(open_device_page(page, home_assistant, device_id))}
    assert french != english
    page.screenshot(path=screenshots / "device-page-fr.png")
