"""Open a TIC line with serialx for an asyncio protocol, and find its mode and speed: the one way a line is read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import errno
import logging
import socket
import termios
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


type TicTransport = serialx.BaseSerialTransport


async def connect_tic(url: str, baudrate: int, protocol_factory: Callable[[], asyncio.Protocol]) -> TicTransport:
    """Open a TIC line for reading by a protocol, 7E1 (else 8N1).

    Raise a PortUnavailableError (a subclass that says why) or PortBusyError.
    """

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


async def close_transport(transport: TicTransport) -> None:
    """Close a line opened by `connect_tic` and wait until serialx has released it (a line already gone, too)."""
    with contextlib.suppress(OSError, serialx.SerialException):
        transport.close()
        await transport.wait_closed()


def read_error(url: str, err: BaseException) -> TicLinkError:
    """Name why reading an open line failed."""
    if isinstance(err, OSError):
        return _link_error(url, err)
    return PortUnavailableError(str(err))


class _FirstFrame(asyncio.Protocol):
    """Read a line until its first complete valid frame: detection's one read."""

    def __init__(self, url: str, decoder: Decoder) -> None:
        self._url = url
        self._decoder = decoder
        self.received = 0
        self.frame: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if self.frame.done():
            return
        self.received += len(data)
        if frames := self._decoder.feed(data):
            self.frame.set_result(frames[0])

    def settle(self) -> None:
        """Stop waiting: a line lost while opening (RFC 2217 negotiation) or closing is no error of its own."""
        if not self.frame.cancel() and not self.frame.cancelled():
            self.frame.exception()  # retrieved: the error that ended the wait was raised, or this one does not count

    def connection_lost(self, exc: Exception | None) -> None:
        if self.frame.done():
            return
        if exc is None:
            # Only a network port ends: the server let us in, then hung up (ser2net could not open its device...).
            err: TicLinkError = ConnectionClosedError(f"connection closed by the far end after {self.received} bytes")
        else:
            err = read_error(self._url, exc)
        self.frame.set_exception(err)


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
        decoder = Decoder(mode)
        reading = _FirstFrame(url, decoder)
        try:
            transport = await connect_tic(url, BAUDRATES[candidate], lambda: reading)  # noqa: B023 - awaited here
        except TicLinkError:
            reading.settle()
            raise
        try:
            async with asyncio.timeout(within or DETECT_TIMEOUT[candidate]):
                frame = await reading.frame
        except TimeoutError:
            if reading.received == 0:
                failures.append(NothingReceivedError("no byte received"))
            else:
                failures.append(GarbageReceivedError(f"{reading.received} bytes received, no valid frame"))
            continue
        finally:
            reading.settle()
            await close_transport(transport)
        return Detection(frame.mode, BAUDRATES[frame.mode], frame, decoder.stats)
    raise next((err for err in failures if isinstance(err, GarbageReceivedError)), failures[-1])
