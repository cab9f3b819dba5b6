"""Encode groups into TIC frames, as a meter sends them."""

from __future__ import annotations

from collections.abc import Iterable

from linky_tic.checksum import checksum
from linky_tic.const import CR, ETX, LF, STX, Mode
from linky_tic.frame import Group


def encode_group(mode: Mode, group: Group, *, historic_method: int = 1) -> bytes:
    """Encode one group with its checksum, LF and CR included."""
    if mode is Mode.STANDARD:
        fields = [group.label]
        if group.horodate is not None:
            fields.append(group.horodate.raw)
        fields.append(group.value)
        covered = ("\t".join(fields) + "\t").encode("ascii")
        body = covered + bytes([checksum(covered)])
    else:
        text = f"{group.label} {group.value}".encode("ascii")
        covered = text if historic_method == 1 else text + b" "
        body = text + b" " + bytes([checksum(covered)])
    return bytes([LF]) + body + bytes([CR])


def encode_frame(mode: Mode, groups: Iterable[Group], *, historic_method: int = 1) -> bytes:
    """Encode a whole frame, STX to ETX."""
    body = b"".join(encode_group(mode, group, historic_method=historic_method) for group in groups)
    return bytes([STX]) + body + bytes([ETX])
