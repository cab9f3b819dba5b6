"""The corrupted-index guard: wrong values with valid checksums never reach an energy index."""

from __future__ import annotations

from dataclasses import astuple
from datetime import UTC, datetime
import logging
import random

from hypothesis import given, settings, strategies as st
import pytest

from linky_tic import Decoder, Frame, Group, Mode
from linky_tic.checksums import checksum
from linky_tic.guard import (
    DEFAULT_MAX_POWER_VA,
    DISCONTINUITY_FRAMES,
    FIRST_VALUE_FRAMES,
    INDEX_LABELS,
    GuardStats,
    IndexGuard,
    Verdict,
    max_injection_va,
    max_power_va,
)
from linky_tools.encoder import encode_frame, encode_group
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import read_capture

A, R, D, P = Verdict.ACCEPT, Verdict.REJECT_BACKWARDS, Verdict.ACCEPT_DISCONTINUITY, Verdict.PENDING
J, M = Verdict.REJECT_JUMP, Verdict.REJECT_MALFORMED
WINTER_EVENING = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)


def _run(guard: IndexGuard, readings: list[tuple[float, str]], label: str = "BASE") -> list[Verdict]:
    return [guard.check(label, value, at) for at, value in readings]


def _counted(stats: GuardStats) -> int:
    return sum(astuple(stats))


def _started(value: int = 10_000_000, at: float = 0.0, power: int = 9000, label: str = "BASE") -> IndexGuard:
    guard = IndexGuard(power)
    assert _run(guard, [(at - 2, str(value)), (at, str(value))], label) == [P, A]
    return guard


def test_allowance_follows_power_and_time() -> None:
    guard = IndexGuard(9000)
    assert guard.allowance(1.5) == 45  # 9 kVA x 1.5 over 11.5 s is 43.1 Wh, plus 2 Wh of rounding
    assert guard.allowance(0) == guard.allowance(-30) == 39
    assert guard.allowance(3600) == 13_539
    assert IndexGuard().max_power_va == DEFAULT_MAX_POWER_VA


def test_first_value_waits_for_the_next_to_agree() -> None:
    guard = IndexGuard(9000)
    assert guard.check("BASE", "010000000", 0) is P
    assert guard.value("BASE") is None
    assert guard.check("BASE", "010000002", 2) is A
    assert guard.value("BASE") == 10_000_002
    assert FIRST_VALUE_FRAMES == 2


def test_bogus_first_value_is_never_published() -> None:
    guard = IndexGuard(9000)
    # Corrupted first value, then the genuine ones: the first pair disagrees, the next agrees.
    assert _run(guard, [(0, "019000000"), (2, "010000000"), (4, "010000001")]) == [P, P, A]
    assert guard.value("BASE") == 10_000_001
    assert guard.stats.pending == 2


def test_backwards_and_jumps_are_rejected_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    guard = _started()
    with caplog.at_level(logging.DEBUG, logger="linky_tic.guard"):
        assert guard.check("BASE", "009999999", 4) is R
        assert guard.check("BASE", "010000055", 4) is J  # 55 Wh in 4 s: more than 54 Wh
    assert guard.check("BASE", "010000054", 4) is A  # the most that fits
    assert guard.value("BASE") == 10_000_054
    assert guard.stats.rejected == 2
    assert guard.stats.as_dict() == {
        "accepted": 2,
        "discontinuities": 0,
        "pending": 1,
        "rejected_backwards": 1,
        "rejected_jump": 1,
        "rejected_malformed": 0,
    }
    assert [record.levelno for record in caplog.records] == [logging.DEBUG] * 2
    assert "reject_jump" in caplog.records[1].getMessage()


@pytest.mark.parametrize("value", ["", "01234567A", " 12345678", "12 345", "-1", "١٢٣"])
def test_malformed_values_are_rejected_without_breaking_a_run(value: str) -> None:
    guard = _started()
    assert guard.check("BASE", value, 4) is M
    assert guard.value("BASE") == 10_000_000
    # A malformed value between agreeing values is like a dropped group: the run goes on.
    readings = [(6, "000000010"), (8, value), (10, "000000011"), (12, value), (14, "000000012")]
    assert _run(guard, readings) == [R, M, R, M, D]
    assert guard.stats.rejected_malformed == 3


def test_meter_replaced_is_accepted_once_frames_agree() -> None:
    guard = _started(value=54_321_000)
    readings = [(4 + 2 * n, f"{n:09d}") for n in range(5)]
    assert _run(guard, readings) == [R, R, D, A, A]
    assert DISCONTINUITY_FRAMES == 3
    assert guard.value("BASE") == 4
    assert guard.stats.discontinuities == 1


def test_forward_discontinuity_is_accepted_once_frames_agree() -> None:
    guard = _started()
    assert _run(guard, [(4, "015000000"), (6, "015000001"), (8, "015000001")]) == [J, J, D]


def test_disagreeing_rejected_values_start_a_new_run() -> None:
    guard = _started()
    readings = [(4, "015000000"), (6, "011000000"), (8, "011000000"), (10, "015000000"), (12, "011000001")]
    assert _run(guard, readings) == [J, J, J, J, J]
    assert _run(guard, [(14, "011000001"), (16, "011000002")]) == [J, D]


def test_a_genuine_value_ends_a_run() -> None:
    guard = _started()
    assert _run(guard, [(4, "015000000"), (6, "015000000"), (8, "010000001"), (10, "015000000")]) == [J, J, A, J]


def test_small_corruption_within_the_allowance_is_undone_by_the_genuine_values() -> None:
    # A value within the allowance cannot be told from a real one; the genuine values after it are lower, and are
    # accepted once they agree: the published index dips by the corruption, so the sum of its changes stays exact.
    guard = _started()
    readings = [(4, "010000030"), (6, "010000001"), (8, "010000001"), (10, "010000002"), (12, "010000003")]
    assert _run(guard, readings) == [A, R, R, D, A]


def test_indexes_are_guarded_one_by_one() -> None:
    guard = IndexGuard(9000)
    frames = [
        {"EASF01": "000001000", "EASF02": "000500000"},
        {"EASF01": "000001001", "EASF02": "000500000"},
        {"EASF01": "000001002", "EASF02": "000900000"},  # EASF02 corrupted
        {"EASF01": "000000000", "EASF02": "000500001"},  # EASF01 corrupted
    ]
    verdicts = [
        guard.check_frame(Frame(Mode.STANDARD, {k: Group(k, v) for k, v in values.items()}), at)
        for at, values in enumerate(frames)
    ]
    assert verdicts == [
        {"EASF01": P, "EASF02": P},
        {"EASF01": A, "EASF02": A},
        {"EASF01": A, "EASF02": J},
        {"EASF01": R, "EASF02": A},
    ]
    assert (guard.value("EASF01"), guard.value("EASF02")) == (1002, 500_001)


def test_check_frame_skips_what_is_not_an_index() -> None:
    frame = Frame(
        Mode.HISTORIC,
        {"ADCO": Group("ADCO", "041864543210"), "PAPP": Group("PAPP", "99999"), "HCHC": Group("HCHC", "000000001")},
    )
    assert IndexGuard().check_frame(frame, 0) == {"HCHC": P}
    assert {"BASE", "HCHC", "BBRHPJR", "EJPHPM"} <= INDEX_LABELS[Mode.HISTORIC]
    assert {"EAST", "EASF10", "EASD04", "EAIT", "ERQ4"} <= INDEX_LABELS[Mode.STANDARD]
    assert "SINSTS" not in INDEX_LABELS[Mode.STANDARD]


def _frame(mode: Mode, **values: str) -> Frame:
    return Frame(mode, {label: Group(label, value) for label, value in values.items()})


@pytest.mark.parametrize(
    ("frame", "power"),
    [
        (_frame(Mode.STANDARD, PREF="09", PCOUP="12"), 12_000),
        (_frame(Mode.STANDARD, PREF="06"), 6000),
        (_frame(Mode.STANDARD, PREF="06", PCOUP="0A"), 6000),
        (_frame(Mode.STANDARD, PCOUP="00"), None),
        (_frame(Mode.STANDARD, EAST="000000001"), None),
        (_frame(Mode.HISTORIC, ISOUSC="30", IINST="010"), 6000),
        (_frame(Mode.HISTORIC, ISOUSC="20", IINST1="001", IINST2="002"), 12_000),
        (_frame(Mode.HISTORIC, ISOUSC="20", UNKNOWN="1"), 4000),
        (_frame(Mode.HISTORIC, ISOUSC="X0"), None),
        (_frame(Mode.HISTORIC, ADCO="041876543210", IINST1="010"), None),  # a short frame
    ],
)
def test_max_power_from_the_frame(frame: Frame, power: int | None) -> None:
    assert max_power_va(frame) == power


def test_check_frame_takes_the_meters_limit_and_keeps_it() -> None:
    guard = IndexGuard()
    guard.check_frame(_frame(Mode.HISTORIC, ISOUSC="30", BASE="000001000"), 0)
    assert guard.max_power_va == 6000
    guard.check_frame(_frame(Mode.HISTORIC, ADCO="041876543210", IINST1="010"), 1)
    assert guard.max_power_va == 6000
    guard.check_frame(_frame(Mode.STANDARD, PCOUP="12"), 2)
    assert guard.max_power_va == 12_000


@pytest.mark.parametrize(
    ("frame", "power"),
    [
        (_frame(Mode.STANDARD, PCOUP="01", SMAXIN="00000", **{"SMAXIN-1": "01592"}), 1592),
        (_frame(Mode.STANDARD, SMAXIN="01730", **{"SMAXIN-1": "00000"}), 1730),
        (_frame(Mode.STANDARD, SMAXIN="01423", **{"SMAXIN-1": "01971"}), 1971),
        (_frame(Mode.STANDARD, SMAXIN="00000", **{"SMAXIN-1": "00000"}), None),
        (_frame(Mode.STANDARD, PCOUP="12", EAIT="000000001"), None),
        (_frame(Mode.STANDARD, SMAXIN="0X000"), None),
    ],
)
def test_max_injection_from_the_frame(frame: Frame, power: int | None) -> None:
    assert max_injection_va(frame) == power


def test_an_injected_index_has_the_allowance_of_injection() -> None:
    guard = IndexGuard(1000, 1592)
    assert guard.allowance(600, "EAIT") == 406  # 1.592 kVA x 1.5 over 610 s
    assert guard.allowance(600, "EAST") == guard.allowance(600) == 256  # 1 kVA x 1.5 over 610 s
    assert guard.allowance(600, "ERQ2") == guard.allowance(600, "EAIT")  # reactive: the larger of the two
    assert IndexGuard(9000, 1592).allowance(600, "ERQ1") == IndexGuard(9000).allowance(600)
    assert IndexGuard().max_injection_va == DEFAULT_MAX_POWER_VA


def test_a_producer_with_a_small_cut_off_after_a_ten_minute_gap() -> None:
    # The real pair of a producer-only meter: PCOUP 01 (1 kVA withdrawn at most), SMAXIN-1 01592 (VA injected).
    decoder, guard = Decoder(), IndexGuard()
    frames = decoder.feed(read_capture("realworld/22-std-producer-teleinfod-2024.tic"))
    assert (frames[-1].value("PCOUP"), frames[-1].value("SMAXIN-1")) == ("01", "01592")
    for at, frame in enumerate(frames):
        guard.check_frame(frame, float(at))
    assert guard.value("EAIT") == 7_472_722
    assert (guard.max_power_va, guard.max_injection_va) == (1000, 1592)
    # Ten minutes later (Home Assistant restarted, say), 1.592 kVA injected all along: 265 Wh more.
    later = dict(frames[-1].groups)
    later["EAIT"] = Group("EAIT", f"{7_472_722 + 265:09d}")
    later["EAST"] = Group("EAST", f"{802 + 265:09d}")  # as much withdrawn: more than 1 kVA could deliver
    verdicts = guard.check_frame(Frame(Mode.STANDARD, later), len(frames) - 1 + 600.0)
    assert verdicts["EAIT"] is A
    assert verdicts["EAST"] is J


def test_verdicts_say_what_is_published() -> None:
    assert {verdict for verdict in Verdict if verdict.published} == {A, D}


def _same_checksum_corruption(value: str, rng: random.Random) -> str:
    """Raise one high digit and lower another by as much: the sum of the bytes, so the checksum, is unchanged."""
    digits = [int(char) for char in value]
    while True:
        up, down = rng.sample(range(len(digits) - 4), 2)  # among the digits worth 10 kWh or more
        if digits[up] < 9 and digits[down] > 0:
            step = rng.randint(1, min(9 - digits[up], digits[down]))
            digits[up] += step
            digits[down] -= step
            return "".join(map(str, digits))


def test_corruption_that_the_checksum_cannot_see_is_rejected() -> None:
    genuine = Group("BASE", "012345678")
    bogus = Group("BASE", "012445578")  # +100 kWh -100 Wh: the same byte sum
    assert checksum(b"BASE 012345678") == checksum(b"BASE 012445578")
    assert encode_group(Mode.HISTORIC, bogus)[-2] == encode_group(Mode.HISTORIC, genuine)[-2]
    decoder, guard = Decoder(Mode.HISTORIC), IndexGuard(6000)
    isousc = Group("ISOUSC", "30")
    verdicts = [
        guard.check_frame(frame, at)
        for at, group in enumerate([genuine, genuine, bogus, genuine])
        for frame in decoder.feed(encode_frame(Mode.HISTORIC, [isousc, group]))
    ]
    assert decoder.stats.checksum_errors == 0  # the decoder had no way to tell
    assert verdicts == [{"BASE": P}, {"BASE": A}, {"BASE": J}, {"BASE": A}]


@pytest.mark.parametrize("profile", [Profile.STANDARD_TRI_PRODUCER, Profile.HISTORIC_TEMPO])
def test_energy_statistics_stay_exact_through_valid_checksum_corruption(profile: Profile) -> None:
    meter = SimulatedMeter(profile, start=WINTER_EVENING, seed=4)
    decoder, guard, rng = Decoder(meter.mode), IndexGuard(), random.Random(4)
    genuine: dict[str, list[int]] = {}
    published: dict[str, list[int]] = {}
    corrupted = 0
    for n in range(1500):
        [frame] = decoder.feed(meter.next_frame(elapsed=20.0))
        data = clean = encode_frame(meter.mode, frame.groups.values())
        indexes = [label for label in frame.groups if label in INDEX_LABELS[meter.mode]]
        for label in indexes:
            genuine.setdefault(label, []).append(int(frame.groups[label].value))
        if n > 1 and rng.random() < 0.05:
            label = rng.choice([label for label in indexes if int(frame.groups[label].value) >= 10**4])
            bogus = Group(label, _same_checksum_corruption(frame.groups[label].value, rng))
            data = clean.replace(encode_group(meter.mode, frame.groups[label]), encode_group(meter.mode, bogus))
            corrupted += 1
        [received] = decoder.feed(data)
        for label, verdict in guard.check_frame(received, meter.now.timestamp()).items():
            if verdict.published:
                published.setdefault(label, []).append(guard.value(label) or 0)
    assert decoder.stats.checksum_errors == 0
    assert corrupted > 50
    assert guard.stats.rejected_jump + guard.stats.rejected_backwards == corrupted
    assert guard.stats.discontinuities == 0
    assert published.keys() == genuine.keys()
    for label, values in published.items():
        # Only genuine values, never a dip (Home Assistant would read a meter reset): a total_increasing statistic,
        # which sums the changes of the published values, counts exactly the genuine consumption.
        assert set(values) <= set(genuine[label])
        assert values == sorted(values)
        assert (values[0], values[-1]) == (genuine[label][1], genuine[label][-1])


@st.composite
def _histories(draw: st.DrawFn) -> tuple[int, int, list[tuple[float, float, float, int, int]]]:
    """Return a power limit, a start index and steps: seconds, share of the limit used on each index, bogus values."""
    power = draw(st.integers(1000, 36_000))
    start = draw(st.integers(0, 10**8))
    steps = draw(
        st.lists(
            st.tuples(
                st.floats(0.2, 900),
                st.floats(0, 1),
                st.floats(0, 1),
                st.integers(0, DISCONTINUITY_FRAMES - 1),  # bogus values before this genuine one
                st.integers(1, 10**9),
            ),
            max_size=40,
        )
    )
    return power, start, steps


@settings(max_examples=300, deadline=None)
@given(_histories(), st.randoms(use_true_random=False))
def test_bogus_runs_never_get_through_and_genuine_growth_always_does(
    history: tuple[int, int, list[tuple[float, float, float, int, int]]], rng: random.Random
) -> None:
    power, start, steps = history
    guard = IndexGuard(power)
    energy = {"EAST": float(start), "EAIT": float(start // 3)}
    at = 0.0
    for label, wh in energy.items():
        assert _run(guard, [(-1, str(int(wh))), (0, str(int(wh)))], label) == [P, A]
    checks = 2 * len(energy)
    last = dict.fromkeys(energy, 0.0)
    for seconds, east_share, eait_share, bogus_count, offset in steps:
        # A run of bogus values outside the allowance, on one index, each one a jump or a step backwards.
        label = rng.choice(list(energy))
        for _ in range(bogus_count):
            accepted = guard.value(label) or 0
            if rng.random() < 0.5 and accepted > 0:
                bogus = max(0, accepted - offset)
            else:
                bogus = accepted + guard.allowance(at - last[label], label) + offset
            assert not guard.check(label, str(bogus), at).published
            assert guard.value(label) == accepted
            checks += 1
        at += seconds
        energy["EAST"] += east_share * power * seconds / 3600
        energy["EAIT"] += eait_share * power * seconds / 3600
        for label, wh in energy.items():
            assert guard.check(label, str(int(wh)), at) is A
            assert guard.value(label) == int(wh)
            last[label] = at
            checks += 1
    assert _counted(guard.stats) == checks
    assert guard.stats.discontinuities == 0
    assert guard.stats.pending == len(energy)
