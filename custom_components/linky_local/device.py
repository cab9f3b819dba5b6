"""The meter's device: named as its entry (the household's name for it), its kind as its model, in the server's language."""

from __future__ import annotations

from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .linky_tic import MeterAddress
from .meter import MeterKind, kind_of

# A meter's name when the household keeps the one offered: "Linky", then "Linky 2"... for the next meters.
DEFAULT_NAME: Final = "Linky"


def free_name(taken: set[str]) -> str:
    """Return the first of "Linky", "Linky 2", "Linky 3"... that no other meter bears."""
    name, number = DEFAULT_NAME, 1
    while name in taken:
        number += 1
        name = f"{DEFAULT_NAME} {number}"
    return name


def meter_id(entry: LinkyConfigEntry) -> str:
    """Return what identifies the meter in unique ids: its serial number, set by the config flow."""
    return entry.unique_id or entry.entry_id


def device_info(entry: LinkyConfigEntry) -> DeviceInfo:
    """Describe the meter's device; its model and hardware, in words, are set by `async_follow_kind`."""
    address = MeterAddress.parse(entry.unique_id or "")
    return DeviceInfo(
        identifiers={(DOMAIN, meter_id(entry))},
        name=entry.title,
        manufacturer=address.manufacturer if address else None,
    )


def hardware(entry: LinkyConfigEntry, names: dict[str, str]) -> str | None:
    """Return the meter's rating and generation in words ("60 A rating, generation 3"), from its address."""
    address = MeterAddress.parse(entry.unique_id or "")
    if address is None or (meter_type := address.meter_type) is None or (words := names.get("hardware")) is None:
        return None
    return words.format(amps=meter_type.amps, generation=meter_type.generation.removeprefix("G"))


async def async_kind_names(hass: HomeAssistant) -> dict[str, str]:
    """Return the name of each meter kind in the server's language, by the kind's translation key."""
    prefix = f"component.{DOMAIN}.device."
    strings = await async_get_translations(hass, hass.config.language, "device", [DOMAIN])
    return {key.removeprefix(prefix).removesuffix(".name"): text for key, text in strings.items()}


async def async_follow_kind(
    hass: HomeAssistant, entry: LinkyConfigEntry, coordinator: LinkyCoordinator
) -> CALLBACK_TYPE:
    """Keep the device's model the kind of meter its labels tell (a contract can become a producer's).

    Enedis' type code (model id) means nothing to a household and is cleared; the hardware line says the rating
    and generation in words.
    """
    names = await async_kind_names(hass)
    shown: MeterKind | None = None

    @callback
    def follow() -> None:
        nonlocal shown
        if not (sent := coordinator.data.sent) or (kind := kind_of(coordinator.mode, sent)) == shown:
            return
        shown = kind
        registry = dr.async_get(hass)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            registry.async_update_device(
                device.id, model=names.get(kind.translation_key), model_id=None, hw_version=hardware(entry, names)
            )

    follow()
    return coordinator.async_add_shape_listener(follow)
