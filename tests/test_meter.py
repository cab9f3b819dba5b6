"""The meter's serial number and kind, told from one of its frames."""

from __future__ import annotations

import pytest

from custom_components.linky_local.linky_tic import Frame, Group, Mode
from custom_components.linky_local.meter import meter_kind, serial_number


def _frame(mode: Mode, **values: str) -> Frame:
    return Frame(
        mode, {label.replace("_", "-"): Group(label.replace("_", "-"), value) for label, value in values.items()}
    )


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (_frame(Mode.HISTORIC, ADCO="1", BASE="1", IINST="1", PAPP="1"), "historic_single_phase"),
        (_frame(Mode.HISTORIC, ADCO="1", IINST1="1", IINST2="1", IINST3="1", PMAX="1"), "historic_three_phase"),
        (_frame(Mode.HISTORIC, ADCO="1", ADIR2="1", IINST1="1", IINST2="1", IINST3="1"), "historic_three_phase"),
        (_frame(Mode.STANDARD, ADSC="1", EAST="1", IRMS1="1", SINSTS="1"), "standard_single_phase"),
        (_frame(Mode.STANDARD, ADSC="1", IRMS1="1", IRMS2="1", SINSTS1="1"), "standard_three_phase"),
        (_frame(Mode.STANDARD, ADSC="1", EAST="1", EAIT="1", SINSTI="1"), "standard_single_phase_producer"),
        (_frame(Mode.STANDARD, ADSC="1", URMS3="1", SMAXIN_1="1"), "standard_three_phase_producer"),
    ],
    ids=[
        "historic",
        "historic-three-phase",
        "historic-three-phase-short-frame",
        "standard",
        "standard-three-phase",
        "producer",
        "three-phase-producer",
    ],
)
def test_meter_kind(frame: Frame, kind: str) -> None:
    """Phases and production show in the labels; the mode is the frame's."""
    assert meter_kind(frame).translation_key == kind


def test_serial_number() -> None:
    """ADSC in standard mode, ADCO in historic mode; a frame whose group was corrupted has none."""
    assert serial_number(_frame(Mode.STANDARD, ADSC="021861348497", EAST="1")) == "021861348497"
    assert serial_number(_frame(Mode.HISTORIC, ADCO="021861348497", BASE="1")) == "021861348497"
    assert serial_number(_frame(Mode.STANDARD, EAST="1")) is None
