"""A person whose meter is in the garage: an ESP32 with ESPHome's serial proxy (the fake device of linky_tools, as
scripts/develop --esphome runs it), added to Home Assistant; Linky Local's port picker lists its proxy, the meter is
added through it and its values change on the device page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import re

from _ha_api import HomeAssistantApi
from _stack import DEFAULT_PROFILE, DOMAIN, Child, add_esphome_device, free_port, start_simulator
from playwright.sync_api import Page, expect
import pytest

from .test_add_meter import wait_for_a_change
from .ui import log_in


@pytest.fixture(scope="module")
def esp_port(module_artifacts: Path, runtime_venv: Path) -> Iterator[int]:
    """Run the simulated meter behind a fake ESPHome device; return the port its native API listens on."""
    port = free_port()
    child: Child = start_simulator(
        str(runtime_venv / "bin" / "python"), DEFAULT_PROFILE, port, module_artifacts / "esp.log", esphome=True
    )
    yield port
    child.stop()


def test_add_meter_behind_an_esphome_proxy(
    page: Page, home_assistant: HomeAssistantApi, esp_port: int, screenshots: Path, module_artifacts: Path
):
    url = add_esphome_device(home_assistant, esp_port)
    log_in(page, home_assistant)
    page.goto(f"{home_assistant.base_url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.get_by_placeholder("Search for a brand name").fill("Linky Local")
    page.get_by_role("button", name="Linky Local", exact=True).click()
    page.locator("ha-selector-serial_port ha-picker-field").click()
    # The picker groups it under "Serial proxies": the proxy's name, the ESP's name beneath.
    expect(page.get_by_text("Serial proxies", exact=True).last).to_be_visible()
    proxy = page.get_by_text("TIC garage", exact=True)
    expect(proxy.first).to_be_visible()
    page.screenshot(path=screenshots / "esphome-port-picker-en.png")
    proxy.first.click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("radio", name=re.compile(r"^Per minute \(recommended\)"))).to_be_checked()
    page.get_by_role("button", name="Submit").click()
    device_name = page.get_by_role("textbox", name="Device name").input_value()
    page.get_by_role("button", name="Skip and finish").click()

    (entry,) = home_assistant.config_entries(DOMAIN)
    assert entry["state"] == "loaded"
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Devices & services").click()
    page.get_by_role("link", name=re.compile(r"^Linky Local\b")).click()
    page.get_by_role("button", name=re.compile(f"^{re.escape(device_name)}")).click()
    expect(page).to_have_url(re.compile(r"/config/devices/device/\w+$"))
    sensors = page.locator("ha-device-entities-card").filter(has=page.get_by_role("heading", name="Sensors"))
    expect(sensors.locator("hui-sensor-entity-row").first).to_be_visible()
    name, before, after = wait_for_a_change(sensors, timeout=200)
    print(f"\nthrough {url}: {name} went from {before} to {after}")  # noqa: T201 - for the report
    page.screenshot(path=screenshots / "esphome-proxy-device-page-en.png")
    page.screenshot(path=module_artifacts / "device-page-full.png", full_page=True)
