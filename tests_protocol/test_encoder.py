"""Encoder: round trips through the decoder, both modes, any chunking, every catalogue label."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st
import pytest

from linky_tic import CATALOGUE, Decoder, Group, Mode, ValueKind, describe, parse_horodate
from linky_tools.encoder import encode_frame, encode_group, format_horodate

LABELS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-", min_size=1, max_size=8)
VALUES = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=98)
MOMENTS = st.builds(
    lambda moment, season, degraded: (moment.replace(tzinfo=season), degraded),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from([None, timezone(timedelta(hours=1)), timezone(timedelta(hours=2))]),
    st.booleans(),
)


def _horodate(moment: datetime, degraded: bool):
    return parse_horodate(format_horodate(moment.replace(microsecond=0), degraded=degraded))


def _feed_in_chunks(decoder: Decoder, data: bytes, cuts: list[int]):
    frames, start = [], 0
    for cut in sorted({cut % (len(data) + 1) for cut in cuts}):
        frames += decoder.feed(data[start:cut])
        start = cut
    return frames + decoder.feed(data[start:])


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(LABELS, VALUES, min_size=1, max_size=20),
    st.sampled_from([1, 2]),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
    st.sampled_from([None, Mode.HISTORIC]),
)
def test_historic_round_trip(values: dict[str, str], method: int, cuts: list[int], mode: Mode | None) -> None:
    groups = [Group(label, value) for label, value in values.items()]
    data = encode_frame(Mode.HISTORIC, groups, historic_method=method)
    decoder = Decoder(mode)
    if method == 2 and len(groups) < 2:
        decoder.historic_method = 2  # one group is not enough to learn it; a longer stream would be
    frames = _feed_in_chunks(decoder, data * 2, cuts)
    assert len(frames) == 2
    for frame in frames:
        assert frame.mode is Mode.HISTORIC
        assert {label: group.value for label, group in frame.groups.items()} == values
    assert decoder.stats.checksum_errors == 0


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(LABELS, st.tuples(VALUES, st.none() | MOMENTS), min_size=1, max_size=20),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
    st.sampled_from([None, Mode.STANDARD]),
)
def test_standard_round_trip(values, cuts: list[int], mode: Mode | None) -> None:
    groups = [
        Group(label, value, None if moment is None else _horodate(*moment)) for label, (value, moment) in values.items()
    ]
    frames = _feed_in_chunks(Decoder(mode), encode_frame(Mode.STANDARD, groups), cuts)
    assert len(frames) == 1
    assert frames[0].mode is Mode.STANDARD
    assert list(frames[0].groups.values()) == groups


def _plausible(mode: Mode, label: str) -> Group:
    spec = CATALOGUE[mode][label]
    value = {
        ValueKind.INTEGER: "000123",
        ValueKind.TEXT: " TEXT  WITH SPACES ",
        ValueKind.HORODATE: "" if label == "DATE" else "00",
        ValueKind.HEX_REGISTER: "003A0001",
        ValueKind.DAY_PROFILE: " ".join(["00008001", *["NONUTILE"] * 10]),
    }[spec.kind]
    if not spec.horodate:
        return Group(label, value)
    seasonless = label.startswith(("DPM", "FPM"))
    moment = datetime(2026, 7, 12, 14, 3, 27, tzinfo=None if seasonless else timezone(timedelta(hours=2)))
    return Group(label, value, parse_horodate(format_horodate(moment)))


@pytest.mark.parametrize("mode", list(Mode))
def test_every_catalogue_label_round_trips(mode: Mode) -> None:
    groups = [_plausible(mode, label) for label in CATALOGUE[mode]]
    decoder = Decoder()
    [frame] = decoder.feed(encode_frame(mode, groups))
    assert frame.mode is mode
    assert list(frame.groups.values()) == groups
    assert all(describe(mode, label) is CATALOGUE[mode][label] for label in frame.groups)
    assert decoder.stats.checksum_errors == decoder.stats.malformed_groups == 0


def test_encode_group_bytes() -> None:
    assert encode_group(Mode.HISTORIC, Group("ADCO", "021999000001")) == b"\nADCO 021999000001 6\r"
    assert encode_group(Mode.HISTORIC, Group("PTEC", "HP.."), historic_method=2) == b"\nPTEC HP.. @\r"
    date = parse_horodate("H230301091834")
    assert encode_group(Mode.STANDARD, Group("DATE", "", date)) == b"\nDATE\tH230301091834\t\tC\r"
    assert encode_group(Mode.STANDARD, Group("VTIC", "02")) == b"\nVTIC\t02\tJ\r"
