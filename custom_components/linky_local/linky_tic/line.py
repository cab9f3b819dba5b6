"""One session on an open TIC line: bytes handed over as the transport reads them, in batches, and silence noticed.

A protocol, not a stream: no task wakes up per read. After each read the transport stops reading for `pause` seconds,
so that the line's bytes wait in the kernel's buffer and come in one read: a USB adapter delivers a 1200-baud line
two bytes at a time (sixty reads a second), and each read costs far more than its bytes. Silence (no valid frame for a
while) is checked by one timer that moves only when it fires, not at each frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import cast

_LOGGER = logging.getLogger(__name__)


class LineProtocol(asyncio.Protocol):
    """Hand each read's bytes to `on_bytes`, which returns how many valid frames they completed.

    `ended` resolves with the reason the session ended (the end of the stream, a read error, silence), or with the
    exception `on_bytes` raised: the caller logs it and reopens the port.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, on_bytes: Callable[[bytes], int], *, pause: float) -> None:
        """Prepare a session; `pause` seconds without reading after each read (0: read as bytes come)."""
        self._loop = loop
        self._on_bytes = on_bytes
        self._pause = pause
        self._transport: asyncio.ReadTransport | None = None
        self._resume: asyncio.TimerHandle | None = None
        self._silence: asyncio.TimerHandle | None = None
        self._silence_seconds = 0.0
        self._last_frame_at = loop.time()
        self.ended: asyncio.Future[str] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport, to pause and resume its reading."""
        self._transport = cast("asyncio.ReadTransport", transport)

    def data_received(self, data: bytes) -> None:
        """Hand the bytes over, then leave the port unread for a moment."""
        if self.ended.done():
            return
        try:
            if self._on_bytes(data):
                self._last_frame_at = self._loop.time()
        except Exception as err:  # noqa: BLE001 - the reader's owner logs it and reopens the port
            self.ended.set_exception(err)
            return
        if self._pause and self._transport is not None and self._resume is None:
            try:
                self._transport.pause_reading()
            except NotImplementedError:
                _LOGGER.debug("This transport cannot pause its reading: reading bytes as they come")
                self._pause = 0.0
                return
            self._resume = self._loop.call_later(self._pause, self._resume_reading)

    def connection_lost(self, exc: Exception | None) -> None:
        """End the session: the far end closed the stream, or reading failed."""
        self.end("end of stream" if exc is None else f"read error: {exc}")

    def eof_received(self) -> bool:
        """Let the transport close: the stream ended."""
        return False

    def watch_silence(self, seconds: float) -> None:
        """End the session when no valid frame came for `seconds` (from now, then from the last frame)."""
        self._silence_seconds = seconds
        self._last_frame_at = self._loop.time()
        self._silence = self._loop.call_at(self._last_frame_at + seconds, self._check_silence)

    def end(self, reason: str) -> None:
        """End the session for a reason."""
        if not self.ended.done():
            self.ended.set_result(reason)

    def stop(self) -> None:
        """Cancel the session's timers; the caller closes the transport."""
        for handle in (self._resume, self._silence):
            if handle is not None:
                handle.cancel()
        self._resume = self._silence = None

    def _resume_reading(self) -> None:
        self._resume = None
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def _check_silence(self) -> None:
        due = self._last_frame_at + self._silence_seconds
        if self._loop.time() >= due:
            self.end(f"no valid frame for {self._silence_seconds:g} s")
        else:
            self._silence = self._loop.call_at(due, self._check_silence)
