"""A replaced meter: the entry, its device and its entities move to the new meter's serial number.

Entity ids, names and recorded history stay (they hang on the entity id); only the unique ids, the device's
identifier and the entry's unique id change. The new meter's TIC mode and line speed are those its frames were read
in, or those reading the port again found (repairs.py), and the indexes both meters send continue from the old
meter's (meter_change.py says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import CONF_BAUDRATE, CONF_MODE, DOMAIN
from .linky_tic import Frame, Mode
from .meter_change import CONF_INDEX_OFFSETS


@dataclass(frozen=True, slots=True)
class NewMeter:
    """The meter now on the port: how to read it, and a frame of it that tells its kind."""

    serial: str = field(repr=False)
    mode: Mode
    baudrate: int
    frame: Frame = field(repr=False)


async def async_move_to_meter(
    hass: HomeAssistant, entry: ConfigEntry, meter: NewMeter, offsets: Mapping[str, int]
) -> None:
    """Make the entry the new meter's (its serial number, mode, speed and index offsets); the caller sets it up."""
    serial = meter.serial
    old = entry.unique_id or entry.entry_id
    entities = er.async_get(hass)
    for reg in er.async_entries_for_config_entry(entities, entry.entry_id):
        if reg.unique_id.startswith(f"{old}_"):
            entities.async_update_entity(
                reg.entity_id, new_unique_id=f"{serial}_{reg.unique_id.removeprefix(old + '_')}"
            )
    devices = dr.async_get(hass)
    if (device := devices.async_get_device(identifiers={(DOMAIN, old)})) is not None:
        devices.async_update_device(device.id, new_identifiers={(DOMAIN, serial)})
    data: dict[str, Any] = {
        **entry.data,
        CONF_MODE: meter.mode.value,
        CONF_BAUDRATE: meter.baudrate,
        CONF_INDEX_OFFSETS: dict(offsets),
    }
    # The title is the household's name for its meter, in no language: the new meter keeps it; its kind shows as the
    # device's model.
    hass.config_entries.async_update_entry(entry, unique_id=serial, data=data)
