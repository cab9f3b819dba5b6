"""Energy stays exact at every level: the recorder's statistics give the meter's own totals, to the Wh.

Home Assistant's real recorder compiles its statistics as the frozen clocks move on, every five minutes, from the
states the entity wrote; the energy dashboard shows them. At each level's resolution (hourly for live, minute and
half-hourly, daily for daily) the change it records equals the growth of the meter's index between the last frames
before two boundaries, including frames sent in the instant between a window's close and its boundary.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime, timedelta
import random
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.linky_local.privacy import PrivacyLevel, next_boundary
from custom_components.linky_local.publisher import CLOSE_LEAD
from linky_tools.simulator import Profile

from .conftest import TIMER_PAST, Clock, VirtualMeter

ENERGY = "sensor.linky_energy_withdrawn"
STARTED = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
# The recorder compiles the statistics of each five minutes at 10 s past their end.
COMPILED_AFTER = timedelta(minutes=5, seconds=12)


@pytest.fixture(autouse=True)
def total_enabled(total_withdrawn_enabled: None) -> None:
    """These tests read the total withdrawn of a Tempo meter, which starts disabled."""


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory) -> None:
    """Prepare the recorder's database, and stop the clocks at STARTED, before Home Assistant starts.

    The recorder schedules its statistics when it starts: on the frozen clocks, they fall due as the test moves on.
    """
    freezer.move_to(STARTED)


@pytest.fixture
def enable_statistics() -> bool:
    """Let the recorder compile statistics."""
    return True


@pytest.fixture
def meter_profile() -> Profile:
    """A three-phase consumer in standard mode."""
    return Profile.STANDARD_TRI


@pytest.fixture(autouse=True)
def meter_never_silent() -> Generator[None]:
    """Let minutes pass between two frames without the meter being lost."""
    with patch("custom_components.linky_local.coordinator.SILENT_FRAMES", 100_000):
        yield


def frame_moments(start: datetime, end: datetime, level: PrivacyLevel, rng: random.Random) -> list[datetime]:
    """Frames every few minutes, and around each boundary: just before it, between the close and it, just after."""
    moments = set()
    moment = start
    while moment < end:
        moments.add(moment)
        moment += timedelta(seconds=rng.randint(60, 900))
    resolution = PrivacyLevel.DAILY if level is PrivacyLevel.DAILY else PrivacyLevel.HALF_HOURLY
    boundary = next_boundary(resolution, start)
    while boundary < end:
        for offset in (-CLOSE_LEAD * 2, -CLOSE_LEAD / 2, CLOSE_LEAD / 2):
            moments.add(boundary + offset)
        boundary = next_boundary(resolution, boundary)
    return sorted(moments)


def ticks(start: datetime, end: datetime, level: PrivacyLevel) -> list[datetime]:
    """Return the moments the clocks must pass through: each window's close and each statistics compilation."""
    moments = []
    if level is not PrivacyLevel.LIVE:
        boundary = next_boundary(level, start)
        while boundary < end:
            moments.append(boundary - CLOSE_LEAD + TIMER_PAST)
            boundary = next_boundary(level, boundary)
    compiled = start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0) + COMPILED_AFTER
    while compiled < end:
        moments.append(compiled)
        compiled += timedelta(minutes=5)
    return moments


@pytest.mark.parametrize(
    ("privacy_level", "start", "end", "period"),
    [
        (PrivacyLevel.LIVE, "2026-01-15T21:40:00+00:00", "2026-01-16T01:30:00+00:00", "hour"),
        (PrivacyLevel.MINUTE, "2026-01-15T21:40:00+00:00", "2026-01-16T01:30:00+00:00", "hour"),
        (PrivacyLevel.HALF_HOURLY, "2026-01-15T21:40:00+00:00", "2026-01-16T01:30:00+00:00", "hour"),
        # Local midnights: 23:00 UTC in winter.
        (PrivacyLevel.DAILY, "2026-01-15T22:40:00+00:00", "2026-01-16T23:30:00+00:00", "day"),
    ],
)
async def test_recorded_totals_are_the_meters(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
    privacy_level: PrivacyLevel,
    start: str,
    end: str,
    period: str,
) -> None:
    """The recorded hourly (daily) energy equals the meter's index growth between hours (local midnights)."""
    await hass.config.async_set_time_zone("Europe/Paris")
    first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    clock = Clock(hass, freezer, virtual_meter, mock_config_entry, first - timedelta(seconds=1))
    await clock.set_up()
    rng = random.Random(5)
    wh = int(next(group.value for group in virtual_meter.simulator.groups() if group.label == "EAST"))
    sent: list[tuple[datetime, int]] = []
    frames = [(moment, "frame") for moment in frame_moments(first, last, privacy_level, rng)]
    for moment, what in sorted([*frames, *((moment, "tick") for moment in ticks(first, last, privacy_level))]):
        if what == "tick":
            await clock.move_to(moment)
            continue
        wh += rng.randint(0, 5) if sent and moment - sent[-1][0] < timedelta(seconds=1) else rng.randint(0, 300)
        await clock.send_at(moment, EAST=f"{wh:09d}")
        # The reader pauses between reads: what counts is when the integration read the index.
        sent.append((clock.moment, wh))
    await async_wait_recording_done(hass)

    def meter_at(boundary: datetime) -> int:
        return [index for moment, index in sent if moment < boundary][-1]

    statistics = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, first, last, {ENERGY}, period, None, {"change"}
    )
    rows = statistics[ENERGY]
    # The first period sets the baseline: compare the ones after it, each with the meter's own growth.
    compared = 0
    for row in rows[1:]:
        period_start = datetime.fromtimestamp(row["start"], UTC)
        period_end = datetime.fromtimestamp(row["end"], UTC)
        if period_end > last:
            continue
        assert round(row["change"] * 1000) == meter_at(period_end) - meter_at(period_start), period_start
        compared += 1
    assert compared >= (1 if period == "day" else 2)
