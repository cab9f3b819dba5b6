"""Fuzzing the decoder: whatever the bytes and however they are cut, it never raises and its counters add up.

A short run here; `benchmarks/fuzz.py` runs the same checks over millions of inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
import functools
import itertools
import random
import tracemalloc

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from linky_tic import Decoder, Frame, Mode
from linky_tic.const import ETX, LF, STX
from linky_tic.decoder import DAMAGED_SEPARATORS, MAX_FRAME_BYTES
from linky_tic.diagnosis import LineMonitor
from linky_tic.guard import IndexGuard
from linky_tools.encoder import encode_group
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import capture_files

START = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
SEVEN_BITS = bytes(byte & 0x7F for byte in range(256))
PARITY = bytes(byte | (byte.bit_count() & 1) << 7 for byte in range(256))
CONTROL = frozenset(b"\x02\x03\x04\r\n")
# Bytes a noisy line, a misconfigured tty or an adapter that damages separators inserts most often.
SPECIAL = b"\x02\x03\x04\r\n\t \x00\x7f\xff\x0b\x0e\x0f"
MODES = (None, Mode.HISTORIC, Mode.STANDARD)
# A mutation: (operation, position, value); positions wrap around the data.
OPERATIONS = (
    "flip",
    "special",
    "byte",
    "delete",
    "duplicate",
    "parity",
    "cr_lf",
    "no_etx",
    "truncate",
    "noise",
    "separators",
)
# What some adapters deliver instead of each group's LF (real reports: 0x0B, 0x0E, 0x0F).
SEPARATORS = sorted(DAMAGED_SEPARATORS)
type Mutation = tuple[str, int, int]


@functools.cache
def clean_frames() -> tuple[bytes, ...]:
    """Return real frames: three of each simulated profile, minutes apart, and the real captures."""
    frames = [
        SimulatedMeter(profile, start=START, seed=n).next_frame(elapsed=600.0)
        for n, profile in itertools.product(range(3), Profile)
    ]
    return (*frames, *(path.read_bytes() for path in capture_files()))


def mutate(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    """Apply line faults: flipped bits, inserted or lost bytes, parity in bit 7, CR into LF, ETX lost, LF damaged."""
    out = bytearray(data)
    for operation, position, value in mutations:
        at = position % (len(out) + 1)
        match operation:
            case "flip" if out:
                out[at % len(out)] ^= 1 << (value % 8)
            case "special":
                out[at:at] = SPECIAL[value % len(SPECIAL) : value % len(SPECIAL) + 1]
            case "byte":
                out[at:at] = bytes([value])
            case "delete":
                del out[at : at + value % 16 + 1]
            case "duplicate":
                out[at:at] = out[at : at + value]
            case "parity":
                out = out.translate(PARITY)
            case "cr_lf":
                out = out.replace(b"\r", b"\n")
            case "no_etx":
                out = out.replace(b"\x03", b"")
            case "truncate":
                del out[at:]
            case "noise":
                out[at:at] = bytes((value * (n + 7)) & 0xFF for n in range(value % 32 + 1))
            case "separators":
                out[at:] = out[at:].replace(b"\n", bytes([SEPARATORS[value % len(SEPARATORS)]]))
    return bytes(out)


def chunks(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """Cut data at the given positions (wrapped around its length)."""
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def decode_checked(data: bytes, cuts: Sequence[int], mode: Mode | None) -> list[Frame]:
    """Decode data whole and in chunks; assert every invariant of the decoder; return its frames."""
    whole = Decoder(mode)
    frames = whole.feed(data)
    chunked, pieces = Decoder(mode), []
    for chunk in chunks(data, cuts):
        pieces += chunked.feed(chunk)
        assert len(chunked._buffer) <= MAX_FRAME_BYTES
    # However the bytes are cut, the same frames and the same counters.
    assert pieces == frames
    assert chunked.stats == whole.stats
    masked = data.translate(SEVEN_BITS)
    check_counters(whole, frames, masked)
    check_groups(frames, masked)
    return frames


def check_counters(decoder: Decoder, frames: list[Frame], masked: bytes) -> None:
    """Assert that a decoder's counters add up with the frames it emitted from `masked` (the input, 7 bits)."""
    stats = decoder.stats
    assert min(stats.as_dict().values()) >= 0
    assert stats.frames == len(frames)
    assert stats.groups == sum(len(frame.groups) for frame in frames)
    # Every frame ends at its own STX, ETX or EOT; only a frame after an ETX may lack its STX.
    with_stx = stats.frames - stats.frames_without_stx
    assert with_stx + stats.empty_frames + stats.interrupted_frames + stats.oversized_frames <= masked.count(STX)
    assert stats.frames_without_stx <= masked.count(ETX)
    assert stats.damaged_separator_groups <= stats.groups
    assert stats.lf_terminated_frames <= stats.frames + stats.empty_frames
    assert len(decoder._buffer) <= MAX_FRAME_BYTES
    for frame in frames:
        assert frame.groups
        assert decoder.forced_mode is None or frame.mode is decoder.forced_mode


def check_groups(frames: list[Frame], masked: bytes) -> None:
    """Assert that every group emitted is text without control bytes, found in the input with a valid checksum."""
    for frame in frames:
        for label, group in frame.groups.items():
            assert label == group.label
            text = f"{group.label}{group.value}{group.horodate.raw if group.horodate else ''}"
            assert text.isascii() and not CONTROL & set(text.encode())
            # Every group is in the stream, byte for byte, with a valid checksum (ended by CR, or LF from a tty),
            # behind LF or a damaged separator.
            methods = (1,) if frame.mode is Mode.STANDARD else (1, 2)
            encoded = [encode_group(frame.mode, group, historic_method=method)[1:-1] for method in methods]
            assert any(_behind_a_separator(body + end, masked) for body in encoded for end in (b"\r", b"\n"))


def _behind_a_separator(group: bytes, masked: bytes) -> bool:
    """Tell whether a group's text is in the stream right after LF or a damaged separator."""
    at = masked.find(group, 1)
    while at > 0:
        if masked[at - 1] == LF or masked[at - 1] in DAMAGED_SEPARATORS:
            return True
        at = masked.find(group, at + 1)
    return False


def _watched(data: bytes, cuts: Sequence[int], mode: Mode | None) -> None:
    """Feed a monitor and a guard too: neither raises, and the guard accounts for every index it checked."""
    monitor, guard = LineMonitor(Decoder(mode), 0.0), IndexGuard()
    checked = 0
    for at, chunk in enumerate(chunks(data, cuts)):
        for frame in monitor.feed(chunk, float(at)):
            checked += len(guard.check_frame(frame, float(at)))
        monitor.diagnose(float(at))
    assert sum(guard.stats.as_dict().values()) == checked


MUTATIONS = st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8)
CUTS = st.lists(st.integers(0, 1 << 16), max_size=12)
FRAMES = st.lists(st.sampled_from(clean_frames()), min_size=1, max_size=4).map(b"".join)
TIC_LIKE_BYTES = st.lists(st.sampled_from(b"\x02\x03\x04\r\n\t +-AEH019"), max_size=600).map(bytes)
DECODER_MODES = st.sampled_from(MODES)


def mutated_frames_hold(frames: bytes, mutations: list[Mutation], cuts: list[int], mode: Mode | None) -> None:
    """Check real frames with line faults."""
    data = mutate(frames, mutations)
    decode_checked(data, cuts, mode)
    _watched(data, cuts, mode)


def random_bytes_hold(data: bytes, cuts: list[int], mode: Mode | None) -> None:
    """Check arbitrary bytes."""
    decode_checked(data, cuts, mode)
    _watched(data, cuts, mode)


# The properties, with the strategies of their arguments: the benchmark runs them with far more examples.
PROPERTIES = {
    "mutated_frames": (mutated_frames_hold, (FRAMES, MUTATIONS, CUTS, DECODER_MODES)),
    "random_bytes": (random_bytes_hold, (st.binary(max_size=2000), CUTS, DECODER_MODES)),
    "tic_like_bytes": (random_bytes_hold, (TIC_LIKE_BYTES, CUTS, DECODER_MODES)),
}


@pytest.mark.parametrize("name", PROPERTIES)
def test_fuzz_properties(name: str) -> None:
    check, strategies = PROPERTIES[name]
    settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])(given(*strategies)(check))()


def test_clean_frames_decode() -> None:
    for frame in clean_frames():
        mode = Mode.STANDARD if b"\t" in frame else Mode.HISTORIC
        assert decode_checked(frame, [5, 50, 500], mode)


@pytest.mark.parametrize("chunk_size", [1 << 16, 4096, 64, 1])
def test_a_64_kb_frame_without_etx_stays_bounded(chunk_size: int) -> None:
    frame = b"\x02" + b"\nBASE 000001000 :\r" * 3641  # 64 kB of valid-looking groups, no ETX
    pieces = [frame[start : start + chunk_size] for start in range(0, len(frame), chunk_size)]
    decoder = Decoder()
    tracemalloc.start()
    try:
        for piece in pieces:
            decoder.feed(piece)
            assert len(decoder._buffer) <= MAX_FRAME_BYTES
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The 7-bit copy of the chunk, and at most one frame's worth besides (the chunk itself was allocated before).
    assert peak < chunk_size + 3 * MAX_FRAME_BYTES
    assert decoder.stats.oversized_frames == 1
    assert decoder.stats.bytes_discarded == len(frame) - 1  # all but its STX
    assert decoder.stats.frames == decoder.stats.groups == 0
    # The next frame decodes.
    assert len(decoder.feed(clean_frames()[0])) == 1


def test_an_endless_stream_without_control_bytes_stays_bounded() -> None:
    decoder = Decoder(Mode.HISTORIC)
    decoder.feed(b"\x02")
    rng = random.Random(0)
    for _ in range(200):
        decoder.feed(bytes(rng.randrange(32, 127) for _ in range(5000)))
        assert len(decoder._buffer) <= MAX_FRAME_BYTES
    assert decoder.stats.oversized_frames == 1
    assert decoder.stats.bytes_discarded == 200 * 5000
