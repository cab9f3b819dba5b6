"""Base entity of a meter, and the creation of entities as the meter's labels appear."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypedDict

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .device import device_info, meter_id
from .linky_tic import Group


def translation_key(label: str) -> str:
    """Return the translation key of a label's entity: `SMAXSN-1` → `smaxsn_1`, `NJOURF+1` → `njourf_plus_1`."""
    return label.lower().replace("-", "_").replace("+", "_plus_")


class LinkyEntity(CoordinatorEntity[LinkyCoordinator]):
    """An entity of a meter's device, named by its translation key, that writes its state only when it changed."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: LinkyCoordinator, key: str) -> None:
        """Attach the entity to the meter's device; `key` makes its unique id."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{meter_id(entry)}_{key}"
        self._attr_device_info = device_info(entry)
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


class DescriptionChanges(TypedDict, total=False):
    """What the meter's first frame changes in an entity's description."""

    translation_key: str
    entity_registry_enabled_default: bool


@dataclass(frozen=True, kw_only=True)
class LinkyEntityDescription(EntityDescription):
    """An entity made from one label's group; `key` is the unique id's suffix."""

    label: str
    # Whether the label's value calls for the entity (a Tempo colour only on a Tempo contract...).
    exists_fn: Callable[[Group], bool] = lambda _: True
    # The name and default the labels sent give the entity when it is first made (a supplier index named after its
    # tariff period); a registered one keeps its name, until the labels call for another (a new contract).
    adapt_fn: Callable[[Mapping[str, Group]], DescriptionChanges] | None = None


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
        reg.unique_id: reg
        for reg in er.async_entries_for_config_entry(registry, entry.entry_id)
        if reg.domain == domain
    }
    pending: dict[str, list[D]] = {}
    restored: list[D] = []
    # Entities named by the labels sent, by unique id: their description and the name they were made with.
    named: dict[str, tuple[D, str | None]] = {}
    for description in descriptions:
        unique_id = f"{meter_id(entry)}_{description.key}"
        reg = registered.get(unique_id)
        if not coordinator.publisher.creates(description.label):
            if reg is not None:
                registry.async_remove(reg.entity_id)
            continue
        if reg is None:
            pending.setdefault(description.label, []).append(description)
        elif description.adapt_fn is None:
            restored.append(description)
        else:
            key = reg.translation_key or description.translation_key
            named[unique_id] = (description, key)
            restored.append(replace(description, translation_key=key))
    async_add_entities([entity(coordinator, description) for description in restored])

    @callback
    def add_new() -> None:
        data = coordinator.data.sent
        new: list[D] = []
        for label in pending.keys() & data.keys():
            waiting: list[D] = []
            for description in pending.pop(label):
                if not description.exists_fn(data[label]):
                    waiting.append(description)
                elif description.adapt_fn is None:
                    new.append(description)
                else:
                    adapted = replace(description, **description.adapt_fn(data))
                    named[f"{meter_id(entry)}_{description.key}"] = (description, adapted.translation_key)
                    new.append(adapted)
            if waiting:
                pending[label] = waiting
        if new:
            async_add_entities([entity(coordinator, description) for description in new])
        rename(data)

    @callback
    def rename(data: Mapping[str, Group]) -> None:
        """After a change of contract, name the entities after the new calendar: in the registry, then reload.

        An index the old calendar did not use (created disabled) is enabled when the new one uses it: HP/HC to Tempo
        brings the white and red days' indexes. One the household disabled stays so.
        """
        renamed = False
        for unique_id, (description, key) in named.items():
            if description.adapt_fn is None or description.label not in data:
                continue
            changes = description.adapt_fn(data)
            wanted = changes.get("translation_key", description.translation_key)
            if (entity_id := registry.async_get_entity_id(domain, DOMAIN, unique_id)) is None:
                continue
            reg = registry.async_get(entity_id)
            enable = (
                changes.get("entity_registry_enabled_default", False)
                and reg is not None
                and reg.disabled_by is er.RegistryEntryDisabler.INTEGRATION
            )
            if wanted != key or enable:
                if enable:
                    registry.async_update_entity(entity_id, translation_key=wanted, disabled_by=None)
                else:
                    registry.async_update_entity(entity_id, translation_key=wanted)
                renamed = True
        if renamed:
            named.clear()
            coordinator.hass.config_entries.async_schedule_reload(entry.entry_id)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
