"""A household's events one by one, through Home Assistant's real recorder: the hourly energy stays the meter's.

Each test runs a few hours of one household (tests/household.py: a standard single-phase meter at the default level,
per minute, frames every few minutes and at the meter's pace around the event) with one event of its year: a restart
of Home Assistant, an options change and its reload, a power cut, the dongle unplugged, the contract changed from
HP/HC to Tempo, a change of the clocks, the meter replaced (where the branch has its repair). Then, for every hour, the long-term statistics' energy per tariff period (and
the total index) equals the meter's Wh in that hour, an hour without frames carried to the next hour with frames.
benchmarks/year.py plays them all through a year.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from datetime import datetime, timedelta
import math
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.linky_local.coordinator import LinkState
from custom_components.linky_local.entity import translation_key
from custom_components.linky_local.linky_tic import FRAME_PERIOD, Mode, TariffOption
from custom_components.linky_local.privacy import PrivacyLevel
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import SET_UP_BEFORE, Clock, VirtualMeter
from .household import AROUND, Household, Ledger, PeriodCheck, check_hours, replacement_available

GAP = 300.0  # seconds of the meter's clock between two sparse frames
MARGIN = timedelta(minutes=10)
TAIL = timedelta(minutes=15)  # the last hour's statistics are compiled at the first five minutes after it
START = datetime.fromisoformat("2026-10-16T20:00:00+02:00")
NEW_SERIAL = "041864543299"  # the new meter's (fake) serial number

type Event = Callable[[Household], Awaitable[None]]


@pytest.fixture
def meter_start() -> datetime:
    """The household's meter starts a moment before the first hour checked."""
    return START - MARGIN


@pytest.fixture
def meter_profile() -> Profile:
    """A standard single-phase meter on HP/HC."""
    return Profile.STANDARD_MONO


@pytest.fixture
def privacy_level() -> PrivacyLevel | None:
    """Return no level: the entry never chose one, it runs at the default (per minute)."""
    return None


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory, meter_start: datetime) -> None:
    """Prepare the recorder, and stop the clocks at the meter's start, before Home Assistant starts."""
    freezer.move_to(meter_start - SET_UP_BEFORE)


@pytest.fixture
def enable_statistics() -> bool:
    """Compile statistics as in production."""
    return True


@pytest.fixture(autouse=True)
def sparse_frames() -> Generator[None]:
    """Let a sparse frame's gap pass without the meter being lost."""
    with patch(
        "custom_components.linky_local.coordinator.SILENT_FRAMES", math.ceil(GAP / FRAME_PERIOD[Mode.STANDARD]) + 3
    ):
        yield


async def live_through(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    entry: MockConfigEntry,
    hours: float,
    events: dict[float, Event],
    start: datetime = START,
) -> tuple[Household, list[PeriodCheck]]:
    """Run the household for `hours` from `start`, each event at its hour; return it and every index's hourly check."""
    await hass.config.async_set_time_zone("Europe/Paris")
    meter = virtual_meter.simulator
    clock = Clock(hass, freezer, virtual_meter, entry, meter.now - SET_UP_BEFORE)
    await clock.set_up()
    end = start + timedelta(hours=hours)
    household = Household(hass, clock, entry, Ledger(start, end))
    await household.real_pace()
    for hour, event in sorted(events.items()):
        moment = start + timedelta(hours=hour)
        await household.sparse(moment - AROUND, GAP)
        await household.real_pace()
        await event(household)
        await household.real_pace()
    await household.sparse(end + TAIL, GAP)
    await async_wait_recording_done(hass)
    assert entry.unique_id is not None  # the meter's serial number: a replaced meter's, after its repair
    return household, await check_hours(hass, entry, entry.unique_id, household.ledger)


def assert_exact(checks: list[PeriodCheck], *labels: str) -> None:
    """Assert that the indexes' hours and totals are the meter's to the Wh, none negative, and that they grew."""
    by_label = {check.label: check for check in checks}
    for label in labels:
        check = by_label[label]
        assert check.entity_id is not None, f"{label} has no statistics"
        assert check.hours > 0
        assert check.meter_wh > 0, f"{label} did not grow: the test proves nothing about it"
        assert (check.equal, check.negative, check.worst_wh) == (check.hours, 0, 0), check
        assert check.recorded_wh == check.meter_wh


async def test_quiet_hours_are_the_meters(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """With no event, sparse frames give every hour's energy per period to the Wh."""
    _, checks = await live_through(hass, freezer, virtual_meter, mock_config_entry, 5, {})
    assert_exact(checks, "EASF01", "EASF02")


async def test_restart_keeps_every_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A restart (states dumped, entry unloaded, stored states loaded back, entry set up) loses and doubles no Wh."""
    household, checks = await live_through(
        hass, freezer, virtual_meter, mock_config_entry, 4, {1.5: Household.restart, 2.5: Household.restart}
    )
    assert household.restarts == 2
    assert_exact(checks, "EASF01", "EASF02")


async def test_options_change_reloads_and_keeps_every_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Half-hourly then per minute again in the options flow: each change reloads the entry, every hour stays exact."""

    async def half_hourly(household: Household) -> None:
        await household.change_privacy(PrivacyLevel.HALF_HOURLY)

    async def minute(household: Household) -> None:
        await household.change_privacy(PrivacyLevel.MINUTE)

    household, checks = await live_through(
        hass, freezer, virtual_meter, mock_config_entry, 4, {1.2: half_hourly, 2.7: minute}
    )
    assert household.reloads == 2
    assert mock_config_entry.options == {"privacy_level": "minute"}
    assert_exact(checks, "EASF01", "EASF02")


async def test_power_cut_counts_nothing_while_off(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The meter silent for two hours, then restarting: the meter is lost and back, the hours of the cut count 0 Wh."""
    states: list[LinkState] = []

    async def cut(household: Household) -> None:
        await household.power_cut(timedelta(hours=2))
        states.append(household.coordinator.link_state)

    household, checks = await live_through(hass, freezer, virtual_meter, mock_config_entry, 5, {1.25: cut})
    # Lost: disconnected, or waiting on a port reopened meanwhile (the two alternate while the meter stays silent).
    assert states in ([LinkState.DISCONNECTED], [LinkState.WAITING])
    assert household.coordinator.link_state is LinkState.RECEIVING
    # The hour inside the cut (22:00 to 23:00) counts 0 Wh; the hour it ends in, what came after the meter restarted.
    assert_exact(checks, "EASF01", "EASF02")


async def test_unplugged_dongle_carries_the_hours_to_the_next_frames(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The port gone for five hours while the meter counts on: those hours come whole in the first hour with frames."""

    async def unplug(household: Household) -> None:
        await household.unplug(timedelta(hours=5))

    household, checks = await live_through(hass, freezer, virtual_meter, mock_config_entry, 8, {1.5: unplug})
    assert_exact(checks, "EASF01", "EASF02")
    total = household.ledger.at_end("EAST")
    # No frame read from 21:28 to 02:28 local: the hour they came back in holds five hours of the household's evening.
    assert total[6] is not None and total[5] is not None and total[0] is not None and total[1] is not None
    assert total[6] - total[5] > total[1] - total[0]


@pytest.mark.parametrize("meter_start", [datetime.fromisoformat("2026-10-20T20:00:00+02:00") - MARGIN])
async def test_contract_change_to_tempo(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
    meter_start: datetime,
) -> None:
    """HP/HC to Tempo on a blue evening, a white day next: each period's index named and counted, every hour exact.

    The white day's peak index was created disabled under HP/HC (a calendar of two indexes): the new calendar uses
    it, so it is enabled, and its hours reach the statistics.
    """

    async def tempo(household: Household) -> None:
        household.change_contract(TariffOption.TEMPO)

    start = meter_start + MARGIN
    # 20 October 2026 is blue, the 21st white (from 06:00): HC, HP, then the white day's peak hours.
    _, checks = await live_through(hass, freezer, virtual_meter, mock_config_entry, 13, {1.5: tempo}, start)
    assert_exact(checks, "EASF01", "EASF02", "EASF04")
    registry = er.async_get(hass)
    keys = {check.label: reg.translation_key for check in checks if (reg := registry.async_get(check.entity_id or ""))}
    assert (keys["EASF01"], keys["EASF02"], keys["EASF04"]) == tuple(
        map(translation_key, ("BBRHCJB", "BBRHPJB", "BBRHPJW"))
    )
    assert {"EASF03", "EASF05", "EASF06"} <= keys.keys(), "the Tempo indexes are enabled"


@pytest.mark.parametrize(
    "meter_start",
    [
        datetime.fromisoformat("2026-03-29T00:00:00+01:00") - MARGIN,  # 02:00 becomes 03:00: a day of 23 hours
        datetime.fromisoformat("2026-10-25T00:00:00+02:00") - MARGIN,  # 03:00 becomes 02:00: a day of 25 hours
    ],
)
async def test_daylight_saving_changes(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
    meter_start: datetime,
) -> None:
    """Across a change of the clocks, every UTC hour's energy is the meter's (in the hours HP/HC switches)."""
    _, checks = await live_through(hass, freezer, virtual_meter, mock_config_entry, 6, {}, meter_start + MARGIN)
    assert_exact(checks, "EASF01")


@pytest.mark.skipif(
    not replacement_available(), reason="the meter replacement (issue 22, point 1) is not on this branch"
)
async def test_meter_replaced(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Enedis replaces the meter, the household answers "replaced": no hour counts the other meter before the answer,
    nor the new meter's starting index; the old meter's last hour is kept, and the new meter's hours follow."""
    flows: list[dict[str, Any]] = []

    async def replaced(household: Household) -> None:
        new = SimulatedMeter(Profile.STANDARD_MONO, start=household.meter.now, seed=1, serial=NEW_SERIAL, new=True)
        flows.append(await household.replace_meter(new))

    _, checks = await live_through(hass, freezer, virtual_meter, mock_config_entry, 4, {1.5: replaced})
    assert [(flow["issue_raised"], flow["menu"], flow["result"]) for flow in flows] == [
        (True, ["replaced", "other_meter"], "create_entry")
    ]
    assert mock_config_entry.unique_id == NEW_SERIAL
    assert_exact(checks, "EASF01", "EASF02")
