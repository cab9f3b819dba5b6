"""A replaced meter in Home Assistant's real recorder: the hourly energy statistics stay the meters' own Wh.

The old meter sends until 23:20 UTC; the new one (index near zero, another serial number) from 23:25, unpublished
until the household answers the repair at 00:12; then it is read as the entry's meter. Home Assistant's statistics
of a `total_increasing` sensor would take the drop for a new cycle and count the new meter's starting index; the
continued index makes each hour's change exactly what the meters measured.
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
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.linky_local.privacy import PrivacyLevel
from linky_tools.simulator import Profile

from .conftest import Clock, VirtualMeter, with_values
from .test_meter_change import ENERGY, NEW_SERIAL, START_WH, answer
from .test_privacy_energy import ticks

STARTED = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
FIRST = datetime(2026, 1, 15, 21, 40, tzinfo=UTC)
OLD_UNTIL = datetime(2026, 1, 15, 23, 20, tzinfo=UTC)
NEW_FROM = datetime(2026, 1, 15, 23, 25, tzinfo=UTC)
ANSWERED = datetime(2026, 1, 16, 0, 12, tzinfo=UTC)
LAST = datetime(2026, 1, 16, 2, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory) -> None:
    """Prepare the recorder's database, and stop the clocks at STARTED, before Home Assistant starts."""
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


def moments(start: datetime, end: datetime, rng: random.Random) -> list[datetime]:
    """Frames every one to ten minutes."""
    found = []
    while start < end:
        found.append(start)
        start += timedelta(seconds=rng.randint(60, 600))
    return found


@pytest.mark.usefixtures("total_withdrawn_enabled")  # a Tempo meter: its total starts disabled
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.LIVE, PrivacyLevel.MINUTE])
async def test_replacement_counts_no_jump(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
    privacy_level: PrivacyLevel,
) -> None:
    """No negative hour, no hour counting the new meter's starting index, the old meter's last hour kept."""
    await hass.config.async_set_time_zone("Europe/Paris")
    assert await async_setup_component(hass, "repairs", {})
    clock = Clock(hass, freezer, virtual_meter, mock_config_entry, FIRST - timedelta(seconds=1))
    await clock.set_up()
    rng = random.Random(22)
    old_wh = int(next(group.value for group in virtual_meter.simulator.groups() if group.label == "EAST"))
    new_wh = START_WH
    # What the energy entity publishes, frame after frame: (when the integration read it, Wh).
    published: list[tuple[datetime, int]] = []
    new_first: int | None = None
    old_last = 0
    events = [(moment, "old") for moment in moments(FIRST, OLD_UNTIL, rng)]
    events += [(moment, "new") for moment in moments(NEW_FROM, LAST, rng)]
    events += [(ANSWERED, "answer")]
    events += [(moment, "tick") for moment in ticks(FIRST, LAST, privacy_level)]
    answered = first_after_answer = False
    for moment, what in sorted(events):
        if what == "tick":
            await clock.move_to(moment)
        elif what == "answer":
            await clock.move_to(moment)
            assert (await answer(hass, clock, mock_config_entry, "replaced"))["type"] is FlowResultType.CREATE_ENTRY
            answered = first_after_answer = True
        elif what == "old":
            old_wh += rng.randint(0, 400)
            await clock.send_at(moment, EAST=f"{old_wh:09d}")
            # The guard holds a first value back until the next one agrees.
            if old_last:
                published.append((clock.moment, old_wh))
            old_last = old_wh
        else:
            new_wh += rng.randint(0, 400)
            new_first = new_wh if new_first is None else new_first
            await clock.send_groups_at(
                moment, with_values(virtual_meter.simulator.groups(), EAST=f"{new_wh:09d}", ADSC=NEW_SERIAL)
            )
            if answered and not first_after_answer:
                published.append((clock.moment, old_last + new_wh - new_first))
            first_after_answer = False
    await async_wait_recording_done(hass)
    assert new_first is not None

    def meter_at(boundary: datetime) -> int:
        return [wh for moment, wh in published if moment < boundary][-1]

    statistics = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, FIRST, LAST, {ENERGY}, "hour", None, {"change"}
    )
    changes = {
        datetime.fromtimestamp(row["start"], UTC): round(row["change"] * 1000)
        for row in statistics[ENERGY]
        if datetime.fromtimestamp(row["end"], UTC) <= LAST
    }
    hours = sorted(changes)[1:]  # the first hour sets the baseline
    assert len(hours) >= 3
    for start in hours:
        assert changes[start] >= 0, start
        assert changes[start] == meter_at(start + timedelta(hours=1)) - meter_at(start), start
    # The old meter's last hour, up to its last frame at 23:20, and nothing of the new one before the answer.
    swap_hour = OLD_UNTIL.replace(minute=0)
    assert changes[swap_hour] == old_last - meter_at(swap_hour) > 0
    # The answer's hour: what the new meter measured from its first frame (23:25) to 01:00, its start not counted.
    answer_hour = ANSWERED.replace(minute=0)
    new_growth = meter_at(answer_hour + timedelta(hours=1)) - old_last
    assert changes[answer_hour] == new_growth < new_wh - new_first + 1
    # Across the replacement: the old meter's growth, then the new one's, to the Wh.
    end = hours[-1] + timedelta(hours=1)
    assert sum(changes[start] for start in hours) == old_last - meter_at(hours[0]) + meter_at(end) - old_last
