"""A household's year (or month) on accelerated clocks, through Home Assistant's real recorder and statistics.

Run by `benchmarks/year.py` (never collected by the test suite). Home Assistant from the test harness, its recorder on
a SQLite file (YEAR_DB), statistics compiled every five minutes and the nightly purge (keep_days: 10, the default) as in
production; the entry at the default privacy level (per minute) on the in-memory line of tests/conftest.py, every clock
frozen and moved on by the test suite's `Clock`, each timer at its own time. The household (tests/household.py): a
standard single-phase meter on HP/HC, then Tempo; frames every YEAR_GAP seconds of the meter's clock between events,
at the meter's pace around each one. The reader's silence (3 frame periods) is widened to cover the gap: sparse frames
stand for a meter that talks on, not for a meter lost every few minutes; a power cut and an unplugged dongle are
silences far longer, and lose the meter as they would.

The events, in order of time, are YEAR_EVENTS (JSON, from year.py): restarts, options changes, power cuts, the dongle
unplugged, the contract change, the meter replaced, memory samples. The figures go to YEAR_REPORT (JSON).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Generator
from datetime import datetime, timedelta
import gc
import json
import logging
import math
import os
from pathlib import Path
import resource
import time
import tracemalloc
from typing import Any
from unittest.mock import NonCallableMock

import freezegun
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.db_schema import States
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from sqlalchemy import func

from custom_components.linky_local import coordinator as coordinator_module
from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.privacy import PrivacyLevel
from linky_tic import FRAME_PERIOD, Mode, TariffOption
from linky_tools.simulator import Profile, SimulatedMeter
from tests.conftest import SET_UP_BEFORE, Clock, VirtualMeter
from tests.household import AROUND, HOUR, Household, Ledger, PeriodCheck, check_hours, hour_of, replacement_available

REPORT = Path(os.environ.get("YEAR_REPORT", "year.json"))
DATABASE = Path(os.environ.get("YEAR_DB", "year.db"))
START = datetime.fromisoformat(os.environ.get("YEAR_START", "2026-01-01T00:00:00+01:00"))
END = datetime.fromisoformat(os.environ.get("YEAR_END", "2027-01-01T00:00:00+01:00"))
GAP = float(os.environ.get("YEAR_GAP", "300"))
EVENTS: list[tuple[str, str]] = json.loads(os.environ.get("YEAR_EVENTS", "[]"))  # (ISO moment, event)
TRACE = os.environ.get("YEAR_TRACEMALLOC", "0") == "1"
MARGIN = timedelta(minutes=10)
# After the end: frames until the last hour's statistics are compiled (at the first 5-minute compile after it).
TAIL = timedelta(minutes=15)
CUT = timedelta(hours=2)
UNPLUGGED = timedelta(days=7)
NEW_SERIAL = "041864543299"
TYPES = 40  # the most numerous object types noted at each sample


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Run the event loop as Home Assistant does, not in the test suite's debug mode."""


@pytest.fixture
def freezer() -> Generator[FrozenDateTimeFactory]:
    """Freeze every clock for every module: freezegun then answers without walking the call stack at each read."""
    freezegun.configure(default_ignore_list=[])
    with freezegun.freeze_time(START - MARGIN - timedelta(seconds=5)) as frozen:
        yield frozen


@pytest.fixture
def recorder_db_url() -> str:
    """Return the recorder's database: a SQLite file."""
    return f"sqlite:///{DATABASE}"


@pytest.fixture
def enable_statistics() -> bool:
    """Compile statistics as in production."""
    return True


@pytest.fixture
def enable_nightly_purge() -> bool:
    """Purge every night as in production (keep_days: 10)."""
    return True


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory) -> None:
    """Start the recorder's fixtures, and freeze the clocks, before Home Assistant starts."""
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


@pytest.fixture
def simulator() -> SimulatedMeter:
    """Return the household's meter: standard single-phase, HP/HC, its clock at the run's start."""
    return SimulatedMeter(Profile.STANDARD_MONO, start=START - MARGIN, seed=0)


@pytest.fixture
def privacy_level() -> PrivacyLevel | None:
    """Return no level: the entry never chose one, it runs at the default (per minute)."""
    return None


@pytest.fixture(autouse=True)
def sparse_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the reader's silence to cover the gap between sparse frames (and a frame's margin)."""
    monkeypatch.setattr(coordinator_module, "SILENT_FRAMES", math.ceil(GAP / FRAME_PERIOD[Mode.STANDARD]) + 3)


def rss_kib() -> int:
    """Return the resident set size now, in KiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def wall() -> float:
    """Return real seconds (freezegun freezes time.monotonic, not this clock)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def cpu() -> float:
    """Return the process's CPU time (user and system, every thread: the recorder's too), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def oldest_state(hass: HomeAssistant) -> float | None:
    """Return when the oldest state row kept was written (what the purge left)."""
    with session_scope(hass=hass, read_only=True) as session:
        oldest: float | None = session.query(func.min(States.last_updated_ts)).scalar()
        return oldest


class Year:
    """Play the events of the run on the household, sampling memory and noting what happened."""

    def __init__(self, hass: HomeAssistant, household: Household, entry: MockConfigEntry) -> None:
        """Drive the household's entry."""
        self.hass = hass
        self.household = household
        self.entry = entry
        self.samples: list[dict[str, Any]] = []
        self.done: list[str] = []
        self.replacement: dict[str, Any] = {"run": False}
        self.started = wall()
        self.cpu_started = cpu()

    async def play(self, moment: datetime, event: str) -> None:
        """Run one event at its moment: sparse frames up to it, the meter's pace around it."""
        household = self.household
        if event == "sample":
            await household.sparse(moment, GAP)
            # The recorder's queue emptied first: behind on a busy machine, it holds the events not yet written.
            await async_wait_recording_done(self.hass)
            self.sample(moment)
            return
        await household.sparse(moment - AROUND, GAP)
        await household.real_pace(AROUND)
        match event:
            case "restart":
                await household.restart()
            case "privacy_half_hourly":
                await household.change_privacy(PrivacyLevel.HALF_HOURLY)
            case "privacy_minute":
                await household.change_privacy(PrivacyLevel.MINUTE)
            case "power_cut":
                await household.power_cut(CUT)
            case "unplugged":
                await household.unplug(UNPLUGGED)
            case "contract_tempo":
                household.change_contract(TariffOption.TEMPO)
            case "replaced":
                await self.replace_meter()
            case "daylight_saving":
                pass  # the meter's pace across the change of the clocks
            case _:
                raise AssertionError(f"unknown event {event}")
        await household.real_pace(AROUND)
        self.done.append(f"{moment.isoformat()} {event}")

    def sample(self, moment: datetime) -> None:
        """Note memory, tasks and open files at a month's start; tracemalloc from the second sample on."""
        # The test harness wraps the recorder's periodic tasks in mocks that keep every call (a `_Call` and its
        # arguments each five minutes): the harness's memory, not Home Assistant's; they forget them here.
        for item in gc.get_objects():
            if isinstance(item, NonCallableMock):
                item.reset_mock()
        gc.collect()
        objects = gc.get_objects()
        sample: dict[str, Any] = {
            "at": moment.isoformat(),
            "rss_kib": rss_kib(),
            "fds": len(os.listdir("/proc/self/fd")),
            "tasks": len(asyncio.all_tasks()),
            "objects": len(objects),
            # Where the objects are, by type: what grows between two samples tells what holds memory.
            "types": dict(Counter(type(item).__qualname__ for item in objects).most_common(TYPES)),
            "wall_s": round(wall() - self.started, 1),
            "cpu_s": round(cpu() - self.cpu_started, 1),
            "frames_sent": self.household.sent,
        }
        if tracemalloc.is_tracing():
            sample["traced_kib"] = tracemalloc.get_traced_memory()[0] // 1024
        elif TRACE:
            tracemalloc.start(1)
        self.samples.append(sample)
        # What a run stopped before its end leaves: the samples and events so far.
        partial = REPORT.with_suffix(".partial.json")
        text = json.dumps({"samples": self.samples, "events": self.done}, indent=1)
        self.hass.async_add_executor_job(partial.write_text, text, "utf-8")

    async def replace_meter(self) -> None:
        """Enedis replaces the meter (a new one: another serial, indexes a few Wh from zero, the household's contract)."""
        if not replacement_available():
            return
        household = self.household
        new = SimulatedMeter(Profile.STANDARD_MONO, start=household.meter.now, seed=1, serial=NEW_SERIAL, new=True)
        if household.option is not None:
            new.change_option(household.option)
        flow = await household.replace_meter(new)
        first = household.ledger.first
        self.replacement = {
            "run": True,
            "issue_raised": flow["issue_raised"],
            "menu": flow["menu"],
            "result": flow["result"],
            "entry_unique_id_is_new_meter": self.entry.unique_id == NEW_SERIAL,
            "swap_row": (hour_of(flow["swapped"]) - first) // HOUR,
            "answer_row": (hour_of(flow["answered"]) - first) // HOUR,
        }


async def test_year(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Run the household's year (or month) and write what year.py prints."""
    hass.loop.set_debug(False)
    await hass.config.async_set_time_zone("Europe/Paris")
    simulator = virtual_meter.simulator
    clock = Clock(hass, freezer, virtual_meter, mock_config_entry, simulator.now - SET_UP_BEFORE)
    await clock.set_up()
    ledger = Ledger(START, END)
    household = Household(hass, clock, mock_config_entry, ledger)
    year = Year(hass, household, mock_config_entry)
    events = sorted((datetime.fromisoformat(moment), event) for moment, event in EVENTS)
    await household.real_pace(AROUND)
    await async_wait_recording_done(hass)
    year.sample(START)
    for moment, event in events:
        await year.play(moment, event)
    await household.sparse(END + TAIL, GAP)
    await async_wait_recording_done(hass)
    year.sample(END)
    tracemalloc.stop()
    # The entities' unique ids follow the meter the household said replaced the first one.
    assert mock_config_entry.unique_id is not None
    checks = await check_hours(hass, mock_config_entry, mock_config_entry.unique_id, ledger)
    oldest = await get_instance(hass).async_add_executor_job(oldest_state, hass)
    coordinator = household.coordinator
    report = {
        "start": START.isoformat(),
        "end": END.isoformat(),
        "gap_s": GAP,
        "frames_sent": household.sent,
        "frames_read": ledger.frames,
        "restarts": household.restarts,
        "reloads": household.reloads,
        "events": year.done,
        "samples": year.samples,
        "checks": [check_figures(check) for check in checks],
        "oldest_state_days_before_end": None if oldest is None else (END.timestamp() - oldest) / 86400,
        "replacement": year.replacement,
        "replacement_available": replacement_available(),
        "issues_at_end": sorted(i.issue_id for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN),
        "unexpected_errors": coordinator.unexpected_errors,
        "wall_s": wall() - year.started,
        "cpu_s": cpu() - year.cpu_started,
    }
    await hass.async_add_executor_job(REPORT.write_text, json.dumps(report, indent=1), "utf-8")


def check_figures(check: PeriodCheck) -> dict[str, Any]:
    """Return a period's check as JSON figures."""
    return {
        "label": check.label,
        "entity_id": check.entity_id,
        "hours": check.hours,
        "equal": check.equal,
        "worst_wh": check.worst_wh,
        "negative": check.negative,
        "meter_wh": check.meter_wh,
        "recorded_wh": check.recorded_wh,
        "unequal": check.unequal,
        "unequal_rows": check.unequal_rows,
    }
