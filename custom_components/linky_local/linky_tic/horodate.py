"""Horodates of standard mode: `SAAMMJJhhmmss`, a season letter then local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

_OFFSETS: Final = {
    "H": timezone(timedelta(hours=1)),
    "E": timezone(timedelta(hours=2)),
}


@dataclass(frozen=True, slots=True)
class Horodate:
    """A meter timestamp.

    `moment` is timezone-aware for seasons H/h (UTC+1) and E/e (UTC+2), naive for a space season (DPM/FPM).
    `degraded` is set for the lowercase seasons: the meter's clock lost time and was not resynchronised yet.
    """

    raw: str
    moment: datetime
    degraded: bool

    def isoformat(self) -> str:
        """ISO 8601, with the offset when the season gives one."""
        return self.moment.isoformat()


def parse_horodate(raw: str) -> Horodate | None:
    """Parse a 13-character horodate; None when it is not one."""
    if len(raw) != 13 or not raw[1:].isdigit() or not raw[1:].isascii():
        return None
    season = raw[0]
    if season == " ":
        tzinfo = None
    elif (tz := _OFFSETS.get(season.upper())) is not None:
        tzinfo = tz
    else:
        return None
    digits = raw[1:]
    try:
        moment = datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            tzinfo=tzinfo,
        )
    except ValueError:
        return None
    return Horodate(raw=raw, moment=moment, degraded=season.islower())
