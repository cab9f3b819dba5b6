"""Constants of the TIC protocol (Enedis-NOI-CPT_54E and 02E)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Mode(StrEnum):
    """TIC mode of a meter."""

    HISTORIC = "historic"
    STANDARD = "standard"


BAUDRATES: Final[dict[Mode, int]] = {Mode.HISTORIC: 1200, Mode.STANDARD: 9600}

STX: Final = 0x02
ETX: Final = 0x03
EOT: Final = 0x04
LF: Final = 0x0A
CR: Final = 0x0D
HT: Final = 0x09
SP: Final = 0x20

# Seconds a meter takes to send one frame, for silence detection (a historic mono frame is about 2 s at 1200 baud,
# a three-phase one longer; a standard three-phase producer frame about 1.5 s at 9600 baud).
FRAME_PERIOD: Final[dict[Mode, float]] = {Mode.HISTORIC: 2.5, Mode.STANDARD: 1.5}
