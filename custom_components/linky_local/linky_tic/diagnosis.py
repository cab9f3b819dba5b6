"""Diagnose a TIC line from what arrives on it, in terms a user can act on.

A LineMonitor wraps the reader's decoder: it is fed the same bytes, with the time they arrived, and tells which
problems the line shows now. Each problem clears by itself once the line no longer shows it: silence at the next
byte, the wrong speed or the other mode at the next valid frame, a tty not in raw mode or an adapter that damages
control bytes once a window passes without their symptoms, a total-only Linky at the first frame with per-period
indexes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from .const import Mode
from .decoder import Decoder, DecoderStats
from .frame import Frame
from .guard import INDEX_LABELS
from .interpret import MeterAddress, TariffOption, tariff_option

# Seconds without a byte before the line counts as silent: the meter, its dongle or ser2net is gone.
SILENCE_SECONDS: Final = 600.0
# Seconds of evidence the line-quality problems are judged over: about 25 historic frames, 40 standard ones.
WINDOW_SECONDS: Final = 60.0
# The window moves in steps of this many seconds (a snapshot of the counters per step).
SNAPSHOT_SECONDS: Final = 5.0
# Bytes received in a window without any valid frame for the line to look like the wrong speed (two short frames).
GARBAGE_BYTES: Final = 256
# Frames that must show a symptom, and the share of frames showing it, before it is reported: a tty not in raw
# mode marks every frame, while noise (even a burst after every frame, its STX cut by the next one) marks fewer.
EVIDENCE_FRAMES: Final = 3
EVIDENCE_SHARE: Final = 0.8
# Long historic frames in a row carrying only the total index before a Linky is said to send only that.
TOTAL_ONLY_FRAMES: Final = 3
_TOTAL_INDEX: Final = "BASE"


class Problem(StrEnum):
    """What is wrong with a line, for a repair issue."""

    SILENT = "silent"  # no byte for SILENCE_SECONDS: the dongle, its cable, the meter's TIC output, ser2net
    TTY_NOT_RAW = "tty_not_raw"  # CR turned into LF, or ETX swallowed: a tty between the meter and us is not raw
    WRONG_SPEED = "wrong_speed"  # bytes but no valid frame: the wrong speed (the meter may have switched mode)
    MODE_SWITCHED = "mode_switched"  # valid frames, of the other mode than the one configured
    TOTAL_INDEX_ONLY = "total_index_only"  # a Linky in historic mode sending only the total index (see Diagnosis)
    # Groups read behind another control byte than LF, or frames without STX: the adapter changes control bytes
    DAMAGED_CONTROL = "damaged_control"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The problems a line shows now, and what a repair needs to word them.

    TOTAL_INDEX_ONLY cannot be told apart with certainty from a genuine base contract: a Linky in historic mode
    whose contract has periods historic mode cannot show (a supplier's own peak/off-peak or week-end calendar)
    sends OPTARIF BASE, the BASE index (the sum of its indexes) and PTEC TH.., exactly as on a base contract. Only
    the user knows their contract: word the repair "if your contract has several tariff periods". `tariff_option`
    is the option the meter announces; any option other than BASE with only the total index is certainly wrong.
    """

    problems: frozenset[Problem]
    silent_for: float  # seconds since the last byte (or since monitoring started)
    without_frame_for: float  # seconds since the last valid frame (or since monitoring started)
    tariff_option: TariffOption | None = None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    at: float
    stats: DecoderStats


class LineMonitor:
    """Watch one line through its decoder; keep one monitor, and one decoder, across reconnections."""

    def __init__(self, decoder: Decoder, at: float) -> None:
        """Start watching at `at` seconds (time.monotonic(), or any clock that follows the line's time)."""
        self.decoder = decoder
        self.received = 0
        self._started = at
        self._last_byte_at: float | None = None
        self._last_frame_at: float | None = None
        self._since_frame = (0, decoder.stats.other_mode_frames)  # bytes received, other-mode frames: at the last
        self._snapshots: deque[_Snapshot] = deque([self._snapshot(at)])
        self._linky = False
        self._total_only = 0
        self._tariff_option: TariffOption | None = None

    @property
    def last_frame_at(self) -> float | None:
        """Return when the last valid frame came (seconds on the monitor's clock), None before the first."""
        return self._last_frame_at

    def feed(self, data: bytes, at: float) -> list[Frame]:
        """Decode bytes received at `at` seconds; return the frames they completed."""
        frames = self.decoder.feed(data)
        self.note(len(data), frames, at)
        return frames

    def note(self, count: int, frames: list[Frame], at: float) -> None:
        """Note what one read brought at `at` seconds: `count` bytes and the valid frames they completed.

        For a reader that feeds the decoder itself.
        """
        if count:
            self.received += count
            self._last_byte_at = at
        for frame in frames:
            self._last_frame_at = at
            self._since_frame = (self.received, self.decoder.stats.other_mode_frames)
            self._follow_indexes(frame)
        self._step(at)

    def diagnose(self, at: float) -> Diagnosis:
        """Tell which problems the line shows at `at` seconds; call it at least every minute while nothing arrives."""
        self._step(at)
        silent_for = at - (self._last_byte_at if self._last_byte_at is not None else self._started)
        without_frame_for = at - (self._last_frame_at if self._last_frame_at is not None else self._started)
        problems: set[Problem] = set()
        if self._total_only >= TOTAL_ONLY_FRAMES:
            problems.add(Problem.TOTAL_INDEX_ONLY)
        if silent_for >= SILENCE_SECONDS:
            problems.add(Problem.SILENT)
        else:
            problems |= self._line_problems(silent_for, without_frame_for)
        tariff = self._tariff_option if Problem.TOTAL_INDEX_ONLY in problems else None
        return Diagnosis(frozenset(problems), silent_for, without_frame_for, tariff)

    def _line_problems(self, silent_for: float, without_frame_for: float) -> set[Problem]:
        """Judge the tty symptoms over the last window, and what arrived since the last valid frame."""
        base, now = self._snapshots[0].stats, self.decoder.stats
        valid = now.frames - base.frames
        endings = valid + now.empty_frames - base.empty_frames
        problems: set[Problem] = set()
        for symptom in (
            now.unterminated_frames - base.unterminated_frames,
            now.lf_terminated_frames - base.lf_terminated_frames,
        ):
            # Valid frames must show it: garbage read at the wrong speed has no CR and no ETX either.
            if min(valid, symptom) >= EVIDENCE_FRAMES and symptom >= EVIDENCE_SHARE * endings:
                problems.add(Problem.TTY_NOT_RAW)
        # Noise that turns an LF into another control byte also damages far more data bytes: the adapter is to blame
        # only when what it changed outnumbers the groups lost to bad checksums.
        damaged = _grown(base, now, "damaged_separator_groups", "frames_without_stx")
        lost = _grown(base, now, "checksum_errors", "malformed_groups")
        if min(valid, damaged) >= EVIDENCE_FRAMES and damaged > lost:
            problems.add(Problem.DAMAGED_CONTROL)
        if without_frame_for < WINDOW_SECONDS or silent_for >= WINDOW_SECONDS:
            return problems  # a valid frame lately, or nothing at all
        received, other_mode_frames = self._since_frame
        if now.other_mode_frames - other_mode_frames >= EVIDENCE_FRAMES:
            problems.add(Problem.MODE_SWITCHED)
        elif self.received - received >= GARBAGE_BYTES:
            problems.add(Problem.WRONG_SPEED)
        return problems

    def _follow_indexes(self, frame: Frame) -> None:
        """Count the long historic frames in a row whose only index is the total, from a Linky."""
        if frame.mode is Mode.STANDARD:
            self._total_only = 0
            return
        if (adco := frame.value("ADCO")) is not None:
            address = MeterAddress.parse(adco)
            self._linky = address is not None and (address.model or "").startswith("Linky")
        if (optarif := frame.value("OPTARIF")) is not None:
            self._tariff_option = tariff_option(optarif)
        indexes = frame.groups.keys() & INDEX_LABELS[Mode.HISTORIC]
        if not indexes:
            return  # a short frame, or every index dropped by its checksum: it says nothing
        self._total_only = self._total_only + 1 if self._linky and indexes == {_TOTAL_INDEX} else 0

    def _step(self, at: float) -> None:
        """Take a snapshot every SNAPSHOT_SECONDS; keep the last one at least a window old, and those after it."""
        if at - self._snapshots[-1].at >= SNAPSHOT_SECONDS:
            self._snapshots.append(self._snapshot(at))
        while len(self._snapshots) > 1 and self._snapshots[1].at <= at - WINDOW_SECONDS:
            self._snapshots.popleft()

    def _snapshot(self, at: float) -> _Snapshot:
        return _Snapshot(at, replace(self.decoder.stats))


def _grown(base: DecoderStats, now: DecoderStats, *counters: str) -> int:
    """Return how much the counters grew together since `base`."""
    return sum(getattr(now, counter) - getattr(base, counter) for counter in counters)
