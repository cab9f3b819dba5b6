"""What a frame tells about the meter that sent it: its serial number and its kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .tic import Frame, Mode
from .tic.catalogue import PRODUCER_LABELS, THREE_PHASE_LABELS

# The meter's names in the words Enedis uses: French, like the meter itself.
_MODE_NAMES: Final = {Mode.HISTORIC: "historique", Mode.STANDARD: "standard"}


def serial_number(frame: Frame) -> str | None:
    """Return the meter's serial number (ADSC in standard mode, ADCO in historic mode), personal data."""
    return frame.value("ADSC") or frame.value("ADCO")


@dataclass(frozen=True, slots=True)
class MeterKind:
    """The kind of meter a frame comes from."""

    mode: Mode
    three_phase: bool
    producer: bool

    @property
    def name(self) -> str:
        """Return a name that tells the meter apart without its serial number, e.g. "Linky triphasé (standard)"."""
        words = ["Linky", "triphasé" if self.three_phase else "monophasé"]
        if self.producer:
            words.append("producteur")
        return f"{' '.join(words)} ({_MODE_NAMES[self.mode]})"


def meter_kind(frame: Frame) -> MeterKind:
    """Tell the meter's kind from the labels of one of its frames."""
    labels = frame.groups.keys()
    return MeterKind(
        mode=frame.mode,
        three_phase=not THREE_PHASE_LABELS.isdisjoint(labels),
        producer=not PRODUCER_LABELS.isdisjoint(labels),
    )
