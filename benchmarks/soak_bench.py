"""The soak run: a simulated week of standard three-phase producer frames, faults mixed in, through a running integration.

Run by `benchmarks/soak.py` (never collected by the test suite): Home Assistant from the test harness, the entry set
up on the in-memory line of tests/conftest.py (the integration's `connect_tic` patched to open it), every clock frozen
and moved on by the test suite's clock driver (`Clock`), each timer run at its own time. No real port: the soak is
about what the integration keeps over a week (memory, tasks, descriptors, CPU per frame), and an in-memory line makes
it deterministic and faster; the port itself (open, read, lose, reopen) is the pty and TCP smoke tests' subject. The
open file descriptors counted are therefore the process's other ones (Home Assistant, its executor, the loop).

A meter sends about 400,000 frames a week, too many for a few minutes. Here each frame moves the simulated meter's
clock on by SOAK_FRAME_SECONDS (10 s: 60,480 frames a week), so that its indexes, tariff periods, Tempo days and
horodates go through a week; Home Assistant's clocks move on by a real frame period (1.5 s) per frame, because the
reader declares the meter lost after 4.5 s without a valid frame: one frame lost to a fault must not make it lost.
The reader pauses its reading after each read (coordinator.READ_PAUSE, 0.2 s at the live level the entry runs at, longer after a frame):
the frame period is longer, so each frame comes in one read, as soon as it is sent.
Every six simulated hours (SOAK_EPISODE_HOURS): a burst of garbage, an index with a valid checksum and a wrong value,
a minute and a half of a tty not in raw mode (its repair raised, then cleared), and eleven minutes of silence on Home
Assistant's clocks (the line reopened over and over, the silence repair raised, then cleared). The simulated meter adds noise, EOT cuts and
corrupted groups to 1 % of the frames each.

Memory, tasks and descriptors are sampled every simulated day (SOAK_SAMPLE_HOURS); the first day after a three-hour
warm-up (SOAK_WARM_UP_HOURS) gives the CPU time per frame, tracemalloc follows the rest. The figures go to SOAK_REPORT
(JSON), for soak.py to print.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import replace
import gc
import json
import os
from pathlib import Path
import random
import resource
import time
import tracemalloc
from typing import Any

import freezegun
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from linky_tic import Decoder, Mode
from linky_tic.const import FRAME_PERIOD
from linky_tools.encoder import encode_frame
from linky_tools.simulator import Fault, SimulatedMeter
from tests.conftest import Clock, MemoryLine, VirtualMeter

DAYS = float(os.environ.get("SOAK_DAYS", "7"))
FRAME_SECONDS = float(os.environ.get("SOAK_FRAME_SECONDS", "10"))  # of the simulated week, per frame
LINE_SECONDS = FRAME_PERIOD[Mode.STANDARD]  # of Home Assistant's clocks, per frame
REPORT = Path(os.environ.get("SOAK_REPORT", "soak.json"))
# Hours of clean frames first, of the meter's week between two fault episodes, and between two memory samples (the
# first, the figures' "day", without tracemalloc, for the CPU time per frame): shorter in the short mode.
WARM_UP_SECONDS = float(os.environ.get("SOAK_WARM_UP_HOURS", "3")) * 3600
EPISODE_SECONDS = float(os.environ.get("SOAK_EPISODE_HOURS", "6")) * 3600
SAMPLE_SECONDS = float(os.environ.get("SOAK_SAMPLE_HOURS", "24")) * 3600
SILENCE_SECONDS = 660.0
NOT_RAW_FRAMES = 60
FAULT_RATE = 0.01
REAL_CLOCK_FRAMES = int(os.environ.get("SOAK_REAL_CLOCK_FRAMES", "3000"))
# Frames of each allocation's traceback kept by tracemalloc (more tell where memory grows, and slow the run down),
# and allocation sites reported by memory growth.
TRACE_FRAMES = int(os.environ.get("SOAK_TRACE_FRAMES", "1"))
GROWTH_SITES = 5


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Run the event loop as Home Assistant does, not in the test suite's debug mode.

    Debug mode checks every callback and, on frozen clocks that jump, logs each turn as a slow one: those records,
    kept by pytest's log capture, would be the only memory that grows, and its checks the costliest part of a frame.
    """


@pytest.fixture
def freezer() -> Generator[FrozenDateTimeFactory]:
    """Freeze the clocks letting no module see real time: freezegun then answers without walking the call stack.

    The test suite's freezer lets pytest's own modules see real time, at the cost of a stack walk on every clock read
    (the event loop reads its clock at every turn): that cost is the harness's, not the integration's.
    """
    freezegun.configure(default_ignore_list=[])
    with freezegun.freeze_time() as frozen:
        yield frozen


def rss_kib() -> tuple[int, int]:
    """Return the resident set size now and its peak, in KiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def open_fds() -> int:
    """Return how many file descriptors the process holds."""
    return len(os.listdir("/proc/self/fd"))


def cpu() -> float:
    """Return the process's CPU time (user and system, all threads), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wall() -> float:
    """Return real seconds: freezegun freezes time.perf_counter and time.monotonic, not this clock."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class Soak:
    """Drive the entry through the simulated week and keep the figures."""

    def __init__(self, hass: HomeAssistant, clock: Clock) -> None:
        """Drive the clock's entry with its simulated meter."""
        self.hass = hass
        self.clock = clock
        self.meter: SimulatedMeter = clock.meter.simulator
        line = clock.meter.port
        assert isinstance(line, MemoryLine)
        self.line = line
        self.coordinator: LinkyCoordinator = clock.coordinator
        self.rng = random.Random(7)
        self.simulated = 0.0  # seconds of the week done
        self.pending = 0.0  # seconds the clocks moved on since the meter's last frame
        self.sent = 0
        self.sending_cpu = 0.0  # CPU time the run spent making frames, not the integration's
        self.bogus = 0
        self.issues_raised: set[str] = set()

    async def frame(self, transform: Callable[[bytes], bytes] | None = None) -> None:
        """Move the clocks on by one frame, send the meter's next frame and wait until the reader took it."""
        start = cpu()
        frame = self.meter.next_frame(elapsed=self.pending + FRAME_SECONDS)
        if transform is not None:
            frame = transform(frame)
        self.sending_cpu += cpu() - start
        self.pending = 0.0
        self.simulated += FRAME_SECONDS
        await self.clock.advance(LINE_SECONDS)
        await self.send(frame)
        self.sent += 1

    async def send(self, data: bytes) -> None:
        """Put bytes on the line, moving the clocks on until the reader took them (it pauses between reads)."""
        await self.line.send(data)
        await self.clock.read()

    async def episode(self) -> None:
        """Play the faults of six hours: garbage, a wrong index, a tty not in raw mode, then silence."""
        await self.send(self.rng.randbytes(2000))
        groups = self.meter.groups()
        wrong = [replace(group, value="999999999") if group.label == "EAST" else group for group in groups]
        await self.send(encode_frame(Mode.STANDARD, wrong))
        self.sent += 1
        self.bogus += 1
        for _ in range(NOT_RAW_FRAMES):
            await self.frame(lambda data: data.replace(b"\r", b"\n").replace(b"\x03", b""))
        self.note_issues()
        for _ in range(NOT_RAW_FRAMES):
            await self.frame()
        await self.clock.advance(SILENCE_SECONDS)
        self.pending += SILENCE_SECONDS
        self.note_issues()
        waited = await self.clock.run_until(
            lambda: self.coordinator.link_state is LinkState.WAITING, within=61, step=1.0
        )
        self.pending += waited
        await self.frame()
        await self.frame()

    async def clean(self, seconds: float) -> None:
        """Send clean frames (but for the meter's own faults) for `seconds` of the week."""
        end = self.simulated + seconds
        while self.simulated < end:
            await self.frame()
        self.note_issues()

    def note_issues(self) -> None:
        """Remember which issues were raised."""
        for issue in ir.async_get(self.hass).issues.values():
            if issue.domain == DOMAIN:
                self.issues_raised.add(issue.translation_key or issue.issue_id)


async def test_soak(hass: HomeAssistant, timeline: Clock) -> None:
    """Run the week and write the figures."""
    await timeline.set_up()
    soak = Soak(hass, timeline)
    soak.meter.faults = frozenset({Fault.NOISE, Fault.EOT, Fault.CORRUPT})
    soak.meter.fault_rate = FAULT_RATE
    figures: dict[str, Any] = {"days": DAYS, "frame_seconds": FRAME_SECONDS, "line_seconds": LINE_SECONDS}
    figures["start"] = {"tasks": len(asyncio.all_tasks()), "fds": open_fds(), "rss_kib": rss_kib()[0]}

    await soak.clean(WARM_UP_SECONDS)
    gc.collect()
    figures["after_warm_up"] = {"tasks": len(asyncio.all_tasks()), "fds": open_fds(), "rss_kib": rss_kib()[0]}

    # The first day after warm-up without tracemalloc, for the CPU time per frame; then tracemalloc for the rest.
    stats = soak.coordinator.decoder.stats
    sent, sending_cpu, cpu_start, wall_start = soak.sent, soak.sending_cpu, cpu(), wall()
    days: list[dict[str, Any]] = []
    first_snapshot: tracemalloc.Snapshot | None = None
    week = DAYS * 86400
    while soak.simulated < week:
        day_end = min(soak.simulated + SAMPLE_SECONDS, week)
        while soak.simulated < day_end:
            await soak.clean(min(EPISODE_SECONDS, day_end - soak.simulated))
            if soak.simulated < day_end:
                await soak.episode()
        gc.collect()
        day = {"simulated_days": round(soak.simulated / 86400, 2), "rss_kib": rss_kib()[0], "fds": open_fds()}
        day["tasks"] = len(asyncio.all_tasks())
        if tracemalloc.is_tracing():
            day["traced_kib"] = tracemalloc.get_traced_memory()[0] // 1024
        else:
            frames = soak.sent - sent
            figures["cpu_ms_per_frame"] = (cpu() - cpu_start - (soak.sending_cpu - sending_cpu)) * 1000 / frames
            figures["wall_ms_per_frame"] = (wall() - wall_start) * 1000 / frames
            tracemalloc.start(TRACE_FRAMES)
            first_snapshot = tracemalloc.take_snapshot()
        days.append(day)
    soak.meter.faults = frozenset()  # a last frame intact, to compare the index published with the meter's
    await soak.frame()
    traced, traced_peak = tracemalloc.get_traced_memory()
    growth = tracemalloc.take_snapshot().compare_to(first_snapshot, "traceback")
    figures["memory_growth"] = [
        {"kib": stat.size_diff // 1024, "count": stat.count_diff, "where": stat.traceback.format()[-2 * TRACE_FRAMES :]}
        for stat in growth[:GROWTH_SITES]
    ]
    tracemalloc.stop()
    figures["days_done"] = days
    figures["end"] = {"tasks": len(asyncio.all_tasks()), "fds": open_fds(), "rss_kib": rss_kib()[0]}
    figures["rss_peak_kib"] = rss_kib()[1]
    figures["traced_final_kib"], figures["traced_peak_kib"] = traced // 1024, traced_peak // 1024
    figures["frames_sent"] = soak.sent
    figures["decoder"] = stats.as_dict()
    figures["guard"] = soak.coordinator.values.guard.stats.as_dict()
    figures["bogus_indexes_sent"] = soak.bogus
    figures["reconnections"] = soak.coordinator.reconnections
    figures["unexpected_errors"] = soak.coordinator.unexpected_errors
    figures["issues_raised"] = sorted(soak.issues_raised)
    figures["issues_at_end"] = sorted(
        issue.issue_id for issue in ir.async_get(hass).issues.values() if issue.domain == DOMAIN
    )
    figures["link_state_at_end"] = str(soak.coordinator.link_state)
    figures["decoder_alone_ms_per_frame"] = decoder_alone(soak.meter.mode)
    await hass.async_add_executor_job(REPORT.write_text, json.dumps(figures, indent=2), "utf-8")
    # The week went well: nothing failed, no wrong index got through, every issue cleared, the meter read to the end.
    assert soak.coordinator.unexpected_errors == 0
    assert soak.coordinator.values.guard.stats.rejected_jump >= soak.bogus
    assert soak.coordinator.values.guard.value("EAST") == next(
        int(group.value) for group in soak.meter.groups() if group.label == "EAST"
    )
    assert figures["issues_at_end"] == []
    assert soak.coordinator.link_state is LinkState.RECEIVING


def decoder_alone(mode: Mode) -> float:
    """Return the CPU time per frame the decoder takes alone on the same kind of frames: the integration's floor."""
    meter = SimulatedMeter("standard_tri_producer", seed=3)
    frames = [meter.next_frame(elapsed=FRAME_SECONDS) for _ in range(2000)]
    decoder = Decoder(mode)
    start = time.process_time()
    for frame in frames:
        decoder.feed(frame)
    return (time.process_time() - start) * 1000 / len(frames)


async def test_cpu_per_frame_on_real_clocks(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter, memory_line: MemoryLine
) -> None:
    """Measure the CPU time per frame with no clock frozen (the clock driver's and freezegun's cost excluded).

    Runs after test_soak, whose report it completes. Frames come back to back, one read each as in the soak: the
    line's transport hands each frame to the reader's protocol, without the pause a real read would wait (that pause is
    real time here). The meter's clock moves on by a real frame period per frame and the guard's allowance covers the
    real time being shorter.
    """
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    coordinator: LinkyCoordinator = mock_config_entry.runtime_data
    meter: SimulatedMeter = virtual_meter.simulator
    frames = [meter.next_frame() for _ in range(REAL_CLOCK_FRAMES + 200)]
    transport = memory_line.transport
    assert transport is not None

    async def send(batch: list[bytes]) -> None:
        for frame in batch:
            transport.protocol.data_received(frame)
            await asyncio.sleep(0)  # what the frame scheduled runs before the next read, as between two real reads
        await hass.async_block_till_done()

    await send(frames[:200])  # warm-up: every entity created
    decoded, start = coordinator.decoder.stats.frames, cpu()
    await send(frames[200:])
    used = cpu() - start
    assert coordinator.decoder.stats.frames - decoded == REAL_CLOCK_FRAMES
    report = json.loads(await hass.async_add_executor_job(REPORT.read_text, "utf-8"))
    report["real_clocks"] = {"frames": REAL_CLOCK_FRAMES, "cpu_ms_per_frame": used * 1000 / REAL_CLOCK_FRAMES}
    await hass.async_add_executor_job(REPORT.write_text, json.dumps(report, indent=2), "utf-8")
