"""The corrupted-index guard: an energy index no meter could have reached is never published.

The 6-bit checksum lets about one corrupted group in 64 through, so an index can be wrong with a valid checksum. An
index only grows, and no faster than power flows through the meter: a value that goes backwards, or forward by more
than that power could deliver since the last accepted value (with a margin), is rejected and counted. A genuine
discontinuity (a meter replaced, an index reset) is accepted once DISCONTINUITY_FRAMES values in a row agree with each
other.

Which power depends on the index. A withdrawn index grows no faster than the cut-off power (PCOUP, else PREF; ISOUSC
in historic mode). An injected index (EAIT) grows no faster than the power injected, which the cut-off does not bound
(a producer may withdraw 1 kVA at most and inject 1.6): the meter's highest injected power of today and yesterday
(SMAXIN, SMAXIN-1) bounds it, and after a gap the first frame's SMAXIN already counts the gap. A reactive index
(ERQ1..4) is bounded by the apparent power either way, so by the larger of the two.

Keep one guard per meter for as long as the meter is configured, across reconnections: after an outage the first
value is checked against the last one accepted before it, over the time elapsed. A new guard (Home Assistant
restarted) has nothing to compare with, so a first value waits for the next one to agree before it is published.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
import logging
from typing import Final

from .catalogue import CATALOGUE, INDEX_QUANTITIES, THREE_PHASE_LABELS, Quantity
from .const import Mode
from .frame import Frame, decimal

_LOGGER = logging.getLogger(__name__)

# Real power may exceed the cut-off for a while before the meter (or an older meter's breaker) trips.
MARGIN_FACTOR: Final = 1.5
# Seconds of consumption added to every elapsed time: a frame's values are read while it is sent (up to about 3 s),
# and a serial adapter or ser2net may deliver frames late and bunched together.
LATENCY_SECONDS: Final = 10.0
# Indexes are whole Wh, truncated at both ends of a step.
ROUNDING_WH: Final = 2
# Values in a row that must agree before a first value, or a discontinuity, is published.
FIRST_VALUE_FRAMES: Final = 2
DISCONTINUITY_FRAMES: Final = 3
# Until a frame says otherwise: the most a household connection (tariff blue, up to 36 kVA) may subscribe, and the
# most such a connection may inject (a producer's connection in low voltage is 36 kVA at most, too).
DEFAULT_MAX_POWER_VA: Final = 36_000
DEFAULT_MAX_INJECTION_VA: Final = DEFAULT_MAX_POWER_VA
# Historic mode gives the subscribed current (ISOUSC, per phase): 5 A per subscribed kVA.
VA_PER_SUBSCRIBED_AMP: Final = 200

INDEX_LABELS: Final[dict[Mode, frozenset[str]]] = {
    mode: frozenset(label for label, spec in specs.items() if spec.quantity in INDEX_QUANTITIES)
    for mode, specs in CATALOGUE.items()
}
_INJECTED: Final = frozenset(
    label for specs in CATALOGUE.values() for label, spec in specs.items() if spec.quantity is Quantity.ENERGY_RETURNED
)
_REACTIVE: Final = frozenset(
    label for specs in CATALOGUE.values() for label, spec in specs.items() if spec.quantity is Quantity.REACTIVE_ENERGY
)
_INJECTION_POWERS: Final = ("SMAXIN", "SMAXIN-1")


class Verdict(StrEnum):
    """What the guard decided about one index value."""

    ACCEPT = "accept"
    ACCEPT_DISCONTINUITY = "accept_discontinuity"  # agreed on by DISCONTINUITY_FRAMES values in a row
    PENDING = "pending"  # a first value, waiting for the next one to agree
    REJECT_BACKWARDS = "reject_backwards"
    REJECT_JUMP = "reject_jump"
    REJECT_MALFORMED = "reject_malformed"  # not a number

    @property
    def published(self) -> bool:
        """Tell whether the value may be published."""
        return self in {Verdict.ACCEPT, Verdict.ACCEPT_DISCONTINUITY}


@dataclass(slots=True)
class GuardStats:
    """What the guard decided, for diagnostics: every value checked lands in exactly one counter."""

    accepted: int = 0  # published
    discontinuities: int = 0  # published once agreed on: a meter replaced, an index reset
    pending: int = 0  # first values, waiting for the next one to agree
    rejected_backwards: int = 0  # lower than the last published
    rejected_jump: int = 0  # more than the power allowance could add
    rejected_malformed: int = 0  # not a number

    @property
    def rejected(self) -> int:
        """Return the values not published because they were wrong."""
        return self.rejected_backwards + self.rejected_jump + self.rejected_malformed

    def as_dict(self) -> dict[str, int]:
        """Return the counters as a plain dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Reading:
    wh: int
    at: float


@dataclass(slots=True)
class _Index:
    """One label's state: the value last published, and the run of rejected values that agree with each other."""

    accepted: _Reading | None = None
    candidate: _Reading | None = None
    agreeing: int = 0


def max_power_va(frame: Frame) -> int | None:
    """Return the most power the meter lets through, in VA, from its frame; None when the frame does not say.

    Standard mode: the cut-off power PCOUP (else the subscribed PREF), in kVA. Historic mode: the subscribed current
    ISOUSC times 200 V, times three on a three-phase meter (ISOUSC is per phase).
    """
    if frame.mode is Mode.STANDARD:
        kva = _positive(frame.value("PCOUP")) or _positive(frame.value("PREF"))
        return None if kva is None else kva * 1000
    if (amps := _positive(frame.value("ISOUSC"))) is None:
        return None
    three_phase = not THREE_PHASE_LABELS.isdisjoint(frame.groups)
    return amps * VA_PER_SUBSCRIBED_AMP * (3 if three_phase else 1)


def max_injection_va(frame: Frame) -> int | None:
    """Return the highest power the meter injected today or yesterday (SMAXIN, SMAXIN-1), in VA; None when unknown."""
    powers = [power for label in _INJECTION_POWERS if (power := _positive(frame.value(label))) is not None]
    return max(powers, default=None)


def _positive(value: str | None) -> int | None:
    number = None if value is None else decimal(value)
    return number or None


class IndexGuard:
    """Decide, index by index, which values may be published; one state per label."""

    def __init__(self, max_power_va: int | None = None, max_injection_va: int | None = None) -> None:
        """Start with no value accepted; the power limits are the defaults until a frame gives the meter's."""
        self.max_power_va = max_power_va or DEFAULT_MAX_POWER_VA
        self.max_injection_va = max_injection_va or DEFAULT_MAX_INJECTION_VA
        self.stats = GuardStats()
        self._indexes: dict[str, _Index] = {}

    def allowance(self, elapsed: float, label: str | None = None) -> int:
        """Return the most an index (by default a withdrawn one) may grow in `elapsed` seconds, in Wh.

        The index's maximum power times MARGIN_FACTOR over the elapsed time plus LATENCY_SECONDS, plus ROUNDING_WH:
        e.g. 45 Wh for 9 kVA and 1.5 s between two frames. A negative elapsed time (a clock set back) counts as none.
        """
        if label in _INJECTED:
            power = self.max_injection_va
        elif label in _REACTIVE:
            power = max(self.max_power_va, self.max_injection_va)
        else:
            power = self.max_power_va
        seconds = max(elapsed, 0.0) + LATENCY_SECONDS
        return int(power * MARGIN_FACTOR * seconds / 3600) + ROUNDING_WH

    def value(self, label: str) -> int | None:
        """Return the last value published for a label, None before the first."""
        index = self._indexes.get(label)
        return None if index is None or index.accepted is None else index.accepted.wh

    def check_frame(self, frame: Frame, at: float) -> dict[str, Verdict]:
        """Check every index a frame carries, at `at` seconds; take the frame's power limits first when it gives them."""
        if (power := max_power_va(frame)) is not None:
            self.max_power_va = power
        if (injected := max_injection_va(frame)) is not None:
            self.max_injection_va = injected
        indexes = INDEX_LABELS[frame.mode]
        return {label: self.check(label, group.value, at) for label, group in frame.groups.items() if label in indexes}

    def check(self, label: str, value: str, at: float) -> Verdict:
        """Check one index value (the group's text, in Wh or varh) received at `at` seconds.

        `at` is any clock in seconds that follows the meter's time: time.monotonic(), or a simulated meter's clock
        in an accelerated test. A value that is not a number is rejected without touching the label's state, as if
        the checksum had dropped its group.
        """
        if (wh := decimal(value)) is None:
            self.stats.rejected_malformed += 1
            _LOGGER.debug("%s: %r is not an index; not published", label, value)
            return Verdict.REJECT_MALFORMED
        index = self._indexes.setdefault(label, _Index())
        accepted = index.accepted
        if accepted is not None and self._agrees(label, accepted, wh, at):
            self._accept(index, wh, at)
            self.stats.accepted += 1
            return Verdict.ACCEPT
        if index.candidate is not None and self._agrees(label, index.candidate, wh, at):
            index.agreeing += 1
        else:
            index.agreeing = 1
        index.candidate = _Reading(wh, at)
        if accepted is None:
            if index.agreeing >= FIRST_VALUE_FRAMES:
                self._accept(index, wh, at)
                self.stats.accepted += 1
                return Verdict.ACCEPT
            self.stats.pending += 1
            return Verdict.PENDING
        if index.agreeing >= DISCONTINUITY_FRAMES:
            self._accept(index, wh, at)
            self.stats.discontinuities += 1
            _LOGGER.debug(
                "%s: %s Wh agreed on by %s frames, accepted (was %s Wh)", label, wh, index.agreeing, accepted.wh
            )
            return Verdict.ACCEPT_DISCONTINUITY
        if wh < accepted.wh:
            self.stats.rejected_backwards += 1
            verdict = Verdict.REJECT_BACKWARDS
        else:
            self.stats.rejected_jump += 1
            verdict = Verdict.REJECT_JUMP
        _LOGGER.debug(
            "%s: %s Wh not published (%s): %s Wh accepted %.1f s before, at most %s Wh more",
            label,
            wh,
            verdict,
            accepted.wh,
            at - accepted.at,
            self.allowance(at - accepted.at, label),
        )
        return verdict

    def _agrees(self, label: str, reading: _Reading, wh: int, at: float) -> bool:
        """Tell whether `wh` can follow `reading`: not lower, and not more than the label's allowance higher."""
        return 0 <= wh - reading.wh <= self.allowance(at - reading.at, label)

    @staticmethod
    def _accept(index: _Index, wh: int, at: float) -> None:
        index.accepted = _Reading(wh, at)
        index.candidate = None
        index.agreeing = 0
