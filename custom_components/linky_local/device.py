"""The meter's device: named "Linky", its kind (phases, production, TIC mode) as its model, in the server's language."""

from __future__ import annotations

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .linky_tic import MeterAddress
from .meter import MeterKind, kind_of

# The device's own translation key: its name, "Linky" in every language; a second meter's entity ids get "_2".
METER_TRANSLATION_KEY = "meter"


def meter_id(entry: LinkyConfigEntry) -> str:
    """Return what identifies the meter in unique ids: its serial number, set by the config flow."""
    return entry.unique_id or entry.entry_id


def device_info(entry: LinkyConfigEntry) -> DeviceInfo:
    """Describe the meter's device; its model is the meter's kind, set once a frame tells it (`async_follow_kind`)."""
    address = MeterAddress.parse(entry.unique_id or "")
    return DeviceInfo(
        identifiers={(DOMAIN, meter_id(entry))},
        translation_key=METER_TRANSLATION_KEY,
        manufacturer=address.manufacturer if address else None,
        model_id=address.meter_type_code if address else None,
        hw_version=address.meter_type.rating if address and address.meter_type else None,
    )


async def async_kind_names(hass: HomeAssistant) -> dict[str, str]:
    """Return the name of each meter kind in the server's language, by the kind's translation key."""
    prefix = f"component.{DOMAIN}.device."
    strings = await async_get_translations(hass, hass.config.language, "device", [DOMAIN])
    return {key.removeprefix(prefix).removesuffix(".name"): text for key, text in strings.items()}


async def async_follow_kind(
    hass: HomeAssistant, entry: LinkyConfigEntry, coordinator: LinkyCoordinator
) -> CALLBACK_TYPE:
    """Keep the device's model the kind of meter its labels tell (a contract can become a producer's)."""
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
            registry.async_update_device(device.id, model=names.get(kind.translation_key))

    follow()
    return coordinator.async_add_shape_listener(follow)
