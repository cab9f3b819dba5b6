"""Open a TIC line with serialx and find its mode and speed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import errno
import logging
import termios
import time
from typing import Final

import serialx

from .const import BAUDRATES, Mode
from .decoder import Decoder, DecoderStats
from .frame import Frame

_LOGGER = logging.getLogger(__name__)

# Long enough for a frame that started just before we joined, then a whole one: a historic three-phase frame
# lasts up to about 3 s at 1200 baud.
DETECT_TIMEOUT: Final[dict[Mode, float]] = {Mode.STANDARD: 4.0, Mode.HISTORIC: 7.0}
READ_CHUNK: Final = 4096


class TicLinkError(Exception):
    """The TIC line could not be read."""


class PortUnavailableError(TicLinkError):
    """The port does not exist or refused the connection."""


class PortBusyError(TicLinkError):
    """Another program holds the port."""


class NothingReceivedError(TicLinkError):
    """The port opened but stayed silent: check cabling and the meter's TIC mode."""


class GarbageReceivedError(TicLinkError):
    """Bytes arrived but no valid frame: wrong speed, or not a TIC line."""


@dataclass(frozen=True, slots=True)
class Detection:
    """What detection found on a line."""

    mode: Mode
    baudrate: int
    frame: Frame
    stats: DecoderStats


type TicWriter = serialx.SerialStreamWriter[serialx.BaseSerialTransport]
type TicTransport = serialx.BaseSerialTransport


async def open_tic(url: str, baudrate: int) -> tuple[asyncio.StreamReader, TicWriter]:
    """Open a TIC line for reading as a stream, 7E1 (else 8N1); raise PortUnavailableError or PortBusyError."""

    async def open_stream(byte_size: int, parity: serialx.Parity) -> tuple[asyncio.StreamReader, TicWriter]:
        return await serialx.open_serial_connection(
            url, baudrate=baudrate, byte_size=byte_size, parity=parity, stopbits=serialx.StopBits.ONE
        )

    return await _seven_bits_or_eight(open_stream)


async def connect_tic(url: str, baudrate: int, protocol_factory: Callable[[], asyncio.Protocol]) -> TicTransport:
    """Open a TIC line for reading by a protocol, 7E1 (else 8N1); raise PortUnavailableError or PortBusyError."""

    async def connect(byte_size: int, parity: serialx.Parity) -> TicTransport:
        transport, _ = await serialx.create_serial_connection(
            asyncio.get_running_loop(),
            protocol_factory,
            url,
            baudrate=baudrate,
            parity=parity,
            stopbits=serialx.StopBits.ONE,
            byte_size=byte_size,
        )
        return transport

    return await _seven_bits_or_eight(connect)


async def _seven_bits_or_eight[T](opener: Callable[[int, serialx.Parity], Awaitable[T]]) -> T:
    """Open a line 7E1; a port that refuses 7 bits with even parity (some USB adapters, Linux pseudo-terminals) 8N1.

    Opened 8N1, the line reads the parity in bit 7: the decoder masks it, so the text is the same.
    """
    try:
        return await opener(7, serialx.Parity.EVEN)
    except serialx.UnsupportedSetting, termios.error:
        pass  # serialx 1.7 lets the pty's termios error through unwrapped
    except OSError as err:
        if err.errno != errno.EINVAL:
            raise _link_error(err) from err
    except (serialx.SerialException, ValueError) as err:
        raise PortUnavailableError(str(err)) from err
    _LOGGER.debug("The port refused 7E1: reading it 8N1 and masking the parity bit")
    try:
        return await opener(8, serialx.Parity.NONE)
    except OSError as err:
        raise _link_error(err) from err
    except (serialx.SerialException, ValueError) as err:
        raise PortUnavailableError(str(err)) from err


def _link_error(err: OSError) -> TicLinkError:
    if err.errno in (errno.EBUSY, errno.EACCES, errno.EAGAIN):
        return PortBusyError(str(err))
    return PortUnavailableError(str(err))


async def close_tic(writer: TicWriter) -> None:
    """Close a line and wait until serialx has released it, so it can be opened again at once."""
    writer.close()
    with contextlib.suppress(OSError, serialx.SerialException):
        await writer.wait_closed()


async def close_transport(transport: TicTransport) -> None:
    """Close a line opened by `connect_tic` and wait until serialx has released it."""
    transport.close()
    with contextlib.suppress(OSError, serialx.SerialException):
        await transport.wait_closed()


async def read_frame(reader: asyncio.StreamReader, decoder: Decoder, within: float) -> Frame:
    """Return the first complete valid frame received within `within` seconds."""
    deadline = time.monotonic() + within
    received = 0
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            chunk = await asyncio.wait_for(reader.read(READ_CHUNK), remaining)
        except TimeoutError:
            break
        except (OSError, serialx.SerialException) as err:
            raise PortUnavailableError(str(err)) from err
        if not chunk:
            break
        received += len(chunk)
        if frames := decoder.feed(chunk):
            return frames[0]
    if received == 0:
        raise NothingReceivedError("no byte received")
    raise GarbageReceivedError(f"{received} bytes received, no valid frame")


def is_raw_socket(url: str) -> bool:
    """Tell whether the line is a raw TCP socket (ser2net), whose speed is set at the far end."""
    return url.startswith(("socket://", "tcp://"))


async def detect(url: str, mode: Mode | None = None, *, within: float | None = None) -> Detection:
    """Find the line's mode and speed: try 9600 baud (standard) then 1200 (historic), or only `mode`'s speed."""
    candidates = [mode] if mode is not None else [Mode.STANDARD, Mode.HISTORIC]
    if is_raw_socket(url):
        # The far end sets the speed: one read, long enough for either mode, tells the mode.
        candidates = [mode or Mode.HISTORIC]
    failures: list[TicLinkError] = []
    for candidate in candidates:
        baudrate = BAUDRATES[candidate]
        reader, writer = await open_tic(url, baudrate)
        decoder = Decoder(mode)
        try:
            frame = await read_frame(reader, decoder, within or DETECT_TIMEOUT[candidate])
        except (NothingReceivedError, GarbageReceivedError) as err:
            failures.append(err)
            continue
        finally:
            await close_tic(writer)
        return Detection(frame.mode, BAUDRATES[frame.mode], frame, decoder.stats)
    raise next((err for err in failures if isinstance(err, GarbageReceivedError)), failures[-1])
