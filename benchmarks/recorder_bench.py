"""One simulated day of a standard three-phase meter through Home Assistant's real recorder, at one privacy level.

Run by `benchmarks/recorder.py` (never collected by the test suite), once per level: Home Assistant from the test
harness, its recorder on a SQLite file (BENCH_DB), statistics compiled every five minutes as in production, the entry
set up on the in-memory line of tests/conftest.py (the integration's `connect_tic` patched to open it: the benchmark
is about what reaches the database, not about the port), every frame at the meter's own pace (a standard three-phase
frame takes about 1.3 s on the line: some 69,000 a day). Every clock is frozen and moved on frame by frame to the
simulated meter's own time by the test suite's clock driver (`Clock`), each timer run at its own time, so the
publisher's windows close, the reader's pauses between reads end (coordinator.READ_PAUSE: up to 15 s at the coarser levels) and the recorder compiles
when they would.

At `live` the run also takes the states of the meter's entities after every frame, which gives the two baselines on the
same stream and entities: "every frame" (an integration writing each frame, as linkytic's real-time mode does; Home
Assistant keeps a row when the state changed) and "every 10 s" (each entity's state, taken every 10 s, kept when it
changed since the last one kept: HA core teleinfo's polling).

What the driver needs goes to BENCH_REPORT (JSON): the day's bounds, the energy index of every frame sent, the
entities (and which are fine: power, currents, voltages, which the household's retention purges), and the
baselines' rows per entity.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
import json
import logging
import os
from pathlib import Path
import re
from typing import Any

import freezegun
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.linky_local.coordinator import LinkyCoordinator
from custom_components.linky_local.privacy import PrivacyLevel
from custom_components.linky_local.retention import fine_entities
from linky_tools.simulator import Profile, SimulatedMeter
from tests.conftest import SET_UP_BEFORE, Clock, MemoryLine, VirtualMeter

LEVEL = PrivacyLevel(os.environ.get("BENCH_LEVEL", "minute"))
REPORT = Path(os.environ.get("BENCH_REPORT", "recorder_bench.json"))
DATABASE = Path(os.environ.get("BENCH_DB", "recorder_bench.db"))
# The day measured: a local day in France, with a margin on both sides for the windows and statistics around it.
DAY_START = datetime.fromisoformat(os.environ.get("BENCH_DAY", "2026-01-16T00:00:00+01:00"))
DAY_HOURS = float(os.environ.get("BENCH_HOURS", "24"))
MARGIN = timedelta(minutes=10)
POLL = timedelta(seconds=10)
EAST = re.compile(rb"\nEAST\t(\d{9})\t")


@pytest.fixture
def freezer() -> Generator[FrozenDateTimeFactory]:
    """Freeze every clock for every module: freezegun then answers without walking the call stack at each read."""
    freezegun.configure(default_ignore_list=[])
    with freezegun.freeze_time(DAY_START - MARGIN - timedelta(seconds=5)) as frozen:
        yield frozen


@pytest.fixture
def recorder_db_url() -> str:
    """Return the recorder's database: a SQLite file the driver reads afterwards."""
    return f"sqlite:///{DATABASE}"


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Commit every 5 s, as the recorder does by default (the test harness commits each event)."""
    return {"commit_interval": 5}


@pytest.fixture
def enable_statistics() -> bool:
    """Compile statistics as in production."""
    return True


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory) -> None:
    """Start the recorder's fixtures, and freeze the clocks, before Home Assistant starts.

    The test harness logs every SQL statement: a cost of the harness, not of the recorder.
    """
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture
def simulator() -> SimulatedMeter:
    """Return the simulated standard three-phase meter, on Tempo, its clock at the run's start."""
    return SimulatedMeter(Profile.STANDARD_TRI, start=DAY_START - MARGIN, seed=0)


@pytest.fixture
def privacy_level() -> PrivacyLevel:
    """Return the level measured."""
    return LEVEL


# The total withdrawn enabled, as before it was left disabled on contracts of several periods: the energy check reads
# its statistics.
@pytest.mark.usefixtures("total_withdrawn_enabled")
async def test_day(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Run the day, frame after frame, and report what the driver needs."""
    # The test harness runs the loop in debug mode, which records a stack trace for every callback: not production.
    hass.loop.set_debug(False)
    await hass.config.async_set_time_zone("Europe/Paris")
    simulator, line = virtual_meter.simulator, virtual_meter.port
    assert isinstance(line, MemoryLine)
    # Set up a moment before the first frame: less than the silence after which the meter is lost.
    clock = Clock(hass, freezer, virtual_meter, mock_config_entry, simulator.now - SET_UP_BEFORE)
    await clock.set_up()
    coordinator: LinkyCoordinator = mock_config_entry.runtime_data
    entities: list[str] = []
    day_end = DAY_START + timedelta(hours=DAY_HOURS)
    end = day_end + MARGIN
    indexes: list[tuple[float, int]] = []
    every_frame: dict[str, int] = {}
    polled: dict[str, int] = {}
    last_frame: dict[str, str] = {}
    last_polled: dict[str, str] = {}
    next_poll = DAY_START
    frames = 0
    while simulator.now < end:
        data = simulator.next_frame()  # its last byte on the line now
        await clock.move_to(simulator.now)
        await line.send(data)
        frames += 1
        if LEVEL is PrivacyLevel.LIVE:
            # Live's baselines take the states after each frame: wait until it is read (at most a pause, 0.2 s).
            await clock.read()
            assert coordinator.decoder.stats.frames >= frames, "a frame was not read"
        # At the other levels the reader leaves the port unread for up to 15 s: the meter talks on meanwhile.
        if match := EAST.search(data):
            indexes.append((simulator.now.timestamp(), int(match[1])))
        if LEVEL is PrivacyLevel.LIVE and DAY_START <= simulator.now < day_end:
            # Every entity exists by then: its label came in the margin's first frames.
            entities = entities or [
                reg.entity_id
                for reg in er.async_entries_for_config_entry(er.async_get(hass), mock_config_entry.entry_id)
                if not reg.disabled
            ]
            shown = {entity_id: current.state for entity_id in entities if (current := hass.states.get(entity_id))}
            for entity_id, value in shown.items():
                if last_frame.get(entity_id) != value:
                    every_frame[entity_id] = every_frame.get(entity_id, 0) + 1
                    last_frame[entity_id] = value
            while next_poll <= simulator.now:
                for entity_id, value in shown.items():
                    if last_polled.get(entity_id) != value:
                        polled[entity_id] = polled.get(entity_id, 0) + 1
                        last_polled[entity_id] = value
                next_poll += POLL
    await clock.read()
    assert coordinator.decoder.stats.frames >= frames, "a frame was not read"
    await async_wait_recording_done(hass)
    entity_ids = {
        reg.entity_id
        for reg in er.async_entries_for_config_entry(er.async_get(hass), mock_config_entry.entry_id)
        if not reg.disabled
    }
    report: dict[str, Any] = {
        "level": LEVEL.value,
        "day": DAY_START.isoformat(),
        "day_start": DAY_START.timestamp(),
        "day_end": day_end.timestamp(),
        "frames": frames,
        "indexes": indexes,
        "entities": sorted(entity_ids),
        "fine_entities": fine_entities(hass, mock_config_entry),  # what the household's retention purges
        "baselines": {"every_frame": every_frame, "every_10_s": polled} if LEVEL is PrivacyLevel.LIVE else None,
    }
    await hass.async_add_executor_job(REPORT.write_text, json.dumps(report), "utf-8")
