"""What a frame tells about the meter that sent it: its serial number and its kind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .linky_tic import PRODUCER_LABELS, THREE_PHASE_LABELS, Frame, Mode


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
    def translation_key(self) -> str:
        """Return the key of the kind's words among the device translations, e.g. `standard_three_phase_producer`."""
        words = [str(self.mode), "three_phase" if self.three_phase else "single_phase"]
        if self.producer:
            words.append("producer")
        return "_".join(words)


def kind_of(mode: Mode, labels: Iterable[str]) -> MeterKind:
    """Tell a meter's kind from the labels it sends: phases and production show in them."""
    sent = frozenset(labels)
    return MeterKind(
        mode=mode, three_phase=not THREE_PHASE_LABELS.isdisjoint(sent), producer=bool(PRODUCER_LABELS & sent)
    )


def meter_kind(frame: Frame) -> MeterKind:
    """Tell the meter's kind from the labels of one of its frames."""
    return kind_of(frame.mode, frame.groups.keys())
