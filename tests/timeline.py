"""Test time for a running integration: frozen clocks the test moves on, real ports and real I/O in between.

The `freezer` fixture freezes Home Assistant's clocks, `time.monotonic` (which the index guard and the line monitor
read) and the event loop's own clock: timers (the reader's silence timeout, its backoff, the periodic line check) run
only when the test moves the clocks on. Reading a port still takes real time (serialx opens it in the executor), so
each step gives the loop a moment of real time. The simulated meter's clock follows the frozen one: a frame sent after
the clocks moved on by ten minutes carries indexes ten minutes further on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import logging
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from linky_tools.simulator import BITS_PER_BYTE, SimulatedMeter

from .conftest import VirtualMeter

# Real seconds each step gives the loop and the executor: opening a pty or a socket takes a few of them.
REAL_PAUSE = 0.001
# Real seconds to wait for bytes to be read, on a loaded machine, unless the reader is between two sessions.
READ_WITHIN = 10.0

type Transform = Callable[[bytes], bytes]


def unchanged(data: bytes) -> bytes:
    """Return the bytes as the meter sent them."""
    return data


def real_seconds() -> float:
    """Return real seconds: freezegun freezes time.monotonic and time.perf_counter, not this clock."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages logged at ERROR or above: an exception that escaped, or one logged."""
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


class Timeline:
    """Move a running integration's clocks on, and send the simulated meter's frames in step with them."""

    def __init__(
        self, hass: HomeAssistant, freezer: FrozenDateTimeFactory, meter: VirtualMeter, entry: MockConfigEntry
    ) -> None:
        """Drive the entry of `meter`; the clocks stand still until told to move."""
        self.hass = hass
        self.freezer = freezer
        self.meter = meter
        self.entry = entry
        self.start = meter.simulator.now  # when the clocks stand at first
        self.now = 0.0  # seconds the clocks moved on
        self._meter_at = 0.0  # when the simulated meter's clock last moved

    @property
    def coordinator(self) -> LinkyCoordinator:
        """Return the entry's coordinator."""
        coordinator: LinkyCoordinator = self.entry.runtime_data
        return coordinator

    async def pause(self) -> None:
        """Let the loop and the executor run for a moment of real time, the clocks frozen."""
        await self.hass.async_add_executor_job(time.sleep, REAL_PAUSE)

    async def tick(self, seconds: float) -> None:
        """Move the clocks on and run what falls due."""
        self.now += seconds
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.pause()

    async def advance(self, seconds: float, *, step: float = 0.5) -> None:
        """Move the clocks on by `seconds`, a step at a time."""
        end = self.now + seconds
        while (left := end - self.now) > 1e-9:
            await self.tick(min(step, left))

    async def run_until(self, condition: Callable[[], bool], *, within: float, step: float = 0.1) -> float:
        """Move the clocks on until the condition holds; return the seconds it took; fail after `within` seconds."""
        start = self.now
        while not condition():
            if self.now - start >= within:
                pytest.fail(f"not within {within} s")
            await self.tick(step)
        return self.now - start

    async def complete[T](self, awaitable: Awaitable[T], *, step: float = 0.01) -> T:
        """Await something that sleeps on the event loop's clock (serialx waits a moment after opening a port)."""
        task = self.hass.async_create_task(awaitable)
        while not task.done():
            await self.tick(step)
        return task.result()

    def next_frame(self, meter: SimulatedMeter | None = None) -> bytes:
        """Return the meter's next frame, its clock moved on by as much as ours since its last frame."""
        meter = meter or self.meter.simulator
        frame = meter.next_frame(elapsed=self.now - self._meter_at)
        self._meter_at = self.now
        return frame

    async def send(self, data: bytes, line_bytes: int | None = None) -> None:
        """Send bytes once the time `line_bytes` of them take on the line has passed; wait until they are read."""
        baudrate = self.meter.simulator.baudrate
        await self.advance((len(data) if line_bytes is None else line_bytes) * BITS_PER_BYTE / baudrate, step=0.25)
        monitor = self.coordinator.health.monitor
        expected = monitor.received + len(data)
        await self.meter.port.send(data)
        deadline = real_seconds() + READ_WITHIN
        # Between two sessions the bytes are lost, as on a real line (serialx flushes what a port buffered).
        while monitor.received < expected and self.coordinator.link_state is not LinkState.DISCONNECTED:
            if real_seconds() > deadline:
                pytest.fail(f"{len(data)} bytes not read within {READ_WITHIN} s")
            await self.pause()
        await self.hass.async_block_till_done()

    async def frames(
        self, seconds: float, transform: Transform = unchanged, meter: SimulatedMeter | None = None
    ) -> int:
        """Send the meter's frames, changed by `transform`, for `seconds` of line time; return how many were sent."""
        end, count = self.now + seconds, 0
        while self.now < end:
            frame = self.next_frame(meter)
            await self.send(transform(frame), len(frame))
            count += 1
        return count


def uart_read(data: bytes, sent_baud: int, read_baud: int) -> bytes:
    """Return what a UART reading at `read_baud` receives from 7E1 bytes sent at `sent_baud` (8 bits per byte read).

    The receiver waits for a falling edge (a start bit), samples the middle of each bit at its own rate and looks for
    the next start bit from the middle of its stop bit: the wrong speed turns a TIC line into garbage.
    """
    bits = [level for byte in data for level in (0, *(byte >> n & 1 for n in range(7)), byte.bit_count() & 1, 1)]
    ratio = sent_baud / read_baud  # bits sent per bit read

    def level(at: float) -> int:
        return bits[int(at)] if int(at) < len(bits) else 1

    received = bytearray()
    at, end = 0.0, float(len(bits))
    while at < end:
        if level(at) == 1:
            at = float(int(at) + 1)
            continue
        received.append(sum(level(at + (n + 1.5) * ratio) << n for n in range(8)))
        at += 9.5 * ratio
    return bytes(received)


@pytest.fixture(name="timeline")
def timeline_fixture(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, virtual_meter: VirtualMeter, mock_config_entry: MockConfigEntry
) -> Timeline:
    """The integration's clocks, frozen at the simulated meter's start, moved on by the test."""
    timeline = Timeline(hass, freezer, virtual_meter, mock_config_entry)
    freezer.move_to(timeline.start)
    return timeline


@pytest.fixture(name="running")
async def running_fixture(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, timeline: Timeline
) -> MockConfigEntry:
    """The entry set up, reading its first frames in frozen time."""
    mock_config_entry.add_to_hass(hass)
    assert await timeline.complete(hass.config_entries.async_setup(mock_config_entry.entry_id))
    await timeline.frames(5)
    assert timeline.coordinator.link_state is LinkState.RECEIVING
    return mock_config_entry
