"""A meter's line: bytes in as the transport reads them, in batches; complete frames out; silence noticed.

The line owns its decoder and its health monitor, kept across reconnections: one `LineProtocol` serves every session
on the port. A protocol, not a stream: no task wakes up per read. After each read the transport stops reading for
`pause` seconds, so that the line's bytes wait in the kernel's buffer and come in one read: a USB adapter delivers a
1200-baud line two bytes at a time (sixty reads a second), and each read costs far more than its bytes. Silence (no
valid frame for a while) is checked by one timer that moves only when it fires, not at each frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Final, cast

from .const import Mode
from .decoder import Decoder
from .diagnosis import LineMonitor
from .frame import Frame

_LOGGER = logging.getLogger(__name__)

# What a tty's kernel buffer holds (N_TTY_BUF_SIZE): bytes beyond it are lost while nobody reads.
KERNEL_BUFFER_BYTES: Final = 4096
# Bits a byte takes on the line: start bit, 7 data bits, parity, stop bit.
LINE_BITS_PER_BYTE: Final = 10
# The longest pause a line allows: this share of the time its speed takes to fill the kernel's buffer.
BUFFER_SHARE: Final = 0.5


# The longest a pause is stretched after a frame, whatever period the reads measured.
MAX_FRAME_PAUSE: Final = 2.0


def longest_pause(baudrate: int) -> float:
    """Return the longest pause between two reads that loses no byte at `baudrate`: ~17 s at 1200, ~2 s at 9600."""
    return BUFFER_SHARE * KERNEL_BUFFER_BYTES * LINE_BITS_PER_BYTE / baudrate


class LineProtocol(asyncio.Protocol):
    """Decode each read's bytes and hand every valid frame to `on_frame`, with the time it ended on the line.

    `ended` resolves with the reason the session ended (the end of the stream, a read error, silence), or with the
    exception `on_frame` raised (a bug: the owner logs it and reopens the port).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        mode: Mode | None,
        on_frame: Callable[[Frame, float], None],
        *,
        pause: float,
    ) -> None:
        """Prepare the line of a meter in `mode` (None: either); `pause` seconds unread after each read (0: none)."""
        self._loop = loop
        self._on_frame = on_frame
        self.pause = pause
        self.decoder = Decoder(mode)
        self.monitor = LineMonitor(self.decoder, loop.time())
        self._transport: asyncio.ReadTransport | None = None
        self._read_at = loop.time()
        self._resume: asyncio.TimerHandle | None = None
        self._silence: asyncio.TimerHandle | None = None
        self._silence_seconds = 0.0
        self._session_start = self._read_at
        # The time between two frames, as the reads that completed them saw it; None until two came.
        self.frame_period: float | None = None
        self._framed_at: float | None = None
        self.ended: asyncio.Future[str] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start a session on a newly opened port."""
        self._transport = cast("asyncio.ReadTransport", transport)
        self._read_at = self._session_start = self._loop.time()
        self._framed_at = None
        if self.ended.done():
            self.ended = self._loop.create_future()

    def data_received(self, data: bytes) -> None:
        """Decode the bytes, hand the frames over, then leave the port unread for a moment."""
        if self.ended.done():
            return
        at = self._loop.time()
        since, self._read_at = max(self._read_at, at - self.pause), at
        frames = self.monitor.feed(data, at)
        try:
            # The frames of one read came one after the other while the port was left unread: each is given the
            # time it ended on the line, spread over the pause, as a reader reading at once would have seen it.
            count = len(frames)
            for n, frame in enumerate(frames, start=1):
                self._on_frame(frame, at - (at - since) * (count - n) / count)
        except Exception as err:  # noqa: BLE001 - the line's owner logs it and reopens the port
            self.ended.set_exception(err)
            return
        if self.pause and self._transport is not None and self._resume is None:
            try:
                self._transport.pause_reading()
            except NotImplementedError:
                _LOGGER.debug("This transport cannot pause its reading: reading bytes as they come")
                self.pause = 0.0
                return
            self._resume = self._loop.call_later(self._pause_after(len(frames), at), self._resume_reading)

    def _pause_after(self, frames: int, at: float) -> float:
        """Return how long to leave the port unread after a read at `at` that completed `frames` frames.

        A short pause (`live`) is stretched after a frame: the next one cannot end before about a frame period has
        passed, so the port is read again one pause before then, and every pause after that until it comes.
        """
        if frames:
            if self._framed_at is not None:
                gap = (at - self._framed_at) / frames
                if self.frame_period is None:
                    self.frame_period = gap
                elif gap < 2 * self.frame_period:  # not a frame lost, nor a session's first
                    self.frame_period += (gap - self.frame_period) / 8
            self._framed_at = at
            if self.frame_period is not None and self.frame_period - self.pause > self.pause:
                return min(self.frame_period - self.pause, MAX_FRAME_PAUSE)
        return self.pause

    def read_now(self) -> None:
        """Read what waits on the port now, however long the pause: as a window closes, and just before it ends."""
        if self._resume is not None:
            self._resume.cancel()
            self._resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        """End the session: the far end closed the stream, or reading failed (not once the session was stopped)."""
        if self._transport is not None:
            self.end("end of stream" if exc is None else f"read error: {exc}")

    def eof_received(self) -> bool:
        """Let the transport close: the stream ended."""
        return False

    def watch_silence(self, seconds: float) -> None:
        """End the session when no valid frame came for `seconds` (from the session's start, then the last frame)."""
        self._silence_seconds = seconds
        self._silence = self._loop.call_later(seconds, self._check_silence)

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
        self._transport = None

    def _resume_reading(self) -> None:
        self._resume = None
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def _check_silence(self) -> None:
        last = self.monitor.last_frame_at
        due = max(self._session_start, last if last is not None else self._session_start) + self._silence_seconds
        if (now := self._loop.time()) >= due:
            self.end(f"no valid frame for {self._silence_seconds:g} s")
        else:
            self._silence = self._loop.call_later(due - now, self._check_silence)
