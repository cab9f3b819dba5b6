"""Streaming TIC decoder: bytes in, any chunking, frames out. It never raises on input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
import re
from typing import Final

from .checksum import checksum, checksum_of_sum
from .const import EOT, ETX, HT, SP, STX, Mode
from .frame import Frame, Group
from .horodate import parse_horodate

# Masks every byte to 7 bits: a port opened 8N1 on the 7E1 line reads the parity in bit 7.
_SEVEN_BITS: Final = bytes(b & 0x7F for b in range(256))
_CONTROL: Final = re.compile(rb"[\x02\x03\x04]")
# LF group CR; a tty not in raw mode turns CR into LF, so LF ends a group too.
_GROUP: Final = re.compile(rb"\n([^\n\r]+)[\r\n]")
# Groups of one frame that must agree on a historic checksum method before the decoder holds it.
_METHOD_QUORUM: Final = 2
# The longest real frame (standard three-phase producer) is about 1,400 bytes; past this the frame is dropped.
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
            self._buffer += data[pos:stop]
            pos = stop
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
        raw_groups = _GROUP.findall(body)
        mode = self.forced_mode or _detect_mode(raw_groups)
        if mode is Mode.STANDARD:
            groups = [self._standard_group(raw) for raw in raw_groups]
        else:
            groups = self._historic_groups(raw_groups)
        valid = {group.label: group for group in groups if group is not None}
        if not valid:
            self.stats.empty_frames += 1
            return None
        self.mode = mode
        self.stats.frames += 1
        self.stats.groups += len(valid)
        return Frame(mode=mode, groups=valid)

    def _standard_group(self, raw: bytes) -> Group | None:
        # label HT [horodate HT] value HT checksum; the checksum covers everything up to the last HT.
        if len(raw) < 4 or raw[-2] != HT:
            self.stats.malformed_groups += 1
            return None
        if checksum(raw[:-1]) != raw[-1]:
            self.stats.checksum_errors += 1
            return None
        fields = raw[:-2].decode("ascii").split("\t")
        if len(fields) == 2 and fields[0]:
            return Group(fields[0], fields[1])
        if len(fields) == 3 and fields[0] and (horodate := parse_horodate(fields[1])):
            return Group(fields[0], fields[2], horodate)
        self.stats.malformed_groups += 1
        return None

    def _historic_groups(self, raw_groups: list[bytes]) -> list[Group | None]:
        checked = [_check_historic(raw) for raw in raw_groups]
        votes = {1: 0, 2: 0}
        for item in checked:
            if item is not None and item[2]:
                votes[item[2]] += 1
        held, best = self.historic_method, 1 if votes[1] >= votes[2] else 2
        if votes[best] >= _METHOD_QUORUM and (held is None or votes[held] == 0):
            self.historic_method = best
        method = self.historic_method or 1
        groups: list[Group | None] = []
        for item in checked:
            if item is None:
                self.stats.malformed_groups += 1
            elif item[2] != method:
                self.stats.checksum_errors += 1
            else:
                groups.append(Group(item[0], item[1]))
        return groups


def _check_historic(raw: bytes) -> tuple[str, str, int] | None:
    """Split `label SP value SP checksum` and tell the checksum method it satisfies: 1, 2 or 0 (neither)."""
    # The value may hold spaces, the checksum may be one.
    label, sep, _ = raw.partition(b" ")
    if len(raw) < 4 or raw[-2] != SP or not sep or not label or len(label) + 3 > len(raw):
        return None
    total = sum(raw[:-2])
    if checksum_of_sum(total) == raw[-1]:
        method = 1
    else:
        method = 2 if checksum_of_sum(total + SP) == raw[-1] else 0
    return label.decode("ascii"), raw[len(label) + 1 : -2].decode("ascii"), method


def _detect_mode(raw_groups: list[bytes]) -> Mode:
    tabbed = sum(1 for raw in raw_groups if HT in raw)
    return Mode.STANDARD if tabbed * 2 > len(raw_groups) else Mode.HISTORIC
