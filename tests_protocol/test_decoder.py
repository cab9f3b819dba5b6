"""The streaming decoder: framing, checksums, modes, resilience, real captures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st
import pytest

from linky_tic import Decoder, Frame, Group, Mode
from linky_tic.checksums import checksum
from linky_tic.decoder import MAX_FRAME_BYTES
from linky_tic.horodate import parse_horodate
from linky_tools.encoder import encode_frame, encode_group
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import capture_files, read_capture

HISTORIC = [Group("ADCO", "041864543210"), Group("OPTARIF", "BASE"), Group("BASE", "012345678"), Group("PTEC", "TH..")]


def _standard() -> list[Group]:
    return [
        Group("ADSC", "041864543210"),
        Group("DATE", "", parse_horodate("E260712140327")),
        Group("NGTF", "     TEMPO      "),
        Group("SMAXSN-1", "05661", parse_horodate("h260711171658")),
        Group("NJOURF+1", "00"),
        Group("DPM1", "00", parse_horodate(" 260712060000")),
    ]


def _values(frame: Frame) -> dict[str, str]:
    return {label: group.value for label, group in frame.groups.items()}


def _one(decoder: Decoder, data: bytes) -> Frame:
    frames = decoder.feed(data)
    assert len(frames) == 1
    return frames[0]


@pytest.mark.parametrize("path", capture_files(), ids=lambda path: path.name)
def test_captures_decode_without_checksum_errors(path) -> None:
    data = path.read_bytes()
    decoder = Decoder()
    frames = decoder.feed(data)
    if "rx_errors" in path.name:
        assert decoder.stats.checksum_errors > 0
        assert decoder.stats.malformed_groups > 0
        assert decoder.stats.bytes_discarded > 0
        assert all(frame.mode is Mode.HISTORIC for frame in frames)
        return
    assert len(frames) == 1
    assert decoder.stats.checksum_errors == 0
    assert decoder.stats.malformed_groups == 0
    expected = Mode.STANDARD if path.name.startswith("standard") else Mode.HISTORIC
    assert frames[0].mode is expected
    assert decoder.mode is expected
    # One byte at a time gives the same frame.
    by_byte = Decoder()
    assert [frame for byte in data for frame in by_byte.feed(bytes([byte]))] == frames


def test_capture_details() -> None:
    frame = _one(Decoder(), read_capture("standard_mono_lains_ticdecodecpp.tic"))
    assert frame.groups["DATE"].value == ""
    assert frame.groups["DATE"].horodate.moment == datetime(2023, 3, 1, 9, 18, 34, tzinfo=timezone(timedelta(hours=1)))
    assert frame.value("NGTF") == "      BASE      "
    assert frame.value("PJOURF+1").startswith("00008001 NONUTILE")
    pointe = _one(Decoder(), read_capture("standard_tri_tempo_pointe_teleinfo-nom.tic"))
    assert pointe.groups["DPM1"].horodate.moment == datetime(2020, 2, 14, 6, 0)
    assert pointe.groups["DPM1"].horodate.moment.tzinfo is None
    assert pointe.value("SMAXSN-1") == "09562"  # its checksum is a space
    hc = _one(Decoder(), read_capture("historic_mono_hc_pyteleinfo_fixture.tic"))
    assert hc.value("PTEC") == "HP.."
    assert hc.value("IINST") == "009"


def test_rx_errors_capture_keeps_only_valid_groups() -> None:
    data = read_capture("historic_tri_rx_errors_lains_ticdecodecpp_excerpt.tic")
    decoder = Decoder()
    frames = decoder.feed(data)
    assert frames
    assert decoder.stats.unterminated_frames == len(frames)  # its tty swallowed every ETX
    for frame in frames:
        for group in frame.groups.values():
            # Each kept group is byte for byte in the stream, CR turned into LF.
            assert encode_group(Mode.HISTORIC, group).replace(b"\r", b"\n") in data
        assert frame.value("ADCO") in {None, "021999000001"}


def test_byte_exact_values_and_space_checksum() -> None:
    # A value with inner and trailing spaces whose checksum is itself a space.
    value = next(f"A B {n:02d} " for n in range(100) if checksum(f"MSG1 A B {n:02d} ".encode()) == 0x20)
    frame = _one(Decoder(Mode.HISTORIC), encode_frame(Mode.HISTORIC, [Group("MSG1", value)]))
    assert frame.value("MSG1") == value


def test_horodates() -> None:
    frame = _one(Decoder(), encode_frame(Mode.STANDARD, _standard()))
    assert frame.mode is Mode.STANDARD
    date = frame.groups["DATE"].horodate
    assert date.moment == datetime(2026, 7, 12, 12, 3, 27, tzinfo=UTC)
    assert date.isoformat() == "2026-07-12T14:03:27+02:00"
    assert not date.degraded
    yesterday = frame.groups["SMAXSN-1"].horodate
    assert yesterday.degraded
    assert yesterday.isoformat() == "2026-07-11T17:16:58+01:00"
    assert frame.groups["DPM1"].horodate.isoformat() == "2026-07-12T06:00:00"
    assert frame.value("NJOURF+1") == "00"


def test_eight_bit_port_masks_parity() -> None:
    data = encode_frame(Mode.HISTORIC, HISTORIC)
    with_parity = bytes(byte | (byte.bit_count() & 1) << 7 for byte in data)
    assert _values(_one(Decoder(), with_parity)) == {group.label: group.value for group in HISTORIC}


def test_eot_discards_frame_in_progress() -> None:
    frame = encode_frame(Mode.HISTORIC, HISTORIC)
    decoder = Decoder()
    assert decoder.feed(frame[:30] + b"\x04" + frame) != []
    assert decoder.stats.interrupted_frames == 1
    assert decoder.stats.frames == 1
    assert decoder.stats.bytes_discarded == 29


def test_mid_stream_join_and_noise_between_frames() -> None:
    frame = encode_frame(Mode.HISTORIC, HISTORIC)
    decoder = Decoder()
    frames = decoder.feed(frame[17:] + b"\x00\xff noise" + frame + b"\r\n" + frame)
    assert len(frames) == 2
    assert decoder.stats.bytes_discarded == len(frame) - 17 + 10


def test_bad_checksum_drops_only_that_group() -> None:
    data = bytearray(encode_frame(Mode.HISTORIC, HISTORIC))
    data[data.index(b"\nBASE ") + 7] ^= 0x01
    decoder = Decoder()
    frame = _one(decoder, bytes(data))
    assert "BASE" not in frame.groups
    assert set(frame.groups) == {"ADCO", "OPTARIF", "PTEC"}
    assert decoder.stats.checksum_errors == 1


def test_frame_without_valid_group_is_not_emitted() -> None:
    decoder = Decoder()
    assert decoder.feed(b"\x02\nNOTHING\r\n\t\r\x03\x02\x03") == []
    assert decoder.stats.empty_frames == 2
    assert decoder.stats.malformed_groups == 2
    assert decoder.mode is None


@pytest.mark.parametrize(
    "group",
    [
        b"\nADCO\r",  # no separator
        b"\nADCO 12 \r",  # no checksum
        b"\n A B\r",  # empty label
        b"\n\tB\t \r",  # standard, empty label
        b"\nA\tH26\t1\t \r",  # standard, three fields without a horodate
        b"\nA\tX260712140327\t1\t \r",  # standard, not a horodate
        b"\nA\tB\tC\tD\t \r",  # standard, too many fields
    ],
)
def test_malformed_groups_are_counted(group: bytes) -> None:
    decoder = Decoder()
    # A malformed group whose checksum would be right still counts as malformed.
    body = group[1:-2]
    fixed = b"\n" + body + bytes([checksum(body if b"\t" in body else body[:-1])]) + b"\r"
    assert decoder.feed(b"\x02" + fixed + b"\x03") == []
    assert decoder.stats.malformed_groups + decoder.stats.checksum_errors == 1


def test_cr_turned_into_lf_still_decodes() -> None:
    data = encode_frame(Mode.STANDARD, _standard()).replace(b"\r", b"\n")
    assert _values(_one(Decoder(), data)) == {group.label: group.value for group in _standard()}


def test_stx_without_etx_keeps_valid_groups_of_the_cut_frame() -> None:
    frame = encode_frame(Mode.HISTORIC, HISTORIC)
    decoder = Decoder()
    frames = decoder.feed(frame[:-1] + frame[:-20] + frame)
    assert len(frames) == 3
    assert decoder.stats.unterminated_frames == 2
    assert decoder.stats.checksum_errors == 0
    assert set(frames[1].groups) == {"ADCO", "OPTARIF"}  # BASE was cut before its CR


def test_oversized_frame_is_dropped() -> None:
    decoder = Decoder()
    assert decoder.feed(b"\x02" + b"\nX 1 Q\r" * (MAX_FRAME_BYTES // 7 + 1)) == []
    assert decoder.stats.oversized_frames == 1
    assert decoder.feed(encode_frame(Mode.HISTORIC, HISTORIC)) != []


def test_forced_mode_ignores_the_other_mode() -> None:
    decoder = Decoder(Mode.STANDARD)
    assert decoder.feed(encode_frame(Mode.HISTORIC, HISTORIC)) == []
    assert decoder.stats.malformed_groups == len(HISTORIC)
    assert _one(decoder, encode_frame(Mode.STANDARD, _standard())).mode is Mode.STANDARD


def test_auto_mode_follows_the_stream() -> None:
    decoder = Decoder()
    assert _one(decoder, encode_frame(Mode.HISTORIC, HISTORIC)).mode is Mode.HISTORIC
    assert decoder.mode is Mode.HISTORIC
    assert _one(decoder, encode_frame(Mode.STANDARD, _standard())).mode is Mode.STANDARD
    assert decoder.mode is Mode.STANDARD


def test_historic_checksum_method_2_meter() -> None:
    decoder = Decoder()
    frame = _one(decoder, encode_frame(Mode.HISTORIC, HISTORIC, historic_method=2))
    assert decoder.historic_method == 2
    assert _values(frame) == {group.label: group.value for group in HISTORIC}
    # Once held, a method-1 group is an error: never both methods at once.
    mixed = encode_frame(Mode.HISTORIC, HISTORIC, historic_method=2)[:-1] + encode_group(
        Mode.HISTORIC, Group("PAPP", "01230")
    )
    assert "PAPP" not in _one(decoder, mixed + b"\x03").groups
    assert decoder.stats.checksum_errors == 1


def test_historic_method_is_not_learnt_from_a_single_group() -> None:
    decoder = Decoder()
    one_group_method_2 = encode_frame(Mode.HISTORIC, HISTORIC[:1], historic_method=2)
    assert decoder.feed(one_group_method_2) == []
    assert decoder.historic_method is None
    assert decoder.stats.checksum_errors == 1  # judged with the Linky's method 1 meanwhile
    assert _one(decoder, encode_frame(Mode.HISTORIC, HISTORIC)).mode is Mode.HISTORIC
    assert decoder.historic_method == 1


def test_historic_method_follows_a_swapped_meter() -> None:
    decoder = Decoder()
    decoder.feed(encode_frame(Mode.HISTORIC, HISTORIC))
    assert decoder.historic_method == 1
    assert decoder.feed(encode_frame(Mode.HISTORIC, HISTORIC, historic_method=2)) != []
    assert decoder.historic_method == 2


def test_short_frames() -> None:
    short = [Group("ADIR2", "028"), Group("ADCO", "041876543210"), *(Group(f"IINST{n}", "010") for n in (1, 2, 3))]
    assert _one(Decoder(), encode_frame(Mode.HISTORIC, short)).is_short
    assert _one(Decoder(), encode_frame(Mode.HISTORIC, short[1:])).is_short  # the minute after the overrun
    assert not _one(Decoder(), encode_frame(Mode.HISTORIC, HISTORIC)).is_short
    assert not _one(Decoder(), encode_frame(Mode.STANDARD, [Group("ADSC", "1"), Group("IRMS1", "2")])).is_short


def test_stats_as_dict() -> None:
    decoder = Decoder()
    decoder.feed(encode_frame(Mode.HISTORIC, HISTORIC))
    stats = decoder.stats.as_dict()
    assert stats["frames"] == 1
    assert stats["groups"] == len(HISTORIC)
    assert set(stats) >= {"frames", "checksum_errors", "interrupted_frames", "bytes_discarded"}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([None, Mode.HISTORIC, Mode.STANDARD]))
def test_random_bytes_never_raise(data: bytes, mode: Mode | None) -> None:
    decoder = Decoder(mode)
    framed = b"\x02" + data + b"\x03" + data + b"\x04\x02" + data
    for frame in decoder.feed(framed):
        assert frame.groups
    assert decoder.stats.frames >= 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(b"\x02\x03\x04\n\r\t AZ09+-"), max_size=400).map(bytes))
def test_control_heavy_bytes_never_raise(data: bytes) -> None:
    decoder = Decoder()
    decoder.feed(data)
    stats = decoder.stats
    assert stats.frames + stats.empty_frames <= data.count(2) + data.count(3)


def _damaged(frame: bytes, separator: int, start: bytes = b"\x02") -> bytes:
    """Turn every group's LF into `separator` and the frame's STX into `start`, as some adapters deliver them."""
    return start + frame[1:].replace(b"\n", bytes([separator]))


def _meter_frames(profile: Profile, count: int) -> list[bytes]:
    meter = SimulatedMeter(profile, start=datetime(2026, 1, 14, 17, 0, tzinfo=UTC), seed=4)
    return [meter.next_frame(elapsed=30.0) for _ in range(count)]


@pytest.mark.parametrize("separator", [0x0B, 0x0E, 0x0F, 0x00, 0x1F])
@pytest.mark.parametrize("profile", [Profile.STANDARD_MONO, Profile.HISTORIC_HC])
def test_groups_behind_a_damaged_separator_are_recovered(separator: int, profile: Profile) -> None:
    clean = _meter_frames(profile, 1)[0]
    expected = _values(_one(Decoder(), clean))
    decoder = Decoder()
    frame = _one(decoder, _damaged(clean, separator))
    assert _values(frame) == expected
    assert frame.mode is Mode.STANDARD if profile is Profile.STANDARD_MONO else Mode.HISTORIC
    assert decoder.stats.damaged_separator_groups == len(expected)
    assert decoder.stats.checksum_errors == decoder.stats.malformed_groups == 0


def test_linkytic_report_mixed_separators() -> None:
    # Lines from hekmon/linkytic issue 67: some groups start with 0x0E, 0x0F or 0x0B, the others with LF.
    data = (
        b"\x02\nEASF03\t001548023\t;\r\x0eEASF04\t002860327\tA\r\x0eEASF05\t000856392\tG\r"
        b"\nIRMS3\t004\t4\r\x0fURMS1\t235\tD\r\nNJOURF+1\t00\tB\r\x0bPJOURF+1\t00004001 06004002 16004001 NONUTILE"
        b" NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE\t1\r\x03"
    )
    decoder = Decoder()
    frame = _one(decoder, data)
    assert list(frame.groups) == ["EASF03", "EASF04", "EASF05", "IRMS3", "URMS1", "NJOURF+1", "PJOURF+1"]
    assert frame.value("EASF04") == "002860327"
    assert frame.value("PJOURF+1").startswith("00004001 06004002 16004001 NONUTILE")
    assert decoder.stats.damaged_separator_groups == 4
    assert decoder.stats.checksum_errors == 0


@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_frames_with_a_damaged_stx_and_every_separator_damaged(chunk: int | None) -> None:
    frames = _meter_frames(Profile.STANDARD_MONO, 4)
    data = b"".join(_damaged(frame, 0x0F, start=b"\x0b") for frame in frames)
    decoder = Decoder()
    pieces = [data] if chunk is None else [data[n : n + chunk] for n in range(0, len(data), chunk)]
    decoded = [frame for piece in pieces for frame in decoder.feed(piece)]
    # The first frame is lost as when joining mid-stream: nothing tells where it starts until its ETX.
    assert [_values(frame) for frame in decoded] == [_values(_one(Decoder(), frame)) for frame in frames[1:]]
    groups = sum(len(frame.groups) for frame in decoded)
    assert groups > 3 * 30
    assert decoder.stats.frames_without_stx == 3
    assert decoder.stats.damaged_separator_groups == groups
    assert decoder.stats.checksum_errors == decoder.stats.malformed_groups == decoder.stats.empty_frames == 0


def test_esphome_report_stx_read_as_a_letter() -> None:
    # esphome/esphome issue 17291: "...0D 03 43 0A 41 44 53 43...": STX read as 'C', then groups behind 0x0F.
    groups = [Group("ADSC", "022361418503"), Group("VTIC", "02"), Group("EAST", "013571151")]
    frame = _damaged(encode_frame(Mode.STANDARD, groups), 0x0F, start=b"C")
    frame = b"C\n" + frame[2:]  # its first group still starts with LF
    decoder = Decoder()
    decoded = decoder.feed(frame + frame)
    assert [_values(frame) for frame in decoded] == [{group.label: group.value for group in groups}]
    assert decoder.stats.frames_without_stx == 1
    assert decoder.stats.damaged_separator_groups == 2


def test_a_damaged_separator_never_lets_a_bad_checksum_through() -> None:
    data = bytearray(_damaged(encode_frame(Mode.STANDARD, _standard()), 0x0E))
    data[data.index(b"NGTF") + 6] ^= 0x01
    decoder = Decoder()
    frame = _one(decoder, bytes(data))
    assert "NGTF" not in frame.groups
    assert len(frame.groups) == len(_standard()) - 1
    assert decoder.stats.checksum_errors == 1


def test_after_etx_only_valid_groups_make_a_frame() -> None:
    frame = encode_frame(Mode.HISTORIC, HISTORIC)
    decoder = Decoder()
    # Between two frames: noise, then what looks like a group but fails its checksum, then a bare ETX.
    assert len(decoder.feed(frame + b"\x0bnoise\r\x0eADCO 1 Z\r\x03" + frame)) == 2
    assert decoder.stats.frames == 2
    assert decoder.stats.frames_without_stx == 0
    assert decoder.stats.checksum_errors == decoder.stats.empty_frames == 0
    assert decoder.stats.bytes_discarded == len(b"\x0bnoise\r\x0eADCO 1 Z\r\x03")


def test_a_damaged_separator_must_follow_a_cr() -> None:
    # A control byte inside a line is no separator: the group text after it is not taken.
    inner = encode_group(Mode.HISTORIC, Group("PAPP", "01230"))[1:]
    decoder = Decoder()
    frame = _one(decoder, b"\x02\nMSG1 A\x0e" + inner + encode_group(Mode.HISTORIC, HISTORIC[0]) + b"\x03")
    assert set(frame.groups) == {"ADCO"}
    assert decoder.stats.damaged_separator_groups == 0


@pytest.mark.parametrize("mode", [Mode.HISTORIC, Mode.STANDARD])
@pytest.mark.parametrize(("first", "second", "counted"), [(0x0E, 0x0E, 1), (0x0E, 0x0A, 0), (0x0A, 0x0E, 1)])
def test_a_repeated_label_counts_its_kept_group_once(mode: Mode, first: int, second: int, counted: int) -> None:
    # Found by atheris: a group repeated in one frame, both behind damaged separators, counted twice for one kept.
    index = Group("BASE" if mode is Mode.HISTORIC else "EAST", "003120691")
    group = encode_group(mode, index)[1:]
    identity = encode_group(mode, Group("ADCO" if mode is Mode.HISTORIC else "ADSC", "041"))
    decoder = Decoder(mode)
    frame = _one(decoder, b"\x02" + identity + bytes([first]) + group + bytes([second]) + group + b"\x03")
    assert len(frame.groups) == decoder.stats.groups == 2
    assert decoder.stats.damaged_separator_groups == counted


def test_bytes_after_an_etx_count_as_discarded_until_they_make_a_frame() -> None:
    frame = encode_frame(Mode.HISTORIC, HISTORIC)
    decoder = Decoder()
    decoder.feed(frame + b"noise\x03more")
    assert decoder.stats.bytes_discarded == len(b"noise\x03more")  # at once, not when the next frame starts
    decoder.feed(frame)
    assert decoder.stats.bytes_discarded == len(b"noise\x03more")
    # A frame whose STX was damaged: its bytes count as discarded while they arrive, and are taken back.
    decoder.feed(b"\x0b" + frame[1:-1])
    assert decoder.stats.bytes_discarded == len(b"noise\x03more") + len(frame) - 1
    assert len(decoder.feed(b"\x03")) == 1
    assert decoder.stats.bytes_discarded == len(b"noise\x03more")
    assert decoder.stats.frames_without_stx == 1
