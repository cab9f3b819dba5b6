"""The one place that reads a meter: the port, the reader task, reconnection, decoding and the latest values."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import logging
import time
import traceback
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
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
)
from .meter_change import MeterWatch
from .privacy import PrivacyLevel, privacy_level
from .publisher import Mean, Publisher
from .redaction import filter_line_payloads
from .values import MeterValues

_LOGGER = logging.getLogger(__name__)

# The meter is lost when no valid frame came for this many frame periods.
SILENT_FRAMES: Final = 3
BACKOFF_FIRST: Final = 1.0
BACKOFF_MAX: Final = 60.0
# Seconds the port is left unread after each read, so that its bytes arrive in batches: a USB adapter delivers a
# 1200-baud line two bytes at a time, and each read costs far more than the bytes it brings. A frame's values reach
# the entities this much later at most; at the coarser levels they are published once a minute or less anyway.
READ_PAUSE: Final[dict[PrivacyLevel, float]] = {
    PrivacyLevel.LIVE: 0.25,
    PrivacyLevel.MINUTE: 1.0,
    PrivacyLevel.HALF_HOURLY: 1.0,
    PrivacyLevel.DAILY: 1.0,
}

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
    link_state: LinkState
    # The group of each label as the privacy level publishes it (means apart), and of each label the meter still
    # sends (what decides which entities exist).
    published: Mapping[str, Group] = field(default_factory=dict)
    sent: Mapping[str, Group] = field(default_factory=dict)
    means: Mapping[str, Mean] = field(default_factory=dict)
    frames: int = 0
    checksum_errors: int = 0
    last_frame_at: datetime | None = None


class LinkyCoordinator(DataUpdateCoordinator[MeterSnapshot]):
    """Read one meter in a background task and push each frame to the entities.

    The per-frame path (decode, then keep each label's last trustworthy value in `values`) is apart from the
    decision to publish: the `publisher` decides, at the entry's privacy level, what entities show and when; each
    entity writes its state when what it shows changed.
    """

    config_entry: LinkyConfigEntry

    def __init__(self, hass: HomeAssistant, entry: LinkyConfigEntry) -> None:
        """Prepare to read the port of a config entry; nothing is opened yet."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=entry.title)
        self.url: str = entry.data[CONF_DEVICE]
        self.mode = Mode(entry.data[CONF_MODE])
        self.baudrate: int = entry.data[CONF_BAUDRATE]
        self.decoder = Decoder(self.mode)
        self.health = LineHealth(hass, entry.entry_id, entry.title, self.mode, self.decoder)
        self.values = MeterValues()
        self.meter_watch = MeterWatch(hass, entry, self.values.groups)
        self.link_state = LinkState.WAITING
        self.last_frame_at: datetime | None = None
        self.reconnections = 0
        self.failed_reconnections = 0
        # Failures no code path expects (a bug): the reader logs each kind once, then reopens the port.
        self.unexpected_errors = 0
        self._failures_logged: set[tuple[str, str, int | None]] = set()
        self._silence = SILENT_FRAMES * FRAME_PERIOD[self.mode]
        self.publisher = Publisher(hass, self.mode, privacy_level(entry), self._windows_closed, max_hold=self._silence)
        filter_line_payloads()  # serialx's debug records carry the line's bytes, identifiers included
        self._lost_logged = False
        # Entities stay unavailable until the first frame.
        self.data = MeterSnapshot(self.mode, self.link_state)
        self.last_update_success = False

    async def async_start(self) -> None:
        """Open the port and start the reader task; raise ConfigEntryNotReady when the port cannot be opened."""
        line = self._line()
        try:
            transport = await connect_tic(self.url, self.baudrate, lambda: line)
        except TicLinkError as err:
            self._check_proxy()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="cannot_open", translation_placeholders={"error": str(err)}
            ) from err
        async_clear_proxy_issue(self.hass, self.config_entry.entry_id)
        self.config_entry.async_on_unload(self.health.async_start())
        self.config_entry.async_on_unload(self.meter_watch.async_start())
        self.config_entry.async_on_unload(self.publisher.async_start())
        self.config_entry.async_create_background_task(
            self.hass, self._run(transport, line), f"{DOMAIN} reader {self.config_entry.entry_id}"
        )

    async def _async_update_data(self) -> MeterSnapshot:
        """Return the latest values: the meter pushes its frames, there is nothing to fetch."""
        if self.link_state is not LinkState.RECEIVING or self.meter_watch.other is not None:
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="not_receiving")
        return self.data

    def _line(self) -> LineProtocol:
        return LineProtocol(self.hass.loop, self._bytes, pause=READ_PAUSE[self.publisher.level])

    async def _run(self, transport: TicTransport, line: LineProtocol) -> None:
        """Read until the entry unloads, reconnecting with exponential backoff whenever the meter is lost.

        The reader never dies: an error no code path expects (a bug) is logged and ends the session as a lost meter
        does, without resetting the backoff.
        """
        delay = BACKOFF_FIRST
        while True:
            try:
                if await self._session(transport, line):
                    delay = BACKOFF_FIRST
            except Exception as err:  # noqa: BLE001 - closing the port or telling the entities failed: read on
                self._unexpected(err)
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                line = self._line()
                try:
                    transport = await connect_tic(self.url, self.baudrate, lambda: line)  # noqa: B023 - awaited here
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

    async def _session(self, transport: TicTransport, line: LineProtocol) -> bool:
        """Read an open port until the meter is lost, then close it; tell whether frames came and nothing failed."""
        frames = self.decoder.stats.frames
        failed = False
        line.watch_silence(self._silence)
        try:
            self._tell_link_state()  # waiting for a frame
            reason = await line.ended
        except Exception as err:  # noqa: BLE001 - a reader must never die: the error is logged, the port reopened
            self._unexpected(err)
            failed, reason = True, "unexpected error"
        finally:
            line.stop()
            await close_transport(transport)
        self._lost(reason)
        return not failed and self.decoder.stats.frames > frames

    def _bytes(self, data: bytes) -> int:
        """Decode bytes just read, note them for the line's health, take in the frames they complete; count those."""
        at = time.monotonic()
        frames = self.decoder.feed(data)
        self.health.received(len(data), frames, at)
        for frame in frames:
            self._receive(frame)
        return len(frames)

    @callback
    def _receive(self, frame: Frame) -> None:
        """Take in one frame and publish it; another meter's frame makes the entities unavailable instead."""
        if (taken := self.meter_watch.take(frame)) is None:
            if self.meter_watch.other is not None:
                self.last_update_success = False
                self._tell_link_state()
            return
        self.values.apply(taken, time.monotonic())
        self.last_frame_at = dt_util.utcnow()
        if self.link_state is not LinkState.RECEIVING:
            self.link_state = LinkState.RECEIVING
            if self._lost_logged:
                _LOGGER.info("%s: the meter is back", self.name)
                self._lost_logged = False
        self._publish()

    @callback
    def _publish(self) -> None:
        """Hand the latest values to the publisher; tell the entities when it has something new for them."""
        assert self.last_frame_at is not None
        if self.publisher.frame(self.values.groups, self.last_frame_at) or not self.last_update_success:
            self.async_set_updated_data(self._snapshot())

    @callback
    def _windows_closed(self) -> None:
        """Tell the entities that the publisher's windows closed; those of a lost meter stay unavailable."""
        if self.link_state is LinkState.RECEIVING and self.meter_watch.other is None:
            self.async_set_updated_data(self._snapshot())
        else:
            self._tell_link_state()

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
            self.async_set_updated_data(self._snapshot())
        if not self._lost_logged:
            _LOGGER.info("%s: the meter is lost (%s); reconnecting", self.name, reason)
            self._lost_logged = True
        else:
            _LOGGER.debug("%s: still no meter (%s)", self.name, reason)
        self.link_state = LinkState.DISCONNECTED
        self.last_update_success = False
        self._tell_link_state()
        self.health.check()

    def _snapshot(self) -> MeterSnapshot:
        stats = self.decoder.stats
        return MeterSnapshot(
            mode=self.mode,
            link_state=self.link_state,
            published=dict(self.publisher.groups),
            sent=dict(self.values.groups),
            means=dict(self.publisher.means),
            frames=stats.frames,
            checksum_errors=stats.checksum_errors,
            last_frame_at=self.last_frame_at,
        )

    @callback
    def _tell_link_state(self) -> None:
        """Tell the entities the link's state (the meter lost, or waited for), its values unchanged."""
        self.data = self._snapshot()
        self.async_update_listeners()

    def _unexpected(self, err: Exception) -> None:
        """Log an error no code path expects, with its traceback the first time it happens where it happened."""
        self.unexpected_errors += 1
        where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
        failure = (type(err).__qualname__, where.filename if where else "", where.lineno if where else None)
        if failure in self._failures_logged:
            _LOGGER.debug("%s: unexpected error again: %r; reopening the port", self.name, err)
            return
        self._failures_logged.add(failure)
        _LOGGER.error("%s: unexpected error while reading the meter; reopening the port", self.name, exc_info=err)
