"""The UART model the fake ESPHome device decodes its line with: right settings give the line back, wrong ones garbage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linky_tic import Decoder, Mode
from linky_tools.simulator import Profile, SimulatedMeter
from linky_tools.uart import UartSettings, uart_receive

START = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)
LINE = {Mode.HISTORIC: (Profile.HISTORIC_BASE, 1200), Mode.STANDARD: (Profile.STANDARD_MONO, 9600)}


def _frames(mode: Mode, count: int = 3) -> bytes:
    profile, _ = LINE[mode]
    meter = SimulatedMeter(profile, start=START, seed=0)
    return b"".join(meter.next_frame() for _ in range(count))


@pytest.mark.parametrize("mode", list(Mode))
def test_the_right_settings_give_the_line_back(mode: Mode) -> None:
    data = _frames(mode)
    baud = LINE[mode][1]
    assert uart_receive(data, baud, UartSettings(baud, 7, parity=True)) == data


@pytest.mark.parametrize("mode", list(Mode))
def test_eight_bits_without_parity_read_the_parity_in_bit_7(mode: Mode) -> None:
    data = _frames(mode)
    baud = LINE[mode][1]
    received = uart_receive(data, baud, UartSettings(baud, 8, parity=False))
    assert received == bytes(byte | (byte.bit_count() & 1) << 7 for byte in data)
    assert len(Decoder(mode).feed(received)) == 3  # the decoder strips it


@pytest.mark.parametrize("mode", list(Mode))
def test_the_other_speed_is_garbage(mode: Mode) -> None:
    data = _frames(mode, 10)
    baud = LINE[mode][1]
    other = 1200 if baud == 9600 else 9600
    received = uart_receive(data, baud, UartSettings(other, 7, parity=True))
    assert received
    assert received != data
    assert Decoder().feed(received) == []
