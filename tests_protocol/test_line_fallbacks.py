"""The ways a line session and a port's opening go that a working port never shows: what each one leads to.

A transport that cannot pause its reading, a stream that ends, a resume after the port closed; a port that refuses
7E1 then 8N1, each way serialx (1.7 or later) can say it; a read error on an open stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import errno
import logging
import termios

import pytest
import serialx

from linky_tic.const import Mode
from linky_tic.decoder import Decoder
from linky_tic.frame import Frame
from linky_tic.line import LineProtocol
from linky_tic.link import (
    ConnectionClosedError,
    InvalidPortError,
    PortNotFoundError,
    PortUnavailableError,
    _FirstFrame,
    _seven_bits_or_eight,
)
from linky_tools.simulator import Profile, SimulatedMeter


class _Transport(asyncio.ReadTransport):
    """A read transport that counts pauses and resumes; `pausable=False`: one that cannot pause (NotImplemented)."""

    def __init__(self, *, pausable: bool = True) -> None:
        super().__init__()
        self.pausable = pausable
        self.pauses = self.resumes = 0
        self.closing = False

    def pause_reading(self) -> None:
        if not self.pausable:
            raise NotImplementedError
        self.pauses += 1

    def resume_reading(self) -> None:
        self.resumes += 1

    def is_closing(self) -> bool:
        return self.closing


async def test_a_transport_that_cannot_pause_is_read_as_bytes_come(caplog: pytest.LogCaptureFixture) -> None:
    taken: list[Frame] = []
    line = LineProtocol(asyncio.get_running_loop(), Mode.HISTORIC, lambda frame, _at: taken.append(frame), pause=0.05)
    transport = _Transport(pausable=False)
    line.connection_made(transport)
    meter = SimulatedMeter(Profile.HISTORIC_BASE, seed=0)
    with caplog.at_level(logging.DEBUG):
        line.data_received(meter.next_frame())
        line.data_received(meter.next_frame())
    assert len(taken) == 2
    assert caplog.text.count("cannot pause its reading") == 1, "tried once, then the pause is given up"
    assert not line.ended.done()
    line.stop()


async def test_a_resume_after_the_port_closed_reads_nothing() -> None:
    line = LineProtocol(asyncio.get_running_loop(), Mode.HISTORIC, lambda _frame, _at: None, pause=60)
    transport = _Transport()
    line.connection_made(transport)
    line.data_received(b"a")
    assert transport.pauses == 1
    transport.closing = True
    line._resume_reading()  # what the pause's timer runs when it is due
    assert transport.resumes == 0
    transport.closing = False
    line.data_received(b"b")
    line._resume_reading()
    assert transport.resumes == 1
    line.stop()


async def test_the_end_of_the_stream_ends_the_session() -> None:
    line = LineProtocol(asyncio.get_running_loop(), Mode.HISTORIC, lambda _frame, _at: None, pause=0)
    line.connection_made(_Transport())
    assert line.eof_received() is False, "the transport closes itself"
    line.connection_lost(None)
    assert await line.ended == "end of stream"


def _opener(
    first: BaseException, second: BaseException | None
) -> tuple[Callable[[int, serialx.Parity], Awaitable[str]], list[tuple[int, serialx.Parity]]]:
    tried: list[tuple[int, serialx.Parity]] = []

    async def opener(byte_size: int, parity: serialx.Parity) -> str:
        tried.append((byte_size, parity))
        error = first if len(tried) == 1 else second
        if error is not None:
            raise error
        return "opened"

    return opener, tried


@pytest.mark.parametrize(
    "refusal",
    [serialx.UnsupportedSetting("7 bits"), termios.error(22, "Invalid argument"), OSError(errno.EINVAL, "EINVAL")],
    ids=["unsupported", "termios", "einval"],
)
async def test_a_port_that_refuses_7e1_is_opened_8n1(refusal: BaseException) -> None:
    opener, tried = _opener(refusal, None)
    assert await _seven_bits_or_eight("/dev/ttyX", opener) == "opened"
    assert tried == [(7, serialx.Parity.EVEN), (8, serialx.Parity.NONE)]


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (termios.error(25, "Inappropriate ioctl for device"), InvalidPortError),
        (OSError(errno.ENOENT, "No such file or directory"), PortNotFoundError),
        (serialx.SerialException("gone"), InvalidPortError),
        (ValueError("bad setting"), InvalidPortError),
    ],
    ids=["termios", "enoent", "serialx", "value"],
)
async def test_when_8n1_fails_too_it_says_why(failure: BaseException, raised: type[PortUnavailableError]) -> None:
    opener, tried = _opener(serialx.UnsupportedSetting("7 bits"), failure)
    with pytest.raises(raised):
        await _seven_bits_or_eight("/dev/ttyX", opener)
    assert len(tried) == 2


@pytest.mark.parametrize(
    ("lost", "raised"),
    [
        (OSError(errno.ENXIO, "No such device or address"), PortNotFoundError),
        (serialx.SerialException("gone"), PortUnavailableError),
        (None, ConnectionClosedError),
    ],
    ids=["enxio", "serialx", "end-of-stream"],
)
async def test_a_line_lost_while_detecting_says_why(lost: Exception | None, raised: type[Exception]) -> None:
    reading = _FirstFrame("/dev/ttyX", Decoder())
    reading.data_received(b"\x02\nADCO")
    reading.connection_lost(lost)
    with pytest.raises(raised):
        await reading.frame
