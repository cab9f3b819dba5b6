"""The simulated meter: valid frames of every profile, plausible evolution, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools

import pytest

from linky_tic import BAUDRATES, CATALOGUE, Decoder, Frame, Mode
from linky_tic.interpret import TempoColour, tariff_period
from linky_tic.status import Status
from linky_tools.simulator import SHORT_FRAMES_PER_CYCLE, Fault, Profile, SimulatedMeter, french_offset

WINTER_EVENING = datetime(2026, 1, 14, 20, 50, tzinfo=UTC)  # 21:50 in France
SUMMER_NOON = datetime(2026, 7, 12, 10, 0, tzinfo=UTC)  # 12:00 in France


def _frames(meter: SimulatedMeter, count: int, elapsed: float | None = None) -> list[Frame]:
    decoder = Decoder(meter.mode)
    frames = [frame for _ in range(count) for frame in decoder.feed(meter.next_frame(elapsed))]
    assert decoder.stats.checksum_errors == decoder.stats.malformed_groups == 0
    return frames


def _frame(meter: SimulatedMeter, elapsed: float | None = None) -> Frame:
    [frame] = _frames(meter, 1, elapsed)
    return frame


@pytest.mark.parametrize("profile", list(Profile))
def test_every_profile_sends_valid_catalogue_frames(profile: Profile) -> None:
    meter = SimulatedMeter(profile, start=WINTER_EVENING, seed=1)
    assert meter.baudrate == BAUDRATES[meter.mode]
    assert meter.mode is (Mode.HISTORIC if profile.startswith("historic") else Mode.STANDARD)
    assert [group.label for group in meter.groups()] == list(_frame(meter, 0).groups)
    frames = _frames(meter, 200)
    assert len(frames) == 200
    for frame in frames:
        assert frame.mode is meter.mode
        assert set(frame.groups) <= set(CATALOGUE[meter.mode])
    identifier = "ADCO" if meter.mode is Mode.HISTORIC else "ADSC"
    assert frames[-1].value(identifier) == meter.serial
    # The clock advanced by the time each frame took on the line.
    assert timedelta(seconds=100) < meter.now - WINTER_EVENING < timedelta(seconds=700)


def test_identifiers_are_configurable_and_fake_by_default() -> None:
    meter = SimulatedMeter("standard_mono", start=SUMMER_NOON, serial="021999000001", prm="01234567890123")
    frame = _frame(meter)
    assert frame.value("ADSC") == "021999000001"
    assert frame.value("PRM") == "01234567890123"
    assert SimulatedMeter("standard_tri").serial == "041876543210"
    assert SimulatedMeter("historic_base").prm == "09999999999999"


def test_same_seed_same_frames() -> None:
    first = SimulatedMeter("standard_tri_producer", start=SUMMER_NOON, seed=7)
    second = SimulatedMeter("standard_tri_producer", start=SUMMER_NOON, seed=7)
    other = SimulatedMeter("standard_tri_producer", start=SUMMER_NOON, seed=8)
    frames = [first.next_frame() for _ in range(20)]
    assert frames == [second.next_frame() for _ in range(20)]
    assert frames != [other.next_frame() for _ in range(20)]


def test_default_start_is_now() -> None:
    meter = SimulatedMeter("historic_base")
    assert abs(meter.now - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_day_of_hc_contract() -> None:
    meter = SimulatedMeter("standard_mono", start=WINTER_EVENING, seed=2)
    frames = _frames(meter, 24 * 12, elapsed=300)
    east = [int(frame.value("EAST")) for frame in frames]
    assert east == sorted(east)
    assert east[-1] - east[0] > 5000  # a winter day draws more than 5 kWh
    assert {frame.value("NTARF") for frame in frames} == {"01", "02"}
    assert {frame.value("LTARF") for frame in frames} == {" HEURE  CREUSE  ", " HEURE  PLEINE  "}
    for frame in frames:
        status = Status.parse(frame.value("STGE"))
        assert status.supplier_index == int(frame.value("NTARF"))
        off_peak = frame.value("NTARF") == "01"
        assert frame.value("RELAIS") == ("001" if off_peak else "000")
        assert status.dry_contact_open is not off_peak
        assert int(frame.value("EAST")) == sum(int(frame.value(f"EASF{n:02d}")) for n in range(1, 11))
        assert int(frame.value("SMAXSN")) >= int(frame.value("SINSTS"))
    totals = [sum(int(frame.value(f"EASD{n:02d}")) for n in range(1, 5)) for frame in frames]
    assert totals[-1] - totals[0] == pytest.approx(east[-1] - east[0], abs=5)


def test_historic_indexes_follow_the_period() -> None:
    meter = SimulatedMeter("historic_hc", start=WINTER_EVENING, seed=3)
    frames = _frames(meter, 24 * 6, elapsed=600)
    for before, after in itertools.pairwise(frames):
        for label in ("HCHC", "HCHP"):
            assert int(after.value(label)) >= int(before.value(label))
    assert {frame.value("PTEC") for frame in frames} == {"HC..", "HP.."}
    assert frames[0].value("OPTARIF") == "HC.."
    assert int(frames[0].value("PAPP")) % 10 == 0


def test_tempo_colours_change_and_are_announced() -> None:
    meter = SimulatedMeter("historic_tempo", start=datetime(2026, 1, 5, 8, tzinfo=UTC), seed=4)
    colours, announced = set(), set()
    for _ in range(40):
        morning = _frame(meter, 0)
        assert morning.value("DEMAIN") == "----"  # 09:00: tomorrow not announced yet
        colours.add(tariff_period(morning.value("PTEC")).tempo_colour)
        noon = _frame(meter, 3 * 3600)
        announced.add(noon.value("DEMAIN"))
        meter.next_frame(21 * 3600)
    assert colours == {TempoColour.BLUE, TempoColour.WHITE, TempoColour.RED}
    assert announced == {"BLEU", "BLAN", "ROUG"}


def test_standard_tempo_status_and_peak_days() -> None:
    meter = SimulatedMeter("standard_tri", start=datetime(2026, 1, 5, 11, tzinfo=UTC), seed=4)
    seen_red = seen_notice = False
    for _ in range(40):
        frame = _frame(meter, 24 * 3600)
        status = Status.parse(frame.value("STGE"))
        assert status.tempo_today.name in frame.value("LTARF").replace("BLANC", "WHITE").replace(
            "BLEU", "BLUE"
        ).replace("ROUGE", "RED")
        if status.tempo_today is TempoColour.RED:
            seen_red = True
            assert status.mobile_peak == 1
            assert frame.groups["DPM1"].horodate.moment.hour == 6
            assert frame.groups["FPM1"].horodate.moment - frame.groups["DPM1"].horodate.moment == timedelta(days=1)
        else:
            assert "DPM1" not in frame.groups
        if status.tempo_tomorrow is TempoColour.RED:
            seen_notice = True
            assert status.mobile_peak_notice == 1
            assert frame.value("PPOINTE") == frame.value("PJOURF+1")
    assert seen_red and seen_notice


def test_ejp_mobile_peak() -> None:
    meter = SimulatedMeter("historic_ejp", start=datetime(2026, 1, 5, 5, 35, tzinfo=UTC), seed=5)
    peaks = 0
    for _ in range(60):
        notice = _frame(meter, 0)  # 06:35
        started = _frame(meter, 30 * 60)  # 07:05
        if started.value("PTEC") == "PM..":
            peaks += 1
            assert notice.value("PEJP") == "30"
            assert notice.value("PTEC") == "HN.."
        else:
            assert "PEJP" not in notice.groups
        meter.next_frame(24 * 3600 - 30 * 60)
    assert 2 <= peaks <= 30


def test_historic_three_phase_short_frame_cycles() -> None:
    meter = SimulatedMeter("historic_tri", start=datetime(2026, 1, 14, 9, 0, tzinfo=UTC), seed=6)
    frames = _frames(meter, 1500)
    kinds = "".join("S" if frame.is_short else "L" for frame in frames)
    first = kinds.index("S")
    cycle = "S" * SHORT_FRAMES_PER_CYCLE + "L"
    assert kinds[first : first + 3 * len(cycle)] == cycle * 3
    short = frames[first]
    assert list(short.groups) == ["ADIR2", "ADCO", "IINST1", "IINST2", "IINST3"]
    assert int(short.value("ADIR2")) > 20
    # Short frames go on a minute after the overrun, without ADIR; then only long frames until the next one.
    last = kinds.rindex("S", 0, kinds.index("L" * 30, first))
    assert "ADIR2" not in frames[last].groups
    long_frame = frames[last + 1]
    assert long_frame.value("PPOT") == "00"
    assert int(long_frame.value("IINST2")) <= 20


def test_producer_injects_at_noon() -> None:
    meter = SimulatedMeter("standard_producer", start=SUMMER_NOON, seed=9)
    frames = _frames(meter, 60, elapsed=60)
    eait = [int(frame.value("EAIT")) for frame in frames]
    assert eait[-1] > eait[0]
    assert int(frames[-1].value("SINSTI")) > 0
    assert frames[-1].value("EAST") == "000000000"
    assert frames[-1].value("NGTF") == "PRODUCTEUR"
    status = Status.parse(frames[-1].value("STGE"))
    assert status.producer and status.energy_negative
    night = _frame(meter, 12 * 3600)
    assert night.value("SINSTI") == "00000"
    assert not Status.parse(night.value("STGE")).energy_negative


def test_three_phase_producer_curves() -> None:
    meter = SimulatedMeter("standard_tri_producer", start=SUMMER_NOON - timedelta(minutes=1), seed=9)
    before = _frame(meter, 0)
    after = _frame(meter, 120)  # crosses 12:00, a load-curve point
    assert after.groups["CCAIN-1"].horodate == before.groups["CCAIN"].horodate
    assert after.groups["CCAIN"].horodate.moment == SUMMER_NOON
    assert int(after.value("CCAIN")) > 0
    assert after.groups["UMOY1"].horodate.moment == SUMMER_NOON
    assert after.groups["DATE"].horodate.raw == "E260712120100"
    assert int(after.value("SINSTS")) == pytest.approx(sum(int(after.value(f"SINSTS{n}")) for n in (1, 2, 3)), abs=3)


def test_maxima_roll_over_at_midnight() -> None:
    meter = SimulatedMeter("standard_mono", start=datetime(2026, 1, 14, 22, 59, 59, tzinfo=UTC), seed=10)
    before = _frame(meter, 0)  # 23:59:59 local
    after = _frame(meter, 2)  # 00:00:01 local
    assert after.value("SMAXSN-1") == before.value("SMAXSN")
    assert after.groups["SMAXSN-1"].horodate == before.groups["SMAXSN"].horodate
    assert after.groups["SMAXSN"].horodate.moment.date() == datetime(2026, 1, 15).date()


def test_french_offset() -> None:
    assert french_offset(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == timedelta(hours=1)
    assert french_offset(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == timedelta(hours=2)
    assert french_offset(datetime(2026, 10, 25, 0, 59, tzinfo=UTC)) == timedelta(hours=2)
    assert french_offset(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) == timedelta(hours=1)
    meter = SimulatedMeter("standard_mono", start=datetime(2026, 3, 29, 0, 59, 50, tzinfo=UTC))
    assert _frame(meter, 0).groups["DATE"].horodate.raw == "H260329015950"
    assert _frame(meter, 20).groups["DATE"].horodate.raw == "E260329030010"


@pytest.mark.parametrize("mode_profile", ["historic_hc", "standard_tri"])
def test_line_faults_parity_and_lf_decode_the_same(mode_profile: str) -> None:
    clean = SimulatedMeter(mode_profile, start=WINTER_EVENING)
    faulty = SimulatedMeter(mode_profile, start=WINTER_EVENING, faults=[Fault.PARITY, "cr_lf"])
    data = faulty.next_frame()
    assert any(byte & 0x80 for byte in data)
    assert b"\r" not in bytes(byte & 0x7F for byte in data)
    assert Decoder().feed(data) == Decoder().feed(clean.next_frame())


def test_faults_are_counted() -> None:
    start = WINTER_EVENING
    corrupt = SimulatedMeter("standard_mono", start=start, faults=["corrupt"], fault_rate=1.0)
    decoder = Decoder()
    for _ in range(20):
        decoder.feed(corrupt.next_frame())
    assert decoder.stats.checksum_errors == 20
    assert decoder.stats.frames == 20

    eot = SimulatedMeter("historic_base", start=start, faults=["eot"], fault_rate=1.0)
    decoder = Decoder()
    for _ in range(20):
        assert decoder.feed(eot.next_frame()) == []
    assert decoder.stats.interrupted_frames == 20

    noise = SimulatedMeter("historic_base", start=start, faults=["noise"], fault_rate=0.5, seed=3)
    decoder = Decoder()
    frames = [frame for _ in range(40) for frame in decoder.feed(noise.next_frame())]
    stats = decoder.stats
    assert stats.bytes_discarded + stats.checksum_errors + stats.malformed_groups > 0
    assert len(frames) == 40 - stats.empty_frames


def test_unknown_profile_or_fault() -> None:
    with pytest.raises(ValueError):
        SimulatedMeter("historic_unknown")
    with pytest.raises(ValueError):
        SimulatedMeter("historic_base", faults=["lightning"])
