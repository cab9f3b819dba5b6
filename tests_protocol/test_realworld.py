"""Real captures from public projects (../shared/captures/realworld): every one decodes, with the counts its source gives.

Some identifiers were anonymised by those projects without recomputing their checksums: those groups are dropped
and counted as checksum errors, never output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from linky_tic import Decoder, Frame, Mode
from linky_tic.guard import IndexGuard, Verdict

from .conftest import read_capture, realworld_files

PRODUCER_LABELS = {"EAIT", "ERQ1", "ERQ2", "ERQ3", "ERQ4", "SINSTI", "SMAXIN", "SMAXIN-1"}
# What each capture's source says: complete frames, checksum errors (anonymised groups, a real glitch), the groups
# anonymised in every frame.
EXPECTED = {
    "05-hist-mono-hc-teleinfod-capture.tic": (6, 6, {"ADCO"}),
    "16-std-mono-hchp-linkytovictron-2021-06.tic": (1, 0, set()),
    "22-std-producer-teleinfod-2024.tic": (7, 7, {"ADSC"}),
    "23-std-producer-teleinfod-2021.tic": (24, 2 * 24 + 1, {"ADSC", "PRM"}),
    "24-std-producer-consumer-linkytovictron.tic": (1, 0, set()),
}
GLITCH = "23-std-producer-teleinfod-2021.tic"


def _decode(data: bytes, chunk: int | None = None) -> tuple[list[Frame], Decoder]:
    decoder = Decoder()
    pieces = [data] if chunk is None else [data[n : n + chunk] for n in range(0, len(data), chunk)]
    return [frame for piece in pieces for frame in decoder.feed(piece)], decoder


@pytest.mark.parametrize("path", realworld_files(), ids=lambda path: path.name)
def test_every_real_capture_decodes(path: Path) -> None:
    data = path.read_bytes()
    frames, decoder = _decode(data)
    stats = decoder.stats
    assert frames
    mode = Mode.HISTORIC if "-hist-" in path.name else Mode.STANDARD
    assert {frame.mode for frame in frames} == {mode}
    assert stats.malformed_groups == stats.empty_frames == stats.frames_without_stx == 0
    assert stats.damaged_separator_groups == 0
    if path.name in EXPECTED:
        count, errors, anonymised = EXPECTED[path.name]
        assert (stats.frames, stats.checksum_errors) == (count, errors)
        assert all(not anonymised & frame.groups.keys() for frame in frames)
    if "producer" in path.name:
        assert all(frame.groups.keys() >= PRODUCER_LABELS - {"EAIT"} for frame in frames)  # EAIT: see the glitch
    # Two bytes at a time, as an ESP32 or a USB adapter may deliver them: the same frames and counters.
    by_two, again = _decode(data, 2)
    assert by_two == frames
    assert again.stats == stats


@pytest.mark.parametrize("path", realworld_files(), ids=lambda path: path.name)
def test_a_real_capture_behind_an_adapter_that_damages_control_bytes(path: Path) -> None:
    data = path.read_bytes()
    frames, decoder = _decode(data)
    # Every group's LF delivered as 0x0F: the same frames, every valid group recovered.
    damaged, recovered = _decode(data.replace(b"\n", b"\x0f"))
    assert damaged == frames
    assert recovered.stats.damaged_separator_groups == decoder.stats.groups
    assert recovered.stats.checksum_errors == decoder.stats.checksum_errors
    # Every STX damaged too: the frames after the first ETX, each counted without STX.
    no_stx, without = _decode(data.replace(b"\n", b"\x0f").replace(b"\x02", b"\x0b"), 2)
    first_etx = data.index(b"\x03")
    expected, _ = _decode(data[first_etx:])
    assert no_stx == expected
    assert without.stats.frames_without_stx == len(expected)


def test_the_glitch_of_the_producer_capture_is_never_published() -> None:
    # One frame carries 'EAIT 000133863' with the checksum of the previous value 000133862: dropped, counted.
    frames, _ = _decode(read_capture(f"realworld/{GLITCH}"))
    eait = [frame.value("EAIT") for frame in frames]
    assert eait.count(None) == 1
    assert set(eait) == {"000133862", None}
    assert all(frame.value("PCOUP") == "01" for frame in frames)
    guard = IndexGuard()
    verdicts = [guard.check_frame(frame, float(at)).get("EAIT") for at, frame in enumerate(frames)]
    assert verdicts.count(Verdict.ACCEPT) == len(frames) - 2  # the first waits for the next; the glitch is absent
    assert guard.value("EAIT") == 133_862
    assert guard.stats.rejected == 0


def test_a_consumer_with_surplus_injection() -> None:
    frames, _ = _decode(read_capture("realworld/24-std-producer-consumer-linkytovictron.tic"))
    (frame,) = frames
    assert (frame.value("EAIT"), frame.value("SMAXIN"), frame.value("SMAXIN-1")) == ("002487735", "01730", "00000")
    assert frame.value("SMAXSN-1") is not None  # its checksum is a space
    assert frame.groups["SMAXIN-1"].horodate is not None
