"""What the decoder emits: groups and frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from .const import Mode
from .horodate import Horodate

# Historic three-phase meters send short frames of only these labels while a phase is over its limit.
SHORT_FRAME_LABELS: Final = frozenset({"ADCO", "ADIR1", "ADIR2", "ADIR3", "IINST1", "IINST2", "IINST3"})


def decimal(value: str) -> int | None:
    """Return a value written in ASCII decimal digits as a number; None for anything else (signs, spaces, "½"...)."""
    return int(value) if value.isascii() and value.isdigit() else None


@dataclass(frozen=True, slots=True)
class Group:
    """One valid data group: label, value kept byte-exact, optional horodate."""

    label: str
    value: str
    horodate: Horodate | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete frame: its valid groups in the order the meter sent them."""

    mode: Mode
    groups: dict[str, Group] = field(default_factory=dict)

    def value(self, label: str) -> str | None:
        """Return the value of a label, or None when the frame does not carry it."""
        group = self.groups.get(label)
        return None if group is None else group.value

    @property
    def is_short(self) -> bool:
        """Tell whether this is a historic three-phase short frame: it updates what it carries, nothing else vanished.

        A short frame carries ADIRn only for the phases over their limit, and none in the minute after the overrun
        while short frames go on; so any historic frame made only of short-frame labels is one.
        """
        return self.mode is Mode.HISTORIC and self.groups.keys() <= SHORT_FRAME_LABELS
