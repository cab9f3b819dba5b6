"""Serving frames on a real pseudo-terminal and a real TCP port, and replaying captures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from linky_tic import Decoder, Frame, Mode, close_transport, connect_tic
from linky_tic.frame import Group
from linky_tools.encoder import encode_frame
from linky_tools.serve import CaptureReplay, MeterServer, serve_pty, serve_tcp
from linky_tools.simulator import SimulatedMeter

from .conftest import read_capture
from .waiting import GUARD, eventually

START = datetime(2026, 1, 14, 20, 50, tzinfo=UTC)


async def _read_frames(reader: asyncio.StreamReader, count: int, decoder: Decoder | None = None) -> list[Frame]:
    decoder = decoder or Decoder()
    frames: list[Frame] = []
    async with asyncio.timeout(GUARD):
        while len(frames) < count:
            frames += decoder.feed(await reader.read(4096))
    return frames


class _Frames(asyncio.Protocol):
    """Decode what a line brings; `enough` resolves once `count` frames came."""

    def __init__(self, count: int) -> None:
        self.decoder = Decoder()
        self.frames: list[Frame] = []
        self.count = count
        self.enough: asyncio.Future[list[Frame]] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.frames += self.decoder.feed(data)
        if len(self.frames) >= self.count and not self.enough.done():
            self.enough.set_result(self.frames)


async def _read_line(url: str, baudrate: int, count: int) -> list[Frame]:
    """Open a line as the integration does and return its first `count` frames."""
    reading = _Frames(count)
    transport = await connect_tic(url, baudrate, lambda: reading)
    try:
        async with asyncio.timeout(GUARD):
            return await reading.enough
    finally:
        await close_transport(transport)


def _port(server: MeterServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


class CountedMeter:
    """A simulated meter that counts the bytes of the frames the line took from it."""

    def __init__(self, meter: SimulatedMeter) -> None:
        """Count `meter`'s frames."""
        self.meter = meter
        self.baudrate = meter.baudrate
        self.handed = 0

    def next_frame(self) -> bytes:
        """Return the meter's next frame, counted."""
        frame = self.meter.next_frame()
        self.handed += len(frame)
        return frame


async def test_tcp_line_serves_every_client(socket_enabled: None) -> None:
    meter = SimulatedMeter("standard_mono", start=START)
    counted = CountedMeter(meter)
    async with await serve_tcp(counted, speed=100) as server:
        assert server.url.startswith("socket://127.0.0.1:")
        reader, writer = await asyncio.open_connection("127.0.0.1", _port(server))
        frames = await _read_frames(reader, 3)
        assert all(frame.value("ADSC") == meter.serial for frame in frames)
        second_reader, second_writer = await asyncio.open_connection("127.0.0.1", _port(server))
        second_writer.write(b"ignored")  # nothing goes back to the meter
        decoder = Decoder()
        assert await _read_frames(second_reader, 2, decoder)
        assert decoder.stats.bytes_discarded < 1500  # it joined mid-frame at worst
        second_writer.close()
        await second_writer.wait_closed()
        assert await _read_frames(reader, 2)
        writer.close()
        await writer.wait_closed()
        # The line saw its last reader go and finished the frame it was sending.
        await eventually(lambda: not server._sinks and server.bytes_sent == counted.handed)
        stopped_at, sent = meter.now, server.bytes_sent
        # Only a wrong line can fail here, never a slow machine: it is given time to move, and must not.
        await asyncio.sleep(0.1)
        assert meter.now == stopped_at  # nobody listens: the meter's clock stops
        assert server.bytes_sent == sent


async def test_tcp_clients_see_the_line_close(socket_enabled: None) -> None:
    server = await serve_tcp(SimulatedMeter("historic_base", start=START), speed=100)
    reader, writer = await asyncio.open_connection("127.0.0.1", _port(server))
    assert await _read_frames(reader, 1)
    await server.close()
    async with asyncio.timeout(GUARD):
        while await reader.read(4096):
            pass
    writer.close()


async def test_pty_line_read_through_serialx() -> None:
    meter = SimulatedMeter("historic_tri", start=START, faults=["parity"])
    server = await serve_pty(meter, speed=50)
    try:
        assert server.url.startswith("/dev/")
        frames = await _read_line(server.url, meter.baudrate, 3)
        assert all(frame.mode is Mode.HISTORIC for frame in frames)
        assert frames[-1].value("ADCO") == meter.serial
    finally:
        await server.close()


async def test_replay_a_capture_on_a_pty() -> None:
    data = read_capture("standard_mono_lains_ticdecodecpp.tic")
    replay = CaptureReplay(data)
    assert replay.baudrate == 9600
    async with await serve_pty(replay, speed=20) as server:
        frames = await _read_line(server.url, replay.baudrate, 2)
        assert frames[0] == frames[1] == Decoder().feed(data)[0]


async def test_single_replay_ends(socket_enabled: None) -> None:
    frame = encode_frame(Mode.HISTORIC, [Group("ADCO", "041864543210"), Group("BASE", "000000001")])
    replay = CaptureReplay(b"noise" + frame + frame, once=True)
    assert replay.baudrate == 1200
    assert replay.pieces == [b"noise", frame, frame]
    async with await serve_tcp(replay, speed=100) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", _port(server))
        assert len(await _read_frames(reader, 2)) == 2
        writer.close()
    assert replay.next_frame() == b""


def test_replay_loops() -> None:
    replay = CaptureReplay(b"\x02A\x03\x02B\x03", baudrate=9600)
    assert [replay.next_frame() for _ in range(3)] == [b"\x02A\x03", b"\x02B\x03", b"\x02A\x03"]
    assert CaptureReplay(b"").next_frame() == b""


async def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        await serve_pty(SimulatedMeter("historic_base"), speed=0)


async def test_closing_an_unstarted_line() -> None:
    await MeterServer(SimulatedMeter("historic_base"), speed=1).close()
