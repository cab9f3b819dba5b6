"""What a UART receives from a TIC line (7E1 at the meter's speed) when it is set to other settings.

A TIC line sends each character as a start bit, 7 data bits (least significant first), an even parity bit and a stop
bit. A receiver waits for a falling edge (a start bit), samples the middle of each bit at its own rate and looks for
the next start bit from the middle of its stop bit. At the right speed and framing the characters come out as sent;
at the wrong speed they come out as garbage, as on a real UART. A receiver set to 8 bits without parity reads the
parity bit as bit 7; one set to odd parity reads the characters whole (a UART that flags a parity error still
delivers the character, as ESP32's does).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

LINE_DATA_BITS: Final = 7


@dataclass(frozen=True, slots=True)
class UartSettings:
    """A receiver's settings: speed, data bits, and whether a parity bit follows them."""

    baudrate: int
    data_bits: int = 8
    parity: bool = False


def line_bits(data: bytes) -> list[int]:
    """Return the levels of the bits a TIC line sends for `data`, 7E1."""
    return [
        level
        for byte in data
        for level in (0, *(byte >> n & 1 for n in range(LINE_DATA_BITS)), (byte & 0x7F).bit_count() & 1, 1)
    ]


def uart_receive(data: bytes, sent_baud: int, settings: UartSettings) -> bytes:
    """Return what a UART with `settings` receives from `data` sent 7E1 at `sent_baud` on an idle line."""
    bits = line_bits(data)
    zeros = [n for n, bit in enumerate(bits) if bit == 0]
    step = sent_baud / settings.baudrate  # one bit read lasts this many bits sent
    frame_bits = settings.data_bits + (1 if settings.parity else 0)

    def level(at: float) -> int:
        return bits[int(at)] if int(at) < len(bits) else 1

    received, at = bytearray(), 0.0
    while (n := bisect.bisect_left(zeros, int(at))) < len(zeros):
        at = max(at, float(zeros[n]))  # the next start bit, or the low level the receiver already sits in
        if level(at + step / 2):
            at = float(zeros[n] + 1)  # a glitch shorter than half a bit: no start bit
            continue
        received.append(sum(level(at + (k + 1.5) * step) << k for k in range(settings.data_bits)))
        at += (frame_bits + 1.5) * step  # the middle of the stop bit
    return bytes(received)
