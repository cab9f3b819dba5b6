"""Line diagnosis: silence, a tty not in raw mode, damaged control bytes, the wrong speed, the other mode, a total-only Linky."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
import random

import pytest

from linky_tic import Decoder, Group, Mode
from linky_tic.diagnosis import (
    EVIDENCE_FRAMES,
    GARBAGE_BYTES,
    SILENCE_SECONDS,
    TOTAL_ONLY_FRAMES,
    WINDOW_SECONDS,
    LineMonitor,
    Problem,
)
from linky_tic.interpret import TariffOption
from linky_tools.encoder import encode_frame
from linky_tools.simulator import BITS_PER_BYTE, Fault, Profile, SimulatedMeter

from .conftest import read_capture

WINTER_EVENING = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)
LINKY_ADCO = "041864543210"  # type 64: a Linky
OLD_METER_ADCO = "021999000001"  # type 99: not a Linky


class Line:
    """A simulated meter feeding a monitor in line time: each frame arrives when its last byte would."""

    def __init__(self, meter: SimulatedMeter, decoder: Decoder | None = None) -> None:
        self.meter = meter
        self.at = 0.0
        self.monitor = LineMonitor(decoder or Decoder(meter.mode), self.at)

    def send(self, data: bytes, line_bytes: int | None = None) -> int:
        """Feed bytes when the last of `line_bytes` bytes (by default as many as fed) would have been sent."""
        self.at += (len(data) if line_bytes is None else line_bytes) * BITS_PER_BYTE / self.meter.baudrate
        return len(self.monitor.feed(data, self.at))

    def frames(self, count: int, transform=lambda data: data) -> int:
        """Send the meter's next frames, changed by `transform` on the way; return the frames decoded."""
        frames = 0
        for _ in range(count):
            frame = self.meter.next_frame()
            frames += self.send(transform(frame), len(frame))
        return frames

    def until(self, seconds: float, transform=lambda data: data) -> int:
        """Send frames for `seconds` of line time."""
        end, frames = self.at + seconds, 0
        while self.at < end:
            frames += self.frames(1, transform)
        return frames

    @property
    def problems(self) -> frozenset[Problem]:
        return self.monitor.diagnose(self.at).problems


def _meter(profile: Profile = Profile.STANDARD_MONO, **kwargs) -> SimulatedMeter:
    return SimulatedMeter(profile, start=WINTER_EVENING, seed=2, **kwargs)


def _no_etx(data: bytes) -> bytes:
    return data.replace(b"\x03", b"")


def _read_at(data: bytes, sent_baud: int, read_baud: int) -> bytes:
    """Return what a UART reading 8N1 at `read_baud` receives from 7E1 bytes sent at `sent_baud`."""
    bits = [bit for byte in data for bit in (0, *(byte >> n & 1 for n in range(7)), byte.bit_count() & 1, 1)]
    zeros = [n for n, bit in enumerate(bits) if bit == 0]
    read = sent_baud / read_baud  # time counts in bits sent: 8 or 1/8, exact in binary

    def level(t: float) -> int:
        return bits[int(t)] if int(t) < len(bits) else 1

    received, t = bytearray(), 0.0
    while (n := bisect.bisect_left(zeros, int(t))) < len(zeros):
        t = max(t, float(zeros[n]))  # the next start bit, or the low level the receiver is already in
        if level(t + read / 2):
            t = float(zeros[n] + 1)  # too short for a start bit
            continue
        received.append(sum(level(t + (k + 1.5) * read) << k for k in range(8)))
        t += 9.5 * read  # the middle of the stop bit; then wait for the next start bit
    return bytes(received)


def test_lf_terminated_frames_are_counted() -> None:
    frame = encode_frame(Mode.HISTORIC, [Group("ADCO", LINKY_ADCO), Group("BASE", "000001000")])
    decoder = Decoder()
    assert len(decoder.feed(frame + frame.replace(b"\r", b"\n") + frame)) == 3
    assert decoder.stats.lf_terminated_frames == 1
    decoder.feed(read_capture("historic_tri_lains_ticdecodecpp.tic"))  # an extra CR LF around its groups
    assert decoder.stats.lf_terminated_frames == 1
    rx_errors = Decoder()
    rx_errors.feed(read_capture("historic_tri_rx_errors_lains_ticdecodecpp_excerpt.tic"))
    assert rx_errors.stats.lf_terminated_frames == rx_errors.stats.unterminated_frames == 4


@pytest.mark.parametrize("method", [1, 2])
def test_historic_frames_on_a_standard_decoder_are_counted(method: int) -> None:
    groups = [Group("ADCO", LINKY_ADCO), Group("BASE", "000001000")]
    decoder = Decoder(Mode.STANDARD)
    assert decoder.feed(encode_frame(Mode.HISTORIC, groups, historic_method=method)) == []
    assert decoder.stats.other_mode_frames == 1


def test_standard_frames_on_a_historic_decoder_are_counted() -> None:
    decoder = Decoder(Mode.HISTORIC)
    assert decoder.feed(encode_frame(Mode.STANDARD, [Group("ADSC", LINKY_ADCO), Group("EAST", "000001000")])) == []
    assert decoder.stats.other_mode_frames == 1
    # One valid group is not enough to tell, nor is garbage, nor an auto-detecting decoder.
    decoder.feed(encode_frame(Mode.STANDARD, [Group("EAST", "000001000")]))
    decoder.feed(b"\x02\nA\tB\tC\r\x03\x02\x03")
    auto = Decoder()
    auto.feed(encode_frame(Mode.STANDARD, [Group("ADSC", LINKY_ADCO), Group("EAST", "000001000")]))
    assert (decoder.stats.other_mode_frames, auto.stats.other_mode_frames) == (1, 0)


def test_the_wrong_speed_simulation_reads_the_right_speed_back() -> None:
    frame = _meter(Profile.HISTORIC_BASE).next_frame()
    assert bytes(byte & 0x7F for byte in _read_at(frame, 1200, 1200)) == frame
    assert len(Decoder().feed(_read_at(frame, 1200, 1200))) == 1


@pytest.mark.parametrize("profile", list(Profile))
def test_a_healthy_line_shows_no_problem(profile: Profile) -> None:
    line = Line(_meter(profile))
    # The simulated base-contract Linkys send only their total, as a Linky does whose contract historic mode
    # cannot show.
    total_only = profile in {Profile.HISTORIC_BASE, Profile.HISTORIC_TRI}
    for _ in range(5):
        assert line.until(WINDOW_SECONDS / 2) > 0
        assert line.problems == ({Problem.TOTAL_INDEX_ONLY} if total_only else frozenset())
    diagnosis = line.monitor.diagnose(line.at)
    assert diagnosis.silent_for == diagnosis.without_frame_for == 0
    assert diagnosis.tariff_option is (TariffOption.BASE if total_only else None)


def test_silence_is_reported_after_ten_minutes_and_clears_at_the_next_byte() -> None:
    line = Line(_meter())
    line.frames(3)
    start = line.at
    assert line.monitor.diagnose(start + SILENCE_SECONDS - 1).problems == frozenset()
    diagnosis = line.monitor.diagnose(start + SILENCE_SECONDS)
    assert diagnosis.problems == {Problem.SILENT}
    assert diagnosis.silent_for == diagnosis.without_frame_for == SILENCE_SECONDS
    assert line.monitor.feed(b"", start + SILENCE_SECONDS) == []  # a read that returned nothing is no byte
    assert line.monitor.diagnose(start + SILENCE_SECONDS).silent_for == SILENCE_SECONDS
    line.monitor.feed(b"\x00", start + SILENCE_SECONDS + 1)
    assert line.monitor.diagnose(start + SILENCE_SECONDS + 1).problems == frozenset()


def test_a_line_that_never_spoke_is_silent() -> None:
    monitor = LineMonitor(Decoder(Mode.HISTORIC), 100.0)
    assert monitor.diagnose(100.0 + SILENCE_SECONDS).problems == {Problem.SILENT}


@pytest.mark.parametrize(
    "symptom",
    [lambda data: data.replace(b"\r", b"\n"), _no_etx, lambda data: _no_etx(data.replace(b"\r", b"\n"))],
    ids=["cr_to_lf", "etx_swallowed", "both"],
)
def test_a_tty_not_in_raw_mode_is_reported_then_clears(symptom) -> None:
    line = Line(_meter())
    line.frames(EVIDENCE_FRAMES - 1, symptom)
    assert line.problems == frozenset()
    line.frames(2, symptom)
    assert line.problems == {Problem.TTY_NOT_RAW}
    assert line.until(WINDOW_SECONDS, symptom) > 0  # frames still decode meanwhile
    assert line.problems == {Problem.TTY_NOT_RAW}
    line.until(WINDOW_SECONDS + 10)
    assert line.problems == frozenset()


def test_the_simulated_cr_to_lf_fault_is_a_tty_not_in_raw_mode() -> None:
    line = Line(_meter(Profile.HISTORIC_TEMPO, faults=[Fault.CR_TO_LF, Fault.PARITY]))
    line.until(10)
    assert line.problems == {Problem.TTY_NOT_RAW}


def test_the_real_capture_of_a_tty_not_in_raw_mode() -> None:
    monitor = LineMonitor(Decoder(Mode.HISTORIC), 0.0)
    assert len(monitor.feed(read_capture("historic_tri_rx_errors_lains_ticdecodecpp_excerpt.tic"), 10.0)) == 4
    assert monitor.diagnose(10.0).problems == {Problem.TTY_NOT_RAW}


def _stx_damaged(data: bytes) -> bytes:
    return b"\x0b" + data[1:]


def _separators_damaged(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\r\x0f")


@pytest.mark.parametrize("symptom", [_stx_damaged, _separators_damaged], ids=["stx", "separators"])
@pytest.mark.parametrize("profile", [Profile.STANDARD_MONO, Profile.HISTORIC_HC])
def test_an_adapter_that_damages_control_bytes_is_reported_then_clears(symptom, profile: Profile) -> None:
    line = Line(_meter(profile))
    line.frames(EVIDENCE_FRAMES - 1, symptom)
    assert line.problems == frozenset()
    assert line.until(WINDOW_SECONDS, symptom) > 0  # values are still read
    assert line.problems == {Problem.DAMAGED_CONTROL}
    line.until(WINDOW_SECONDS + 10)  # the adapter replaced
    assert line.problems == frozenset()


def test_the_simulated_damaged_control_fault() -> None:
    line = Line(_meter(Profile.STANDARD_TRI_PRODUCER, faults=[Fault.DAMAGED_CONTROL, Fault.PARITY]))
    assert line.until(10) > 0
    assert line.problems == {Problem.DAMAGED_CONTROL}
    stats = line.monitor.decoder.stats
    assert stats.checksum_errors == stats.malformed_groups == 0
    assert stats.frames_without_stx == stats.frames > 0
    assert stats.damaged_separator_groups == stats.groups


def test_noise_that_turns_a_few_lf_into_control_bytes_is_not_the_adapter() -> None:
    rng = random.Random(7)

    def noisy(data: bytes) -> bytes:
        # A noisy line: bit errors everywhere, LF and data bytes alike (a bit flip turns LF into 0x0B or 0x0E).
        out = bytearray(data)
        for at in rng.sample(range(1, len(out) - 1), 6):
            out[at] ^= rng.choice((0x01, 0x04))
        return bytes(out)

    line = Line(_meter(Profile.STANDARD_MONO))
    assert line.until(WINDOW_SECONDS, noisy) > 0
    stats = line.monitor.decoder.stats
    assert stats.damaged_separator_groups > 0
    assert Problem.DAMAGED_CONTROL not in line.problems


def test_rare_cut_frames_are_not_a_tty_problem() -> None:
    line = Line(_meter(Profile.HISTORIC_HC))
    frames = [line.meter.next_frame() for _ in range(12)]
    for n, frame in enumerate(frames):
        line.send(_no_etx(frame) if n % 4 == 0 else frame)
    assert line.monitor.decoder.stats.unterminated_frames == EVIDENCE_FRAMES
    assert line.problems == frozenset()


@pytest.mark.parametrize(
    ("profile", "configured", "read_baud"),
    [(Profile.STANDARD_TRI, Mode.HISTORIC, 1200), (Profile.HISTORIC_BASE, Mode.STANDARD, 9600)],
    ids=["switched_to_standard", "switched_to_historic"],
)
def test_the_wrong_speed_is_reported_until_a_valid_frame(profile: Profile, configured: Mode, read_baud: int) -> None:
    line = Line(_meter(profile), Decoder(configured))

    def garbage(data: bytes) -> bytes:
        return _read_at(data, line.meter.baudrate, read_baud)

    assert line.until(WINDOW_SECONDS - 5, garbage) == 0
    assert line.problems == frozenset()  # not a whole window yet
    line.until(10, garbage)
    assert line.monitor.received >= GARBAGE_BYTES
    assert line.problems == {Problem.WRONG_SPEED}
    assert line.monitor.diagnose(line.at).without_frame_for >= WINDOW_SECONDS
    line.meter = _meter(Profile.STANDARD_MONO if configured is Mode.STANDARD else Profile.HISTORIC_BASE)
    assert line.frames(1) == 1
    assert line.problems == frozenset()


def test_a_burst_of_garbage_between_frames_is_no_wrong_speed() -> None:
    line = Line(_meter())
    rng = random.Random(1)
    for _ in range(40):
        line.frames(1)
        line.send(bytes(rng.randrange(256) for _ in range(300)))  # often with an STX: cut by the next frame's
    assert line.monitor.decoder.stats.unterminated_frames > 30
    assert line.problems == frozenset()


def test_a_few_stray_bytes_are_no_wrong_speed() -> None:
    monitor = LineMonitor(Decoder(Mode.HISTORIC), 0.0)
    for second in range(0, 120, 10):
        monitor.feed(b"\x00\xff" * 10, float(second))
    assert monitor.received < GARBAGE_BYTES
    assert monitor.diagnose(120.0).problems == frozenset()


def test_frames_of_the_other_mode_say_the_meter_switched() -> None:
    # ser2net set to the new speed, or a bridge that adapts: frames arrive, of the other mode.
    line = Line(_meter(Profile.STANDARD_MONO), Decoder(Mode.HISTORIC))
    assert line.until(WINDOW_SECONDS + 5) == 0
    assert line.problems == {Problem.MODE_SWITCHED}
    line.meter = _meter(Profile.HISTORIC_BASE)
    line.frames(1)
    assert line.problems == frozenset()


def _historic(adco: str, optarif: str, *indexes: str) -> bytes:
    groups = [Group("ADCO", adco), Group("OPTARIF", optarif), Group("ISOUSC", "30")]
    groups += [Group(label, "000001000") for label in indexes]
    return encode_frame(Mode.HISTORIC, [*groups, Group("PTEC", "TH..")])


def _short() -> bytes:
    return encode_frame(Mode.HISTORIC, [Group("ADCO", LINKY_ADCO), *(Group(f"IINST{n}", "001") for n in (1, 2, 3))])


def test_a_linky_sending_only_its_total_index_is_reported() -> None:
    line = Line(_meter(Profile.HISTORIC_BASE, serial=LINKY_ADCO))
    line.frames(TOTAL_ONLY_FRAMES - 1)
    assert line.problems == frozenset()
    line.frames(1)
    diagnosis = line.monitor.diagnose(line.at)
    assert diagnosis.problems == {Problem.TOTAL_INDEX_ONLY}
    assert diagnosis.tariff_option is TariffOption.BASE  # as on a genuine base contract: the user must tell
    # It stays while the line is silent, and goes with the first frame carrying per-period indexes.
    assert line.monitor.diagnose(line.at + SILENCE_SECONDS).problems == {Problem.TOTAL_INDEX_ONLY, Problem.SILENT}
    line.send(_historic(LINKY_ADCO, "HC..", "HCHC", "HCHP"))
    assert line.problems == frozenset()


def test_an_option_with_periods_but_only_the_total_is_certainly_wrong() -> None:
    line = Line(_meter(Profile.HISTORIC_HC))
    for _ in range(TOTAL_ONLY_FRAMES):
        line.send(_historic(LINKY_ADCO, "HC..", "BASE"))
        line.send(_short())  # short frames carry no index: they neither count nor break the run
        line.send(_historic(LINKY_ADCO, "HC..", "HCHC", "HCHP")[:40] + b"\x03")  # every index lost to noise
    diagnosis = line.monitor.diagnose(line.at)
    assert diagnosis.problems == {Problem.TOTAL_INDEX_ONLY}
    assert diagnosis.tariff_option is TariffOption.HC


@pytest.mark.parametrize("meter_type", ["60", "61", "62", "63", "64", "65", "67", "68", "70", "71", "75", "76"])
def test_total_index_only_for_every_linky_type(meter_type: str) -> None:
    adco = f"0218{meter_type}000001"
    line = Line(_meter(Profile.HISTORIC_BASE))
    for _ in range(TOTAL_ONLY_FRAMES):
        line.send(_historic(adco, "HC..", "BASE"))
    assert line.problems == {Problem.TOTAL_INDEX_ONLY}


@pytest.mark.parametrize(
    "frames",
    [
        [_historic(OLD_METER_ADCO, "BASE", "BASE")] * 4,  # an older meter: its base contract is real
        [_historic(LINKY_ADCO, "HC..", "HCHC", "HCHP")] * 4,
        [_historic(LINKY_ADCO, "BASE", "BASE")] * 2 + [_historic("X", "BASE", "BASE")] * 2,  # not an address
    ],
    ids=["older_meter", "per_period_indexes", "unknown_meter"],
)
def test_total_index_only_needs_a_linky_sending_only_its_total(frames: list[bytes]) -> None:
    line = Line(_meter(Profile.HISTORIC_BASE))
    for frame in frames:
        line.send(frame)
    assert line.problems == frozenset()


def test_a_standard_frame_ends_total_index_only() -> None:
    line = Line(_meter(Profile.HISTORIC_BASE, serial=LINKY_ADCO), Decoder())
    line.frames(TOTAL_ONLY_FRAMES)
    assert line.problems == {Problem.TOTAL_INDEX_ONLY}
    line.send(encode_frame(Mode.STANDARD, [Group("ADSC", LINKY_ADCO), Group("EAST", "000001000")]))
    assert line.problems == frozenset()
