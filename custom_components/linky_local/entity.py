"""Base entity of a meter, and the creation of entities as the meter's labels appear."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final, TypedDict

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator, MeterSnapshot
from .device import device_info, meter_id
from .linky_tic import Group


def label_key(label: str) -> str:
    """Return a label as a key: `SMAXSN-1` → `smaxsn_1`, `NJOURF+1` → `njourf_plus_1` (0.1.0's translation keys)."""
    return label.lower().replace("-", "_").replace("+", "_plus_")


def _phases(key: str, labels: str) -> dict[str, str]:
    """Name a label's phases 1 to 3 after its own key: IRMS1 → current_phase_1."""
    return {f"{labels}{n}": f"{key}_phase_{n}" for n in (1, 2, 3)}


def _maxima(label: str, key: str) -> dict[str, str]:
    """Name today's and yesterday's maxima of a power, and the times they were reached."""
    return {
        label: f"{key}_today",
        f"{label}-1": f"{key}_yesterday",
        f"{label}_time": f"{key}_time",
        f"{label}-1_time": f"{key}_time_yesterday",
    }


# The translation key of each label's entity, named after what it means; a label absent here (no entity of its own)
# keeps its key, which words it in the privacy ledger.
TRANSLATION_KEYS: Final[dict[str, str]] = {
    "BASE": "base_index",
    "HCHC": "off_peak_index",
    "HCHP": "peak_index",
    "EJPHN": "ejp_normal_hours_index",
    "EJPHPM": "ejp_mobile_peak_index",
    **{
        f"BBR{period}J{colour[0].upper()}": f"{colour}_day_{name}_index"
        for colour in ("blue", "white", "red")
        for period, name in (("HC", "off_peak"), ("HP", "peak"))
    },
    "OPTARIF": "tariff_option",
    "PTEC": "tariff_period",
    "DEMAIN": "tempo_colour_tomorrow",
    "PEJP": "ejp_pre_notice",
    "ISOUSC": "subscribed_current",
    "IINST": "current",
    **_phases("current", "IINST"),
    "IMAX": "maximum_current",
    **_phases("maximum_current", "IMAX"),
    "ADPS": "overrun_warning",
    **{f"ADIR{n}": f"overrun_phase_{n}" for n in (1, 2, 3)},
    "PAPP": "apparent_power",
    "PMAX": "max_three_phase_power_yesterday",
    "HHPHC": "schedule_group",
    "MOTDETAT": "status_word",
    "PPOT": "phase_presence",
    "VTIC": "tic_version",
    "DATE": "meter_clock",
    "NGTF": "tariff_calendar",
    "LTARF": "tariff_label",
    "EAST": "energy_withdrawn",
    **{f"EASF{n:02}": f"supplier_index_{n}" for n in range(1, 11)},
    **{f"EASD{n:02}": f"distributor_index_{n}" for n in range(1, 5)},
    "EAIT": "energy_injected",
    **{f"ERQ{n}": f"reactive_energy_q{n}" for n in range(1, 5)},
    **_phases("rms_current", "IRMS"),
    **_phases("rms_voltage", "URMS"),
    "PREF": "reference_power",
    "PCOUP": "cut_off_power",
    "SINSTS": "power_withdrawn",
    **_phases("power_withdrawn", "SINSTS"),
    **_maxima("SMAXSN", "max_power"),
    **{key: value for n in (1, 2, 3) for key, value in _maxima(f"SMAXSN{n}", f"max_power_phase_{n}").items()},
    "SINSTI": "power_injected",
    **_maxima("SMAXIN", "max_power_injected"),
    "CCASN": "load_curve",
    "CCASN-1": "previous_load_curve",
    "CCAIN": "injection_curve",
    "CCAIN-1": "previous_injection_curve",
    **_phases("mean_voltage", "UMOY"),
    **{f"DPM{n}": f"mobile_peak_{n}_start" for n in (1, 2, 3)},
    **{f"FPM{n}": f"mobile_peak_{n}_end" for n in (1, 2, 3)},
    "MSG1": "supplier_message",
    "MSG2": "supplier_short_message",
    "NTARF": "index_in_use",
    "NJOURF": "day_profile_today",
    "NJOURF+1": "day_profile_tomorrow",
}
# 0.1.0 named a label's entity after the label: its key as the registry holds it, to the key named after meaning.
LEGACY_TRANSLATION_KEYS: Final = {label_key(label): key for label, key in TRANSLATION_KEYS.items()}


def translation_key(label: str) -> str:
    """Return the translation key of a label's entity (or a derived one, `SMAXSN_time`), named after its meaning."""
    return TRANSLATION_KEYS.get(label) or label_key(label)


class LinkyEntity(Entity):
    """An entity of a meter's device, a view of the coordinator's snapshot, that writes its state when it changed."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    # The label the entity is a view of; None: of the whole snapshot (the link's state, its counters).
    _label: str | None = None

    def __init__(self, coordinator: LinkyCoordinator, key: str) -> None:
        """Attach the entity to the meter's device; `key` makes its unique id."""
        self.coordinator = coordinator
        entry = coordinator.config_entry
        self._attr_unique_id = f"{meter_id(entry)}_{key}"
        self._attr_device_info = device_info(entry)
        self._shown = self._showing(coordinator.data)

    @property
    def available(self) -> bool:
        """Return whether the meter's frames are coming."""
        return self.coordinator.data.receiving

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator's snapshots."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_listener(self._snapshot_changed, self._label))

    @abstractmethod
    def _view(self, snapshot: MeterSnapshot) -> object:
        """Set the state attributes from a snapshot; return them, to tell a change."""

    def _showing(self, snapshot: MeterSnapshot) -> tuple[object, bool]:
        value = self._view(snapshot)
        return value, self.available

    @callback
    def _snapshot_changed(self) -> None:
        """Write the state when what the entity shows changed."""
        shown = self._showing(self.coordinator.data)
        report = self._report_again()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()
        elif report:
            # Unchanged: Home Assistant notes when the state was last reported, and the recorder writes no row.
            self.async_write_ha_state()

    def _report_again(self) -> bool:
        """Tell whether to report the state again though it did not change; called at each snapshot."""
        return False


class DescriptionChanges(TypedDict, total=False):
    """What the meter's first frame changes in an entity's description."""

    translation_key: str
    entity_registry_enabled_default: bool


@dataclass(frozen=True, kw_only=True)
class LinkyEntityDescription(EntityDescription):
    """An entity made from one label's group; `key` is the unique id's suffix."""

    label: str
    # Whether the label's value calls for the entity (a Tempo colour only on a Tempo contract...); None: its presence.
    exists_fn: Callable[[Group], bool] | None = None
    # The name and default the labels sent give the entity when it is first made (a supplier index named after its
    # tariff period); a registered one keeps its name, until the labels call for another (a new contract).
    adapt_fn: Callable[[Mapping[str, Group]], DescriptionChanges] | None = None
    # The labels whose values `adapt_fn` reads, besides the entity's own.
    adapted_by: tuple[str, ...] = ()


class LinkyLabelEntity(LinkyEntity):
    """An entity whose value comes from one label."""

    entity_description: LinkyEntityDescription

    def __init__(self, coordinator: LinkyCoordinator, description: LinkyEntityDescription) -> None:
        """Make the entity of a description."""
        self.entity_description = description
        self._label = description.label
        super().__init__(coordinator, description.key)

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

    Run when the labels the meter sends change, or the value of one that decides an entity's existence or name.

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
        if not coordinator.publisher.publishes(description.label):
            if reg is not None:
                registry.async_remove(reg.entity_id)
            continue
        if reg is None:
            pending.setdefault(description.label, []).append(description)
        elif description.adapt_fn is None:
            restored.append(description)
        else:
            key = reg.translation_key or description.translation_key
            key = LEGACY_TRANSLATION_KEYS.get(key, key) if key else key
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
                if description.exists_fn is not None and not description.exists_fn(data[label]):
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

    shaping = {
        label
        for description in pending_or_named(pending, named)
        for label in (
            *((description.label,) if description.exists_fn is not None else ()),
            *description.adapted_by,
        )
    }
    add_new()
    entry.async_on_unload(coordinator.async_add_shape_listener(add_new, shaping))


def pending_or_named[D: LinkyEntityDescription](
    pending: Mapping[str, list[D]], named: Mapping[str, tuple[D, str | None]]
) -> Iterable[D]:
    """Return the descriptions whose entity may still be created, or renamed."""
    for descriptions in pending.values():
        yield from descriptions
    for description, _ in named.values():
        yield description
