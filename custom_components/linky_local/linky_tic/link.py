"""Open a TIC line with serialx and find its mode and speed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import errno
import logging
import socket
import termios
import time
import traceback
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
RFC2217_SCHEME: Final = "rfc2217://"


class TicLinkError(Exception):
    """The TIC line could not be read."""


class PortUnavailableError(TicLinkError):
    """The port could not be opened, for a reason none of the subclasses names."""


class PortNotFoundError(PortUnavailableError):
    """No device at this path (unplugged, or a typing mistake)."""


class PermissionRefusedError(PortUnavailableError):
    """The system refused access to the device."""


class InvalidPortError(PortUnavailableError):
    """Neither a device path nor a URL serialx knows (socket://, rfc2217://...)."""


class ConnectionRefusedLinkError(PortUnavailableError):
    """The host answered but nothing listens on that TCP port."""


class HostNotFoundError(PortUnavailableError):
    """The host name does not resolve."""


class HostUnreachableError(PortUnavailableError):
    """No answer from the host: wrong address, host down, or a firewall."""


class ConnectionClosedError(PortUnavailableError):
    """The server accepted the connection, then closed it (ser2net could not open its own device...)."""


class Rfc2217NegotiationError(PortUnavailableError):
    """The server accepted the TCP connection but did not complete RFC 2217 negotiation.

    ser2net 4 answers SET-MODEMSTATE-MASK with NOTIFY-MODEMSTATE instead of its acknowledgement, which serialx
    waits for: see docs/upstream/serialx-rfc2217-ser2net.md. A raw TCP port given as rfc2217:// fails the same way.
    """


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
    """Open a TIC line for reading as a stream, 7E1 (else 8N1).

    Raise a PortUnavailableError (a subclass that says why) or PortBusyError.
    """

    async def open_stream(byte_size: int, parity: serialx.Parity) -> tuple[asyncio.StreamReader, TicWriter]:
        return await serialx.open_serial_connection(
            url, baudrate=baudrate, byte_size=byte_size, parity=parity, stopbits=serialx.StopBits.ONE
        )

    return await _seven_bits_or_eight(url, open_stream)


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

    return await _seven_bits_or_eight(url, connect)


async def _seven_bits_or_eight[T](url: str, opener: Callable[[int, serialx.Parity], Awaitable[T]]) -> T:
    """Open a line 7E1; a port that refuses 7 bits with even parity (some USB adapters, Linux pseudo-terminals) 8N1.

    Opened 8N1, the line reads the parity in bit 7: the decoder masks it, so the text is the same.
    """
    try:
        return await opener(7, serialx.Parity.EVEN)
    except serialx.UnsupportedSetting, termios.error:
        pass  # serialx 1.7 lets the pty's termios error through unwrapped
    except OSError as err:
        if err.errno != errno.EINVAL:
            raise _link_error(url, err) from err
    except (serialx.SerialException, ValueError) as err:
        raise InvalidPortError(str(err)) from err
    _LOGGER.debug("The port refused 7E1: reading it 8N1 and masking the parity bit")
    try:
        return await opener(8, serialx.Parity.NONE)
    except termios.error as err:  # serialx 1.7, on a file that is no terminal
        raise InvalidPortError(f"{url}: not a serial port ({err})") from err
    except OSError as err:
        raise _link_error(url, err) from err
    except (serialx.SerialException, ValueError) as err:
        raise InvalidPortError(str(err)) from err


_ERRNO_ERRORS: Final[dict[int, type[TicLinkError]]] = {
    errno.ENOENT: PortNotFoundError,
    errno.ENODEV: PortNotFoundError,
    errno.ENXIO: PortNotFoundError,
    errno.EACCES: PermissionRefusedError,
    errno.EPERM: PermissionRefusedError,
    errno.EBUSY: PortBusyError,  # serialx's exclusive lock, or TIOCEXCL
    errno.EAGAIN: PortBusyError,  # flock() on a port another process locked
    errno.ECONNREFUSED: ConnectionRefusedLinkError,
    errno.EHOSTUNREACH: HostUnreachableError,
    errno.ENETUNREACH: HostUnreachableError,
    errno.ETIMEDOUT: HostUnreachableError,
    errno.ECONNRESET: ConnectionClosedError,
    errno.EPIPE: ConnectionClosedError,
}


def _link_error(url: str, err: OSError) -> TicLinkError:
    """Name why a port did not open."""
    if isinstance(err, socket.gaierror):
        return HostNotFoundError(str(err))
    if isinstance(err, TimeoutError):
        if url.startswith(RFC2217_SCHEME) and _timed_out_negotiating(err):
            return Rfc2217NegotiationError("the server did not complete RFC 2217 negotiation")
        return HostUnreachableError(str(err) or "no answer")
    if err.errno == errno.EIO and not url.startswith("/"):
        return ConnectionClosedError(str(err))  # how serialx 1.7 (reading) and RFC 2217 (opening) tell a hang-up
    return _ERRNO_ERRORS.get(err.errno or 0, PortUnavailableError)(str(err))


def _timed_out_negotiating(err: TimeoutError) -> bool:
    """Tell whether serialx's connect timeout struck after the TCP connection was made, while negotiating.

    Its one timeout covers both; where the cancelled wait was tells them apart, without a second connection that
    would make the server open and close its serial device once more.
    """
    waited = err.__context__
    if waited is None or waited.__traceback__ is None:
        return False
    return not any(frame.name == "create_connection" for frame in traceback.extract_tb(waited.__traceback__))


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


async def read_frame(reader: asyncio.StreamReader, decoder: Decoder, within: float, *, url: str) -> Frame:
    """Return the first complete valid frame received within `within` seconds from the line at `url`."""
    deadline = time.monotonic() + within
    received = 0
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            chunk = await asyncio.wait_for(reader.read(READ_CHUNK), remaining)
        except TimeoutError:
            break
        except OSError as err:
            raise _link_error(url, err) from err
        except serialx.SerialException as err:
            raise PortUnavailableError(str(err)) from err
        if not chunk:
            # Only a network port ends: the server let us in, then hung up (ser2net could not open its device...).
            raise ConnectionClosedError(f"connection closed by the far end after {received} bytes")
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
            frame = await read_frame(reader, decoder, within or DETECT_TIMEOUT[candidate], url=url)
        except (NothingReceivedError, GarbageReceivedError) as err:
            failures.append(err)
            continue
        finally:
            await close_tic(writer)
        return Detection(frame.mode, BAUDRATES[frame.mode], frame, decoder.stats)
    raise next((err for err in failures if isinstance(err, GarbageReceivedError)), failures[-1])
