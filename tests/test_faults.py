"""Line faults on real ports: no exception escapes, entities go and come back, nothing wrong is published.

Each fault is played through a real pseudo-terminal or a real TCP socket on 127.0.0.1, fed by the simulated meter, in
frozen time that the test moves on (tests/timeline.py). Silence, a tty not in raw mode and the other mode are also
reported as repair issues: tests/test_repairs.py checks those.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
import logging
import os
from pathlib import Path
import random
from unittest.mock import patch

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local import coordinator as coordinator_module
from custom_components.linky_local.coordinator import BACKOFF_MAX, LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import Frame
from custom_components.linky_local.linky_tic.decoder import MAX_FRAME_BYTES
from linky_tools.simulator import Fault, Profile, SimulatedMeter
from tests_protocol.waiting import eventually

from .conftest import (
    Clock,
    MemoryLine,
    Port,
    PtyPort,
    TcpPort,
    VirtualMeter,
    errors_logged,
    fire_after,
    not_raw,
    wait_for,
)

PREFIX = "sensor.linky"
ENERGY = f"{PREFIX}_energy_withdrawn"
POWER = f"{PREFIX}_apparent_power"


class SymlinkPty:
    """A pty reached through a by-id-like symlink: unplugging closes it, plugging in makes a new one at the link."""

    def __init__(self, folder: Path) -> None:
        """Make the first pty and the link to it."""
        self.url = str(folder / "usb-Cartelectronic_Interface_USB_1200_Bds-if00-port0")
        self.pty: PtyPort | None = None
        self.plug()

    def plug(self) -> None:
        """Make a new pty and point the link at it, as udev does when a dongle comes back."""
        self.pty = PtyPort()
        temporary = f"{self.url}.new"
        os.symlink(self.pty.url, temporary)
        os.replace(temporary, self.url)

    def unplug(self) -> None:
        """Close the pty: the reader sees an error, the link points at nothing."""
        assert self.pty is not None
        self.pty.close()
        self.pty = None

    async def send(self, data: bytes) -> None:
        """Write to the current pty, lose the bytes while none is plugged in."""
        if self.pty is not None:
            await self.pty.send(data)


@pytest.fixture
def symlink_port(tmp_path: Path) -> Generator[SymlinkPty]:
    """A pty behind a /dev/serial/by-id-like symlink."""
    port = SymlinkPty(tmp_path)
    yield port
    if port.pty is not None:
        port.pty.close()


@pytest.fixture
def port(request: pytest.FixtureRequest) -> Port:
    """The in-memory line unless parametrized with a real port fixture's name."""
    port: Port = request.getfixturevalue(getattr(request, "param", "memory_line"))
    return port


def east_of(meter: SimulatedMeter) -> int:
    """Return the true total index the meter sends now."""
    return next(int(group.value) for group in meter.groups() if group.label == "EAST")


def published_energy(hass: HomeAssistant) -> int:
    """Return the total index published, in Wh."""
    return round(float(hass.states.get(ENERGY).state) * 1000)


async def recovered(hass: HomeAssistant, entry: MockConfigEntry, meter: VirtualMeter, delay: float) -> None:
    """Run the reconnection due after `delay` seconds, send one frame: it is published at once, its index too."""
    coordinator: LinkyCoordinator = entry.runtime_data
    fire_after(hass, delay)
    await wait_for(coordinator, lambda: coordinator.link_state is LinkState.WAITING)
    await meter.send_frames(hass, entry)
    assert coordinator.link_state is LinkState.RECEIVING
    assert hass.states.get(POWER).state.isdigit()
    assert published_energy(hass) == east_of(meter.simulator)


async def back(hass: HomeAssistant, timeline: Clock) -> None:
    """Move the clocks on until the port is open again, send one frame: it is published at once, its index too."""
    await timeline.run_until(lambda: timeline.coordinator.link_state is LinkState.WAITING, within=BACKOFF_MAX + 5)
    await timeline.send(timeline.next_frame())
    assert timeline.coordinator.link_state is LinkState.RECEIVING
    assert hass.states.get(POWER).state.isdigit()
    assert published_energy(hass) == east_of(timeline.meter.simulator)


@pytest.mark.parametrize("port", ["tcp_port"], indirect=True)
async def test_tcp_peer_closes_then_refuses_then_accepts(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    tcp_port: TcpPort,
    coordinator: LinkyCoordinator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """ser2net reboots: the peer closes mid-frame, refuses connections for a while, then accepts again."""
    frame = virtual_meter.simulator.next_frame()
    await tcp_port.send(frame[: len(frame) // 2])
    await tcp_port.drop()
    await wait_for(coordinator, lambda: coordinator.link_state is LinkState.DISCONNECTED)
    assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE

    # The retries' timers run on the real clock too: a loaded machine may run one before the test hurries it.
    for refused, delay in enumerate((1, 2, 4, 8), start=1):  # the backoff doubles
        fire_after(hass, delay)
        await eventually(lambda refused=refused: coordinator.failed_reconnections >= refused)
    assert coordinator.reconnections == 0
    await tcp_port.restore()
    await recovered(hass, init_integration, virtual_meter, 16)
    assert coordinator.reconnections == 1
    assert coordinator.failed_reconnections >= 4
    # The half frame cut by the close and the new connection's first frame are one frame cut short by an STX.
    assert coordinator.decoder.stats.unterminated_frames == 1
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("port", ["symlink_port"], indirect=True)
async def test_dongle_unplugged_and_plugged_back_at_its_by_id_path(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    symlink_port: SymlinkPty,
    coordinator: LinkyCoordinator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The pty's other end closes; a new pty appears at the same by-id path: the reader opens the path again."""
    symlink_port.unplug()
    await wait_for(coordinator, lambda: coordinator.link_state is LinkState.DISCONNECTED)
    assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE
    for failed, delay in enumerate((1, 2), start=1):  # nothing at the link's end
        fire_after(hass, delay)
        await eventually(lambda failed=failed: coordinator.failed_reconnections >= failed)

    symlink_port.plug()  # the kernel may give the new pty the number of the old one, as it may a new ttyUSB
    await recovered(hass, init_integration, virtual_meter, 4)
    assert coordinator.reconnections == 1
    assert errors_logged(caplog) == []


async def test_a_burst_of_garbage(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage between frames is counted byte for byte and dropped; garbage with control bytes harms nothing."""
    coordinator = timeline.coordinator
    rng = random.Random(6)
    # No byte that reads as STX once masked to 7 bits: every one is discarded while waiting for a frame.
    garbage = bytes(byte for byte in rng.randbytes(20_000) if byte & 0x7F != 0x02)
    discarded, frames = coordinator.decoder.stats.bytes_discarded, coordinator.decoder.stats.frames
    await timeline.send(garbage, line_bytes=0)  # a burst: at line speed, 20 kB would make the meter lost
    assert coordinator.decoder.stats.bytes_discarded == discarded + len(garbage)
    await timeline.send(timeline.next_frame())
    assert coordinator.decoder.stats.frames == frames + 1
    assert published_energy(hass) == east_of(timeline.meter.simulator)

    # Anything at all, STX, ETX and EOT included, then frames again: the first whole frame is published.
    await timeline.send(rng.randbytes(20_000), line_bytes=0)
    await timeline.frames(2)
    assert coordinator.link_state is LinkState.RECEIVING
    assert published_energy(hass) == east_of(timeline.meter.simulator)
    assert errors_logged(caplog) == []


def flip_bits(rng: random.Random, share: float) -> Callable[[bytes], bytes]:
    """Return a transform flipping one random bit of a byte, for that share of the bytes."""

    def flip(data: bytes) -> bytes:
        return bytes(byte ^ (1 << rng.randrange(8)) if rng.random() < share else byte for byte in data)

    return flip


async def test_one_byte_in_a_hundred_with_a_flipped_bit(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """1 % of bytes damaged: most frames lose a group or two, which are counted; no wrong index is published."""
    coordinator = timeline.coordinator
    stats = coordinator.decoder.stats
    before = (stats.frames, stats.groups, stats.checksum_errors + stats.malformed_groups)
    true_east: set[int] = set()
    published: set[int] = set()
    frames = 0
    flip = flip_bits(random.Random(1), 0.01)
    for _ in range(150):
        frame = timeline.next_frame()
        true_east.add(east_of(timeline.meter.simulator))
        await timeline.send(flip(frame), len(frame))
        frames += 1
        if hass.states.get(ENERGY).state != STATE_UNAVAILABLE:
            published.add(published_energy(hass))
    damaged = stats.checksum_errors + stats.malformed_groups - before[2]
    assert damaged > frames / 2
    assert stats.frames - before[0] > frames / 2
    assert stats.groups - before[1] > (stats.frames - before[0]) * 40  # of about 60 groups a frame
    assert published <= true_east
    assert coordinator.link_state is LinkState.RECEIVING
    assert errors_logged(caplog) == []


async def test_every_byte_with_its_parity_bit(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A port read 8N1 on the 7E1 line: bit 7 carries the parity; masked, every frame reads as sent."""
    stats = timeline.coordinator.decoder.stats
    meter = timeline.meter.simulator
    meter.faults = frozenset({Fault.PARITY})
    frames, errors = stats.frames, stats.checksum_errors
    for _ in range(20):
        frame = timeline.next_frame()
        assert any(byte & 0x80 for byte in frame)
        await timeline.send(frame)
        assert published_energy(hass) == east_of(meter)
    assert stats.frames == frames + 20
    assert stats.checksum_errors == errors
    assert errors_logged(caplog) == []


async def test_a_tty_not_in_raw_mode_still_gives_right_values(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """CR turned into LF, ETX swallowed: each frame ends at the next STX, its groups at LF; values stay right."""
    meter = timeline.meter.simulator
    stats = timeline.coordinator.decoder.stats
    before = (stats.frames, stats.unterminated_frames, stats.lf_terminated_frames, stats.checksum_errors)
    for _ in range(20):
        east = east_of(meter)
        frame = not_raw(timeline.next_frame())
        await timeline.send(frame)
        if stats.frames > before[0]:
            assert published_energy(hass) == east  # the frame before: this one waits for the next STX
    # Each frame is decoded when the next one starts: the last one waits.
    assert stats.frames - before[0] == 19
    assert (stats.unterminated_frames - before[1], stats.lf_terminated_frames - before[2]) == (19, 19)
    assert stats.checksum_errors == before[3]
    assert errors_logged(caplog) == []


async def test_frames_interrupted_by_eot(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """EOT cuts a frame short (the meter is being read or programmed): it is counted and nothing of it is used."""
    coordinator = timeline.coordinator
    meter = timeline.meter.simulator
    meter.faults, meter.fault_rate = frozenset({Fault.EOT}), 0.3
    stats = coordinator.decoder.stats
    frames, interrupted = stats.frames, stats.interrupted_frames
    cut = 0
    for _ in range(40):
        frame = timeline.next_frame()
        await timeline.send(frame)
        if frame.endswith(b"\x04"):
            cut += 1
        else:
            assert published_energy(hass) == east_of(meter)
    assert cut >= 5
    assert (stats.frames - frames, stats.interrupted_frames - interrupted) == (40 - cut, cut)
    assert coordinator.link_state is LinkState.RECEIVING
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_TRI])
async def test_historic_three_phase_short_frame_cycles(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Twenty short frames then a long one while a phase is over its limit: the other values stay published."""
    prefix = "sensor.linky"
    decoded: list[Frame] = []
    coordinator = timeline.coordinator
    original = coordinator.values.apply
    frames = coordinator.decoder.stats.frames

    def watch(frame: Frame, at: float) -> bool:
        decoded.append(frame)
        return original(frame, at)

    coordinator.values.apply = watch  # type: ignore[method-assign]
    sent = await timeline.frames(420)
    assert sum(frame.is_short for frame in decoded) >= 2 * 20
    assert hass.states.get("binary_sensor.linky_overrun_phase_2") is not None
    for entity_id in (f"{prefix}_base_index", f"{prefix}_apparent_power", f"{prefix}_tariff_option"):
        assert hass.states.get(entity_id).state not in {STATE_UNAVAILABLE, "unknown"}, entity_id
    assert coordinator.decoder.stats.frames - frames == len(decoded) == sent
    assert errors_logged(caplog) == []


async def test_a_64_kb_frame_without_etx(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A frame that never ends: the buffer stops at its limit, the frame is counted oversized, the next one read."""
    coordinator = timeline.coordinator
    decoder = coordinator.decoder
    stats = decoder.stats
    oversized, discarded = stats.oversized_frames, stats.bytes_discarded
    group = b"\nSINSTS\t01234\tF\r"
    endless = b"\x02" + group * (64 * 1024 // len(group))
    # At once, as ser2net may deliver a backlog: at 9600 baud it would take a minute, and the meter be lost.
    for start in range(0, len(endless), 4096):
        await timeline.send(endless[start : start + 4096], line_bytes=0)
        assert len(decoder._buffer) <= MAX_FRAME_BYTES + 1
    assert stats.oversized_frames == oversized + 1
    assert stats.bytes_discarded - discarded == len(endless) - 1  # all but the STX
    # Sixteen reads without a valid frame may take as long as the meter's silence: the line then reopens.
    await timeline.frames(5)
    assert published_energy(hass) == east_of(timeline.meter.simulator)
    assert errors_logged(caplog) == []


async def test_the_reader_survives_an_unexpected_error(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug while taking in a frame: logged once with its traceback, the port reopened, the next frames published."""
    caplog.set_level(logging.DEBUG, logger="custom_components.linky_local.coordinator")
    coordinator = timeline.coordinator
    original = coordinator.values.apply
    calls = 0

    def buggy(frame: Frame, at: float) -> bool:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError("a bug")
        return original(frame, at)

    coordinator.values.apply = buggy  # type: ignore[method-assign]
    for failures in (1, 2):
        await timeline.send(timeline.next_frame())
        await timeline.run_until(lambda: coordinator.link_state is LinkState.DISCONNECTED, within=1)
        assert coordinator.unexpected_errors == failures
        assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE
        await timeline.run_until(lambda: coordinator.link_state is LinkState.WAITING, within=BACKOFF_MAX)
    await back(hass, timeline)
    # Logged once, with its traceback; the second time at debug level only.
    [error] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "unexpected error while reading the meter" in error.getMessage()
    assert error.exc_info is not None
    assert error.exc_info[0] is RuntimeError
    assert "unexpected error again" in caplog.text


async def test_the_reader_survives_a_bug_when_the_meter_is_lost_or_in_the_port_opener(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    memory_line: MemoryLine,
) -> None:
    """The line check failing when the meter is lost, then the port opener failing: each logged, the reader goes on.

    (An entity failing is Home Assistant's to catch: the coordinator's listeners are called one by one, each guarded.)
    """
    coordinator = timeline.coordinator
    checked = coordinator.health.check
    opened = memory_line.connect
    calls = {"check": 0, "open": 0}

    def check() -> None:
        calls["check"] += 1
        if calls["check"] == 1:
            raise RuntimeError("the line check's bug")
        checked()

    async def connect_tic(url: str, baudrate: int, protocol_factory: Callable[[], asyncio.Protocol]) -> object:
        calls["open"] += 1
        if calls["open"] == 1:
            raise ValueError("the port opener's bug")
        return await opened(url, baudrate, protocol_factory)

    monkeypatch.setattr(coordinator.health, "check", check)
    with patch.object(coordinator_module, "connect_tic", connect_tic):
        await timeline.advance(5)  # silence: the meter is lost, and the check fails
        assert coordinator.link_state is LinkState.DISCONNECTED
        assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE
        await back(hass, timeline)
    assert (coordinator.unexpected_errors, coordinator.failed_reconnections, coordinator.reconnections) == (2, 1, 1)
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [record.exc_info[0] for record in errors if record.exc_info] == [RuntimeError, ValueError]
