"""The one place that reads a meter: the port, the reader task, reconnection, and what its entities show.

The byte path has four hops: the line (`LineProtocol`) decodes what the port reads and hands each complete frame to
`LinkyCoordinator.take`, which keeps the meter's values, lets the publisher decide what is new, and builds one
`MeterSnapshot`; each entity is a view of that snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import logging
import traceback
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.util import dt as dt_util

from .const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from .esphome_proxy import async_check_proxy, async_clear_proxy_issue
from .health import LineHealth
from .linky_tic import (
    FRAME_PERIOD,
    Decoder,
    Frame,
    Group,
    LineProtocol,
    Mode,
    TicLinkError,
    TicTransport,
    close_transport,
    connect_tic,
    longest_pause,
)
from .meter_change import MeterWatch
from .privacy import PrivacyLevel, privacy_level
from .publisher import CLOSE_LEAD, Mean, Publisher
from .redaction import filter_line_payloads
from .values import MeterValues

_LOGGER = logging.getLogger(__name__)

# The meter is lost when no valid frame came for this many frame periods after a pause between reads.
SILENT_FRAMES: Final = 3
BACKOFF_FIRST: Final = 1.0
BACKOFF_MAX: Final = 60.0
# Seconds the port is left unread after each read, so that its bytes arrive in batches: each read costs far more
# than the bytes it brings. At `live` a frame's values reach the entities this much later at most; the other levels
# publish once a minute or less, and their windows read what waits before they close: the pause is as long as the
# kernel's buffer allows at the line's speed (`longest_pause`), up to this.
READ_PAUSE: Final[dict[PrivacyLevel, float]] = {
    PrivacyLevel.LIVE: 0.2,
    PrivacyLevel.MINUTE: 15.0,
    PrivacyLevel.HALF_HOURLY: 15.0,
    PrivacyLevel.DAILY: 15.0,
}
# A window's reads, whatever the pause: this long before it closes (for its means and indexes), and this long before
# its boundary (for an index that changed since: published at once, in the hour or the day it belongs to).
READ_BEFORE_CLOSE: Final = 0.2
READ_BEFORE_BOUNDARY: Final = 0.05

type LinkyConfigEntry = ConfigEntry[LinkyCoordinator]


class LinkState(StrEnum):
    """State of the link to the meter."""

    WAITING = "waiting"  # the port is open, no frame yet
    RECEIVING = "receiving"
    DISCONNECTED = "disconnected"  # the meter was lost; reconnecting


@dataclass(frozen=True, slots=True)
class MeterSnapshot:
    """What the entities show, made each time the coordinator has something new for them: they read nothing else."""

    mode: Mode
    level: PrivacyLevel
    link_state: LinkState
    # The group of each label as the privacy level publishes it (means apart), and of each label the meter still
    # sends (what decides which entities exist).
    published: Mapping[str, Group] = field(default_factory=dict)
    sent: Mapping[str, Group] = field(default_factory=dict)
    means: Mapping[str, Mean] = field(default_factory=dict)
    frames: int = 0
    checksum_errors: int = 0
    last_frame_at: datetime | None = None
    # Another meter's frames came on the port (meter_change.py): none of them is shown.
    other_meter: bool = False

    @property
    def receiving(self) -> bool:
        """Tell whether this meter's frames are coming: its values are shown, not unavailable."""
        return self.link_state is LinkState.RECEIVING and not self.other_meter


class LinkyCoordinator:
    """Read one meter in a background task; take in each frame its line hands over, and show it to the entities.

    A push coordinator: nothing is polled. The `publisher` decides, at the entry's privacy level, what entities show
    and when; each entity writes its state when what it shows changed. Entities are created and named when the
    labels the meter sends change (`async_add_shape_listener`), not at each frame.
    """

    def __init__(self, hass: HomeAssistant, entry: LinkyConfigEntry) -> None:
        """Prepare to read the port of a config entry; nothing is opened yet."""
        self.hass = hass
        self.config_entry = entry
        self.name = entry.title
        self.url: str = entry.data[CONF_DEVICE]
        self.mode = Mode(entry.data[CONF_MODE])
        self.baudrate: int = entry.data[CONF_BAUDRATE]
        level = privacy_level(entry)
        pause = min(READ_PAUSE[level], longest_pause(self.baudrate))
        self.line = LineProtocol(hass.loop, self.mode, self.take, pause=pause)
        self.health = LineHealth(hass, entry.entry_id, entry.title, self.mode, self.line.monitor)
        self.values = MeterValues()
        self.meter_watch = MeterWatch(hass, entry, self.values.groups)
        self.link_state = LinkState.WAITING
        self.reconnections = 0
        self.failed_reconnections = 0
        # Failures no code path expects (a bug): each kind is logged once; in the reader, the port is reopened.
        self.unexpected_errors = 0
        self._failures_logged: set[tuple[str, str, int | None]] = set()
        # Frames come in batches, a pause apart: the meter is lost when none came for a pause and a few frames more.
        self._silence = pause + SILENT_FRAMES * FRAME_PERIOD[self.mode]
        self.publisher = Publisher(hass, self.mode, level, self._windows_closed, max_hold=self._silence)
        filter_line_payloads()  # serialx's debug records carry the line's bytes, identifiers included
        self._lost_logged = False
        self._reads: list[asyncio.TimerHandle] = []
        self._listeners: list[CALLBACK_TYPE] = []
        self._label_listeners: dict[str, list[CALLBACK_TYPE]] = {}
        self._shape_listeners: list[CALLBACK_TYPE] = []
        # Labels whose value, not only their presence, decides which entities exist or how they are named.
        self._shaping: dict[str, int] = {}
        self._shape: tuple[Group | None, ...] = ()
        # Entities stay unavailable until the first frame.
        self.data = MeterSnapshot(self.mode, level, self.link_state)

    @property
    def decoder(self) -> Decoder:
        """Return the line's decoder, kept across reconnections."""
        return self.line.decoder

    @property
    def last_frame_at(self) -> datetime | None:
        """Return when the last valid frame came, to the second; None before the first."""
        if (at := self.line.monitor.last_frame_at) is None:
            return None
        moment = dt_util.utcnow() - timedelta(seconds=self.hass.loop.time() - at)
        return moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))

    async def async_start(self) -> None:
        """Open the port and start the reader task; raise ConfigEntryNotReady when the port cannot be opened."""
        try:
            transport = await self._connect()
        except TicLinkError as err:
            self._check_proxy()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="cannot_open", translation_placeholders={"error": str(err)}
            ) from err
        async_clear_proxy_issue(self.hass, self.config_entry.entry_id)
        self.config_entry.async_on_unload(self.health.async_start())
        self.config_entry.async_on_unload(self.meter_watch.async_start())
        self.config_entry.async_on_unload(self.publisher.async_start())
        self.config_entry.async_on_unload(self._cancel_reads)
        self._read_before_close()
        self.config_entry.async_create_background_task(
            self.hass, self._run(transport), f"{DOMAIN} reader {self.config_entry.entry_id}"
        )

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE, label: str | None = None) -> CALLBACK_TYPE:
        """Call `update` each time the snapshot changes (a view of one `label`: when what it shows may have changed).

        A view of a label is not called when a frame changed only other labels' values; it is when the link's state,
        the labels sent or a window changed. Return what stops the calls.
        """
        if label is None:
            return self._subscribe(self._listeners, update)
        return self._subscribe(self._label_listeners.setdefault(label, []), update)

    @callback
    def async_add_shape_listener(self, changed: CALLBACK_TYPE, values_of: Iterable[str] = ()) -> CALLBACK_TYPE:
        """Call `changed` when the labels the meter sends change, or the value of a label of `values_of` does.

        What decides which entities exist and how they are named: called after the snapshot changed.
        """
        for label in values_of:
            self._shaping[label] = self._shaping.get(label, 0) + 1
        remove = self._subscribe(self._shape_listeners, changed)

        @callback
        def stop() -> None:
            remove()
            for label in values_of:
                if (count := self._shaping[label] - 1) > 0:
                    self._shaping[label] = count
                else:
                    del self._shaping[label]

        return stop

    @staticmethod
    def _subscribe(listeners: list[CALLBACK_TYPE], listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    async def _connect(self) -> TicTransport:
        return await connect_tic(self.url, self.baudrate, lambda: self.line)

    async def _run(self, transport: TicTransport) -> None:
        """Read until the entry unloads, reconnecting with exponential backoff whenever the meter is lost.

        The reader never dies: an error no code path expects (a bug) is logged and ends the session as a lost meter
        does, without resetting the backoff.
        """
        delay = BACKOFF_FIRST
        while True:
            try:
                if await self._session(transport):
                    delay = BACKOFF_FIRST
            except Exception as err:  # noqa: BLE001 - closing the port or telling the entities failed: read on
                self._unexpected(err)
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                try:
                    transport = await self._connect()
                except TicLinkError as err:
                    self.failed_reconnections += 1
                    _LOGGER.debug("%s: cannot reopen the port: %s", self.name, err)
                    self._check_proxy()
                    continue
                except Exception as err:  # noqa: BLE001 - a reader must never die
                    self.failed_reconnections += 1
                    self._unexpected(err)
                    continue
                self.reconnections += 1
                async_clear_proxy_issue(self.hass, self.config_entry.entry_id)
                self.link_state = LinkState.WAITING
                break

    async def _session(self, transport: TicTransport) -> bool:
        """Read an open port until the meter is lost, then close it; tell whether frames came and nothing failed."""
        line = self.line
        frames = self.decoder.stats.frames
        failed = False
        line.watch_silence(self._silence)
        try:
            self._show()  # waiting for a frame
            reason = await line.ended
        except Exception as err:  # noqa: BLE001 - a reader must never die: the error is logged, the port reopened
            self._unexpected(err)
            failed, reason = True, "unexpected error"
        finally:
            line.stop()
            await close_transport(transport)
        self._lost(reason)
        return not failed and self.decoder.stats.frames > frames

    @callback
    def take(self, frame: Frame, at: float) -> None:
        """Take in a frame that ended on the line at `at` (the loop's time): keep its values, publish, show them.

        Another meter's frame makes the entities unavailable instead.
        """
        if (taken := self.meter_watch.take(frame)) is None:
            if self.meter_watch.other is not None and not self.data.other_meter:
                self._show()
            return
        labels_changed = self.values.apply(taken, at)
        back = self.link_state is not LinkState.RECEIVING or self.data.other_meter
        if back:
            self.link_state = LinkState.RECEIVING
            if self._lost_logged:
                _LOGGER.info("%s: the meter is back", self.name)
                self._lost_logged = False
        groups = self.values.groups
        moment = dt_util.utcnow() - timedelta(seconds=self.hass.loop.time() - at)
        new = self.publisher.receive(groups, moment)
        shape = tuple(groups.get(label) for label in self._shaping)
        reshaped = labels_changed or shape != self._shape
        self._shape = shape
        if back or reshaped:
            self._show()
        elif new:
            self._show(everything=False)
        if reshaped:
            self._tell(list(self._shape_listeners))
        self.health.frame_received(at)

    @callback
    def _windows_closed(self) -> None:
        """Show what the publisher's closed windows publish; the entities of a lost meter stay unavailable."""
        self._show()
        self._read_before_close()

    @callback
    def _read_before_close(self) -> None:
        """Have the line read what waits on the port just before the next window closes, and before it ends.

        Called as the previous window closes: its own last read, before its boundary, is still to come.
        """
        if (closes_at := self.publisher.closes_at) is not None:
            wait = (closes_at - dt_util.utcnow()).total_seconds()
            self._reads = [
                *self._reads[-2:],
                self.hass.loop.call_later(max(0.0, wait - READ_BEFORE_CLOSE), self.line.read_now),
                self.hass.loop.call_later(
                    max(0.0, wait + CLOSE_LEAD.total_seconds() - READ_BEFORE_BOUNDARY), self.line.read_now
                ),
            ]

    @callback
    def _cancel_reads(self) -> None:
        for handle in self._reads:
            handle.cancel()
        self._reads = []

    @callback
    def _check_proxy(self) -> None:
        """Behind an ESPHome serial proxy, tell the household when the ESP no longer offers it."""
        async_check_proxy(self.hass, self.config_entry.entry_id, self.config_entry.title, self.url)

    @callback
    def _lost(self, reason: str) -> None:
        """Make the entities unavailable and say once that the meter is lost.

        The indexes read since the last window closed are published first: their energy belongs to the hour it was
        read in, not to the hour the meter comes back in.
        """
        if self.link_state is LinkState.RECEIVING and self.publisher.settle():
            self._show()
        if not self._lost_logged:
            _LOGGER.info("%s: the meter is lost (%s); reconnecting", self.name, reason)
            self._lost_logged = True
        else:
            _LOGGER.debug("%s: still no meter (%s)", self.name, reason)
        self.link_state = LinkState.DISCONNECTED
        self._show()
        self.health.check()

    @callback
    def _show(self, *, everything: bool = True) -> None:
        """Build the snapshot of what the entities show, and tell them: all, or those of labels whose value changed."""
        stats = self.decoder.stats
        before = self.data.published
        self.data = data = MeterSnapshot(
            mode=self.mode,
            level=self.publisher.level,
            link_state=self.link_state,
            published=dict(self.publisher.groups),
            sent=dict(self.values.groups),
            means=dict(self.publisher.means),
            frames=stats.frames,
            checksum_errors=stats.checksum_errors,
            last_frame_at=self.last_frame_at,
            other_meter=self.meter_watch.other is not None,
        )
        if everything:
            self._tell([*self._listeners, *(view for views in self._label_listeners.values() for view in views)])
            return
        views = self._label_listeners
        changed = [label for label, group in data.published.items() if label in views and before.get(label) != group]
        self._tell([*self._listeners, *(view for label in changed for view in views[label])])

    def _tell(self, listeners: list[CALLBACK_TYPE]) -> None:
        """Call each listener; one that fails (an entity's state write) is logged and stops nobody else."""
        for listener in listeners:
            try:
                listener()
            except Exception as err:  # noqa: BLE001 - a failing entity must not stop the others, nor the reader
                self._log_once(err, "an entity failed", "to show the meter's values")

    def _unexpected(self, err: Exception) -> None:
        """Log an error of the reader no code path expects; the port is reopened."""
        self._log_once(err, "unexpected error", "while reading the meter; reopening the port")

    def _log_once(self, err: Exception, what: str, detail: str) -> None:
        """Log an error no code path expects, with its traceback the first time it happens where it happened."""
        self.unexpected_errors += 1
        where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
        failure = (type(err).__qualname__, where.filename if where else "", where.lineno if where else None)
        if failure in self._failures_logged:
            _LOGGER.debug("%s: %s again: %r", self.name, what, err)
            return
        self._failures_logged.add(failure)
        _LOGGER.error("%s: %s %s", self.name, what, detail, exc_info=err)
