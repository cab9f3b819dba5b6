"""The last trustworthy value of every label a meter still sends, kept up to date frame after frame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .linky_tic import IDENTIFIER_LABELS, SHORT_FRAME_LABELS, Frame, Group, IndexGuard

# A label missing from this many frames in a row that could have carried it is no longer sent: a group dropped for
# a bad checksum, or a long frame between short ones, does not make it vanish.
FRAMES_BEFORE_GONE: Final = 3


class MeterValues:
    """What a meter says now: for each label it still sends, its last trustworthy group.

    An energy index is trustworthy once the index guard lets it through: a value that got past the checksum corrupted
    never reaches the energy dashboard.
    """

    def __init__(self) -> None:
        """Start with nothing received."""
        self.guard = IndexGuard()
        self.seen: set[str] = set()
        self._groups: dict[str, Group] = {}
        self._missed: dict[str, int] = {}

    @property
    def groups(self) -> Mapping[str, Group]:
        """Return the label's group for each label the meter still sends."""
        return self._groups

    def apply(self, frame: Frame, at: float) -> bool:
        """Take in a frame received at `at` (monotonic seconds): update what it carries, forget what is gone.

        Tell whether the labels the meter sends changed: one appeared, or one is gone.
        """
        carried = frame.groups
        self.seen.update(carried)
        changed = False
        # A short frame carries only its own few labels: it says nothing about the others.
        expected = SHORT_FRAME_LABELS if frame.is_short else None
        for label in [label for label in self._groups if label not in carried]:
            if expected is not None and label not in expected:
                continue
            self._missed[label] = missed = self._missed.get(label, 0) + 1
            if missed >= FRAMES_BEFORE_GONE:
                del self._groups[label], self._missed[label]
                changed = True
        verdicts = self.guard.check_frame(frame, at)
        for label, group in carried.items():
            self._missed.pop(label, None)
            if label in IDENTIFIER_LABELS:
                continue  # the serial number and the PRM: nothing shows them, so nothing keeps them
            if label not in verdicts or verdicts[label].published:
                if label not in self._groups:
                    changed = True
                self._groups[label] = group
        return changed
