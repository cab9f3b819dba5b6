"""A fake ESPHome device with a `serial_proxy` whose UART a simulated meter feeds, for the tests and the demo.

It speaks ESPHome's native API in plaintext over TCP, with aioesphomeapi's own protobuf messages: hello, device
info listing its serial proxies, an empty entity list, pings, and the serial proxy's subscribe / configure /
set-mode / modem-pin / flush requests. It reports the API version the client asks for, so that it answers each
request as a device of the client's generation does (acknowledgements from API 1.16, modes from 1.17, identity from
1.18). Its UART receives the meter's line at the meter's real rate (`MeterServer`) and decodes it with the settings
the client configured (`uart_receive`): the wrong speed or framing turns the line into garbage.

The device can reboot (its connections close, it answers again a moment later), lose its Wi-Fi (its connections
stall, nothing answers) and be flashed with another configuration (other serial proxies).

aioesphomeapi is imported here only: it is the esphome integration's requirement, installed in the test legs and in
the demo's Home Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
import contextlib
from typing import Any, Final

from aioesphomeapi import api_pb2 as _api_pb2
from aioesphomeapi.core import MESSAGE_TYPE_TO_PROTO

from .serve import FrameSource, MeterServer
from .uart import UartSettings, uart_receive

# Generated protobuf classes without type stubs: each leg's aioesphomeapi has its own set.
api_pb2: Any = _api_pb2

_TYPE_OF: Final = {message_class: number for number, message_class in MESSAGE_TYPE_TO_PROTO.items()}
# The newest API minor version this device speaks: identity arrived in 1.18.
MAX_API_MINOR: Final = 18 if hasattr(api_pb2, "SerialProxyIdentity") else 16
ACK_FROM: Final = 16
SET_MODE_FROM: Final = 17
IDENTITY_FROM: Final = 18
ESPHOME_VERSION: Final = "2026.5.0"

STATUS_OK: Final = 0
STATUS_NOT_SUPPORTED: Final = 4
STATUS_PORT_IN_USE: Final = 5
STATUS_INVALID_ARGUMENT: Final = 6
REQUEST_SUBSCRIBE, REQUEST_UNSUBSCRIBE, REQUEST_FLUSH, REQUEST_CONFIGURE, REQUEST_SET_MODEM_PINS, REQUEST_SET_MODE = (
    range(6)
)
PARITY_NONE: Final = 0


def _varuint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frame_message(message: Any) -> bytes:
    """Return a message as the plaintext API frames it: a zero byte, the payload's length, the type, the payload."""
    payload: bytes = message.SerializeToString()
    return b"\x00" + _varuint(len(payload)) + _varuint(_TYPE_OF[type(message)]) + payload


class _Connection(asyncio.Protocol):
    """One API client of the device."""

    def __init__(self, device: EspHomeDevice) -> None:
        self.device = device
        self.transport: asyncio.Transport | None = None
        self.api_minor = 0
        self.stalled = False  # Wi-Fi lost: nothing goes either way
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.device.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.device.connections.discard(self)
        self.device.release(self)

    def send(self, message: Any) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self.stalled:
            self.transport.write(frame_message(message))

    def data_received(self, data: bytes) -> None:
        if self.stalled:
            return
        self._buffer += data
        while (message := self._next_message()) is not None:
            self.device.handle(self, message)

    def _next_message(self) -> Any | None:
        buffer = self._buffer
        if not buffer:
            return None
        if buffer[0] != 0:
            assert self.transport is not None
            self.transport.abort()  # a noise (encrypted) client: this device is plaintext only
            buffer.clear()
            return None
        at, fields = 1, []
        for _ in range(2):
            value = shift = 0
            while True:
                if at >= len(buffer):
                    return None
                byte = buffer[at]
                at += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            fields.append(value)
        length, kind = fields
        if len(buffer) < at + length:
            return None
        payload = bytes(buffer[at : at + length])
        del buffer[: at + length]
        message_class = MESSAGE_TYPE_TO_PROTO.get(kind)
        if message_class is None:
            return object()  # a message this aioesphomeapi does not know: ignored
        message = message_class()
        message.ParseFromString(payload)
        return message


class EspHomeDevice:
    """An ESP32 running ESPHome with serial proxies; the first one's UART listens to the meter's line."""

    def __init__(
        self,
        source: FrameSource,
        *,
        name: str = "tic-garage",
        friendly_name: str = "TIC garage",
        mac_address: str = "AC:0B:FB:6E:21:5A",
        proxies: Sequence[str] = ("tic",),
        speed: float = 1.0,
    ) -> None:
        """Make the device; `start` powers it on."""
        self.source = source
        self.name = name
        self.friendly_name = friendly_name
        self.mac_address = mac_address
        self.proxies = list(proxies)
        self.host = "127.0.0.1"
        self.port = 0
        self.line = MeterServer(source, speed)
        self.uart = UartSettings(baudrate=115200)  # ESPHome's default until a client configures the port
        self.connections: set[_Connection] = set()
        self.subscriber: _Connection | None = None
        self.line_states = 0
        self.bytes_forwarded = 0
        self.data_messages = 0
        self.configured: list[UartSettings] = []
        self._server: asyncio.Server | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def address(self) -> str:
        """Return `host:port`, where the API listens."""
        return f"{self.host}:{self.port}"

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` whenever the device forwards serial data or a client subscribes; return what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _tell(self) -> None:
        for listener in list(self._listeners):
            listener()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Power the device on: its UART listens to the line, its API to `host:port` (0: a free port)."""
        self.host = host
        self.line.add_sink(self, self._uart_chunk)
        self.line.start()
        await self._listen(port)

    async def _listen(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), self.host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        # Not `wait_closed`: it waits for every connection to end, and a stalled one (Wi-Fi lost) never does.
        if self._server is not None:
            server, self._server = self._server, None
            server.close()

    async def close(self) -> None:
        """Power the device off for good."""
        await self._stop_listening()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        await self.line.close()

    async def reboot(self, proxies: Sequence[str] | None = None) -> None:
        """Restart the device, with a new configuration's serial proxies if given.

        Its clients see their connection closed; the API answers again once it is back.
        """
        await self.power_off()
        if proxies is not None:
            self.proxies = list(proxies)
        await self.power_on()

    async def power_off(self) -> None:
        """Cut the power: connections close (the client's side sees them reset), nothing listens."""
        await self._stop_listening()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        self.uart = UartSettings(baudrate=115200)

    async def power_on(self) -> None:
        """Boot: the API listens again on the same port."""
        await self._listen(self.port)

    async def lose_wifi(self) -> None:
        """Leave the network: open connections stall (no reset reaches the client), new ones find nothing."""
        await self._stop_listening()
        for connection in self.connections:
            connection.stalled = True
        self.subscriber = None

    async def regain_wifi(self) -> None:
        """Back on the network: the stalled connections are gone (the device dropped them), the API listens."""
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        await self._listen(self.port)

    def release(self, connection: _Connection) -> None:
        """End the subscription of a client that left."""
        if self.subscriber is connection:
            self.subscriber = None

    # The UART.

    async def _uart_chunk(self, chunk: bytes) -> None:
        subscriber = self.subscriber
        if subscriber is None or not self.proxies:
            return  # the UART reads on; nobody listens
        data = uart_receive(chunk, self.source.baudrate, self.uart)
        if data:
            subscriber.send(api_pb2.SerialProxyDataReceived(instance=0, data=data))
            self.bytes_forwarded += len(data)
            self.data_messages += 1
            self._tell()

    # The API.

    def handle(self, connection: _Connection, message: Any) -> None:
        """Answer one request as ESPHome does."""
        match message:
            case api_pb2.HelloRequest():
                connection.api_minor = min(message.api_version_minor or 0, MAX_API_MINOR)
                connection.send(
                    api_pb2.HelloResponse(
                        api_version_major=1,
                        api_version_minor=connection.api_minor,
                        server_info=f"{self.name} (ESPHome v{ESPHOME_VERSION})",
                        name=self.name,
                    )
                )
            case api_pb2.DeviceInfoRequest():
                connection.send(self._device_info())
            case api_pb2.ListEntitiesRequest():
                connection.send(api_pb2.ListEntitiesDoneResponse())
            case api_pb2.PingRequest():
                connection.send(api_pb2.PingResponse())
            case api_pb2.DisconnectRequest():
                connection.send(api_pb2.DisconnectResponse())
                if connection.transport is not None:
                    connection.transport.close()
            case api_pb2.SerialProxyRequest():
                self._request(connection, message)
            case api_pb2.SerialProxyConfigureRequest():
                self._configure(connection, message)
            case api_pb2.SerialProxySetModemPinsRequest():
                if self._known(connection, message.instance, REQUEST_SET_MODEM_PINS):
                    self.line_states = message.line_states
                    self._ack(connection, message.instance, REQUEST_SET_MODEM_PINS, STATUS_OK)
            case api_pb2.SerialProxyGetModemPinsRequest():
                if message.instance < len(self.proxies):
                    connection.send(
                        api_pb2.SerialProxyGetModemPinsResponse(instance=message.instance, line_states=self.line_states)
                    )
            case api_pb2.SerialProxyWriteRequest():
                pass  # the TIC line carries nothing towards the meter
            case _ if type(message).__name__ == "SerialProxySetModeRequest":
                if self._known(connection, message.instance, REQUEST_SET_MODE):
                    # A TIC interface has no protocol-aware tap: raw only.
                    status = STATUS_OK if message.mode == 0 else STATUS_NOT_SUPPORTED
                    self._ack(connection, message.instance, REQUEST_SET_MODE, status, always=True)
            case _ if type(message).__name__ == "SubscribeSerialProxyIdentityRequest":
                for instance in range(len(self.proxies)):
                    # A UART wired to the meter: no USB descriptor, no configured identity.
                    connection.send(api_pb2.SerialProxyIdentity(instance=instance, source=0))
            case _:
                pass  # states, logs, Home Assistant services and states, time: nothing to tell

    def _device_info(self) -> Any:
        return api_pb2.DeviceInfoResponse(
            uses_password=False,
            name=self.name,
            friendly_name=self.friendly_name,
            mac_address=self.mac_address,
            esphome_version=ESPHOME_VERSION,
            compilation_time="Jan 15 2026, 07:00:00",
            model="esp32dev",
            manufacturer="Espressif",
            serial_proxies=[api_pb2.SerialProxyInfo(name=name) for name in self.proxies],
        )

    def _known(self, connection: _Connection, instance: int, request: int) -> bool:
        if instance < len(self.proxies):
            return True
        self._ack(connection, instance, request, STATUS_INVALID_ARGUMENT)
        return False

    def _ack(self, connection: _Connection, instance: int, request: int, status: int, *, always: bool = False) -> None:
        """Acknowledge a request, as devices do from API 1.16 (set-mode, from 1.17, always is)."""
        if always or connection.api_minor >= ACK_FROM:
            connection.send(api_pb2.SerialProxyRequestResponse(instance=instance, type=request, status=status))

    def _request(self, connection: _Connection, message: Any) -> None:
        if not self._known(connection, message.instance, message.type):
            return
        if message.type == REQUEST_SUBSCRIBE:
            if self.subscriber not in (None, connection):
                self._ack(connection, message.instance, REQUEST_SUBSCRIBE, STATUS_PORT_IN_USE)
                return
            self.subscriber = connection
            self._tell()
        elif message.type == REQUEST_UNSUBSCRIBE:
            self.release(connection)
        self._ack(connection, message.instance, message.type, STATUS_OK)

    def _configure(self, connection: _Connection, message: Any) -> None:
        if not self._known(connection, message.instance, REQUEST_CONFIGURE):
            return
        if message.baudrate <= 0 or message.data_size not in range(5, 9):
            self._ack(connection, message.instance, REQUEST_CONFIGURE, STATUS_INVALID_ARGUMENT)
            return
        self.uart = UartSettings(
            baudrate=message.baudrate, data_bits=message.data_size, parity=message.parity != PARITY_NONE
        )
        self.configured.append(self.uart)
        self._ack(connection, message.instance, REQUEST_CONFIGURE, STATUS_OK)


@contextlib.asynccontextmanager
async def esphome_device(source: FrameSource, **kwargs: Any) -> Any:
    """Run a powered-on device on a free port of 127.0.0.1 for the block."""
    device = EspHomeDevice(source, **kwargs)
    await device.start()
    try:
        yield device
    finally:
        await device.close()
