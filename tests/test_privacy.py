"""Privacy levels: time-weighted means per window, indexes at window ends, states at once, no entity at `daily`."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache_with_extra_data

from custom_components.linky_local.coordinator import READ_PAUSE
from custom_components.linky_local.linky_tic import CATALOGUE, Group, Mode
from custom_components.linky_local.privacy import PrivacyLevel, Signal, next_boundary, signal
from custom_components.linky_local.publisher import CLOSE_LEAD, _Accumulator
from linky_tools.simulator import Profile

from .conftest import Clock, VirtualMeter, start_clock, written

PREFIX = "sensor.linky"
POWER = f"{PREFIX}_apparent_power"
VOLTAGE = f"{PREFIX}_voltage_phase_1"
ENERGY = f"{PREFIX}_energy_withdrawn"
TARIFF = f"{PREFIX}_current_tariff"
# 08:30 in France.
T0 = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def total_enabled(total_withdrawn_enabled: None) -> None:
    """These tests read the total withdrawn of a Tempo meter, which starts disabled."""


@pytest.fixture
def meter_profile() -> Profile:
    """A three-phase consumer in standard mode, on Tempo."""
    return Profile.STANDARD_TRI


@pytest.fixture
def privacy_level() -> PrivacyLevel:
    """The default level."""
    return PrivacyLevel.MINUTE


@pytest.fixture(autouse=True)
def reading_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read each frame as it comes: these tests place frames at exact moments (test_line.py reads in batches)."""
    for level in PrivacyLevel:
        monkeypatch.setitem(READ_PAUSE, level, 0.0)


@pytest.fixture
async def clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, virtual_meter: VirtualMeter, mock_config_entry: MockConfigEntry
) -> Clock:
    """A French home, set up a moment before T0, when its first window ends."""
    return await start_clock(hass, freezer, virtual_meter, mock_config_entry, T0)


def weighted_mean(samples: list[tuple[datetime, float]], end: datetime) -> float:
    """Return the mean of values each holding from its moment to the next one's (the last one to `end`)."""
    ends = [moment for moment, _ in samples[1:]] + [end]
    total = sum(value * (stop - moment).total_seconds() for (moment, value), stop in zip(samples, ends, strict=True))
    return total / (end - samples[0][0]).total_seconds()


def test_signals_come_from_the_catalogue() -> None:
    """Powers, currents and voltages are averaged; the meter's own maxima, curve points and clock are not."""
    instantaneous = {
        mode: sorted(label for label, spec in specs.items() if signal(spec) is Signal.INSTANTANEOUS)
        for mode, specs in CATALOGUE.items()
    }
    assert instantaneous == {
        Mode.HISTORIC: ["IINST", "IINST1", "IINST2", "IINST3", "PAPP"],
        Mode.STANDARD: [
            "IRMS1", "IRMS2", "IRMS3", "SINSTI", "SINSTS", "SINSTS1", "SINSTS2", "SINSTS3", "URMS1", "URMS2", "URMS3",
        ],
    }  # fmt: skip
    standard = CATALOGUE[Mode.STANDARD]
    assert signal(standard["EAST"]) is Signal.INDEX
    assert signal(standard["ERQ1"]) is Signal.INDEX
    assert signal(standard["SMAXSN"]) is Signal.SAMPLED
    assert signal(standard["CCASN"]) is Signal.SAMPLED
    assert signal(standard["DATE"]) is Signal.SAMPLED
    assert signal(CATALOGUE[Mode.HISTORIC]["PMAX"]) is Signal.SAMPLED
    assert signal(standard["PREF"]) is Signal.STATE  # the subscribed power: a contract value
    assert signal(standard["DPM1"]) is Signal.STATE
    assert signal(standard["STGE"]) is Signal.STATE
    assert signal(None) is Signal.STATE


@pytest.mark.parametrize(
    ("level", "after", "boundary"),
    [
        (PrivacyLevel.MINUTE, "2026-01-15T08:30:00+01:00", "2026-01-15T08:31:00+01:00"),
        (PrivacyLevel.MINUTE, "2026-01-15T08:30:59.9+01:00", "2026-01-15T08:31:00+01:00"),
        (PrivacyLevel.HALF_HOURLY, "2026-01-15T08:29:59+01:00", "2026-01-15T08:30:00+01:00"),
        (PrivacyLevel.HALF_HOURLY, "2026-01-15T08:30:00+01:00", "2026-01-15T09:00:00+01:00"),
        (PrivacyLevel.DAILY, "2026-01-15T08:30:00+01:00", "2026-01-16T00:00:00+01:00"),
        # Daylight saving time ends: the day lasts 25 hours, the half hours go on.
        (PrivacyLevel.DAILY, "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
        (PrivacyLevel.HALF_HOURLY, "2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00"),
        # It begins: 02:00 becomes 03:00.
        (PrivacyLevel.HALF_HOURLY, "2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00"),
        (PrivacyLevel.DAILY, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
    ],
)
async def test_window_boundaries(hass: HomeAssistant, level: PrivacyLevel, after: str, boundary: str) -> None:
    """Windows end on the local minute, the local :00 and :30, and local midnight, through clock changes."""
    await hass.config.async_set_time_zone("Europe/Paris")
    assert next_boundary(level, datetime.fromisoformat(after)) == datetime.fromisoformat(boundary)


async def test_half_hours_follow_the_local_clock(hass: HomeAssistant) -> None:
    """Where the offset is not whole hours, half hours still fall on the local :00 and :30."""
    await hass.config.async_set_time_zone("Asia/Kolkata")
    assert next_boundary(PrivacyLevel.HALF_HOURLY, datetime(2026, 1, 15, 7, 10, tzinfo=UTC)) == datetime(
        2026, 1, 15, 7, 30, tzinfo=UTC
    )  # 13:00 in India
    await hass.config.async_set_time_zone("Asia/Kathmandu")  # UTC+5:45
    assert next_boundary(PrivacyLevel.HALF_HOURLY, datetime(2026, 1, 15, 7, 10, tzinfo=UTC)) == datetime(
        2026, 1, 15, 7, 15, tzinfo=UTC
    )  # 13:00 in Nepal


def test_a_value_holds_until_the_next_one_at_most_max_hold() -> None:
    """Each value weighs the time it held; a meter gone silent weighs nothing once max_hold has passed."""
    accumulator = _Accumulator(max_hold=5.0)
    accumulator.add(100.0, 0.0)
    accumulator.add(400.0, 1.0)  # 100 held 1 s
    assert accumulator.close(4.0) == pytest.approx((100 * 1 + 400 * 3) / 4)
    # The next window: 400 holds on, until 5 s after its frame; nothing is measured after that.
    assert accumulator.close(60.0) == 400.0
    assert accumulator.close(120.0) is None
    accumulator.add(200.0, 130.0)
    accumulator.add(None, 131.0)  # the label is no longer sent
    assert accumulator.close(180.0) == 200.0


async def test_means_over_each_minute(hass: HomeAssistant, clock: Clock) -> None:
    """Powers and voltages are published once a minute, as their time-weighted mean over the minute before."""
    powers = written(hass, POWER)
    samples: list[tuple[datetime, float]] = []
    voltages: list[tuple[datetime, float]] = []
    # A kettle for 15 seconds in a minute of 1200 VA; the voltage sags while it runs.
    for second in range(0, 60, 2):
        moment = T0 + timedelta(seconds=second)
        power, volts = (3200, 228) if 20 <= second < 35 else (1200, 231)
        samples.append((moment, power))
        voltages.append((moment, volts))
        await clock.send_at(moment, SINSTS=f"{power:05d}", URMS1=f"{volts:03d}")
    assert powers == [STATE_UNKNOWN]  # the entity appeared; nothing published within the minute
    boundary = T0 + timedelta(minutes=1)
    await clock.close(boundary)

    mean = weighted_mean(samples, boundary - CLOSE_LEAD)
    assert mean not in {1200, 3200}  # neither a sample nor the last value
    state = hass.states.get(POWER)
    assert state.state == str(round(mean))
    assert state.attributes["window_minutes"] == 1
    assert boundary - CLOSE_LEAD <= state.last_reported < boundary
    # To the meter's own resolution: whole volts.
    assert hass.states.get(VOLTAGE).state == str(round(weighted_mean(voltages, boundary - CLOSE_LEAD)))
    assert powers == [STATE_UNKNOWN, str(round(mean))]

    # The next minute: 1200 VA went on from the last frame, then 2000 VA; the window starts on the minute.
    await clock.send_at(boundary + timedelta(seconds=1), SINSTS="02000")
    for second in range(3, 60, 2):
        await clock.send_at(boundary + timedelta(seconds=second), SINSTS="02000")
    await clock.close(boundary + timedelta(minutes=1))
    expected = (1200 * 1.25 + 2000 * 58.75) / 60
    state = hass.states.get(POWER)
    assert state.state == str(round(expected))
    assert len(powers) == 3

    # A third minute with the same mean: reported again at its end, no new state (no new row in the database).
    for second in range(1, 60, 2):
        await clock.send_at(boundary + timedelta(minutes=1, seconds=second), SINSTS=f"{round(expected):05d}")
    await clock.close(boundary + timedelta(minutes=2))
    state = hass.states.get(POWER)
    assert state.state == str(round(expected))
    assert len(powers) == 3
    assert boundary + timedelta(minutes=2) - CLOSE_LEAD <= state.last_reported < boundary + timedelta(minutes=2)
    assert state.last_changed < boundary + timedelta(minutes=1)


async def test_a_window_without_frames_still_closes(hass: HomeAssistant, clock: Clock) -> None:
    """Windows follow the clock, not the frames: once the meter is silent, nothing measured is made up."""
    for second in range(0, 60, 2):
        await clock.send_at(T0 + timedelta(seconds=second), SINSTS="01000")
    boundary = T0 + timedelta(minutes=1)
    await clock.close(boundary)
    assert hass.states.get(POWER).state == "1000"
    # Silence from 58 s: the last value holds until the meter is declared lost, 4.5 s later.
    publisher = clock.entry.runtime_data.publisher
    await clock.close(boundary + timedelta(minutes=1))
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE
    assert publisher.means["SINSTS"].value == 1000
    await clock.close(boundary + timedelta(minutes=2))
    assert publisher.means["SINSTS"].value is None
    assert publisher.means["SINSTS"].end == boundary + timedelta(minutes=2)


async def test_a_label_no_longer_sent(hass: HomeAssistant, clock: Clock) -> None:
    """A state the meter stops sending is withdrawn; a measurement it stops sending stops counting in the mean."""
    groups = clock.meter.simulator.groups()
    power = next(int(group.value) for group in groups if group.label == "SINSTS")
    await clock.send_groups_at(T0, groups)
    assert hass.states.get(TARIFF).state != STATE_UNAVAILABLE
    without = [group for group in groups if group.label not in {"LTARF", "SINSTS"}]
    for second in (2, 4, 6):
        await clock.send_groups_at(T0 + timedelta(seconds=second), without)
    assert hass.states.get(TARIFF).state == STATE_UNAVAILABLE
    await clock.close(T0 + timedelta(minutes=1))
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE
    assert clock.entry.runtime_data.publisher.means["SINSTS"].value == power


async def test_indexes_at_each_window_end(hass: HomeAssistant, clock: Clock) -> None:
    """An index is published at each window's end as its last value; one that changes just before the boundary too."""
    energies = written(hass, ENERGY)
    wh = int(next(group.value for group in clock.meter.simulator.groups() if group.label == "EAST"))
    for step, second in enumerate(range(0, 60, 3)):
        await clock.send_at(T0 + timedelta(seconds=second), EAST=f"{wh + step:09d}")
    assert energies == [STATE_UNKNOWN]
    boundary = T0 + timedelta(minutes=1)
    await clock.close(boundary)
    assert hass.states.get(ENERGY).state == f"{(wh + 19) / 1000:.3f}"
    # A frame between the window's close and its boundary changes the index: published at once, inside the minute.
    await clock.send_at(boundary - timedelta(seconds=0.1), EAST=f"{wh + 25:09d}")
    assert hass.states.get(ENERGY).state == f"{(wh + 25) / 1000:.3f}"
    assert hass.states.get(ENERGY).last_updated < boundary
    # After the boundary, it waits for the next window's end.
    await clock.send_at(boundary + timedelta(seconds=1), EAST=f"{wh + 30:09d}")
    assert hass.states.get(ENERGY).state == f"{(wh + 25) / 1000:.3f}"
    assert len(energies) == 3


async def test_states_at_once(hass: HomeAssistant, clock: Clock) -> None:
    """A tariff change is published as soon as the meter sends it, whatever the level."""
    await clock.send_at(T0, LTARF="    HP  BLEU    ")
    assert hass.states.get(TARIFF).state == "HP BLEU"
    await clock.send_at(T0 + timedelta(seconds=2), LTARF="    HC  BLEU    ")
    assert hass.states.get(TARIFF).state == "HC BLEU"


@pytest.mark.parametrize("privacy_level", [PrivacyLevel.LIVE])
async def test_live_publishes_every_frame(hass: HomeAssistant, clock: Clock) -> None:
    """At `live` each frame's values are published at once."""
    for second, power in ((0, 1000), (1, 1500), (2, 900)):
        await clock.send_at(T0 + timedelta(seconds=second), SINSTS=f"{power:05d}")
        assert hass.states.get(POWER).state == str(power)
        assert "window_minutes" not in hass.states.get(POWER).attributes


@pytest.fixture
def meter_never_silent() -> Generator[None]:
    """Let hours pass between two frames without the meter being lost."""
    with patch("custom_components.linky_local.coordinator.SILENT_FRAMES", 100_000):
        yield


@pytest.mark.usefixtures("meter_never_silent")
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.HALF_HOURLY])
async def test_half_hourly(hass: HomeAssistant, clock: Clock) -> None:
    """At `half_hourly` windows end on the :00 and :30 of the local clock; the mean covers the half hour."""
    for minute, power in ((0, 1000), (10, 4000), (20, 1000)):
        await clock.send_at(T0 + timedelta(minutes=minute), SINSTS=f"{power:05d}")
    await clock.close(T0 + timedelta(minutes=1))
    assert hass.states.get(POWER).state == STATE_UNKNOWN
    await clock.close(T0 + timedelta(minutes=30))
    state = hass.states.get(POWER)
    assert state.attributes["window_minutes"] == 30
    assert state.last_reported < datetime(2026, 1, 15, 8, tzinfo=UTC)
    assert state.state == str(round((1000 * 600 + 4000 * 600 + 1000 * 599.75) / 1799.75))


@pytest.mark.usefixtures("meter_never_silent")
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.DAILY])
async def test_daily_has_no_instantaneous_entity(
    hass: HomeAssistant, clock: Clock, entity_registry: er.EntityRegistry
) -> None:
    """At `daily` powers, currents and voltages have no entity; indexes and states do."""
    for second in range(0, 6, 2):
        await clock.send_at(T0 + timedelta(seconds=second))
    assert hass.states.get(POWER) is None
    assert entity_registry.async_get(POWER) is None
    assert hass.states.get(VOLTAGE) is None
    assert hass.states.get(ENERGY).state == STATE_UNKNOWN
    assert hass.states.get(TARIFF).state == "HP BLEU"
    midnight = datetime(2026, 1, 16, tzinfo=UTC) - timedelta(hours=1)
    await clock.send_at(midnight - timedelta(seconds=5))
    await clock.close(midnight)
    assert hass.states.get(ENERGY).state != STATE_UNKNOWN
    assert midnight - CLOSE_LEAD <= hass.states.get(ENERGY).last_updated < midnight


@pytest.mark.usefixtures("meter_never_silent")
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.DAILY])
async def test_an_index_shows_its_last_daily_value_after_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, virtual_meter: VirtualMeter, mock_config_entry: MockConfigEntry
) -> None:
    """After a restart, an index published once a day shows the last value published, not unknown until midnight."""
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(ENERGY, "65000.0", {"unit_of_measurement": "kWh"}),
                {"native_value": 65_000_000, "native_unit_of_measurement": "Wh"},
            )
        ],
    )
    clock = await start_clock(hass, freezer, virtual_meter, mock_config_entry, T0)
    for second in range(0, 6, 2):
        await clock.send_at(T0 + timedelta(seconds=second))
    assert hass.states.get(ENERGY).state == "65000.0"
    # Midnight publishes the meter's own index.
    midnight = datetime(2026, 1, 16, tzinfo=UTC) - timedelta(hours=1)
    await clock.send_at(midnight - timedelta(seconds=5))
    await clock.close(midnight)
    east = next(group.value for group in clock.meter.simulator.groups() if group.label == "EAST")
    assert float(hass.states.get(ENERGY).state) == int(east) / 1000


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_TRI])
async def test_historic_short_frames_hold_the_other_signals(hass: HomeAssistant, clock: Clock) -> None:
    """A phase over its limit brings short frames (its currents only): the apparent power holds its last value."""
    power = "sensor.linky_apparent_power"
    current = "sensor.linky_current_phase_2"
    for second in range(0, 30, 2):
        await clock.send_at(T0 + timedelta(seconds=second), PAPP="01000", IINST2="010")
    short = [Group("ADCO", clock.meter.simulator.serial), Group("IINST1", "005"), Group("IINST2", "070")]
    short += [Group("IINST3", "004"), Group("ADIR2", "070")]
    for second in range(30, 60, 2):
        await clock.send_groups_at(T0 + timedelta(seconds=second), short)
    await clock.close(T0 + timedelta(minutes=1))
    assert hass.states.get(power).state == "1000"
    assert hass.states.get(current).state == str(round((10 * 30 + 70 * 29.75) / 59.75))
    assert hass.states.get("binary_sensor.linky_overrun_phase_2").state == "on"


@pytest.mark.usefixtures("meter_never_silent")
async def test_a_mean_stays_shown_when_the_level_changes(hass: HomeAssistant, clock: Clock) -> None:
    """From per minute to half-hourly (a reload, as after a restart): power and voltage keep their last mean, with
    the window it covered, until the first half hour ends; they are never unknown meanwhile."""
    for second in range(0, 60, 2):
        await clock.send_at(T0 + timedelta(seconds=second), SINSTS="01000")
    await clock.close(T0 + timedelta(minutes=1))
    assert hass.states.get(POWER).state == "1000"
    assert hass.states.get(POWER).attributes["window_minutes"] == 1

    entry = clock.entry
    hass.config_entries.async_update_entry(entry, options={**entry.options, "privacy_level": "half_hourly"})
    assert await clock.complete(hass.config_entries.async_reload(entry.entry_id))
    for second in range(62, 120, 2):
        await clock.send_at(T0 + timedelta(seconds=second), SINSTS="03000")
        assert hass.states.get(POWER).state == "1000"
        assert hass.states.get(VOLTAGE).state not in {STATE_UNKNOWN, STATE_UNAVAILABLE}
    assert hass.states.get(POWER).attributes["window_minutes"] == 1

    await clock.close(T0 + timedelta(minutes=30))
    assert hass.states.get(POWER).state == "3000"
    assert hass.states.get(POWER).attributes["window_minutes"] == 30
