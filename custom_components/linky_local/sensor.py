"""Sensors of a meter: one per catalogue label it sends, a few derived ones, and the link's diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, Platform, UnitOfEnergy, UnitOfReactiveEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import LinkState, LinkyConfigEntry, LinkyCoordinator, MeterSnapshot
from .entity import (
    DescriptionChanges,
    LinkyEntity,
    LinkyEntityDescription,
    LinkyLabelEntity,
    async_add_label_entities,
    translation_key,
)
from .linky_tic import (
    CATALOGUE,
    CutOff,
    Group,
    LabelSpec,
    Mode,
    Quantity,
    Status,
    TempoColour,
    calendar_indexes,
    decimal,
    describe,
    tariff_option,
    tariff_period,
    tempo_tomorrow,
)
from .policy import diagnostic, enabled_by_default, supplier_rank
from .privacy import Signal, averages, holds_last, power_statistics, signal
from .publisher import Mean

PARALLEL_UPDATES = 0

# Horodates without a season (DPM, FPM) are the meter's local time.
_METER_TIME_ZONE: Final = ZoneInfo("Europe/Paris")
# A mean's window: the minutes before the moment the state was last reported.
ATTR_WINDOW_MINUTES: Final = "window_minutes"
# When a maximum power was reached: an attribute, which moves with the maximum without a logbook entry of its own.
ATTR_REACHED_AT: Final = "reached_at"

type SensorValue = StateType | datetime


@dataclass(frozen=True, slots=True)
class _Measure:
    """How Home Assistant shows and records a quantity; the unit is the catalogue's, the label's own."""

    device_class: SensorDeviceClass | None = None
    state_class: SensorStateClass | None = None
    suggested_unit: str | None = None
    # Decimals the meter's resolution gives: whole units, or Wh shown in kWh.
    precision: int | None = None


_MEASURES: Final[dict[Quantity, _Measure]] = {
    Quantity.ENERGY: _Measure(
        SensorDeviceClass.ENERGY, SensorStateClass.TOTAL_INCREASING, UnitOfEnergy.KILO_WATT_HOUR, precision=3
    ),
    Quantity.ENERGY_RETURNED: _Measure(
        SensorDeviceClass.ENERGY, SensorStateClass.TOTAL_INCREASING, UnitOfEnergy.KILO_WATT_HOUR, precision=3
    ),
    Quantity.REACTIVE_ENERGY: _Measure(
        SensorDeviceClass.REACTIVE_ENERGY,
        SensorStateClass.TOTAL_INCREASING,
        UnitOfReactiveEnergy.KILO_VOLT_AMPERE_REACTIVE_HOUR,
        precision=3,
    ),
    Quantity.APPARENT_POWER: _Measure(SensorDeviceClass.APPARENT_POWER, SensorStateClass.MEASUREMENT, precision=0),
    Quantity.APPARENT_POWER_KVA: _Measure(SensorDeviceClass.APPARENT_POWER, SensorStateClass.MEASUREMENT, precision=0),
    Quantity.ACTIVE_POWER: _Measure(SensorDeviceClass.POWER, SensorStateClass.MEASUREMENT, precision=0),
    Quantity.CURRENT: _Measure(SensorDeviceClass.CURRENT, SensorStateClass.MEASUREMENT, precision=0),
    Quantity.VOLTAGE: _Measure(SensorDeviceClass.VOLTAGE, SensorStateClass.MEASUREMENT, precision=0),
    Quantity.DURATION: _Measure(SensorDeviceClass.DURATION, precision=0),
    Quantity.ENUM: _Measure(SensorDeviceClass.ENUM),
    Quantity.TIMESTAMP: _Measure(SensorDeviceClass.TIMESTAMP),
    Quantity.TEXT: _Measure(),
}


def _integer(group: Group) -> int | None:
    return decimal(group.value)


def _text(group: Group) -> str:
    # Values are padded with spaces to their size: show the words.
    return " ".join(group.value.split())


def _moment(group: Group) -> datetime | None:
    if group.horodate is None:
        return None
    moment = group.horodate.moment
    return moment if moment.tzinfo else moment.replace(tzinfo=_METER_TIME_ZONE)


def _enum_value(decode: Callable[[str], Enum | None]) -> Callable[[Group], str | None]:
    def value(group: Group) -> str | None:
        # A Tempo colour not announced yet is the state unknown, not an option.
        if (decoded := decode(group.value)) is None or decoded is TempoColour.UNKNOWN:
            return None
        return str(decoded.value)

    return value


_ENUM_VALUES: Final[dict[str, Callable[[Group], str | None]]] = {
    "OPTARIF": _enum_value(tariff_option),
    "PTEC": _enum_value(tariff_period),
    "DEMAIN": _enum_value(tempo_tomorrow),
}
# Texts that are numbers to a household: the supplier index in force reads 1, not "01".
_LABEL_VALUES: Final[dict[str, Callable[[Group], SensorValue]]] = {"NTARF": _integer}
_VALUES: Final[dict[Quantity, Callable[[Group], SensorValue]]] = {
    Quantity.TIMESTAMP: _moment,
    Quantity.TEXT: _text,
}


@dataclass(frozen=True, kw_only=True)
class LinkySensorEntityDescription(SensorEntityDescription, LinkyEntityDescription):
    """A sensor whose value comes from one label's group."""

    value_fn: Callable[[Group], SensorValue]
    # What identifies the event the value tells (a peak): the state moves only when it changes.
    event_fn: Callable[[Group], object] | None = None
    # A maximum the meter stamps with its time, told in the `reached_at` attribute.
    reached_at: bool = False


def _label_description(spec: LabelSpec) -> LinkySensorEntityDescription:
    assert spec.quantity is not None
    measure = _MEASURES[spec.quantity]
    is_diagnostic = diagnostic(spec)
    rank = supplier_rank(spec)
    value_fn: Callable[[Group], SensorValue] = (
        _ENUM_VALUES[spec.label]
        if spec.quantity is Quantity.ENUM
        else _LABEL_VALUES.get(spec.label) or _VALUES.get(spec.quantity, _integer)
    )
    return LinkySensorEntityDescription(
        key=spec.label,
        label=spec.label,
        translation_key=translation_key(spec.label),
        device_class=measure.device_class,
        # Contract values and meter constants need no long-term statistics.
        state_class=None if is_diagnostic else measure.state_class,
        native_unit_of_measurement=spec.unit,
        suggested_unit_of_measurement=measure.suggested_unit,
        suggested_display_precision=measure.precision,
        options=[option for option in spec.options if option != TempoColour.UNKNOWN] or None,
        entity_category=EntityCategory.DIAGNOSTIC if is_diagnostic else None,
        entity_registry_enabled_default=enabled_by_default(spec),
        value_fn=value_fn,
        adapt_fn=_ADAPT.get(spec.label) or (None if rank is None else _supplier_index(rank)),
        adapted_by=("NGTF", "NTARF") if spec.label in _ADAPT or rank is not None else (),
        reached_at=_is_peak(spec),
    )


def _is_peak(spec: LabelSpec) -> bool:
    """Tell whether a label is a maximum power stamped with the time it was reached."""
    return spec.horodate and spec.quantity is Quantity.APPARENT_POWER


def _supplier_index(rank: int) -> Callable[[Mapping[str, Group]], DescriptionChanges]:
    """Name a supplier index after its period in a known calendar, and enable it when the contract uses it.

    A known calendar (NGTF) says how many indexes the contract has; for another one, the indexes in use are those
    not at zero and the one in force (NTARF). A contract of a single index leaves it disabled: EAST counts the same.
    """

    def adapt(sent: Mapping[str, Group]) -> DescriptionChanges:
        periods, used = _supplier_indexes(sent)
        changes = DescriptionChanges(entity_registry_enabled_default=rank in used and len(used) > 1)
        if periods is not None and rank <= len(periods):
            changes["translation_key"] = translation_key(periods[rank - 1])
        return changes

    return adapt


def _supplier_indexes(sent: Mapping[str, Group]) -> tuple[tuple[str, ...] | None, set[int]]:
    """Return the periods of a known calendar (None for another one) and the numbers of the indexes in use."""
    periods = calendar_indexes(sent["NGTF"].value) if "NGTF" in sent else None
    if periods is not None:
        return periods, set(range(1, len(periods) + 1))
    used = {n for n in range(1, 11) if (group := sent.get(f"EASF{n:02}")) and decimal(group.value)}
    if (in_force := sent.get("NTARF")) is not None and (number := decimal(in_force.value)) is not None:
        used.add(number)
    return None, used


def _total_index(sent: Mapping[str, Group]) -> DescriptionChanges:
    """Leave the total withdrawn disabled when the contract has several periods, each with its own index.

    On Tempo or off-peak hours, the energy dashboard would count it twice beside them; a single-period contract has
    only the total.
    """
    _, used = _supplier_indexes(sent)
    return DescriptionChanges(entity_registry_enabled_default=len(used) <= 1)


_ADAPT: Final[dict[str, Callable[[Mapping[str, Group]], DescriptionChanges]]] = {"EAST": _total_index}


def _on_status[T](field: Callable[[Status], T], default: T) -> Callable[[Group], T]:
    def value(group: Group) -> T:
        return default if (status := Status.parse(group.value)) is None else field(status)

    return value


def _colour(colour: TempoColour | None) -> str | None:
    return None if colour is None or colour is TempoColour.UNKNOWN else str(colour)


def _period_colour(group: Group) -> TempoColour | None:
    return None if (period := tariff_period(group.value)) is None else period.tempo_colour


def _mobile_peak(period: int) -> str:
    return f"pm{period}" if period else "none"


_COLOURS: Final = [str(colour) for colour in TempoColour if colour is not TempoColour.UNKNOWN]
_MOBILE_PEAKS: Final = ["none", "pm1", "pm2", "pm3"]


def _stge(
    field: str,
    value: Callable[[Status], str | None],
    options: list[str],
    exists: Callable[[Status], bool] = lambda _: True,
    *,
    enabled: bool = True,
) -> LinkySensorEntityDescription:
    """Describe an enum sensor of a status register field."""
    return LinkySensorEntityDescription(
        key=f"STGE_{field}",
        label="STGE",
        translation_key=field,
        device_class=SensorDeviceClass.ENUM,
        options=options,
        entity_registry_enabled_default=enabled,
        value_fn=_on_status(value, None),
        exists_fn=_on_status(exists, default=False),
    )


def _is_tempo(status: Status) -> bool:
    return status.tempo_today is not TempoColour.UNKNOWN


def _has_mobile_peaks(status: Status) -> bool:
    return bool(status.mobile_peak_notice or status.mobile_peak)


def _peak_time(spec: LabelSpec) -> LinkySensorEntityDescription:
    """Describe the timestamp sensor of when a maximum power was reached, to the minute.

    Disabled at first: each rise of the day's maximum would be a logbook entry; the maximum's own sensor tells the
    time in its `reached_at` attribute.
    """
    return LinkySensorEntityDescription(
        key=f"{spec.label}_time",
        label=spec.label,
        translation_key=translation_key(f"{spec.label}_time"),
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=_minute,
        event_fn=_peak,
    )


def _minute(group: Group) -> datetime | None:
    """Return the moment of a group to the minute: two rises in one minute read as one."""
    return None if (moment := _moment(group)) is None else moment.replace(second=0, microsecond=0)


def _peak(group: Group) -> object:
    """Return what makes a new peak: another power, or another day; its time alone moving is no new event."""
    moment = _moment(group)
    return group.value, None if moment is None else moment.date()


# Sensors derived from a label's value: status register fields, today's Tempo colour, times of the maxima.
_DERIVED: Final[dict[Mode, tuple[LinkySensorEntityDescription, ...]]] = {
    Mode.HISTORIC: (
        LinkySensorEntityDescription(
            key="PTEC_tempo_today",
            label="PTEC",
            translation_key="tempo_today",
            device_class=SensorDeviceClass.ENUM,
            options=_COLOURS,
            value_fn=lambda group: _colour(_period_colour(group)),
            exists_fn=lambda group: _period_colour(group) is not None,
        ),
    ),
    Mode.STANDARD: (
        _stge("cut_off", lambda status: status.cut_off.name.lower(), [cut_off.name.lower() for cut_off in CutOff]),
        # NTARF tells the supplier index in force too: its entity is the one enabled.
        _stge(
            "supplier_index", lambda status: str(status.supplier_index), [str(n) for n in range(1, 11)], enabled=False
        ),
        _stge(
            "distributor_index",
            lambda status: str(status.distributor_index),
            [str(n) for n in range(1, 5)],
            enabled=False,
        ),
        _stge("tempo_today", lambda status: _colour(status.tempo_today), _COLOURS, _is_tempo),
        _stge("tempo_tomorrow", lambda status: _colour(status.tempo_tomorrow), _COLOURS, _is_tempo),
        _stge(
            "mobile_peak_notice",
            lambda status: _mobile_peak(status.mobile_peak_notice),
            _MOBILE_PEAKS,
            _has_mobile_peaks,
        ),
        _stge("mobile_peak", lambda status: _mobile_peak(status.mobile_peak), _MOBILE_PEAKS, _has_mobile_peaks),
        *(
            _peak_time(spec)
            for spec in CATALOGUE[Mode.STANDARD].values()
            if spec.horodate and spec.quantity is Quantity.APPARENT_POWER
        ),
    ),
}


SENSORS: Final[dict[Mode, tuple[LinkySensorEntityDescription, ...]]] = {
    mode: (
        *(
            _label_description(spec)
            for spec in specs.values()
            if spec.quantity is not None and spec.quantity is not Quantity.PROBLEM
        ),
        *_DERIVED[mode],
    )
    for mode, specs in CATALOGUE.items()
}


class LinkySensor(LinkyLabelEntity, RestoreSensor):
    """A sensor of a label's value, as the privacy level publishes it.

    A mean is reported at the end of each window, even when equal to the last one (Home Assistant then notes the time,
    and writes no new row): the window it covers is the `window_minutes` before the state's last report. An index or
    a sampled value, or a mean, published once per window shows its last published value after a restart (or a
    reload, or a change of level) until its first window ends: the window it was the mean of stays in its attribute.
    """

    entity_description: LinkySensorEntityDescription
    _restored: StateType | date | datetime | Decimal = None
    _restored_attributes: dict[str, Any] | None = None
    _mean: Mean | None = None
    _reported: Mean | None = None
    _event: object = None

    def __init__(self, coordinator: LinkyCoordinator, description: LinkySensorEntityDescription) -> None:
        """Make the entity of a description; its label's kind of signal decides how its level publishes it."""
        self._signal = signal(describe(coordinator.mode, description.label))
        super().__init__(coordinator, description)

    @property
    def available(self) -> bool:
        """Return whether the meter is read and still sends the label."""
        return super().available and self.label_sent()

    @property
    def state_class(self) -> SensorStateClass | None:
        """Return the state class; none for a measurement whose long-term statistics the household declined."""
        if self._signal is Signal.INSTANTANEOUS and not power_statistics(self.coordinator.config_entry):
            return None
        return super().state_class

    async def async_added_to_hass(self) -> None:
        """Take back the last published value when the level publishes the label once per window."""
        await super().async_added_to_hass()
        snapshot = self.coordinator.data
        if (
            holds_last(snapshot.level, self._signal)
            and (last := await self.async_get_last_sensor_data()) is not None
            and last.native_unit_of_measurement == self.native_unit_of_measurement
        ):
            self._restored = last.native_value
            if (state := await self.async_get_last_state()) is not None and ATTR_WINDOW_MINUTES in state.attributes:
                self._restored_attributes = {ATTR_WINDOW_MINUTES: state.attributes[ATTR_WINDOW_MINUTES]}
            self._shown = self._showing(snapshot)

    def _view(self, snapshot: MeterSnapshot) -> object:
        label = self.entity_description.label
        if averages(snapshot.level, self._signal):
            self._mean = snapshot.means.get(label)
            if self._mean is None and self._restored is not None:  # no window ended yet: the last one published
                self._attr_native_value = self._restored
                self._attr_extra_state_attributes = self._restored_attributes or {}
                return self._attr_native_value
            self._attr_native_value = None if self._mean is None else self._mean.value
            window = snapshot.level.window
            self._attr_extra_state_attributes = {ATTR_WINDOW_MINUTES: window // timedelta(minutes=1)} if window else {}
            return self._attr_native_value
        group = snapshot.published.get(label)
        if group is not None and (event_fn := self.entity_description.event_fn) is not None:
            if (event := event_fn(group)) == self._event:
                return self._attr_native_value
            self._event = event
        self._attr_native_value = self._restored if group is None else self.entity_description.value_fn(group)
        if self.entity_description.reached_at:
            moment = None if group is None else _minute(group)
            self._attr_extra_state_attributes = {ATTR_REACHED_AT: dt_util.as_utc(moment).isoformat()} if moment else {}
            return self._attr_native_value, moment
        return self._attr_native_value

    def _report_again(self) -> bool:
        """Report a new window's mean even when equal to the last one."""
        new, self._reported = self._mean is not self._reported, self._mean
        return new


@dataclass(frozen=True, kw_only=True)
class LinkyLinkSensorEntityDescription(SensorEntityDescription):
    """A diagnostic sensor of the link to the meter."""

    value_fn: Callable[[MeterSnapshot], SensorValue]


def _counter(
    key: str, value_fn: Callable[[MeterSnapshot], SensorValue], *, enabled: bool
) -> LinkyLinkSensorEntityDescription:
    """Describe a counter of the link (frames, errors) since the entry started."""
    return LinkyLinkSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_registry_enabled_default=enabled,
        value_fn=value_fn,
    )


def _choice(
    key: str, choices: type[StrEnum], value_fn: Callable[[MeterSnapshot], StrEnum]
) -> LinkyLinkSensorEntityDescription:
    """Describe a state of the link that is one of a fixed set of choices."""
    return LinkyLinkSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENUM,
        options=[str(choice) for choice in choices],
        value_fn=lambda meter: str(value_fn(meter)),
    )


LINK_SENSORS: Final = (
    _choice("link_state", LinkState, lambda meter: meter.link_state),
    _counter("frames_received", lambda meter: meter.frames, enabled=False),
    _counter("checksum_errors", lambda meter: meter.checksum_errors, enabled=True),
    LinkyLinkSensorEntityDescription(
        key="last_frame",
        translation_key="last_frame",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_registry_enabled_default=False,
        value_fn=lambda meter: meter.last_frame_at,
    ),
    _choice("detected_mode", Mode, lambda meter: meter.mode),
)


class LinkyLinkSensor(LinkyEntity, SensorEntity):
    """A diagnostic sensor of the link: available even when the meter is not, to tell why."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    entity_description: LinkyLinkSensorEntityDescription

    def __init__(self, coordinator: LinkyCoordinator, description: LinkyLinkSensorEntityDescription) -> None:
        """Make the entity of a description."""
        self.entity_description = description
        super().__init__(coordinator, description.key)

    @property
    def available(self) -> bool:
        """Return True: the link's state is known even when the meter is lost."""
        return True

    def _view(self, snapshot: MeterSnapshot) -> object:
        self._attr_native_value = self.entity_description.value_fn(snapshot)
        return self._attr_native_value


async def async_setup_entry(
    hass: HomeAssistant, entry: LinkyConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the link's sensors now, and each label's sensors when the meter sends it."""
    async_add_entities(LinkyLinkSensor(entry.runtime_data, description) for description in LINK_SENSORS)
    async_add_label_entities(entry, Platform.SENSOR, SENSORS[entry.runtime_data.mode], LinkySensor, async_add_entities)
