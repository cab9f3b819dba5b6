"""Streaming TIC decoder: bytes in, any chunking, frames out. It never raises on input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
import re
from typing import Final

from .checksum import checksum, checksum_of_sum
from .const import CR, EOT, ETX, HT, LF, SP, STX, Mode
from .frame import Frame, Group
from .horodate import parse_horodate

# Masks every byte to 7 bits: a port opened 8N1 on the 7E1 line reads the parity in bit 7.
_SEVEN_BITS: Final = bytes(b & 0x7F for b in range(256))
_CONTROL: Final = re.compile(rb"[\x02\x03\x04]")
# A group is LF ... CR (a tty not in raw mode turns CR into LF, so LF ends one too). Each pattern captures the bytes
# the checksum covers, the fields and the checksum of a well-formed group, or nothing for a malformed one.
# Historic: label SP value SP checksum; the value may hold spaces, the checksum may be one.
_HISTORIC_GROUP: Final = re.compile(rb"\n(?:(([^\r\n ]+) ([^\r\n]*)) ([\x20-\x5f])|[^\r\n]+)[\r\n]")
# Standard: label HT [horodate HT] value HT checksum; the checksum covers everything up to the last HT.
_STANDARD_GROUP: Final = re.compile(
    rb"\n(?:(([^\t\r\n]+)\t(?:([^\t\r\n]{13})\t)?([^\t\r\n]*)\t)([\x20-\x5f])|[^\r\n]+)[\r\n]"
)
# Groups of one frame that must agree on a historic checksum method before the decoder holds it.
_METHOD_QUORUM: Final = 2
# The longest real frame (standard three-phase producer) is about 1,400 bytes; past this the frame is dropped. The
# buffer never holds more than this plus one byte, however long the frame and however large the chunks.
MAX_FRAME_BYTES: Final = 4096


@dataclass(slots=True)
class DecoderStats:
    """What the decoder saw, for diagnostics."""

    frames: int = 0
    groups: int = 0
    checksum_errors: int = 0
    malformed_groups: int = 0
    interrupted_frames: int = 0
    unterminated_frames: int = 0
    oversized_frames: int = 0
    empty_frames: int = 0
    bytes_discarded: int = 0
    # Frames whose groups end with LF and none with CR: a tty not in raw mode turns CR into LF.
    lf_terminated_frames: int = 0
    # Frames with no valid group of the decoder's forced mode but valid groups of the other mode: the meter switched.
    other_mode_frames: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counters as a plain dict."""
        return asdict(self)


class Decoder:
    """Turn a TIC byte stream into frames.

    `mode=None` detects the mode of each frame from its separators (HT: standard, SP: historic). In historic mode the
    checksum method (1, the Linky's, or 2, allowed by 02E for older meters) is learnt from the first frame where at
    least two groups agree on one, then held: one method at a time, never both. It changes only when a frame has
    no group valid under the held method and at least two under the other (the meter was swapped).
    """

    def __init__(self, mode: Mode | None = None) -> None:
        """Start with no frame in progress; skip everything until the first STX."""
        self.forced_mode = mode
        self.mode: Mode | None = mode
        self.historic_method: int | None = None  # 1 until learnt
        self.stats = DecoderStats()
        self._buffer = bytearray()
        self._in_frame = False

    def feed(self, data: bytes) -> list[Frame]:
        """Decode a chunk of bytes; return the frames it completed."""
        data = data.translate(_SEVEN_BITS)
        frames: list[Frame] = []
        pos, end = 0, len(data)
        while pos < end:
            if not self._in_frame:
                start = data.find(STX, pos)
                if start < 0:
                    self.stats.bytes_discarded += end - pos
                    break
                self.stats.bytes_discarded += start - pos
                self._start_frame()
                pos = start + 1
                continue
            match = _CONTROL.search(data, pos)
            stop = end if match is None else match.start()
            # Take one byte past the limit at most: a huge chunk without ETX never grows the buffer beyond it.
            take = min(stop, pos + MAX_FRAME_BYTES + 1 - len(self._buffer))
            self._buffer += data[pos:take]
            pos = take
            if len(self._buffer) > MAX_FRAME_BYTES:
                self.stats.oversized_frames += 1
                self.stats.bytes_discarded += len(self._buffer)
                self._end_frame()
                continue
            if match is None:
                break
            pos = match.end()
            control = data[stop]
            if control == ETX:
                if (frame := self._decode(bytes(self._buffer))) is not None:
                    frames.append(frame)
                self._end_frame()
            elif control == EOT:
                self.stats.interrupted_frames += 1
                self.stats.bytes_discarded += len(self._buffer)
                self._end_frame()
            else:  # STX without ETX before it: a tty swallowed the ETX, or the frame was cut. Its groups are checked.
                self.stats.unterminated_frames += 1
                if (frame := self._decode(bytes(self._buffer))) is not None:
                    frames.append(frame)
                self._start_frame()
        return frames

    def _start_frame(self) -> None:
        self._buffer.clear()
        self._in_frame = True

    def _end_frame(self) -> None:
        self._buffer.clear()
        self._in_frame = False

    def _decode(self, body: bytes) -> Frame | None:
        if CR not in body and LF in body:
            self.stats.lf_terminated_frames += 1
        mode = self.forced_mode or _detect_mode(body)
        groups = self._standard_groups(body) if mode is Mode.STANDARD else self._historic_groups(body)
        if not groups:
            self.stats.empty_frames += 1
            if self.forced_mode is not None and _valid_groups_of_other_mode(body, self.forced_mode) >= _METHOD_QUORUM:
                self.stats.other_mode_frames += 1
            return None
        self.mode = mode
        self.stats.frames += 1
        self.stats.groups += len(groups)
        return Frame(mode=mode, groups=groups)

    def _standard_groups(self, body: bytes) -> dict[str, Group]:
        groups: dict[str, Group] = {}
        for covered, label, horodate, value, check in _STANDARD_GROUP.findall(body):
            if not covered:
                self.stats.malformed_groups += 1
            elif checksum(covered) != check[0]:
                self.stats.checksum_errors += 1
            elif not horodate:
                name = label.decode()
                groups[name] = Group(name, value.decode())
            elif moment := parse_horodate(horodate.decode()):
                name = label.decode()
                groups[name] = Group(name, value.decode(), moment)
            else:
                self.stats.malformed_groups += 1
        return groups

    def _historic_groups(self, body: bytes) -> dict[str, Group]:
        found = _HISTORIC_GROUP.findall(body)
        if self.historic_method is None or not (checked := _check_historic(found, self.historic_method))[0]:
            self._learn_historic_method(found)
            checked = _check_historic(found, self.historic_method or 1)
        groups, malformed, errors = checked
        self.stats.malformed_groups += malformed
        self.stats.checksum_errors += errors
        return groups

    def _learn_historic_method(self, found: list[tuple[bytes, bytes, bytes, bytes]]) -> None:
        """Hold the method at least two groups of a frame agree on, unless the held one fits no group."""
        votes = {1: 0, 2: 0}
        for covered, _, _, check in found:
            if covered:
                total = sum(covered)
                if checksum_of_sum(total) == check[0]:
                    votes[1] += 1
                elif checksum_of_sum(total + SP) == check[0]:
                    votes[2] += 1
        held, best = self.historic_method, 1 if votes[1] >= votes[2] else 2
        if votes[best] >= _METHOD_QUORUM and (held is None or votes[held] == 0):
            self.historic_method = best


def _check_historic(found: list[tuple[bytes, bytes, bytes, bytes]], method: int) -> tuple[dict[str, Group], int, int]:
    """Return the valid groups under a checksum method, the count of malformed groups and of checksum errors."""
    groups: dict[str, Group] = {}
    malformed = errors = 0
    extra = SP if method == 2 else 0  # method 2 also covers the SP before the checksum
    for covered, label, value, check in found:
        if not covered:
            malformed += 1
        elif ((sum(covered) + extra) & 0x3F) + 0x20 != check[0]:
            errors += 1
        else:
            name = label.decode()
            groups[name] = Group(name, value.decode())
    return groups, malformed, errors


def _valid_groups_of_other_mode(body: bytes, mode: Mode) -> int:
    """Count the groups of a frame that are valid in the mode other than `mode` (either historic method)."""
    if mode is Mode.HISTORIC:
        return sum(
            1 for covered, _, _, _, check in _STANDARD_GROUP.findall(body) if covered and checksum(covered) == check[0]
        )
    return sum(
        1
        for covered, _, _, check in _HISTORIC_GROUP.findall(body)
        if covered and check[0] in {checksum(covered), checksum_of_sum(sum(covered) + SP)}
    )


def _detect_mode(body: bytes) -> Mode:
    """Tell the mode of a frame: standard groups hold two or three HT each, historic ones none."""
    return Mode.STANDARD if body.count(HT) >= body.count(LF) else Mode.HISTORIC
