"""The STGE status register of standard mode: 32 bits written in hexadecimal, decoded into typed fields."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Self

from .const import Mode
from .interpret import TempoColour

_HEX_DIGITS: Final = frozenset("0123456789ABCDEFabcdef")
_TEMPO_CODES: Final = (TempoColour.UNKNOWN, TempoColour.BLUE, TempoColour.WHITE, TempoColour.RED)


class CutOff(IntEnum):
    """State of the cut-off device (bits 1-3): closed, or why it opened."""

    CLOSED = 0
    OVER_POWER = 1
    OVER_VOLTAGE = 2
    LOAD_SHEDDING = 3
    REMOTE_ORDER = 4
    OVERHEATING_OVER_IMAX = 5
    OVERHEATING_UNDER_IMAX = 6
    RESERVED = 7  # not defined by the specification


class EuridisOutput(IntEnum):
    """State of the Euridis (optical port) output (bits 19-20)."""

    OFF = 0
    ON_UNSECURED = 1
    RESERVED = 2  # not defined by the specification
    ON_SECURED = 3


class PlcStatus(IntEnum):
    """State of the power-line carrier (CPL) link (bits 21-22)."""

    NEW_UNLOCKED = 0
    NEW_LOCKED = 1
    REGISTERED = 2
    RESERVED = 3  # not defined by the specification


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """Every field of STGE; `mobile_peak_notice` and `mobile_peak` are 0 (none) or the period number 1..3."""

    dry_contact_open: bool = False
    cut_off: CutOff = CutOff.CLOSED
    terminal_cover_open: bool = False
    over_voltage: bool = False
    reference_power_exceeded: bool = False
    producer: bool = False
    energy_negative: bool = False
    supplier_index: int = 1
    distributor_index: int = 1
    clock_degraded: bool = False
    tic_mode: Mode = Mode.STANDARD
    euridis: EuridisOutput = EuridisOutput.ON_SECURED
    plc: PlcStatus = PlcStatus.NEW_LOCKED
    plc_synchronised: bool = False
    tempo_today: TempoColour = TempoColour.UNKNOWN
    tempo_tomorrow: TempoColour = TempoColour.UNKNOWN
    mobile_peak_notice: int = 0
    mobile_peak: int = 0

    @classmethod
    def parse(cls, value: str) -> Self | None:
        """Decode an 8-digit hexadecimal STGE value; None when it is not one."""
        if len(value) != 8 or not set(value) <= _HEX_DIGITS:
            return None
        reg = int(value, 16)

        def bits(first: int, count: int) -> int:
            return (reg >> first) & ((1 << count) - 1)

        return cls(
            dry_contact_open=bool(bits(0, 1)),
            cut_off=CutOff(bits(1, 3)),
            terminal_cover_open=bool(bits(4, 1)),
            over_voltage=bool(bits(6, 1)),
            reference_power_exceeded=bool(bits(7, 1)),
            producer=bool(bits(8, 1)),
            energy_negative=bool(bits(9, 1)),
            supplier_index=bits(10, 4) + 1,
            distributor_index=bits(14, 2) + 1,
            clock_degraded=bool(bits(16, 1)),
            tic_mode=Mode.STANDARD if bits(17, 1) else Mode.HISTORIC,
            euridis=EuridisOutput(bits(19, 2)),
            plc=PlcStatus(bits(21, 2)),
            plc_synchronised=bool(bits(23, 1)),
            tempo_today=_TEMPO_CODES[bits(24, 2)],
            tempo_tomorrow=_TEMPO_CODES[bits(26, 2)],
            mobile_peak_notice=bits(28, 2),
            mobile_peak=bits(30, 2),
        )
