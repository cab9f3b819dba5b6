"""The line: bytes in, each valid frame out with the time it ended, reads paused and resumed, sessions apart."""

from __future__ import annotations

import asyncio

import pytest

from linky_tic import Frame, Mode
from linky_tic.line import LineProtocol, longest_pause
from linky_tools.simulator import Profile, SimulatedMeter


class Transport(asyncio.ReadTransport):
    """A transport that only records whether its protocol paused it."""

    def __init__(self) -> None:
        """Start reading."""
        super().__init__()
        self.paused = False
        self.closing = False

    def pause_reading(self) -> None:
        """Stop reading."""
        self.paused = True

    def resume_reading(self) -> None:
        """Read again."""
        self.paused = False

    def is_closing(self) -> bool:
        """Tell whether the transport is closed."""
        return self.closing


def frames_of(count: int) -> bytes:
    """Return a historic meter's next frames, back to back."""
    meter = SimulatedMeter(Profile.HISTORIC_BASE, seed=0)
    return b"".join(meter.next_frame() for _ in range(count))


async def test_each_frame_is_handed_over_with_the_time_it_ended() -> None:
    """Three frames in one read: three calls, in order, times spread back over the pause, the last at the read."""
    loop = asyncio.get_running_loop()
    taken: list[tuple[Frame, float]] = []
    line = LineProtocol(loop, Mode.HISTORIC, lambda frame, at: taken.append((frame, at)), pause=3.0)
    transport = Transport()
    line.connection_made(transport)
    line.data_received(frames_of(3))
    now = loop.time()
    assert len(taken) == 3
    assert line.decoder.stats.frames == 3
    times = [at for _, at in taken]
    assert times == sorted(times)
    assert times[-1] <= now
    assert now - times[0] <= 3.0
    assert line.monitor.last_frame_at is not None
    assert transport.paused  # left unread for the pause
    line.stop()


async def test_a_window_closing_reads_at_once() -> None:
    """`read_now` resumes a paused port at once; on a port being read it does nothing."""
    loop = asyncio.get_running_loop()
    line = LineProtocol(loop, Mode.HISTORIC, lambda frame, at: None, pause=15.0)
    transport = Transport()
    line.connection_made(transport)
    line.data_received(frames_of(1))
    assert transport.paused
    line.read_now()
    assert not transport.paused
    assert line._resume is None
    line.read_now()
    assert not transport.paused
    line.stop()


async def test_an_error_taking_a_frame_ends_the_session_with_it() -> None:
    """A bug where the frame is taken in ends the session with the exception: the owner logs it, reopens the port."""
    loop = asyncio.get_running_loop()

    def failing(frame: Frame, at: float) -> None:
        raise RuntimeError("a bug")

    line = LineProtocol(loop, Mode.HISTORIC, failing, pause=0.0)
    line.connection_made(Transport())
    line.data_received(frames_of(1))
    with pytest.raises(RuntimeError):
        await line.ended


async def test_one_line_serves_every_session() -> None:
    """A stopped session ignores its old transport's end; the next transport starts a new session, counters kept."""
    loop = asyncio.get_running_loop()
    line = LineProtocol(loop, Mode.HISTORIC, lambda frame, at: None, pause=0.0)
    line.connection_made(Transport())
    line.data_received(frames_of(2))
    line.end("no valid frame for 7.5 s")
    line.stop()
    line.connection_lost(None)  # the old transport closing, after the session was stopped
    assert await line.ended == "no valid frame for 7.5 s"
    line.connection_made(Transport())
    assert not line.ended.done()
    line.data_received(frames_of(1))
    assert line.decoder.stats.frames == 3
    line.connection_lost(OSError("gone"))
    assert await line.ended == "read error: gone"


def test_the_longest_pause_loses_no_byte() -> None:
    """Half the kernel's 4096-byte buffer at the line's speed (10 bits a byte)."""
    assert longest_pause(1200) == pytest.approx(2048 * 10 / 1200)
    assert longest_pause(9600) == pytest.approx(2048 * 10 / 9600)
