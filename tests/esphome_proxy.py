"""Helpers of the ESPHome serial proxy tests: Home Assistant's own esphome integration set up against the fake device
of linky_tools (plaintext native API on 127.0.0.1), and waits on what it does over real TCP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homeassistant.components import usb
from homeassistant.components.esphome.const import CONF_NOISE_PSK, DOMAIN as ESPHOME_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import format_mac
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from linky_tools.esphome_device import EspHomeDevice

# Only guards against a hang: every wait below ends on what the device or Home Assistant does, never on a duration.
GUARD = 120.0


async def until(condition: Callable[[], bool], within: float = GUARD) -> None:
    """Wait until a condition holds that real TCP I/O brings about and no event tells (a connection made...)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - Home Assistant's esphome integration tells no event for these
            await asyncio.sleep(0.01)


def esphome_available(entry: MockConfigEntry) -> bool:
    """Tell whether Home Assistant's esphome entry is connected to its device."""
    return entry.state is ConfigEntryState.LOADED and bool(entry.runtime_data.available)


async def add_esphome_device(hass: HomeAssistant, device: EspHomeDevice) -> MockConfigEntry:
    """Add the device to Home Assistant as its esphome integration does (host, port, no password, no key); wait until
    it is connected."""
    # The esphome integration's voice dependencies read the exposed entities, which the homeassistant one sets up.
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "usb", {})
    entry = MockConfigEntry(
        domain=ESPHOME_DOMAIN,
        title=device.friendly_name,
        unique_id=format_mac(device.mac_address),
        data={CONF_HOST: device.host, CONF_PORT: device.port, CONF_PASSWORD: "", CONF_NOISE_PSK: ""},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await until(lambda: esphome_available(entry))
    return entry


async def scanned_ports(hass: HomeAssistant) -> dict[str, str]:
    """Return the serial ports Home Assistant lists (what the port selector offers): URL to description."""
    return {port.device: port.description or "" for port in await usb.async_scan_serial_ports(hass)}
