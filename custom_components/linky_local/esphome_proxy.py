"""A meter read through an ESPHome serial proxy (`esphome-hass://`): tell when the ESP no longer offers the proxy.

Home Assistant's esphome integration lists each serial proxy of a connected ESP as a port whose URL names the ESP's
config entry and the proxy. When the ESP is flashed without that proxy, the port cannot open, and only the ESP's own
device info says why: a repair then asks the household to put it back or to read another port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

SCHEME: Final = "esphome-hass"
ESPHOME_DOMAIN: Final = "esphome"
ISSUE_KEY: Final = "esphome_proxy_missing"


@dataclass(frozen=True, slots=True)
class ProxyPort:
    """Where an `esphome-hass://` URL points: an ESPHome config entry and one of its serial proxies."""

    entry_id: str
    name: str


def proxy_port(url: str) -> ProxyPort | None:
    """Return the ESPHome entry and proxy an `esphome-hass://` URL names, None for any other port."""
    parts = urlsplit(url)
    names = parse_qs(parts.query).get("port_name")
    if parts.scheme != SCHEME or not names or not (entry_id := parts.path.strip("/")):
        return None
    return ProxyPort(entry_id, names[0])


@callback
def async_missing_proxy(hass: HomeAssistant, url: str) -> str | None:
    """Return the name of the ESP connected right now that lists no serial proxy of the URL's name, else None.

    Only a connected ESP's device info tells: an ESP that is off, away or not set up says nothing about its proxies.
    """
    if (port := proxy_port(url)) is None:
        return None
    entry = hass.config_entries.async_get_entry(port.entry_id)
    if entry is None or entry.domain != ESPHOME_DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    runtime: Any = entry.runtime_data
    device_info = runtime.device_info
    if not runtime.available or device_info is None:
        return None
    if any(proxy.name == port.name for proxy in device_info.serial_proxies):
        return None
    return str(device_info.friendly_name or device_info.name or entry.title)


@callback
def async_proxy_error(hass: HomeAssistant, url: str) -> str | None:
    """Return the config flow's error key for an `esphome-hass://` port that did not open, None for other ports.

    The ESP off or away (its entry not connected), or connected without the proxy: otherwise None, the port's own
    error stands.
    """
    if (port := proxy_port(url)) is None:
        return None
    entry = hass.config_entries.async_get_entry(port.entry_id)
    if entry is None or entry.domain != ESPHOME_DOMAIN:
        return None
    runtime: Any = entry.runtime_data if entry.state is ConfigEntryState.LOADED else None
    if runtime is None or not runtime.available:
        return "esphome_offline"
    return ISSUE_KEY if async_missing_proxy(hass, url) is not None else None


def issue_id(entry_id: str) -> str:
    """Return the id of the repair issue of an entry whose proxy is gone."""
    return f"{ISSUE_KEY}_{entry_id}"


@callback
def async_check_proxy(hass: HomeAssistant, entry_id: str, title: str, url: str) -> bool:
    """Raise the entry's repair issue when its proxy is gone from its ESP, clear it otherwise; tell whether raised."""
    device = async_missing_proxy(hass, url)
    if device is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id))
        return False
    port = proxy_port(url)
    assert port is not None
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry_id),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_KEY,
        translation_placeholders={"name": title, "device": device, "proxy": port.name},
    )
    return True


@callback
def async_clear_proxy_issue(hass: HomeAssistant, entry_id: str) -> None:
    """Clear the entry's repair issue: its port opened, or the entry is gone."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id))
