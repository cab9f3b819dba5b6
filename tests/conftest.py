"""Fixtures of the Linky Local tests: a simulated meter behind an in-memory line (or a real pty or TCP port), a config
entry, a set-up entry, and the one clock driver of the tests about time.

Tests about time (silence, windows, repairs, publication) read an in-memory line on frozen clocks only: the
integration's `connect_tic` is patched to open it (the seam Home Assistant's dsmr tests patch their reader factory
at), and nothing depends on the machine's speed. The smoke tests about the port itself (open, read, lose, reconnect)
use a real pseudo-terminal or a real TCP socket on 127.0.0.1, and wait for real I/O with generous guards only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable, Mapping
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json
import logging
import os
from typing import Any, Final, Protocol, Self
from unittest.mock import PropertyMock, patch

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Import our package before the hass fixture runs: otherwise Home Assistant finds the test plugin's own
# `custom_components` package first and never sees ours.
import custom_components.linky_local  # noqa: F401
from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.coordinator import READ_PAUSE, LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import Group, Mode, link
from custom_components.linky_local.linky_tic.decoder import MAX_FRAME_BYTES, Decoder
from custom_components.linky_local.linky_tic.frame import Frame
from custom_components.linky_local.linky_tic.guard import FIRST_VALUE_FRAMES
from custom_components.linky_local.linky_tic.link import (
    DETECT_TIMEOUT,
    PortUnavailableError,
    TicTransport,
    close_transport,
    connect_tic,
)
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel
from custom_components.linky_local.publisher import CLOSE_LEAD
from custom_components.linky_local.sensor import SENSORS
from linky_tools.encoder import encode_frame
from linky_tools.simulator import BITS_PER_BYTE, Profile, SimulatedMeter
from tests_protocol.waiting import GUARD

# Home Assistant's test plugin logs every SQL statement of the recorder at INFO: a failing test would print thousands.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

# A winter weekday morning: Tempo colours, peak hours, heating.
START = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom integrations in every test."""


class Port(Protocol):
    """The meter's end of a line the integration reads."""

    url: str

    async def send(self, data: bytes) -> None:
        """Send bytes to the reader."""


class PtyPort:
    """A real pseudo-terminal: the integration opens the slave by its path, the test writes to the master."""

    def __init__(self) -> None:
        """Open the pty; the slave stays open here too so that the pty lives while the integration reopens it."""
        self.master, self._slave = os.openpty()
        self.url = os.ttyname(self._slave)
        self._writer: asyncio.WriteTransport | None = None

    async def send(self, data: bytes) -> None:
        """Write without blocking the event loop, whatever the pty's buffer holds."""
        if self._writer is None:
            loop = asyncio.get_running_loop()
            pipe = os.fdopen(os.dup(self.master), "wb", buffering=0)
            self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, pipe)
        self._writer.write(data)

    def close(self) -> None:
        """Close both ends: a reader sees an I/O error."""
        if self._writer is not None:
            self._writer.close()
        for fd in (self.master, self._slave):
            os.close(fd)


class TcpPort:
    """A TCP server on 127.0.0.1 playing ser2net: `drop` closes it and its connections, `restore` listens again."""

    def __init__(self) -> None:
        """Make the port; `restore` starts listening."""
        self.url = ""
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._clients: list[asyncio.StreamWriter] = []
        self._connected = asyncio.Event()
        self._closed_by_reader = asyncio.Event()
        self.heard = asyncio.Event()  # the reader sent something (an RFC 2217 client's telnet options)

    async def restore(self) -> None:
        """Listen (again, on the same port)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.append(writer)
        self.connections += 1
        self._connected.set()
        # The integration never writes: this returns when it closes its end, or fails when it resets the connection
        # (an RFC 2217 client giving up on the negotiation aborts it).
        with contextlib.suppress(ConnectionError):
            while await reader.read(1024):
                self.heard.set()
        if writer in self._clients:
            self._closed_by_reader.set()

    async def wait_closed_by_reader(self) -> bool:
        """Wait until the integration closes its connection."""
        async with asyncio.timeout(GUARD):
            await self._closed_by_reader.wait()
        return True

    async def send(self, data: bytes) -> None:
        """Send to every connected reader, once one is."""
        async with asyncio.timeout(GUARD):
            await self._connected.wait()
        for client in self._clients:
            client.write(data)
            await client.drain()

    async def drop(self) -> None:
        """Stop listening and close every connection: readers see the end of the stream."""
        assert self._server is not None
        self._server.close()
        clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._connected.clear()
        self.connections = 0
        await self._server.wait_closed()


class TalkingPty(PtyPort):
    """A meter on a pseudo-terminal that sends `payload` over and over, whether anyone reads or not (`async with`)."""

    def __init__(self, payload: bytes = b"") -> None:
        """Open the pty; `payload` may change while it talks."""
        super().__init__()
        self.payload = payload
        self._out = os.dup(self.master)
        os.set_blocking(self._out, False)
        self._talking: asyncio.Task[None] | None = None

    @property
    def path(self) -> str:
        """Return the path the integration opens."""
        return self.url

    async def __aenter__(self) -> Self:
        """Start talking."""
        self._talking = asyncio.get_running_loop().create_task(self._talk())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop talking and close the pty."""
        await _stop(self._talking)
        os.close(self._out)
        self.close()

    async def _talk(self) -> None:
        while True:
            if self.payload:
                # Nobody reading: the terminal's buffer is full; a real meter talks on regardless.
                with contextlib.suppress(BlockingIOError):
                    os.write(self._out, self.payload)
            await asyncio.sleep(0.02)


class TalkingTcp(TcpPort):
    """A meter behind ser2net that sends `payload` over and over to every client (`async with`)."""

    def __init__(self, payload: bytes = b"") -> None:
        """Prepare the server; `payload` may change while it talks."""
        super().__init__()
        self.payload = payload
        self._talking: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        """Listen on a free port and start talking."""
        await self.restore()
        self._talking = asyncio.get_running_loop().create_task(self._talk())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop talking, drop the clients and close the server."""
        await _stop(self._talking)
        await self.drop()

    async def _talk(self) -> None:
        while True:
            for client in self._clients:
                if self.payload and not client.is_closing():
                    client.write(self.payload)
            await asyncio.sleep(0.02)


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class MemoryTransport(asyncio.ReadTransport):
    """The integration's end of an in-memory line: bytes go to its protocol at once, or at resume once paused."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        """Connect the protocol."""
        super().__init__()
        self.protocol = protocol
        self.buffered = bytearray()  # what the kernel would hold while the reader is paused
        self._paused = False
        self._closing = False
        protocol.connection_made(self)

    def feed(self, data: bytes) -> None:
        """Bytes arrive on the line."""
        if self._closing:
            return  # nobody reads: lost, as on a real line between two sessions
        self.buffered += data
        if not self._paused:
            self._deliver()

    def _deliver(self) -> None:
        if self.buffered and not self._closing:
            data, self.buffered = bytes(self.buffered), bytearray()
            self.protocol.data_received(data)

    def pause_reading(self) -> None:
        """Stop reading: bytes wait in the buffer."""
        self._paused = True

    def resume_reading(self) -> None:
        """Read again: what waited comes in one read."""
        self._paused = False
        self._deliver()

    def is_reading(self) -> bool:
        """Tell whether the transport reads."""
        return not self._paused

    def lose(self, exc: Exception | None) -> None:
        """The far end closed (None) or the port failed."""
        if not self._closing:
            self._closing = True
            self.protocol.connection_lost(exc)

    def close(self) -> None:
        """The integration closes its end."""
        self.lose(None)

    def is_closing(self) -> bool:
        """Tell whether the transport is closed."""
        return self._closing

    async def wait_closed(self) -> None:
        """Closing an in-memory line takes no time."""


class MemoryLine:
    """A line with no port under it: the meter's end for the test, the integration's `connect_tic` for the entry."""

    url: Final = "/dev/serial/by-id/usb-memory-line"

    def __init__(self) -> None:
        """Make the line; the integration opens it."""
        self.opened = 0
        self.refusing = False
        self.transport: MemoryTransport | None = None

    async def connect(
        self, url: str, baudrate: int, protocol_factory: Callable[[], asyncio.Protocol]
    ) -> MemoryTransport:
        """Open the line for the integration, as `connect_tic` does a port."""
        if self.refusing:
            raise PortUnavailableError(f"{url}: no such device")
        self.opened += 1
        self.transport = MemoryTransport(protocol_factory())
        return self.transport

    @property
    def open(self) -> bool:
        """Tell whether the integration holds the line open."""
        return self.transport is not None and not self.transport.is_closing()

    @property
    def waiting(self) -> bool:
        """Tell whether bytes wait for the reader to resume."""
        return self.transport is not None and bool(self.transport.buffered) and not self.transport.is_closing()

    async def send(self, data: bytes) -> None:
        """Put bytes on the line: read at once unless the reader paused, lost if the line is closed."""
        if self.transport is not None:
            self.transport.feed(data)

    def lose(self, exc: Exception | None = None) -> None:
        """End the integration's session: the far end closed (None) or the port failed with `exc`."""
        if self.transport is not None:
            self.transport.lose(exc)


def fire_after(hass: HomeAssistant, seconds: float) -> None:
    """Run the timers due within `seconds` (silence, backoff, pauses between reads) while real I/O goes on."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


async def wait_for(coordinator: LinkyCoordinator, condition: Callable[[], bool], within: float = GUARD) -> None:
    """Wait until the condition holds, checking it at each coordinator update and every half second of real time;
    `within` only guards against a hang."""
    met = asyncio.Event()

    def check() -> None:
        if condition():
            met.set()

    unsubscribe = coordinator.async_add_listener(check)
    try:
        async with asyncio.timeout(within):
            while not condition():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await met.wait()
    finally:
        unsubscribe()


class VirtualMeter:
    """A simulated meter behind a real port."""

    def __init__(self, simulator: SimulatedMeter, port: Port) -> None:
        """Put the simulator behind the port."""
        self.simulator = simulator
        self.port = port

    async def send_frames(
        self, hass: HomeAssistant, entry: MockConfigEntry, count: int = 1, *, after: float | None = None
    ) -> None:
        """Send the simulator's next frames (the first `after` seconds later), wait until the entry took them in."""
        coordinator: LinkyCoordinator = entry.runtime_data
        expected = coordinator.decoder.stats.frames + count
        frames = [self.simulator.next_frame(after if n == 0 else None) for n in range(count)]
        await self.port.send(b"".join(frames))
        await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= expected)
        await hass.async_block_till_done()

    async def send_groups(self, hass: HomeAssistant, entry: MockConfigEntry, groups: Iterable[Group]) -> None:
        """Send a frame of these groups, as the meter would encode them."""
        coordinator: LinkyCoordinator = entry.runtime_data
        expected = coordinator.decoder.stats.frames + 1
        await self.port.send(encode_frame(self.simulator.mode, groups))
        await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= expected)
        await hass.async_block_till_done()


# Frames sent before a snapshot: (seconds skipped before the first, frames).
SNAPSHOT_ROUNDS: dict[Profile, tuple[tuple[float | None, int], ...]] = {
    # The simulated phase 2 goes over its limit at 08:35 local time: short frames follow.
    Profile.HISTORIC_TRI: ((None, 3), (290, 10)),
}


async def set_up_for_snapshot(hass: HomeAssistant, entry: MockConfigEntry, meter: VirtualMeter) -> None:
    """Set the entry up and send the frames that show what its kind of meter has to show."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    for after, count in SNAPSHOT_ROUNDS.get(meter.simulator.profile, ((None, FIRST_VALUE_FRAMES),)):
        await meter.send_frames(hass, entry, count, after=after)


async def snapshot_entities(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, snapshot: SnapshotAssertion, entry: MockConfigEntry
) -> None:
    """Snapshot each entity of an entry: what the registry and the state say, in fields stable across versions."""
    entries = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert entries
    for reg in sorted(entries, key=lambda reg: reg.entity_id):
        state = hass.states.get(reg.entity_id)
        assert state is not None, f"{reg.entity_id} has no state: is it disabled by default?"
        described = {
            "unique_id": reg.unique_id,
            "translation_key": reg.translation_key,
            "name": reg.original_name,
            "device_class": reg.original_device_class,
            "entity_category": reg.entity_category,
            "capabilities": reg.capabilities,
            "unit": reg.unit_of_measurement,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
        # Plain strings: Home Assistant versions differ in which keys and values are enums.
        assert json.loads(json.dumps(described, default=str)) == snapshot(name=reg.entity_id)


@pytest.fixture
def entities_match_snapshot(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    virtual_meter: VirtualMeter,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> Callable[[], Awaitable[None]]:
    """Return a check: set the entry up, send what its kind of meter has to show, compare its entities with the
    snapshot."""

    async def check() -> None:
        await set_up_for_snapshot(hass, mock_config_entry, virtual_meter)
        await snapshot_entities(hass, entity_registry, snapshot, mock_config_entry)

    return check


@pytest.fixture
def meter_profile() -> Profile:
    """Profile of the simulated meter; override it (or parametrize it indirectly) per test."""
    return Profile.STANDARD_TRI_PRODUCER


@pytest.fixture
def meter_start() -> datetime:
    """When the simulated meter's first frame is sent; override it per test module."""
    return START


@pytest.fixture
def simulator(meter_profile: Profile, meter_start: datetime) -> SimulatedMeter:
    """A deterministic simulated meter."""
    return SimulatedMeter(meter_profile, start=meter_start, seed=0)


@pytest.fixture
def pty_port() -> Generator[PtyPort]:
    """A real pseudo-terminal."""
    port = PtyPort()
    yield port
    port.close()


@pytest.fixture
async def tcp_port(socket_enabled: None) -> AsyncGenerator[TcpPort]:
    """A real TCP server on 127.0.0.1."""
    port = TcpPort()
    await port.restore()
    yield port
    await port.drop()


@pytest.fixture
def memory_line() -> Generator[MemoryLine]:
    """An in-memory line the integration opens instead of a port."""
    line = MemoryLine()
    with patch("custom_components.linky_local.coordinator.connect_tic", line.connect):
        yield line


@pytest.fixture
def port(memory_line: MemoryLine) -> Port:
    """The line the integration reads: in memory unless a test overrides this fixture with a real port."""
    return memory_line


@pytest.fixture
def virtual_meter(simulator: SimulatedMeter, port: Port) -> VirtualMeter:
    """The simulated meter behind the port."""
    return VirtualMeter(simulator, port)


@pytest.fixture
def privacy_level() -> PrivacyLevel | None:
    """Privacy level of the entry: `live`, so that each frame shows at once; tests of the levels override it.

    None: an entry that never chose one (as the config flow makes it), at the default level.
    """
    return PrivacyLevel.LIVE


@pytest.fixture
def mock_config_entry(simulator: SimulatedMeter, port: Port, privacy_level: PrivacyLevel | None) -> MockConfigEntry:
    """A config entry of the simulated meter, as the config flow makes it, at the privacy level of `privacy_level`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Linky",
        unique_id=simulator.serial,
        minor_version=2,
        data={CONF_DEVICE: port.url, CONF_MODE: str(simulator.mode), CONF_BAUDRATE: simulator.baudrate},
        options={} if privacy_level is None else {CONF_PRIVACY_LEVEL: str(privacy_level)},
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter
) -> MockConfigEntry:
    """Set the entry up and send it enough frames that every entity the meter calls for exists and has a value."""
    await set_up_entry(hass, mock_config_entry)
    await virtual_meter.send_frames(hass, mock_config_entry, FIRST_VALUE_FRAMES)
    return mock_config_entry


async def set_up_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up; its meter has sent nothing yet."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def coordinator(init_integration: MockConfigEntry) -> LinkyCoordinator:
    """The coordinator of the set-up entry."""
    coordinator: LinkyCoordinator = init_integration.runtime_data
    return coordinator


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Serialize snapshots the Home Assistant way (registry ids as ANY...), into tests/snapshots."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def frozen_wall_clock() -> Generator[None]:
    """Stop the wall clock at START, for timestamps in snapshots; the event loop's clock runs on, for real I/O."""
    with freeze_time(START, ignore=["asyncio"]):
        yield


@pytest.fixture
def reading_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read each frame as it comes at every level: for tests that place frames at exact moments (`Clock.send_at`).

    At the coarser levels the reader leaves the port unread for seconds; tests/test_line.py reads in batches.
    """
    for level in PrivacyLevel:
        monkeypatch.setitem(READ_PAUSE, level, 0.0)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, those disabled by default too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


# --- Time: one clock driver for every test about time ------------------------------------------------------------

# The loop runs a timer once the clocks are past its time (at epoch magnitudes its resolution is lost to rounding).
TIMER_PAST: Final = timedelta(microseconds=1)
# Loop turns a woken task needs to reach its next wait: a few awaits past the timer that woke it.
SETTLE_STEPS: Final = 10
# Less than the silence after which the meter is lost, when no frame comes.
SET_UP_BEFORE: Final = timedelta(seconds=3)

type Transform = Callable[[bytes], bytes]


def unchanged(data: bytes) -> bytes:
    """Return the bytes as the meter sent them."""
    return data


def not_raw(data: bytes) -> bytes:
    """Return the bytes as a tty not in raw mode gives them: CR turned into LF, ETX swallowed (its VINTR)."""
    return data.replace(b"\r", b"\n").replace(b"\x03", b"")


def with_values(groups: list[Group], **values: str) -> list[Group]:
    """Return the groups with some values replaced."""
    return [replace(group, value=values[group.label]) if group.label in values else group for group in groups]


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages logged at ERROR or above: an exception that escaped, or one logged."""
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def follow[T](hass: HomeAssistant, entity_id: str, what: Callable[[Event], T], *event_types: str) -> list[T]:
    """Collect `what` of each event of these types (state changes by default) about one entity, from now on."""
    collected: list[T] = []

    @callback
    def is_ours(data: Mapping[str, Any]) -> bool:
        return bool(data["entity_id"] == entity_id)

    @callback
    def record(event: Event) -> None:
        collected.append(what(event))

    for event_type in event_types or (EVENT_STATE_CHANGED,):
        hass.bus.async_listen(event_type, record, event_filter=is_ours)
    return collected


def written(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Collect the states an entity writes from now on."""
    return follow(hass, entity_id, lambda event: event.data["new_state"].state)


async def run_due_timers(hass: HomeAssistant) -> None:
    """Let the loop run every timer whose time has passed on the frozen clocks, those they schedule included."""
    loop = hass.loop
    for _ in range(10000):
        due = [h for h in get_scheduled_timer_handles(loop) if not h.cancelled() and h.when() < loop.time()]
        if not due:
            break
        await asyncio.sleep(0)
    else:
        raise AssertionError(f"timers keep falling due: {due}")
    # Let the tasks the timers woke (the reader's backoff...) run at this time, not at the next the clocks move to.
    for _ in range(SETTLE_STEPS):
        await asyncio.sleep(0)
    await hass.async_block_till_done()


class Clock:
    """Move a running integration's frozen clocks on, each timer run at its own time, and send the meter's frames.

    Home Assistant's clocks, `time.monotonic` and the event loop's clock are frozen: timers (the reader's silence,
    its backoff, its pauses between reads, the line check, the publisher's windows) run only when the clock is moved
    past them, each at its own time, as real time would run them. The in-memory line takes what is sent at once, or
    when the reader resumes reading. The simulated meter's clock follows: a frame sent after the clocks moved on by ten
    minutes carries indexes ten minutes further on.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        meter: VirtualMeter,
        entry: MockConfigEntry,
        start: datetime | None = None,
    ) -> None:
        """Drive the entry of `meter`; the clocks stand at `start` (the simulated meter's) until moved."""
        self.hass = hass
        self.freezer = freezer
        self.meter = meter
        self.entry = entry
        self.start = start or meter.simulator.now
        self._meter_at = self.start  # when the simulated meter's clock last moved
        freezer.move_to(self.start)

    @property
    def coordinator(self) -> LinkyCoordinator:
        """Return the entry's coordinator."""
        coordinator: LinkyCoordinator = self.entry.runtime_data
        return coordinator

    @property
    def moment(self) -> datetime:
        """Return the frozen clocks' time."""
        return datetime.now(UTC)

    @property
    def now(self) -> float:
        """Return the seconds the clocks moved on since the start."""
        return (self.moment - self.start).total_seconds()

    async def move_to(self, moment: datetime) -> None:
        """Move the clocks on to a moment, stopping at each timer due before it to run it at its time."""
        loop, target = self.hass.loop, moment.timestamp()
        while True:
            due = [handle.when() for handle in get_scheduled_timer_handles(loop) if not handle.cancelled()]
            if not due or (first := min(due)) >= target:
                break
            self.freezer.move_to(datetime.fromtimestamp(first, UTC) + TIMER_PAST)
            await run_due_timers(self.hass)
        self.freezer.move_to(moment)
        await run_due_timers(self.hass)

    async def advance(self, seconds: float) -> None:
        """Move the clocks on by `seconds`."""
        await self.move_to(self.moment + timedelta(seconds=seconds))

    async def run_until(self, condition: Callable[[], bool], *, within: float, step: float = 0.1) -> float:
        """Move the clocks on until the condition holds; return the seconds it took; fail after `within` seconds."""
        start = self.now
        while not condition():
            if self.now - start >= within:
                pytest.fail(f"not within {within} s")
            await self.advance(step)
        return self.now - start

    async def complete[T](self, awaitable: Awaitable[T], *, step: float = 0.01) -> T:
        """Await something that may wait on the event loop's clock, moving the clocks on meanwhile."""
        task = self.hass.async_create_task(awaitable)
        await asyncio.sleep(0)
        while not task.done():
            await self.advance(step)
        return task.result()

    async def close(self, boundary: datetime) -> None:
        """Move the clocks just past the moment the publisher's windows ending at `boundary` close."""
        await self.move_to(boundary - CLOSE_LEAD + TIMER_PAST)

    def next_frame(self, meter: SimulatedMeter | None = None) -> bytes:
        """Return the meter's next frame, its clock moved on by as much as ours since its last frame."""
        meter = meter or self.meter.simulator
        frame = meter.next_frame(elapsed=(self.moment - self._meter_at).total_seconds())
        self._meter_at = self.moment
        return frame

    async def send(self, data: bytes, line_bytes: int | None = None) -> None:
        """Send bytes once the time `line_bytes` of them take on the line has passed; wait until they are read.

        Bytes sent while the reader is between two sessions are lost, as on a real line.
        """
        baudrate = self.meter.simulator.baudrate
        await self.advance((len(data) if line_bytes is None else line_bytes) * BITS_PER_BYTE / baudrate)
        await self.meter.port.send(data)
        await self.read()

    async def talk(self, data: bytes) -> None:
        """Send bytes once the time they take on the line has passed, whether the reader took the last ones or not."""
        await self.advance(len(data) * BITS_PER_BYTE / self.meter.simulator.baudrate)
        await self.meter.port.send(data)

    async def read(self) -> None:
        """Move the clocks on until the reader took what waits on the line (it pauses between reads)."""
        line = self.meter.port
        assert isinstance(line, MemoryLine), "the clock drives an in-memory line"
        while line.waiting:
            await self.advance(0.05)
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

    async def send_at(self, moment: datetime, **values: str) -> None:
        """Send a frame at a moment, the simulated meter's groups with some values replaced; wait until it is read."""
        await self.send_groups_at(moment, with_values(self.meter.simulator.groups(), **values))

    async def send_groups_at(self, moment: datetime, groups: list[Group]) -> None:
        """Send a frame of these groups at a moment; wait until it is read."""
        await self.move_to(moment)
        decoder = self.coordinator.decoder
        expected = decoder.stats.frames + 1
        await self.meter.port.send(encode_frame(self.meter.simulator.mode, groups))
        await self.read()
        assert decoder.stats.frames >= expected, "the frame was not read"

    async def set_up(self) -> None:
        """Set the entry up on the frozen clocks."""
        self.entry.add_to_hass(self.hass)
        assert await self.complete(self.hass.config_entries.async_setup(self.entry.entry_id))
        await self.hass.async_block_till_done()


@pytest.fixture(name="timeline")
def timeline_fixture(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, virtual_meter: VirtualMeter, mock_config_entry: MockConfigEntry
) -> Clock:
    """The integration's clocks, frozen at the simulated meter's start, moved on by the test."""
    return Clock(hass, freezer, virtual_meter, mock_config_entry)


@pytest.fixture(name="running")
async def running_fixture(hass: HomeAssistant, mock_config_entry: MockConfigEntry, timeline: Clock) -> MockConfigEntry:
    """The entry set up, reading its first frames in frozen time."""
    await timeline.set_up()
    await timeline.frames(5)
    assert timeline.coordinator.link_state is LinkState.RECEIVING
    return mock_config_entry


async def start_clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, meter: VirtualMeter, entry: MockConfigEntry, at: datetime
) -> Clock:
    """Set up the entry of a French home a moment before `at`; the first, partial window ends at `at`."""
    await hass.config.async_set_time_zone("Europe/Paris")
    clock = Clock(hass, freezer, meter, entry, at - SET_UP_BEFORE)
    await clock.set_up()
    await clock.close(at)
    return clock


@pytest.fixture(autouse=True)
def patient_detection() -> Generator[None]:
    """Detect a talking meter however long a loaded machine takes: its first frame ends the wait, not a window.

    `silent_line` and `garbled_line` end the windows of the tests about a line without a frame.
    """
    with (
        patch.dict(DETECT_TIMEOUT, dict.fromkeys(Mode, GUARD)),
        patch("custom_components.linky_local.config_flow.PROBE_TIMEOUT", GUARD),
    ):
        yield


@contextlib.contextmanager
def silent_line() -> Generator[None]:
    """Listen 0.3 s per speed: enough to tell a silent line, whatever the machine's speed, as nothing comes."""
    with patch.dict(DETECT_TIMEOUT, dict.fromkeys(Mode, 0.3)):
        yield


@contextlib.contextmanager
def garbled_line() -> Generator[None]:
    """End each detection's window once the line gave two frames' worth of bytes without a frame in them.

    A garbled line is told from a silent one by its bytes: this waits for them, however long a loaded machine takes
    to read them, instead of a window of real time. Detection's timeout falls due at that moment.
    """
    windows: list[asyncio.Timeout] = []

    class Windows:
        """`asyncio` as detection sees it, its timeouts due only when the line has shown it is garbled."""

        def __getattr__(self, name: str) -> Any:
            return getattr(asyncio, name)

        @staticmethod
        def timeout(_delay: float | None) -> asyncio.Timeout:
            windows.append(asyncio.timeout(None))
            return windows[-1]

    class Watched(Decoder):
        fed = 0

        def feed(self, data: bytes) -> list[Frame]:
            frames = super().feed(data)
            self.fed += len(data)
            if not frames and self.fed >= 2 * MAX_FRAME_BYTES and windows and not windows[-1].expired():
                # Not yet waited on (bytes before the window opens) or already closed: the next bytes strike it.
                with contextlib.suppress(RuntimeError):
                    windows[-1].reschedule(asyncio.get_running_loop().time())
            return frames

    with patch.object(link, "Decoder", Watched), patch.object(link, "asyncio", Windows()):
        yield


@pytest.fixture
def entry_setup() -> Generator[None]:
    """Set entries up without the reader: for tests about the config flow."""
    with (
        patch("custom_components.linky_local.async_setup_entry", return_value=True),
        patch("custom_components.linky_local.async_unload_entry", return_value=True),
    ):
        yield


class HeldPorts(dict[str, TicTransport]):
    """The port each set-up entry holds open, by entry id; `opened`: every port opened, in order."""

    def __init__(self) -> None:
        """Hold nothing yet."""
        super().__init__()
        self.opened: list[str] = []


@pytest.fixture
def holding_entry_setup() -> Generator[HeldPorts]:
    """Set entries up with a stand-in reader that holds its port exclusively, as the real one does.

    Yields the open port of each set-up entry, also its `runtime_data`: a test can tell whether an entry's port was
    closed meanwhile.
    """
    held = HeldPorts()

    async def setup(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        held[entry.entry_id] = await connect_tic(entry.data[CONF_DEVICE], entry.data[CONF_BAUDRATE], asyncio.Protocol)
        entry.runtime_data = held[entry.entry_id]
        held.opened.append(entry.data[CONF_DEVICE])
        return True

    async def unload(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await close_transport(held.pop(entry.entry_id))
        return True

    with (
        patch("custom_components.linky_local.async_setup_entry", side_effect=setup),
        patch("custom_components.linky_local.async_unload_entry", side_effect=unload),
    ):
        yield held
    assert not held, "a port was left open"


@pytest.fixture
def total_withdrawn_enabled() -> Generator[None]:
    """Keep the total withdrawn enabled, as a household may, though a contract of several periods (Tempo) leaves it
    disabled: for tests that read it as the index it is."""
    sensors = {
        mode: tuple(
            replace(description, adapt_fn=None) if description.key == "EAST" else description
            for description in descriptions
        )
        for mode, descriptions in SENSORS.items()
    }
    with patch.dict(SENSORS, sensors):
        yield
