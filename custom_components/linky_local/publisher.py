"""The publisher: what a meter's entities show, and when, at the entry's privacy level.

At `live` every frame is published. At the other levels, windows follow the local clock (each minute, each half hour
on :00 and :30, each day at midnight), whether frames come or not:

- an instantaneous signal (power, current, voltage) is published at each window's end as its time-weighted mean
  over the window, to the meter's own resolution (whole VA, W, A, V): each value weighs the time it held, until the
  next frame (at most `max_hold` seconds, after which the meter is lost and nothing is measured);
- an energy index, and a value the meter computed over time (a maximum, a load-curve point, its clock), is
  published at each window's end as its last value; an index is cumulative, so no Wh is ever lost;
- a state, a flag or a tariff value is published as soon as it changes.

A window closes CLOSE_LEAD seconds before its boundary, so that the states it writes carry a time inside the hour
(or the day) they close: Home Assistant files an energy index's growth under the hour of its state's time. Until
the boundary itself an index that changes is published at once, so that the last index before each boundary is the
meter's own, as at `live`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .linky_tic import CATALOGUE, Group, Mode, decimal
from .privacy import PrivacyLevel, Signal, next_boundary, publishes, signal

CLOSE_LEAD: Final = timedelta(seconds=0.25)


@dataclass(frozen=True, slots=True)
class Mean:
    """The time-weighted mean of a signal over a window; None when nothing was measured in it."""

    value: int | None
    start: datetime
    end: datetime


class _Accumulator:
    """Sum a signal over a window, each value weighted by the time it held."""

    __slots__ = ("_duration", "_expires", "_max_hold", "_since", "_sum", "_value")

    def __init__(self, max_hold: float) -> None:
        self._max_hold = max_hold
        self._value: float | None = None
        self._since = self._expires = 0.0
        self._sum = self._duration = 0.0

    def add(self, value: float | None, at: float) -> None:
        """Take a new value received at `at` (POSIX seconds); None: the signal is no longer sent."""
        self._hold(at)
        self._value = value
        self._expires = at + self._max_hold

    def close(self, at: float) -> float | None:
        """End the window at `at`: return its mean and start the next one, the current value holding on."""
        self._hold(at)
        mean = self._sum / self._duration if self._duration > 0 else None
        self._sum = self._duration = 0.0
        return mean

    def _hold(self, until: float) -> None:
        if self._value is not None and (held := min(until, self._expires) - self._since) > 0:
            self._sum += self._value * held
            self._duration += held
        self._since = until


class Publisher:
    """Decide, frame after frame and window after window, what a meter's entities show."""

    def __init__(
        self,
        hass: HomeAssistant,
        mode: Mode,
        level: PrivacyLevel,
        on_publish: Callable[[], None],
        *,
        max_hold: float,
    ) -> None:
        """Prepare to publish a meter's values; `on_publish` is called when a window closes."""
        self.hass = hass
        self.level = level
        self._specs = CATALOGUE[mode]
        self._on_publish = on_publish
        self._max_hold = max_hold
        self._groups: Mapping[str, Group] = {}
        self._published: dict[str, Group] = {}
        self._latest: dict[str, Group] = {}
        self._accumulators: dict[str, _Accumulator] = {}
        self._means: dict[str, Mean] = {}
        self._sent: frozenset[str] = frozenset()
        self._window_start: datetime | None = None
        self._boundary: datetime | None = None
        self._exact_until: datetime | None = None
        self._cancel_close: CALLBACK_TYPE | None = None
        self._signals: dict[str, Signal] = {}

    def signal(self, label: str) -> Signal:
        """Return what a label's value is for the publisher (found once per label)."""
        if (kind := self._signals.get(label)) is None:
            kind = self._signals[label] = signal(self._specs.get(label))
        return kind

    def publishes(self, label: str) -> bool:
        """Tell whether this level publishes a label, so that its entities exist: `daily` has no instantaneous signal."""
        return publishes(self.level, label, self.signal(label))

    @property
    def groups(self) -> Mapping[str, Group]:
        """Return the published group of each label, means apart."""
        return self._groups if self.level is PrivacyLevel.LIVE else self._published

    @property
    def means(self) -> Mapping[str, Mean]:
        """Return the mean of each averaged label's last window (none before the first one ends)."""
        return MappingProxyType(self._means)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Open the first window (a partial one, from now); return what stops the windows."""
        if self.level is not PrivacyLevel.LIVE:
            now = dt_util.utcnow()
            self._window_start = now
            self._schedule(next_boundary(self.level, now + CLOSE_LEAD))
        return self._stop

    @property
    def closes_at(self) -> datetime | None:
        """Return when the current window closes; None at `live`, or before the first window opens."""
        return None if self._boundary is None else self._boundary - CLOSE_LEAD

    @callback
    def receive(self, groups: Mapping[str, Group], at: datetime) -> bool:
        """Take the meter's values after a frame that came at `at`; tell whether the entities have anything new."""
        if self.level is PrivacyLevel.LIVE:
            self._groups = groups
            return True
        changed = groups.keys() != self._sent
        seconds = at.timestamp()
        exact = self._exact_until is not None and at < self._exact_until
        for label in self._sent - groups.keys():
            if self.signal(label) is Signal.STATE:
                self._published.pop(label, None)
            self._latest.pop(label, None)
            if (accumulator := self._accumulators.get(label)) is not None:
                accumulator.add(None, seconds)
        self._sent = frozenset(groups)
        for label, group in groups.items():
            match self.signal(label):
                case Signal.INSTANTANEOUS:
                    if self.level is not PrivacyLevel.DAILY:
                        self._accumulator(label).add(decimal(group.value), seconds)  # not a number: left out
                case Signal.STATE:
                    if self._published.get(label) != group:
                        self._published[label] = group
                        changed = True
                case signal_kind:
                    self._latest[label] = group
                    if signal_kind is Signal.INDEX and exact and self._published.get(label) != group:
                        self._published[label] = group
                        changed = True
        return changed

    @callback
    def settle(self) -> bool:
        """Publish the last indexes now, the meter lost, not when it comes back; tell whether any changed.

        The energy read since the last window's end then counts in the hour it was read.
        """
        if self.level is PrivacyLevel.LIVE:
            return False
        changed = False
        for label, group in self._latest.items():
            if self.signal(label) is Signal.INDEX and self._published.get(label) != group:
                self._published[label] = group
                changed = True
        return changed

    def _accumulator(self, label: str) -> _Accumulator:
        if (accumulator := self._accumulators.get(label)) is None:
            accumulator = self._accumulators[label] = _Accumulator(self._max_hold)
        return accumulator

    @callback
    def _schedule(self, boundary: datetime) -> None:
        self._boundary = boundary
        self._cancel_close = async_track_point_in_utc_time(self.hass, self._close, boundary - CLOSE_LEAD)

    @callback
    def _close(self, _: datetime) -> None:
        """End the window: publish the means and the last indexes, open the next window."""
        assert self._boundary is not None and self._window_start is not None
        boundary, seconds = self._boundary, dt_util.utcnow().timestamp()
        for label, accumulator in self._accumulators.items():
            mean = accumulator.close(seconds)
            self._means[label] = Mean(None if mean is None else round(mean), self._window_start, boundary)
        self._published.update(self._latest)
        self._window_start = self._exact_until = boundary
        self._schedule(next_boundary(self.level, boundary))
        self._on_publish()

    @callback
    def _stop(self) -> None:
        if self._cancel_close is not None:
            self._cancel_close()
            self._cancel_close = None
