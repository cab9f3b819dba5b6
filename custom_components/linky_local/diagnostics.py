"""Diagnostics of a meter: the privacy ledger (ledger.py) and what helps understand a reading problem.

The meter's serial number and PRM never appear: the PRM is never kept, and a last pass over the whole output
replaces the serial number wherever it would show (in unique ids, for one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_DEVICE, CONF_USB_DEVICE, CONF_USB_ID
from .coordinator import LinkyConfigEntry
from .ledger import Words, as_diagnostics, async_read
from .linky_tic import MeterAddress, PrivacyClass, describe

# The port may be a host's address, or a by-id path that names the adapter; the USB identity names it too.
TO_REDACT = {CONF_DEVICE, CONF_USB_DEVICE, CONF_USB_ID}
# Values shown as they are: the state of the meter and of the contract, nothing about the household's use.
_SHOWN = {PrivacyClass.TECHNICAL, PrivacyClass.CONTRACT}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: LinkyConfigEntry) -> dict[str, Any]:
    """Return the privacy ledger, and what helps understand a reading problem."""
    return _scrubbed(await _diagnostics(hass, entry), _secrets(entry))


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: LinkyConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """Return the diagnostics of the meter's device: its entry's, each meter being one device."""
    diagnostics = await _diagnostics(hass, entry)
    diagnostics["device"] = {
        "name": device.name,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "model_id": device.model_id,
        "hw_version": device.hw_version,
    }
    return _scrubbed(diagnostics, _secrets(entry))


async def _diagnostics(hass: HomeAssistant, entry: LinkyConfigEntry) -> dict[str, Any]:
    coordinator = entry.runtime_data
    facts = await async_read(hass, entry)
    labels = sorted(coordinator.values.seen)
    shown = {
        label: group.value
        for label, group in coordinator.values.groups.items()
        if (spec := describe(coordinator.mode, label)) is not None and spec.privacy in _SHOWN
    }
    address = MeterAddress.parse(entry.unique_id or "")
    return {
        **as_diagnostics(facts, await Words.async_load(hass), coordinator.mode),
        "entry": {
            "title": entry.title,
            "data": async_redact_data(entry.data, TO_REDACT),
            "options": dict(entry.options),
        },
        "meter": {
            "mode": coordinator.mode,
            "baudrate": coordinator.baudrate,
            "manufacturer": address.manufacturer if address else None,
            "model": address.model if address else None,
            "model_id": address.meter_type_code if address else None,
        },
        "link": {
            "port_kind": coordinator.url.split("://", 1)[0] if "://" in coordinator.url else "serial",
            "state": coordinator.link_state,
            "last_frame": coordinator.last_frame_at.isoformat() if coordinator.last_frame_at else None,
            "reconnections": coordinator.reconnections,
            "failed_reconnections": coordinator.failed_reconnections,
        },
        "decoder": coordinator.decoder.stats.as_dict(),
        # What the line shows that asks nothing of the household (no repair): how often each began, and now.
        "line_notices": {key: notice.as_dict() for key, notice in coordinator.health.notices.items()},
        "index_guard": coordinator.values.guard.stats.as_dict(),
        "labels_seen": labels,
        "unknown_labels": [label for label in labels if describe(coordinator.mode, label) is None],
        "values": dict(sorted(shown.items())),
    }


def _secrets(entry: LinkyConfigEntry) -> list[str]:
    """Return what identifies a household and must never be shown: the serial numbers (unique ids hold one)."""
    other = entry.runtime_data.meter_watch.other
    return [secret for secret in (entry.unique_id, other.serial if other else None) if secret]


def _scrubbed(data: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """Replace each secret by REDACTED in every string of the data, keys included."""
    secrets = list(secrets)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {scrub(key): scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [scrub(item) for item in value]
        return value

    return {scrub(key): scrub(value) for key, value in data.items()}
