"""Serve a meter's frames as a TIC line: on a pseudo-terminal, or on a TCP port as ser2net does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import os
import re
from typing import Final, Protocol, Self

from linky_tic import BAUDRATES, Decoder, Mode

from .simulator import BITS_PER_BYTE

# Bytes written at once: small enough that a reader joining mid-frame sees the tail of a frame, as on a real line.
CHUNK: Final = 64
_FRAME_START: Final = re.compile(rb"(?=\x02)")

type Sink = Callable[[bytes], Awaitable[None]]


class FrameSource(Protocol):
    """What a served line reads from: a simulated meter or a capture replay."""

    @property
    def baudrate(self) -> int:
        """Line rate the frames are paced at."""

    def next_frame(self) -> bytes:
        """Return the next bytes to send, empty when there are no more."""


class CaptureReplay:
    """Replay a capture's bytes frame by frame (noise and faults as captured), over and over unless `once`."""

    def __init__(self, data: bytes, *, baudrate: int | None = None, once: bool = False) -> None:
        """Split the capture at each STX; detect its line rate from its mode unless given."""
        self.pieces = [piece for piece in _FRAME_START.split(data) if piece]
        if baudrate is None:
            decoder = Decoder()
            decoder.feed(data)
            baudrate = BAUDRATES[decoder.mode or Mode.HISTORIC]
        self.baudrate = baudrate
        self.once = once
        self._next = 0

    def next_frame(self) -> bytes:
        """Return the next piece of the capture; empty at the end of a single replay."""
        if not self.pieces or (self.once and self._next >= len(self.pieces)):
            return b""
        piece = self.pieces[self._next % len(self.pieces)]
        self._next += 1
        return piece


class MeterServer:
    """A served line: `url` is what a reader opens (a pty path, or `socket://127.0.0.1:PORT`)."""

    def __init__(self, source: FrameSource, speed: float) -> None:
        """Pace `source` at its line rate times `speed`; nothing is sent before `start`."""
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.url = ""
        self.source = source
        self.bytes_sent = 0
        self._seconds_per_byte = BITS_PER_BYTE / source.baudrate / speed
        self._sinks: dict[object, Sink] = {}
        self._listening = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._closers: list[Callable[[], Awaitable[None]]] = []

    def start(self) -> None:
        """Start sending."""
        self._pump = asyncio.get_running_loop().create_task(self._send_frames(), name=f"TIC line {self.url}")

    async def close(self) -> None:
        """Stop sending and close the line: readers see it go away."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for closer in reversed(self._closers):
            await closer()

    async def __aenter__(self) -> Self:
        """Use the server in an `async with` block."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the server."""
        await self.close()

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Release a resource of the line when it closes (last registered, first released)."""
        self._closers.append(closer)

    def add_sink(self, key: object, sink: Sink) -> None:
        """Send to one more reader."""
        self._sinks[key] = sink
        self._listening.set()

    def remove_sink(self, key: object) -> None:
        """Stop sending to a reader; the meter's clock stops while nobody listens."""
        self._sinks.pop(key, None)
        if not self._sinks:
            self._listening.clear()

    async def _send_frames(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            await self._listening.wait()
            if not (frame := self.source.next_frame()):
                return
            due = max(due, loop.time())
            for start in range(0, len(frame), CHUNK):
                chunk = frame[start : start + CHUNK]
                await asyncio.gather(*(sink(chunk) for sink in list(self._sinks.values())))
                self.bytes_sent += len(chunk)
                due += len(chunk) * self._seconds_per_byte
                await asyncio.sleep(max(0.0, due - loop.time()))


async def serve_tcp(source: FrameSource, host: str = "127.0.0.1", port: int = 0, *, speed: float = 1.0) -> MeterServer:
    """Serve frames to every TCP client, as ser2net does; `port=0` picks a free port (see `url`)."""
    line = MeterServer(source, speed)

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(chunk: bytes) -> None:
            writer.write(chunk)
            try:
                await writer.drain()
            except ConnectionError:
                line.remove_sink(writer)

        line.add_sink(writer, send)
        try:
            while await reader.read(1024):
                pass  # a TIC line carries nothing the other way
        except ConnectionError:
            pass
        finally:
            line.remove_sink(writer)
            writer.close()

    server = await asyncio.start_server(client, host, port)
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    line.url = f"socket://{bound_host}:{bound_port}"

    async def close_server() -> None:
        server.close()
        server.close_clients()
        await server.wait_closed()

    line.on_close(close_server)
    line.start()
    return line


async def serve_pty(source: FrameSource, *, speed: float = 1.0) -> MeterServer:
    """Serve frames on a new pseudo-terminal; `url` is the path a reader opens.

    The reader's side is left as the kernel made it (not raw): setting the line up is the reader's job. Bytes
    the line discipline cannot take are dropped, as a meter does not wait for anyone.
    """
    line = MeterServer(source, speed)
    master, slave = os.openpty()  # keep the slave open: the master reads EIO while no one holds it
    os.set_blocking(master, False)
    line.url = os.ttyname(slave)
    loop = asyncio.get_running_loop()

    def discard_echo() -> None:
        with contextlib.suppress(OSError):
            os.read(master, 4096)

    async def send(chunk: bytes) -> None:
        with contextlib.suppress(OSError):  # full (nobody reads), or closed
            os.write(master, chunk)

    async def close_pty() -> None:
        loop.remove_reader(master)
        os.close(master)
        os.close(slave)

    loop.add_reader(master, discard_echo)
    line.add_sink(master, send)
    line.on_close(close_pty)
    line.start()
    return line
