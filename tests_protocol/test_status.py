"""The STGE status register."""

from __future__ import annotations

from dataclasses import asdict

from hypothesis import given, strategies as st
import pytest

from linky_tic import Mode
from linky_tic.interpret import TempoColour
from linky_tic.status import CutOff, EuridisOutput, PlcStatus, Status
from linky_tools.encoder import status_register

# Each field, as the reference's worked example 013A0501 reads and as a register with every bit set reads.
FIELDS = {
    "dry_contact_open": (True, True),
    "cut_off": (CutOff.CLOSED, CutOff.RESERVED),
    "terminal_cover_open": (False, True),
    "over_voltage": (False, True),
    "reference_power_exceeded": (False, True),
    "producer": (True, True),
    "energy_negative": (False, True),
    "supplier_index": (2, 16),
    "distributor_index": (1, 4),
    "clock_degraded": (False, True),
    "tic_mode": (Mode.STANDARD, Mode.STANDARD),
    "euridis": (EuridisOutput.ON_SECURED, EuridisOutput.ON_SECURED),
    "plc": (PlcStatus.NEW_LOCKED, PlcStatus.RESERVED),
    "plc_synchronised": (False, True),
    "tempo_today": (TempoColour.BLUE, TempoColour.RED),
    "tempo_tomorrow": (TempoColour.UNKNOWN, TempoColour.RED),
    "mobile_peak_notice": (0, 3),
    "mobile_peak": (0, 3),
}


@pytest.mark.parametrize(("register", "column"), [("013A0501", 0), ("FFFFFFFF", 1)], ids=["worked_example", "all_set"])
def test_whole_register(register: str, column: int) -> None:
    assert asdict(Status.parse(register)) == {field: values[column] for field, values in FIELDS.items()}


def test_every_field_at_its_place() -> None:
    # Bits 5 and 18 carry nothing.
    assert Status.parse("00040020") == Status.parse("00000000")
    assert Status.parse("00000000").tic_mode is Mode.HISTORIC
    assert Status.parse("00000004").cut_off is CutOff.OVER_VOLTAGE
    assert Status.parse("00008000").distributor_index == 3
    assert Status.parse("00002400").supplier_index == 10
    assert Status.parse("00400000").plc is PlcStatus.REGISTERED
    assert Status.parse("00080000").euridis is EuridisOutput.ON_UNSECURED
    assert Status.parse("08000000").tempo_tomorrow is TempoColour.WHITE
    assert Status.parse("10000000").mobile_peak_notice == 1
    assert Status.parse("80000000").mobile_peak == 2


@pytest.mark.parametrize("value", ["", "013A050", "013A05010", "013A05G1", "0x3A0501", "\uff1013A0501", " 13A0501"])
def test_not_a_register(value: str) -> None:
    assert Status.parse(value) is None


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_round_trip(register: int) -> None:
    register &= ~((1 << 5) | (1 << 18))  # unused bits
    value = f"{register:08X}"
    status = Status.parse(value)
    assert status is not None
    assert status_register(status) == value
    assert Status.parse(value.lower()) == status
