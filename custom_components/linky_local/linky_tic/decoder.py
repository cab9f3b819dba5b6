"""Streaming TIC decoder: bytes in, any chunking, frames out. It never raises on input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum, auto
import re
from typing import Final

from .checksums import checksum, checksum_of_sum
from .const import CR, EOT, ETX, HT, LF, SP, STX, Mode
from .frame import Frame, Group
from .horodate import parse_horodate

# Masks every byte to 7 bits: a port opened 8N1 on the 7E1 line reads the parity in bit 7.
_SEVEN_BITS: Final = bytes(b & 0x7F for b in range(256))
_CONTROL: Final = re.compile(rb"[\x02\x03\x04]")
# Between frames: STX starts one, and so does ETX, for the next frame may have lost its STX (see Decoder).
_FRAME_START: Final = re.compile(rb"[\x02\x03]")
# Bytes some adapters and UARTs deliver instead of the LF that starts a group (0x0B, 0x0E and 0x0F are reported):
# any control byte but the framing ones (STX, ETX, EOT), HT, LF and CR.
DAMAGED_SEPARATORS: Final = frozenset(range(0x20)) - {STX, ETX, EOT, HT, LF, CR}
_DAMAGED: Final = b"[" + b"".join(re.escape(bytes([byte])) for byte in sorted(DAMAGED_SEPARATORS)) + b"]"
# A group is LF ... CR (a tty not in raw mode turns CR into LF, so LF ends one too). A group may also start with a
# damaged separator where a CR ended the previous group, or at the frame's start; it must then be well-formed and end
# with CR, so that noise is never taken for a group. Each pattern captures the damaged separator (empty after LF) and
# the well-formed group from its label to its checksum; only the separator of a malformed one.
_START: Final = rb"(?:\n|(?<![^\r])(" + _DAMAGED + rb"))"
_MALFORMED_END: Final = rb"(?(1)(?!)|[^\r\n]+))(?(1)\r|[\r\n])"
# Historic: label SP value SP checksum; the value may hold spaces, the checksum may be one.
_HISTORIC_GROUP: Final = re.compile(_START + rb"(?:([^\r\n ]+ [^\r\n]* [\x20-\x5f])|" + _MALFORMED_END)
# Standard: label HT [horodate HT] value HT checksum; the checksum covers everything up to the last HT.
_STANDARD_GROUP: Final = re.compile(
    _START + rb"(?:([^\t\r\n]+\t(?:[^\t\r\n]{13}\t)?[^\t\r\n]*\t[\x20-\x5f])|" + _MALFORMED_END
)
# A meter sends most of its groups unchanged from frame to frame: a group whose bytes were already found valid (under
# the checksum method held) is the same immutable Group again, without checking, decoding or building it anew. The
# memory is emptied when it holds this many groups, and whenever the mode or the historic method changes.
_KNOWN_GROUPS: Final = 256
# Groups of one frame that must agree on a historic checksum method before the decoder holds it.
_METHOD_QUORUM: Final = 2
# The longest real frame (standard three-phase producer) is about 1,400 bytes; past this the frame is dropped. The
# buffer never holds more than this plus one byte, however long the frame and however large the chunks.
MAX_FRAME_BYTES: Final = 4096
# What the group patterns find: the damaged separator, the group (empty when malformed).
type _Match = tuple[bytes, bytes]


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
    # Valid groups that started with another control byte than LF: the adapter changes some control characters.
    damaged_separator_groups: int = 0
    # Frames decoded from the bytes after an ETX, without a valid STX: the adapter damaged or lost it.
    frames_without_stx: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counters as a plain dict."""
        return asdict(self)


class _State(Enum):
    BETWEEN = auto()  # skipping bytes until STX or ETX
    FRAME = auto()  # after STX
    AFTER_ETX = auto()  # after ETX: a frame whose STX was damaged or lost, or the bytes between two frames


# Module names for the states: feed runs for every two bytes on some adapters, and these save an attribute lookup.
_BETWEEN: Final = _State.BETWEEN
_FRAME: Final = _State.FRAME
_AFTER_ETX: Final = _State.AFTER_ETX


class Decoder:
    """Turn a TIC byte stream into frames.

    `mode=None` detects the mode of each frame from its separators (HT: standard, SP: historic). In historic mode the
    checksum method (1, the Linky's, or 2, allowed by 02E for older meters) is learnt from the first frame where at
    least two groups agree on one, then held: one method at a time, never both. It changes only when a frame has
    no group valid under the held method and at least two under the other (the meter was swapped).

    A frame is what lies between STX and ETX (or the next STX). The bytes between an ETX and the next STX or ETX are
    a frame too when they hold valid groups: some adapters damage every STX (their first byte is then dropped).
    Otherwise they are noise between frames: counted as discarded as they arrive, and nowhere else.
    """

    def __init__(self, mode: Mode | None = None) -> None:
        """Start with no frame in progress; skip everything until the first STX or ETX."""
        self.forced_mode = mode
        self.mode: Mode | None = mode
        self.historic_method: int | None = None  # 1 until learnt
        self.stats = DecoderStats()
        self._buffer = bytearray()
        self._state = _BETWEEN
        self._known: dict[bytes, Group] = {}
        self._known_as: tuple[Mode, int | None] | None = None

    def feed(self, data: bytes) -> list[Frame]:
        """Decode a chunk of bytes; return the frames it completed."""
        data = data.translate(_SEVEN_BITS)
        frames: list[Frame] = []
        pos, end = 0, len(data)
        while pos < end:
            if self._state is _BETWEEN:
                if (found := _FRAME_START.search(data, pos)) is None:
                    self.stats.bytes_discarded += end - pos
                    break
                start = found.start()
                if data[start] == STX:
                    self.stats.bytes_discarded += start - pos
                    self._state = _FRAME
                else:  # an ETX without a frame before it is discarded, as any byte between frames
                    self.stats.bytes_discarded += start + 1 - pos
                    self._state = _AFTER_ETX
                pos = start + 1
                continue
            match = _CONTROL.search(data, pos)
            stop = end if match is None else match.start()
            # Take one byte past the limit at most: a huge chunk without ETX never grows the buffer beyond it.
            take = min(stop, pos + MAX_FRAME_BYTES + 1 - len(self._buffer))
            self._buffer += data[pos:take]
            if self._state is _AFTER_ETX:
                self.stats.bytes_discarded += take - pos  # between frames: counted now, taken back if they make one
            pos = take
            if len(self._buffer) > MAX_FRAME_BYTES:
                if self._state is _FRAME:
                    self.stats.oversized_frames += 1
                self._discard(0)
                continue
            if match is None:
                break
            pos = match.end()
            control = data[stop]
            if control == STX and not self._buffer and self._state is _AFTER_ETX:
                self._state = _FRAME  # nothing between ETX and STX: the usual case
            elif (frame := self._end(control)) is not None:
                frames.append(frame)
        return frames

    def _end(self, control: int) -> Frame | None:
        """End the frame in progress at STX, ETX or EOT; return it when it holds valid groups."""
        after_etx = self._state is _AFTER_ETX
        if control == EOT:
            if not after_etx:
                self.stats.interrupted_frames += 1
            self._discard(int(after_etx))
            return None
        if after_etx:
            frame = self._decode_after_etx(control)
        else:
            if control == STX:  # STX without ETX before it: a tty swallowed the ETX, or the frame was cut
                self.stats.unterminated_frames += 1
            frame = self._decode(bytes(self._buffer))
        self._buffer.clear()
        self._state = _FRAME if control == STX else _AFTER_ETX
        return frame

    def _decode_after_etx(self, control: int) -> Frame | None:
        """Decode the bytes after an ETX as a frame without STX; they stay discarded when they hold no valid group."""
        body = self._buffer
        # Its first byte is the damaged STX, unless a group starts there.
        if len(body) > 1 and body[0] != LF and (body[1] == LF or body[1] in DAMAGED_SEPARATORS):
            body = body[1:]
        # Judged on counters of its own: bytes that are no frame count as discarded, and as nothing else.
        stats, self.stats = self.stats, DecoderStats()
        frame = self._decode(bytes(body)) if body else None
        found, self.stats = self.stats, stats
        if frame is None:
            stats.bytes_discarded += control == ETX  # a lone ETX, as between frames
            return None
        found.bytes_discarded -= len(self._buffer)
        for name, count in found.as_dict().items():
            setattr(stats, name, getattr(stats, name) + count)
        stats.frames_without_stx += 1
        if control == STX:
            stats.unterminated_frames += 1
        return frame

    def _discard(self, extra: int) -> None:
        """Drop the frame in progress (after ETX, its bytes are counted already); wait for the next STX or ETX."""
        if self._state is _FRAME:
            self.stats.bytes_discarded += len(self._buffer)
        self.stats.bytes_discarded += extra
        self._buffer.clear()
        self._state = _BETWEEN

    def _decode(self, body: bytes) -> Frame | None:
        if CR not in body and LF in body:
            self.stats.lf_terminated_frames += 1
        mode = self.forced_mode or _detect_mode(body)
        if (mode, self.historic_method) != self._known_as or len(self._known) >= _KNOWN_GROUPS:
            self._known.clear()
            self._known_as = (mode, self.historic_method)
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
        separators: dict[str, bytes] = {}
        known = self._known
        for damaged, whole in _STANDARD_GROUP.findall(body):
            if (group := known.get(whole)) is not None:
                groups[group.label] = group
                separators[group.label] = damaged
            elif not whole:
                self.stats.malformed_groups += 1
            elif checksum(whole[:-1]) != whole[-1]:
                self.stats.checksum_errors += 1
            elif (group := _standard_group(whole)) is not None:
                groups[group.label] = known[whole] = group
                separators[group.label] = damaged
            else:
                self.stats.malformed_groups += 1
        self.stats.damaged_separator_groups += _recovered(separators)
        return groups

    def _historic_groups(self, body: bytes) -> dict[str, Group]:
        found = _HISTORIC_GROUP.findall(body)
        held = self.historic_method
        if held is None or not (checked := _check_historic(found, held, self._known))[0]:
            self._learn_historic_method(found)
            if self.historic_method != held:
                self._known.clear()
                self._known_as = (Mode.HISTORIC, self.historic_method)
            checked = _check_historic(found, self.historic_method or 1, self._known)
        groups, malformed, errors, damaged = checked
        self.stats.malformed_groups += malformed
        self.stats.checksum_errors += errors
        self.stats.damaged_separator_groups += damaged
        return groups

    def _learn_historic_method(self, found: list[_Match]) -> None:
        """Hold the method at least two groups of a frame agree on, unless the held one fits no group."""
        votes = {1: 0, 2: 0}
        for _, whole in found:
            if whole:
                total = sum(whole[:-2])
                if checksum_of_sum(total) == whole[-1]:
                    votes[1] += 1
                elif checksum_of_sum(total + SP) == whole[-1]:
                    votes[2] += 1
        held, best = self.historic_method, 1 if votes[1] >= votes[2] else 2
        if votes[best] >= _METHOD_QUORUM and (held is None or votes[held] == 0):
            self.historic_method = best


def _check_historic(
    found: list[_Match], method: int, known: dict[bytes, Group]
) -> tuple[dict[str, Group], int, int, int]:
    """Return the valid groups under a checksum method; count malformed groups, checksum errors, recovered groups.

    `known` holds the groups already found valid under `method`, by their bytes; the new valid ones are added to it.
    """
    groups: dict[str, Group] = {}
    separators: dict[str, bytes] = {}
    malformed = errors = 0
    extra = SP if method == 2 else 0  # method 2 also covers the SP before the checksum
    for damaged, whole in found:
        if (group := known.get(whole)) is not None:
            groups[group.label] = group
            separators[group.label] = damaged
        elif not whole:
            malformed += 1
        elif ((sum(covered := whole[:-2]) + extra) & 0x3F) + 0x20 != whole[-1]:
            errors += 1
        else:
            label, _, value = covered.partition(b" ")
            name = label.decode()
            groups[name] = known[whole] = Group(name, value.decode())
            separators[name] = damaged
    return groups, malformed, errors, _recovered(separators)


def _standard_group(whole: bytes) -> Group | None:
    """Build a standard group from its bytes (label HT [horodate HT] value HT checksum); None for a bad horodate."""
    fields = whole[:-2].split(b"\t")
    if len(fields) == 2:
        return Group(fields[0].decode(), fields[1].decode())
    if (horodate := parse_horodate(fields[1].decode())) is None:
        return None
    return Group(fields[0].decode(), fields[2].decode(), horodate)


def _recovered(separators: dict[str, bytes]) -> int:
    """Count the kept groups that started with a damaged separator (a label repeated in a frame keeps its last)."""
    return sum(1 for damaged in separators.values() if damaged)


def _valid_groups_of_other_mode(body: bytes, mode: Mode) -> int:
    """Count the groups of a frame that are valid in the mode other than `mode` (either historic method)."""
    if mode is Mode.HISTORIC:
        return sum(1 for _, whole in _STANDARD_GROUP.findall(body) if whole and checksum(whole[:-1]) == whole[-1])
    return sum(
        1
        for _, whole in _HISTORIC_GROUP.findall(body)
        if whole and whole[-1] in {checksum(whole[:-2]), checksum_of_sum(sum(whole[:-2]) + SP)}
    )


def _detect_mode(body: bytes) -> Mode:
    """Tell the mode of a frame: standard groups hold two or three HT each, historic ones none.

    Groups are counted by their LF, or by their CR when separators are damaged (and no LF is left to count).
    """
    separators = body.count(HT)
    return Mode.STANDARD if separators >= body.count(LF) and separators >= body.count(CR) else Mode.HISTORIC
