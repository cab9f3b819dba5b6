"""Streaming TIC decoder: bytes in, any chunking, frames out. It never raises on input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
import re
from typing import Final

from .checksum import checksum
from .const import EOT, ETX, HT, SP, STX, Mode
from .frame import Frame, Group
from .horodate import parse_horodate

# Masks every byte to 7 bits: a port opened 8N1 on the 7E1 line reads the parity in bit 7.
_SEVEN_BITS: Final = bytes(b & 0x7F for b in range(256))
_CONTROL: Final = re.compile(rb"[\x02\x03\x04]")
_GROUP: Final = re.compile(rb"\n([^\n\r]*)\r")
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
    checksum method (1, the Linky's, or 2, allowed by 02E for older meters) is learnt from the first frame with a
    valid group and then held for the whole stream.
    """

    def __init__(self, mode: Mode | None = None) -> None:
        """Start with no frame in progress; skip everything until the first STX."""
        self.forced_mode = mode
        self.mode: Mode | None = mode
        self.historic_method: int | None = None
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
            else:  # STX without ETX before it: the previous frame was cut.
                self.stats.unterminated_frames += 1
                self.stats.bytes_discarded += len(self._buffer)
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
            if self.historic_method is None:
                self.historic_method = _learn_historic_method(raw_groups)
            groups = [self._historic_group(raw) for raw in raw_groups]
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

    def _historic_group(self, raw: bytes) -> Group | None:
        # label SP value SP checksum; the value may hold spaces, the checksum may be one.
        label, sep, _ = raw.partition(b" ")
        if len(raw) < 4 or raw[-2] != SP or not sep or not label or len(label) + 3 > len(raw):
            self.stats.malformed_groups += 1
            return None
        covered = raw[:-2] if self.historic_method == 1 else raw[:-1]
        if checksum(covered) != raw[-1]:
            self.stats.checksum_errors += 1
            return None
        return Group(label.decode("ascii"), raw[len(label) + 1 : -2].decode("ascii"))


def _detect_mode(raw_groups: list[bytes]) -> Mode:
    tabbed = sum(1 for raw in raw_groups if HT in raw)
    return Mode.STANDARD if tabbed * 2 > len(raw_groups) else Mode.HISTORIC


def _learn_historic_method(raw_groups: list[bytes]) -> int | None:
    """Return the checksum method most groups of this frame agree with; None when none does."""
    votes = {1: 0, 2: 0}
    for raw in raw_groups:
        if len(raw) < 4 or raw[-2] != SP:
            continue
        if checksum(raw[:-2]) == raw[-1]:
            votes[1] += 1
        elif checksum(raw[:-1]) == raw[-1]:
            votes[2] += 1
    if not any(votes.values()):
        return None
    return 1 if votes[1] >= votes[2] else 2
