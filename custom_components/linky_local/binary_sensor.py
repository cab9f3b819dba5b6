"""Binary sensors of a meter: overrun warnings, status register flags, relays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]  # not in __all__ on 2026.10
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import LinkyConfigEntry, MeterSnapshot
from .entity import LinkyEntityDescription, LinkyLabelEntity, async_add_label_entities, translation_key
from .linky_tic import CATALOGUE, CutOff, Group, Mode, Quantity, Relays, Status

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class LinkyBinarySensorEntityDescription(BinarySensorEntityDescription, LinkyEntityDescription):
    """A binary sensor whose value comes from one label's group."""

    is_on_fn: Callable[[Group], bool | None]
    # A warning is on while its label is sent, and off (not unavailable) otherwise.
    off_when_absent: bool = False


def _status_flag(
    field: str, flag: Callable[[Status], bool], device_class: BinarySensorDeviceClass | None, **kwargs: object
) -> LinkyBinarySensorEntityDescription:
    """Describe a flag of the status register."""

    def is_on(group: Group) -> bool | None:
        return None if (status := Status.parse(group.value)) is None else flag(status)

    return LinkyBinarySensorEntityDescription(
        key=f"STGE_{field}",
        label="STGE",
        translation_key=field,
        device_class=device_class,
        is_on_fn=is_on,
        **kwargs,  # type: ignore[arg-type]
    )


def _relay(number: int, closed: Callable[[Relays], bool], **kwargs: object) -> LinkyBinarySensorEntityDescription:
    """Describe a relay of RELAIS: on while it is closed."""

    def is_on(group: Group) -> bool | None:
        return None if (relays := Relays.parse(group.value)) is None else closed(relays)

    field = "dry_contact" if number == 0 else f"virtual_relay_{number}"
    return LinkyBinarySensorEntityDescription(
        key=f"RELAIS_{field}",
        label="RELAIS",
        translation_key=field,
        is_on_fn=is_on,
        **kwargs,  # type: ignore[arg-type]
    )


def _virtual_relay(number: int) -> LinkyBinarySensorEntityDescription:
    return _relay(number, lambda relays: relays.virtual[number - 1], entity_registry_enabled_default=False)


def _warning(label: str) -> LinkyBinarySensorEntityDescription:
    """Describe a warning that is on while the meter sends its label (ADPS, ADIR1..3)."""
    return LinkyBinarySensorEntityDescription(
        key=label,
        label=label,
        translation_key=translation_key(label),
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda _: True,
        off_when_absent=True,
    )


BINARY_SENSORS: Final[dict[Mode, tuple[LinkyBinarySensorEntityDescription, ...]]] = {
    Mode.HISTORIC: tuple(
        _warning(spec.label) for spec in CATALOGUE[Mode.HISTORIC].values() if spec.quantity is Quantity.PROBLEM
    ),
    Mode.STANDARD: (
        *(_warning(spec.label) for spec in CATALOGUE[Mode.STANDARD].values() if spec.quantity is Quantity.PROBLEM),
        # The cut-off device sensor tells the same and why: this one is for automations that want on/off.
        _status_flag(
            "cut_off_open",
            lambda status: status.cut_off is not CutOff.CLOSED,
            BinarySensorDeviceClass.PROBLEM,
            entity_registry_enabled_default=False,
        ),
        _status_flag("over_voltage", lambda status: status.over_voltage, BinarySensorDeviceClass.PROBLEM),
        _status_flag(
            "reference_power_exceeded", lambda status: status.reference_power_exceeded, BinarySensorDeviceClass.PROBLEM
        ),
        _status_flag(
            "clock_degraded",
            lambda status: status.clock_degraded,
            BinarySensorDeviceClass.PROBLEM,
            entity_category=EntityCategory.DIAGNOSTIC,
        ),
        _status_flag("producer", lambda status: status.producer, None, entity_category=EntityCategory.DIAGNOSTIC),
        _relay(0, lambda relays: relays.dry_contact),
        *(_virtual_relay(n) for n in range(1, 8)),
    ),
}


class LinkyBinarySensor(LinkyLabelEntity, BinarySensorEntity):
    """A binary sensor of a label's value."""

    entity_description: LinkyBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """Return whether the meter is read and sends the label, or the label's absence means off."""
        return super().available and (self.entity_description.off_when_absent or self.label_sent())

    def _view(self, snapshot: MeterSnapshot) -> object:
        group = snapshot.published.get(self.entity_description.label)
        self._attr_is_on = self.entity_description.is_on_fn(group) if group is not None else False
        return self._attr_is_on


async def async_setup_entry(
    hass: HomeAssistant, entry: LinkyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add each label's binary sensors when the meter sends it."""
    async_add_label_entities(
        entry, Platform.BINARY_SENSOR, BINARY_SENSORS[entry.runtime_data.mode], LinkyBinarySensor, async_add_entities
    )
