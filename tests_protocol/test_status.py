"""The STGE status register."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.linky_local.tic import Mode
from custom_components.linky_local.tic.interpret import TempoColour
from custom_components.linky_local.tic.status import CutOff, EuridisOutput, PlcStatus, Status


def test_worked_example_of_the_reference() -> None:
    assert Status.parse("013A0501") == Status(
        dry_contact_open=True,
        cut_off=CutOff.CLOSED,
        terminal_cover_open=False,
        over_voltage=False,
        reference_power_exceeded=False,
        producer=True,
        energy_negative=False,
        supplier_index=2,
        distributor_index=1,
        clock_degraded=False,
        tic_mode=Mode.STANDARD,
        euridis=EuridisOutput.ON_SECURED,
        plc=PlcStatus.NEW_LOCKED,
        plc_synchronised=False,
        tempo_today=TempoColour.BLUE,
        tempo_tomorrow=TempoColour.UNKNOWN,
        mobile_peak_notice=0,
        mobile_peak=0,
    )


def test_every_field_at_its_place() -> None:
    status = Status.parse("FFFFFFFF")
    assert status == Status(
        dry_contact_open=True,
        cut_off=CutOff.RESERVED,
        terminal_cover_open=True,
        over_voltage=True,
        reference_power_exceeded=True,
        producer=True,
        energy_negative=True,
        supplier_index=16,
        distributor_index=4,
        clock_degraded=True,
        tic_mode=Mode.STANDARD,
        euridis=EuridisOutput.ON_SECURED,
        plc=PlcStatus.RESERVED,
        plc_synchronised=True,
        tempo_today=TempoColour.RED,
        tempo_tomorrow=TempoColour.RED,
        mobile_peak_notice=3,
        mobile_peak=3,
    )
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
    assert status.register() == value
    assert Status.parse(value.lower()) == status
