"""Diagnostics of a meter's entry: the link and the decoder, never the meter's serial number or PRM."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_DEVICE
from .coordinator import LinkyConfigEntry
from .tic import PrivacyClass, describe

# The port may be a host's address, or a by-id path that names the adapter.
TO_REDACT = {CONF_DEVICE}
# Values shown as they are: the state of the meter and of the contract, nothing about the household's use.
_SHOWN = {PrivacyClass.TECHNICAL, PrivacyClass.CONTRACT}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: LinkyConfigEntry) -> dict[str, Any]:
    """Return what helps understand a reading problem."""
    coordinator = entry.runtime_data
    labels = sorted(coordinator.values.seen)
    shown = {
        label: group.value
        for label, group in coordinator.data.items()
        if (spec := describe(coordinator.mode, label)) is not None and spec.privacy in _SHOWN
    }
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(entry.data, TO_REDACT),
            "options": dict(entry.options),
        },
        "link": {
            "port_kind": coordinator.url.split("://", 1)[0] if "://" in coordinator.url else "serial",
            "state": coordinator.link_state,
            "last_frame": coordinator.last_frame_at.isoformat() if coordinator.last_frame_at else None,
            "reconnections": coordinator.reconnections,
            "failed_reconnections": coordinator.failed_reconnections,
        },
        "decoder": coordinator.decoder.stats.as_dict(),
        "index_guard": coordinator.values.guard.stats.as_dict(),
        "labels_seen": labels,
        "unknown_labels": [label for label in labels if describe(coordinator.mode, label) is None],
        "values": dict(sorted(shown.items())),
    }
