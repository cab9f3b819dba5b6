"""Repair issues of a meter's line: what the line diagnosis finds, told in words the user can act on.

The line's LineMonitor (linky_tic/diagnosis.py) watches what it reads; LineHealth asks it for a diagnosis at each
frame and every CHECK_INTERVAL, so that silence and garbage are noticed while no frame arrives, and raises or clears
one repair issue per problem. An issue clears by itself once the line no longer shows its problem.

What needs no action of the household is not a repair: an adapter that damages control bytes (values are still read)
and a historic meter on a base contract sending only its total index (what it should send) are notices, counted for
the diagnostics and told once in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval

from .const import DOMAIN
from .issues import async_clear, async_raise
from .linky_tic import WINDOW_SECONDS, Diagnosis, LineMonitor, Mode, Problem, TariffOption

_LOGGER = logging.getLogger(__name__)

# The line is checked at least this often while nothing arrives: the diagnosis needs a call every minute.
CHECK_INTERVAL: Final = timedelta(seconds=30)
LEARN_MORE_URL: Final = "https://github.com/linky-local/linky_local#troubleshooting"
# Problems of the line's quality: once raised, they clear only when valid frames show a good line again, not while
# the reader waits between two attempts to reopen the port and the line shows nothing either way.
_SHOWN_BY_FRAMES: Final = frozenset(
    {Problem.TTY_NOT_RAW, Problem.DAMAGED_CONTROL, Problem.WRONG_SPEED, Problem.MODE_SWITCHED}
)
_SEVERITY: Final = {
    Problem.SILENT: ir.IssueSeverity.ERROR,
    Problem.WRONG_SPEED: ir.IssueSeverity.ERROR,
    Problem.MODE_SWITCHED: ir.IssueSeverity.ERROR,
    Problem.TTY_NOT_RAW: ir.IssueSeverity.WARNING,
    Problem.TOTAL_INDEX_ONLY: ir.IssueSeverity.WARNING,
}
_NOTICE_LOG: Final = {
    "damaged_control": "%s: the adapter changes some control characters; values are still read (other programs "
    "reading it may lose some): its adjustment screw, the I1/I2 cable or a board's 7E1 setting is the cause",
    "total_index_only": "%s: the meter sends only its total index, as it should on a base contract; a contract with "
    "several periods needs the standard TIC mode (ask the supplier)",
}


@dataclass(slots=True)
class Notice:
    """A line's condition that asks nothing of the household: how often it began, and whether it shows now."""

    times: int = 0
    active: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        """Return the counter as the diagnostics show it."""
        return {"times": self.times, "active": self.active}


@dataclass(frozen=True, slots=True)
class Issue:
    """A repair issue raised for a problem: the translation key that words it."""

    problem: Problem
    translation_key: str


def issue_id(entry_id: str, problem: Problem) -> str:
    """Return the id of a config entry's issue for a problem."""
    return f"{problem}_{entry_id}"


class LineHealth:
    """Watch one meter's line and keep its repair issues in step with what it shows."""

    def __init__(self, hass: HomeAssistant, entry_id: str, name: str, mode: Mode, monitor: LineMonitor) -> None:
        """Watch a line through its monitor (the configured `mode`'s); start before the reader does."""
        self.hass = hass
        self.entry_id = entry_id
        self.name = name
        self.mode = mode
        self.monitor = monitor
        self.issues: dict[Problem, Issue] = {}
        self.diagnosis: Diagnosis | None = None
        self.notices: dict[str, Notice] = {key: Notice() for key in _NOTICE_LOG}

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Start checking the line periodically; return what stops it and clears the issues (the reader stops too)."""
        cancel = async_track_time_interval(
            self.hass, self._periodic_check, CHECK_INTERVAL, name=f"{DOMAIN} line check", cancel_on_shutdown=True
        )

        @callback
        def stop() -> None:
            cancel()
            self._update({})

        return stop

    def frame_received(self, at: float) -> None:
        """Check the line at a frame received at `at` (the loop's time): what it shows clears or raises at once."""
        self._check(at)

    @callback
    def check(self) -> None:
        """Check the line now (after a lost session, and periodically)."""
        self._check(self.hass.loop.time())

    @callback
    def _periodic_check(self, _now: datetime) -> None:
        self.check()

    def _check(self, at: float) -> None:
        self.diagnosis = diagnosis = self.monitor.diagnose(at)
        wanted: dict[Problem, Issue] = {}
        noticed: set[str] = set()
        for problem in diagnosis.problems:
            key = self._translation_key(problem, diagnosis)
            if key in _NOTICE_LOG:
                noticed.add(key)
            else:
                wanted[problem] = Issue(problem, key)
        self._note(noticed)
        # A line problem stays raised while no valid frame came lately: the line has not shown it is good again.
        if diagnosis.without_frame_for >= WINDOW_SECONDS:
            for problem in _SHOWN_BY_FRAMES & self.issues.keys() - wanted.keys():
                wanted[problem] = self.issues[problem]
        self._update(wanted)

    def _note(self, noticed: set[str]) -> None:
        """Count each notice as it begins, and log it the first time."""
        for key, notice in self.notices.items():
            if key in noticed and not notice.active:
                notice.times += 1
                if notice.times == 1:
                    _LOGGER.info(_NOTICE_LOG[key], self.name)
            notice.active = key in noticed

    def _translation_key(self, problem: Problem, diagnosis: Diagnosis) -> str:
        if problem is Problem.MODE_SWITCHED:
            other = Mode.STANDARD if self.mode is Mode.HISTORIC else Mode.HISTORIC
            return f"mode_switched_to_{other}"
        if problem is Problem.TOTAL_INDEX_ONLY and diagnosis.tariff_option not in {None, TariffOption.BASE}:
            return "total_index_only_with_periods"  # an option with periods and only a total: certainly wrong
        return str(problem)

    def _update(self, wanted: dict[Problem, Issue]) -> None:
        """Raise the issues wanted that are not raised yet (or worded otherwise), clear the others."""
        for problem in self.issues.keys() - wanted.keys():
            _LOGGER.debug("%s: %s no more", self.name, problem)
            async_clear(self.hass, issue_id(self.entry_id, problem))
        for problem, issue in wanted.items():
            if self.issues.get(problem) == issue:
                continue
            _LOGGER.debug("%s: %s, repair issue raised", self.name, problem)
            async_raise(
                self.hass,
                issue_id(self.entry_id, problem),
                is_fixable=False,
                learn_more_url=LEARN_MORE_URL,
                severity=_SEVERITY[problem],
                translation_key=issue.translation_key,
                translation_placeholders={"name": self.name},
            )
        self.issues = wanted
