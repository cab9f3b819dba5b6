"""Base entity of a meter, and the creation of entities as the meter's labels appear."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .tic import Group
from .tic.interpret import MeterAddress


def translation_key(label: str) -> str:
    """Return the translation key of a label's entity: `SMAXSN-1` → `smaxsn_1`, `NJOURF+1` → `njourf_plus_1`."""
    return label.lower().replace("-", "_").replace("+", "_plus_")


def meter_id(entry: LinkyConfigEntry) -> str:
    """Return what identifies the meter in unique ids: its serial number, set by the config flow."""
    return entry.unique_id or entry.entry_id


class LinkyEntity(CoordinatorEntity[LinkyCoordinator]):
    """An entity of a meter's device, named by its translation key, that writes its state only when it changed."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: LinkyCoordinator, key: str) -> None:
        """Attach the entity to the meter's device; `key` makes its unique id."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{meter_id(entry)}_{key}"
        address = MeterAddress.parse(entry.unique_id or "")
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, meter_id(entry))},
            name=entry.title,
            manufacturer=address.manufacturer if address else None,
            model=address.model if address else None,
            model_id=address.meter_type_code if address else None,
            hw_version=f"TIC {coordinator.mode}",
        )
        self._shown = self._showing()

    @abstractmethod
    def _read(self) -> object:
        """Set the state attributes from the coordinator's latest data; return them, to tell a change."""

    def _showing(self) -> tuple[object, bool]:
        value = self._read()
        return value, self.available

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state when what the entity shows changed."""
        shown = self._showing()
        report = self._report_again()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()
        elif report:
            # Unchanged: Home Assistant notes when the state was last reported, and the recorder writes no row.
            self.async_write_ha_state()

    def _report_again(self) -> bool:
        """Tell whether to report the state again though it did not change; called at each update."""
        return False


@dataclass(frozen=True, kw_only=True)
class LinkyEntityDescription(EntityDescription):
    """An entity made from one label's group; `key` is the unique id's suffix."""

    label: str
    # Whether the label's value calls for the entity (a Tempo colour only on a Tempo contract...).
    exists_fn: Callable[[Group], bool] = lambda _: True


class LinkyLabelEntity(LinkyEntity):
    """An entity whose value comes from one label."""

    entity_description: LinkyEntityDescription

    def __init__(self, coordinator: LinkyCoordinator, description: LinkyEntityDescription) -> None:
        """Make the entity of a description."""
        self.entity_description = description
        super().__init__(coordinator, description.key)

    def label_group(self) -> Group | None:
        """Return the label's published group, None while there is none (not sent, or not published yet)."""
        return self.coordinator.data.published.get(self.entity_description.label)

    def label_sent(self) -> bool:
        """Tell whether the meter still sends the label."""
        return self.entity_description.label in self.coordinator.data.sent


@callback
def async_add_label_entities[D: LinkyEntityDescription](
    entry: LinkyConfigEntry,
    domain: str,
    descriptions: Iterable[D],
    entity: Callable[[LinkyCoordinator, D], Entity],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each description's entity when the meter first sends its label, or at once if it did before a restart.

    An entity the privacy level does not publish (an instantaneous signal at `daily`) is not created, and leaves the
    entity registry; its recorded history stays in the database, and a finer level brings it back with its entity id.
    """
    coordinator = entry.runtime_data
    registry = er.async_get(coordinator.hass)
    registered = {
        reg.unique_id: reg.entity_id
        for reg in er.async_entries_for_config_entry(registry, entry.entry_id)
        if reg.domain == domain
    }
    pending: dict[str, list[D]] = {}
    restored: list[D] = []
    for description in descriptions:
        unique_id = f"{meter_id(entry)}_{description.key}"
        if not coordinator.publisher.creates(description.label):
            if unique_id in registered:
                registry.async_remove(registered[unique_id])
            continue
        if unique_id in registered:
            restored.append(description)
        else:
            pending.setdefault(description.label, []).append(description)
    async_add_entities([entity(coordinator, description) for description in restored])

    @callback
    def add_new() -> None:
        data = coordinator.data.sent
        new: list[D] = []
        for label in pending.keys() & data.keys():
            waiting: list[D] = []
            for description in pending.pop(label):
                (new if description.exists_fn(data[label]) else waiting).append(description)
            if waiting:
                pending[label] = waiting
        if new:
            async_add_entities([entity(coordinator, description) for description in new])

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
