"""Privacy levels: how finely Home Assistant gets a meter's values, and what each label is for the publisher."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.util import dt as dt_util

from .linky_tic import INDEX_QUANTITIES, LabelSpec, Quantity

CONF_PRIVACY_LEVEL: Final = "privacy_level"
CONF_FINE_RETENTION: Final = "fine_retention"
CONF_POWER_STATISTICS: Final = "power_statistics"


class PrivacyLevel(StrEnum):
    """How finely the instantaneous signals and the energy indexes of a meter are published."""

    LIVE = "live"  # every frame
    MINUTE = "minute"  # means and indexes once a minute
    HALF_HOURLY = "half_hourly"  # once every half hour, on :00 and :30: Enedis' own load curve
    DAILY = "daily"  # indexes once a day, no instantaneous signal: what Enedis collects by default

    @property
    def window(self) -> timedelta | None:
        """Return the length of the level's windows (a day may be 23 or 25 hours long); None at live."""
        return _WINDOWS[self]


DEFAULT_PRIVACY_LEVEL: Final = PrivacyLevel.MINUTE
_WINDOWS: Final = {
    PrivacyLevel.LIVE: None,
    PrivacyLevel.MINUTE: timedelta(minutes=1),
    PrivacyLevel.HALF_HOURLY: timedelta(minutes=30),
    PrivacyLevel.DAILY: timedelta(days=1),
}


def privacy_level(entry: ConfigEntry) -> PrivacyLevel:
    """Return the privacy level a config entry chose; an entry that never chose one gets the default."""
    return PrivacyLevel(entry.options.get(CONF_PRIVACY_LEVEL, DEFAULT_PRIVACY_LEVEL))


class FineRetention(StrEnum):
    """How long the states of power, currents and voltages stay in the database at `live` and per minute."""

    DAY = "1"
    WEEK = "7"
    RECORDER = "recorder"  # as long as the recorder keeps every state


DEFAULT_FINE_RETENTION: Final = FineRetention.RECORDER


def fine_retention(entry: ConfigEntry) -> FineRetention:
    """Return how long an entry keeps its fine states."""
    return FineRetention(entry.options.get(CONF_FINE_RETENTION, DEFAULT_FINE_RETENTION))


def fine_keep_days(entry: ConfigEntry) -> int | None:
    """Return the days the entry's own purge keeps fine states; None when the recorder's retention applies."""
    retention = fine_retention(entry)
    if retention is FineRetention.RECORDER or not finer_than(privacy_level(entry), FINEST_LEAVING):
        return None
    return int(retention)


def power_statistics(entry: ConfigEntry) -> bool:
    """Tell whether power, currents and voltages keep hourly long-term statistics (energy indexes always do)."""
    return bool(entry.options.get(CONF_POWER_STATISTICS, True))


class Signal(StrEnum):
    """What a label's value is, which decides how a privacy level publishes it."""

    INSTANTANEOUS = "instantaneous"  # a measurement that may change at any frame: a time-weighted mean per window
    INDEX = "index"  # a cumulative energy index: its last value at each window's end, never a Wh lost
    SAMPLED = "sampled"  # computed by the meter over time, or its clock: its last value at each window's end
    STATE = "state"  # a state, a flag, a tariff or contract value: published as soon as it changes


_MEASUREMENTS: Final = frozenset({Quantity.APPARENT_POWER, Quantity.ACTIVE_POWER, Quantity.CURRENT, Quantity.VOLTAGE})


def signal(spec: LabelSpec | None) -> Signal:
    """Classify a label from its catalogue entry; a label the catalogue does not know has no entity: a state."""
    if spec is None:
        return Signal.STATE
    if spec.quantity in INDEX_QUANTITIES:
        return Signal.INDEX
    if spec.sampled:
        return Signal.SAMPLED
    # Contract values and meter constants (subscribed current, maximum current) are states, not measurements.
    if spec.quantity in _MEASUREMENTS and not spec.fixed:
        return Signal.INSTANTANEOUS
    return Signal.STATE


# The meter's load curve (a point every 30 minutes, by default): what CNIL puts under a consent of its own, apart
# from the daily indexes. A 10-minute mean voltage is a curve of the day as much: neither is published at `daily`.
LOAD_CURVE_POINTS: Final = frozenset({"CCASN", "CCASN-1", "CCAIN", "CCAIN-1"})
TEN_MINUTE_MEANS: Final = frozenset({"UMOY1", "UMOY2", "UMOY3"})
# The finest resolution at which a consumption signal may leave the house without a repair issue: Enedis' own
# half-hourly load curve, which CNIL puts under consent. Finer (live values, per-minute means) stays at home.
FINEST_LEAVING: Final = PrivacyLevel.HALF_HOURLY
_FINENESS: Final = (PrivacyLevel.LIVE, PrivacyLevel.MINUTE, PrivacyLevel.HALF_HOURLY, PrivacyLevel.DAILY)


def publishes(level: PrivacyLevel, label: str, kind: Signal) -> bool:
    """Tell whether a level publishes a label: `daily` keeps indexes, daily maxima, the clock and states only."""
    if level is not PrivacyLevel.DAILY:
        return True
    if kind is Signal.INSTANTANEOUS:
        return False
    return label not in LOAD_CURVE_POINTS and label not in TEN_MINUTE_MEANS


def averages(level: PrivacyLevel, kind: Signal) -> bool:
    """Tell whether a level publishes a signal as its mean per window."""
    return level is not PrivacyLevel.LIVE and kind is Signal.INSTANTANEOUS


def holds_last(level: PrivacyLevel, kind: Signal) -> bool:
    """Tell whether a signal's last published value stands until its first window ends.

    After a restart, a reload or a change of level: a mean too, rather than unknown for up to half an hour.
    """
    return level is not PrivacyLevel.LIVE and kind is not Signal.STATE


def finer_than(level: PrivacyLevel, other: PrivacyLevel) -> bool:
    """Tell whether a level publishes its signals more finely than another."""
    return _FINENESS.index(level) < _FINENESS.index(other)


def next_boundary(level: PrivacyLevel, after: datetime) -> datetime:
    """Return the first window boundary of a level strictly after a moment: on the minute, :00 and :30, or midnight.

    Boundaries are the local clock's, so a day ends at local midnight whatever daylight saving time does.
    """
    local = dt_util.as_local(after)
    if level is PrivacyLevel.DAILY:
        return dt_util.start_of_local_day(local.date() + timedelta(days=1))
    window = level.window
    assert window is not None, "live has no windows"
    # Count in local seconds, so that half hours fall on the local :00 and :30 in any time zone.
    offset = local.utcoffset() or timedelta(0)
    seconds = window.total_seconds()
    local_seconds = after.timestamp() + offset.total_seconds()
    boundary = (local_seconds // seconds + 1) * seconds - offset.total_seconds()
    return dt_util.utc_from_timestamp(boundary)
