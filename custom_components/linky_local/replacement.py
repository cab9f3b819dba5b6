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
from .device import async_kind_names
from .linky_tic import Frame, Mode
from .meter import meter_kind
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
    hass.config_entries.async_update_entry(
        entry, unique_id=serial, title=await _async_title(hass, entry.title, meter.frame), data=data
    )


async def _async_title(hass: HomeAssistant, title: str, frame: Frame) -> str:
    """Name the entry after the new meter's kind, unless the household renamed it."""
    names = await async_kind_names(hass)
    if title != "Linky" and title not in {f"Linky - {name}" for name in names.values()}:
        return title
    kind = names.get(meter_kind(frame).translation_key)
    return "Linky" if kind is None else f"Linky - {kind}"
