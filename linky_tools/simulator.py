"""A simulated meter: the frames a Linky (or an older electronic meter) would send, evolving plausibly over time.

The household draws a daily load curve with random appliances, a producer's panels follow the sun and clouds,
indexes grow with power, the tariff period follows the contract's calendar and Tempo colours change from day to
day. The clock is simulated: `next_frame()` advances it by the time the previous frame took on the line, or by the
seconds it is given, so tests can jump through hours in a few calls. Everything is drawn from `seed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
import functools
import math
import random
from typing import Final

from linky_tic import (
    BAUDRATES,
    TEMPO_INDEXES,
    Group,
    Horodate,
    Mode,
    ProfileBlock,
    Relays,
    Status,
    TariffOption,
    TariffPeriod,
    TempoColour,
    parse_horodate,
)

from .encoder import (
    CR,
    EOT,
    LF,
    STX,
    day_profile_value,
    demain_value,
    encode_frame,
    format_horodate,
    optarif_value,
    ptec_value,
    relays_value,
    status_register,
)

# A TIC character on the line: start bit, 7 data bits, parity, stop bit.
BITS_PER_BYTE: Final = 10
SHORT_FRAMES_PER_CYCLE: Final = 20
# Short frames go on this long after the last phase came back under its limit.
SHORT_FRAME_GRACE: Final = timedelta(minutes=1)
# Integration steps of the simulated household (µs), divisors of every boundary; long jumps take the long one.
_STEP: Final = 30_000_000
_LONG_STEP: Final = 300_000_000
_HOUR: Final = 3_600_000_000
_MINUTES: Final = 60_000_000  # µs
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# What adapters that damage control bytes deliver instead of STX and LF (reported: 0x0B, 0x0E, 0x0F).
_DAMAGED_CONTROL: Final = b"\x0b\x0e\x0f"
_POWER_FACTOR: Final = 0.92
_NO_MESSAGE: Final = "PAS DE          MESSAGE         "


class Profile(StrEnum):
    """Kinds of simulated meter."""

    HISTORIC_BASE = "historic_base"
    HISTORIC_HC = "historic_hc"
    HISTORIC_TEMPO = "historic_tempo"
    HISTORIC_EJP = "historic_ejp"
    HISTORIC_TRI = "historic_tri"
    STANDARD_BASE = "standard_base"
    STANDARD_MONO = "standard_mono"
    STANDARD_TRI = "standard_tri"
    STANDARD_TRI_PRODUCER = "standard_tri_producer"
    STANDARD_PRODUCER = "standard_producer"


class Fault(StrEnum):
    """Line faults the simulated meter can add."""

    NOISE = "noise"  # stray bytes between frames and inside groups
    EOT = "eot"  # a frame cut short by EOT
    CORRUPT = "corrupt"  # a character of a group changed: its checksum no longer matches
    PARITY = "parity"  # the even parity bit in bit 7, as a port opened 8N1 reads a 7E1 line
    CR_TO_LF = "cr_lf"  # every CR turned into LF, as a tty not in raw mode does
    DAMAGED_CONTROL = "damaged_control"  # STX and every LF delivered as 0x0B, 0x0E or 0x0F, as some adapters do


@dataclass(frozen=True, slots=True)
class _Contract:
    mode: Mode
    phases: int
    option: TariffOption
    consumer: bool = True
    producer: bool = False


_CONTRACTS: Final = {
    Profile.HISTORIC_BASE: _Contract(Mode.HISTORIC, 1, TariffOption.BASE),
    Profile.HISTORIC_HC: _Contract(Mode.HISTORIC, 1, TariffOption.HC),
    Profile.HISTORIC_TEMPO: _Contract(Mode.HISTORIC, 1, TariffOption.TEMPO),
    Profile.HISTORIC_EJP: _Contract(Mode.HISTORIC, 1, TariffOption.EJP),
    Profile.HISTORIC_TRI: _Contract(Mode.HISTORIC, 3, TariffOption.BASE),
    Profile.STANDARD_BASE: _Contract(Mode.STANDARD, 1, TariffOption.BASE),
    Profile.STANDARD_MONO: _Contract(Mode.STANDARD, 1, TariffOption.HC),
    Profile.STANDARD_TRI: _Contract(Mode.STANDARD, 3, TariffOption.TEMPO),
    Profile.STANDARD_TRI_PRODUCER: _Contract(Mode.STANDARD, 3, TariffOption.BASE, producer=True),
    Profile.STANDARD_PRODUCER: _Contract(Mode.STANDARD, 1, TariffOption.BASE, consumer=False, producer=True),
}
# Tariff periods of each option, in the order of their indexes (EASF01..., and the historic index labels).
_PERIODS: Final = {
    TariffOption.BASE: (TariffPeriod.TH,),
    TariffOption.HC: (TariffPeriod.HC, TariffPeriod.HP),
    TariffOption.EJP: (TariffPeriod.HN, TariffPeriod.PM),
    TariffOption.TEMPO: tuple(TariffPeriod(index.lower()) for index in TEMPO_INDEXES),
}
_HISTORIC_INDEXES: Final = {
    TariffOption.BASE: ("BASE",),
    TariffOption.HC: ("HCHC", "HCHP"),
    TariffOption.EJP: ("EJPHN", "EJPHPM"),
    TariffOption.TEMPO: tuple(f"BBR{index}" for index in TEMPO_INDEXES),
}
_TEMPO_WORDS: Final = {TempoColour.BLUE: "BLEU", TempoColour.WHITE: "BLANC", TempoColour.RED: "ROUGE"}
_OFF_PEAK_START, _OFF_PEAK_END = time(22), time(6)
_TEMPO_DAY_START: Final = time(6)
_TEMPO_ANNOUNCED: Final = time(11)
_EJP_NOTICE, _EJP_START, _EJP_END = time(6, 30), time(7), time(1)
_FAULT_RATE: Final = 0.1


def french_offset(moment: datetime) -> timedelta:
    """UTC offset of metropolitan France at an aware moment: +2 h from the last Sunday of March to October."""
    utc = moment.astimezone(UTC)
    start, end = _summer_time(utc.year)
    return timedelta(hours=2 if start <= utc < end else 1)


@functools.cache
def _summer_time(year: int) -> tuple[datetime, datetime]:
    """Summer time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October."""

    def last_sunday_1am(month: int) -> datetime:
        last = date(year, month, 31)
        last -= timedelta(days=(last.weekday() + 1) % 7)
        return datetime.combine(last, time(1), UTC)

    return last_sunday_1am(3), last_sunday_1am(10)


def _horodate(moment: datetime, *, season: bool = True) -> Horodate:
    """Return the horodate of a moment in French local time; without season, the space one (DPM/FPM)."""
    local = moment.astimezone(timezone(french_offset(moment)))
    horodate = parse_horodate(format_horodate(local if season else local.replace(tzinfo=None)))
    assert horodate is not None
    return horodate


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch, exact, for boundary arithmetic."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _tempo_period(colour: TempoColour, *, off_peak: bool) -> TariffPeriod:
    return TariffPeriod(f"{'hc' if off_peak else 'hp'}j{colour.name[0].lower()}")


@dataclass(slots=True)
class _Peak:
    """A maximum of the day and when it happened."""

    value: float
    moment: datetime


class SimulatedMeter:
    """A meter of one profile. `serial` (ADCO/ADSC) and `prm` are fake by default; pass others to test with."""

    def __init__(
        self,
        profile: Profile | str,
        *,
        start: datetime | None = None,
        seed: int = 0,
        faults: Iterable[Fault | str] = (),
        fault_rate: float = _FAULT_RATE,
        serial: str | None = None,
        prm: str = "09999999999999",
        new: bool = False,
    ) -> None:
        """Build the meter at `start` (aware; now by default) with plausible indexes drawn from `seed`.

        `new`: a meter just installed, its indexes a few Wh from zero (what Enedis leaves after a replacement).
        """
        self.profile = Profile(profile)
        self._contract = _CONTRACTS[self.profile]
        self.mode = self._contract.mode
        self.baudrate = BAUDRATES[self.mode]
        self.faults = frozenset(Fault(fault) for fault in faults)
        self.fault_rate = fault_rate
        self.serial = serial or ("041876543210" if self._contract.phases == 3 else "041864543210")
        self.prm = prm
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self._fault_rng = random.Random(seed + 1)  # noqa: S311 - faults must not change the meter's values
        now = (start or datetime.now(UTC)).astimezone(UTC)
        self._now = now - timedelta(seconds=now.timestamp() % 1)
        self._last_line_time: float | None = None
        self._short_frames = 0
        self._short_until: datetime | None = None
        self._calendar: dict[tuple[str, int], float] = {}
        self._powered = True
        rng = self._rng
        self._supplier_wh = [0.0] * 10
        self._distributor_wh = [0.0] * 4
        if self._contract.consumer:
            periods = len(_PERIODS[self._contract.option])
            low, high = (0.0, 50.0) if new else (5e5, 2e7)
            self._supplier_wh[:periods] = [rng.uniform(low, high) for _ in range(periods)]
            flat = self._contract.option in {TariffOption.BASE, TariffOption.EJP}
            shares = [1.0] if flat else [rng.uniform(1.0, 3.0) for _ in range(4)]
            for n, share in enumerate(shares):
                self._distributor_wh[n] = sum(self._supplier_wh) * share / sum(shares)
        self._injected_wh = rng.uniform(1e5, 5e6) if self._contract.producer else 0.0
        self._reactive_varh = [rng.uniform(1e4, 3e6) if self._contract.producer else 0.0 for _ in range(4)]
        self._appliance_va = 0.0
        self._appliance_until = self._now
        self._clouds = 0.8
        self._phase_va = [0.0, 0.0, 0.0]
        self._injected_va = 0.0
        self._volts = [230.0, 230.0, 230.0]
        self._sample(self._local(), _STEP)
        point = self._boundary(1800)
        yesterday = self._local().replace(hour=19, minute=12, second=7) - timedelta(days=1)
        self._smax_today = [_Peak(va, self._now) for va in self._withdrawn_by_meter()]
        self._smax_yesterday = [_Peak(va * rng.uniform(1.5, 3.0), yesterday) for va in self._withdrawn_by_meter()]
        self._smaxin_today = _Peak(self._injected_va, self._now)
        self._smaxin_yesterday = _Peak(rng.uniform(1000.0, 3000.0), yesterday.replace(hour=13))
        mean_w = 500.0 if self._contract.consumer else 0.0
        self._load_curve = [(point - timedelta(minutes=30), mean_w * 0.8), (point, mean_w)]
        self._injection_curve = [(point - timedelta(minutes=30), 0.0), (point, 0.0)]
        self._point_wh = [0.0, 0.0]
        self._umoy = (self._boundary(600), list(self._volts))
        self._volt_sums = [0.0, 0.0, 0.0]
        self._volt_samples = 0

    @property
    def now(self) -> datetime:
        """Simulated time, UTC."""
        return self._now

    def groups(self) -> list[Group]:
        """Return the groups of the next frame (a short frame's, in a short-frame cycle)."""
        if self.mode is Mode.STANDARD:
            return self._standard_groups()
        if self._short_frame_due():
            return self._short_groups()
        return self._historic_groups()

    def next_frame(self, elapsed: float | None = None) -> bytes:
        """Advance the clock and return the next frame, faults applied.

        The clock advances by `elapsed` seconds, by default by the time the previous frame took on the line.
        """
        if elapsed is None:
            elapsed = self._last_line_time or 0.0
        self._advance(elapsed)
        short = self.mode is Mode.HISTORIC and self._short_frame_due()
        frame = encode_frame(self.mode, self.groups())
        self._short_frames = self._short_frames + 1 if short else 0
        self._last_line_time = len(frame) * BITS_PER_BYTE / self.baudrate
        return self._apply_faults(frame)

    def change_option(self, option: TariffOption) -> None:
        """Change the contract's tariff option (HP/HC to Tempo...): the supplier indexes count on, by the new calendar.

        The indexes the new calendar adds start where they stood (at zero, for an index the old one did not use).
        """
        self._contract = replace(self._contract, option=option)

    def cut(self, seconds: float) -> None:
        """Cut the household's power for `seconds`: the meter's clock moves on, nothing is drawn, no frame is sent."""
        self._powered = False
        self._phase_va, self._injected_va = [0.0, 0.0, 0.0], 0.0
        try:
            self._advance(seconds)
        finally:
            self._powered = True

    # The household and its tariff.

    def _local(self, moment: datetime | None = None) -> datetime:
        moment = moment or self._now
        return moment.astimezone(timezone(french_offset(moment)))

    def _boundary(self, seconds: int) -> datetime:
        """Return the last multiple of `seconds` (local time) at or before now."""
        return self._now - timedelta(microseconds=_micros(self._now) % (seconds * 1_000_000))

    def _tempo_colour(self, day: date) -> TempoColour:
        """Return the colour of a Tempo day: red only on winter weekdays, white never on Sundays."""
        draw = self._draw("tempo", day)
        winter = day.month in {11, 12, 1, 2, 3}
        if winter and day.weekday() < 5 and draw < 0.15:
            return TempoColour.RED
        if day.weekday() < 6 and draw > 0.8:
            return TempoColour.WHITE
        return TempoColour.BLUE

    def _ejp_day(self, day: date) -> bool:
        draw = self._draw("ejp", day)
        return day.month in {11, 12, 1, 2, 3} and day.weekday() < 5 and draw < 0.15

    def _draw(self, calendar: str, day: date) -> float:
        """Return the random draw of a calendar's day: the same for a seed whatever the path through time."""
        key = (calendar, day.toordinal())
        if (draw := self._calendar.get(key)) is None:
            draw = self._calendar[key] = random.Random(f"{calendar}-{self.seed}-{key[1]}").random()  # noqa: S311
        return draw

    def _tempo_day(self, local: datetime) -> date:
        """Tempo days run from 06:00 to 06:00."""
        return (local - timedelta(hours=_TEMPO_DAY_START.hour)).date()

    def _off_peak(self, local: datetime) -> bool:
        return local.time() >= _OFF_PEAK_START or local.time() < _OFF_PEAK_END

    def _period(self, local: datetime) -> TariffPeriod:
        option = self._contract.option
        if option is TariffOption.HC:
            return TariffPeriod.HC if self._off_peak(local) else TariffPeriod.HP
        if option is TariffOption.TEMPO:
            return _tempo_period(self._tempo_colour(self._tempo_day(local)), off_peak=self._off_peak(local))
        if option is TariffOption.EJP:
            return TariffPeriod.PM if self._ejp_peak(local) else TariffPeriod.HN
        return TariffPeriod.TH

    def _ejp_peak(self, local: datetime) -> bool:
        """Tell whether an EJP mobile peak is on: they run from 07:00 to 01:00 the next day."""
        if local.time() >= _EJP_START:
            return self._ejp_day(local.date())
        return local.time() < _EJP_END and self._ejp_day(local.date() - timedelta(days=1))

    def _supplier_index(self, local: datetime) -> int:
        """Return the index (1..10) the current period counts into."""
        return _PERIODS[self._contract.option].index(self._period(local)) + 1

    def _distributor_index(self, local: datetime) -> int:
        """High season (November to March) then low season, peak then off-peak; a single index for flat rates."""
        if self._contract.option in {TariffOption.BASE, TariffOption.EJP}:
            return 1
        low_season = local.month not in {11, 12, 1, 2, 3}
        return 1 + 2 * low_season + self._off_peak(local)

    def _relay_closed(self, local: datetime) -> bool:
        """Tell whether the dry contact is closed: it drives a water heater during off-peak hours."""
        return self._contract.option in {TariffOption.HC, TariffOption.TEMPO} and self._off_peak(local)

    def _demand_va(self, local: datetime, step: int) -> float:
        """Apparent power the household draws: a daily curve, heating in winter, a water heater, appliances."""
        if not self._contract.consumer:
            return 0.0
        rng, hour = self._rng, local.hour + local.minute / 60
        va = 300.0 + 900.0 * math.exp(-(((hour - 7.5) / 1.0) ** 2)) + 1400.0 * math.exp(-(((hour - 19.5) / 1.5) ** 2))
        if local.month in {11, 12, 1, 2, 3}:
            va += 1200.0 + 600.0 * math.cos(hour / 24 * 2 * math.pi)
        if self._relay_closed(local) and (hour >= 22 or hour < 1.5):
            va += 2200.0
        if self._now >= self._appliance_until and rng.random() < step / (15 * _MINUTES):
            self._appliance_va = rng.choice((1800.0, 2400.0, 3200.0))
            self._appliance_until = self._now + timedelta(minutes=rng.choice((3, 10, 30, 60)))
        if self._now < self._appliance_until:
            va += self._appliance_va
        return va * rng.uniform(0.93, 1.07)

    def _solar_va(self, local: datetime) -> float:
        if not self._contract.producer:
            return 0.0
        self._clouds = min(1.0, max(0.2, self._clouds + self._rng.uniform(-0.05, 0.05)))
        hour = local.hour + local.minute / 60
        peak = 6000.0 if self._contract.phases == 3 else 3000.0
        return peak * self._clouds * max(0.0, math.sin(math.pi * (hour - 7) / 13))

    def _overloaded_phase(self, local: datetime) -> int | None:
        """On three-phase historic meters phase 2 goes over its limit for 30 s every 10 minutes."""
        if self.profile is not Profile.HISTORIC_TRI or local.minute % 10 != 5 or local.second >= 30:
            return None
        return 1

    def _sample(self, local: datetime, step: int) -> None:
        """Draw the powers and voltages of now, `step` µs after the previous draw."""
        demand, solar = self._demand_va(local, step), self._solar_va(local)
        if not self._powered:
            demand = solar = 0.0
        withdrawn, self._injected_va = max(0.0, demand - solar), max(0.0, solar - demand)
        if self._contract.phases == 1:
            self._phase_va = [withdrawn, 0.0, 0.0]
        else:
            self._phase_va = [withdrawn * share for share in (0.45, 0.35, 0.20)]
            if (phase := self._overloaded_phase(local)) is not None:
                self._phase_va[phase] = (self._subscribed_amps() + 8) * self._volts[phase]
                self._short_until = self._now + SHORT_FRAME_GRACE
        self._volts = [min(253.0, max(207.0, volts + self._rng.uniform(-0.6, 0.6))) for volts in self._volts]
        self._volts = [volts + (230.0 - volts) * 0.02 for volts in self._volts]

    def _advance(self, seconds: float) -> None:
        """Move the clock on, integrating energy and keeping maxima, load curve and mean voltages."""
        end = _micros(self._now) + round(seconds * 1_000_000)
        local = self._local()
        while (now := _micros(self._now)) < end:
            unit = _LONG_STEP if end - now > _HOUR else _STEP
            step = min(unit - now % unit, end - now)
            self._integrate(step / _HOUR, local)
            self._now += timedelta(microseconds=step)
            day_before, local = local.date(), self._local()
            self._sample(local, step)
            if local.date() != day_before:
                self._new_day()
            self._track_maxima()
            self._track_averages()

    def _integrate(self, hours: float, local: datetime) -> None:
        withdrawn_wh = sum(self._phase_va) * _POWER_FACTOR * hours
        injected_wh = self._injected_va * _POWER_FACTOR * hours
        self._supplier_wh[self._supplier_index(local) - 1] += withdrawn_wh
        self._distributor_wh[self._distributor_index(local) - 1] += withdrawn_wh
        self._injected_wh += injected_wh
        self._point_wh[0] += withdrawn_wh
        self._point_wh[1] += injected_wh
        if self._contract.producer:
            for quadrant, share in enumerate(
                (0.25 * withdrawn_wh, 0.1 * injected_wh, 0.2 * injected_wh, 0.05 * withdrawn_wh)
            ):
                self._reactive_varh[quadrant] += share

    def _new_day(self) -> None:
        self._smax_yesterday, self._smaxin_yesterday = self._smax_today, self._smaxin_today
        self._smax_today = [_Peak(0.0, self._now) for _ in self._smax_today]
        self._smaxin_today = _Peak(0.0, self._now)

    def _withdrawn_by_meter(self) -> list[float]:
        """Total apparent power withdrawn, then each phase on a three-phase meter."""
        total = [sum(self._phase_va)]
        return total + self._phase_va if self._contract.phases == 3 else total

    def _track_maxima(self) -> None:
        # The meter keeps its maxima in whole VA: a new maximum, with its time, only when the VA sent goes up.
        for peak, va in zip(self._smax_today, self._withdrawn_by_meter(), strict=True):
            if round(va) > round(peak.value):
                peak.value, peak.moment = va, self._now
        if round(self._injected_va) > round(self._smaxin_today.value):
            self._smaxin_today = _Peak(self._injected_va, self._now)

    def _track_averages(self) -> None:
        for phase, volts in enumerate(self._volts):
            self._volt_sums[phase] += volts
        self._volt_samples += 1
        if _micros(self._now) % (10 * _MINUTES) == 0:
            self._umoy = (self._now, [total / self._volt_samples for total in self._volt_sums])
            self._volt_sums, self._volt_samples = [0.0, 0.0, 0.0], 0
        if _micros(self._now) % (30 * _MINUTES) == 0:
            self._load_curve = [self._load_curve[1], (self._now, self._point_wh[0] * 2)]
            self._injection_curve = [self._injection_curve[1], (self._now, self._point_wh[1] * 2)]
            self._point_wh = [0.0, 0.0]

    def _subscribed_amps(self) -> int:
        return 20 if self._contract.phases == 3 else 30

    def _amps(self, phase: int) -> int:
        return round(self._phase_va[phase] / self._volts[phase])

    # Frames.

    def _short_frame_due(self) -> bool:
        """Whether the next historic frame is a short one: 20 of them, then a long one, while a phase is over."""
        if self._short_until is None or self._now >= self._short_until:
            return False
        return self._short_frames < SHORT_FRAMES_PER_CYCLE

    def _short_groups(self) -> list[Group]:
        over = [phase for phase in range(3) if self._amps(phase) > self._subscribed_amps()]
        return [
            *(Group(f"ADIR{phase + 1}", f"{self._amps(phase):03d}") for phase in over),
            Group("ADCO", self.serial),
            *(Group(f"IINST{phase + 1}", f"{self._amps(phase):03d}") for phase in range(3)),
        ]

    def _historic_groups(self) -> list[Group]:
        local, option = self._local(), self._contract.option
        period = self._period(local)
        groups = [
            Group("ADCO", self.serial),
            Group("OPTARIF", optarif_value(option)),
            Group("ISOUSC", f"{self._subscribed_amps():02d}"),
            *(Group(label, f"{int(self._supplier_wh[n]):09d}") for n, label in enumerate(_HISTORIC_INDEXES[option])),
        ]
        if option is TariffOption.EJP and _EJP_NOTICE <= local.time() < _EJP_START and self._ejp_day(local.date()):
            groups.append(Group("PEJP", "30"))
        groups.append(Group("PTEC", ptec_value(period)))
        if option is TariffOption.TEMPO:
            groups.append(Group("DEMAIN", demain_value(self._tomorrow_colour(local))))
        papp = f"{round(sum(self._phase_va), -1):05.0f}"
        if self._contract.phases == 1:
            amps = self._amps(0)
            groups.append(Group("IINST", f"{amps:03d}"))
            if amps > self._subscribed_amps():
                groups.append(Group("ADPS", f"{amps:03d}"))
            groups += [Group("IMAX", "090"), Group("PAPP", papp), Group("HHPHC", "A"), Group("MOTDETAT", "000000")]
            return groups
        return [
            *groups,
            *(Group(f"IINST{phase + 1}", f"{self._amps(phase):03d}") for phase in range(3)),
            *(Group(f"IMAX{phase + 1}", "060") for phase in range(3)),
            Group("PMAX", f"{round(self._smax_yesterday[0].value):05d}"),
            Group("PAPP", papp),
            Group("HHPHC", "A"),
            Group("MOTDETAT", "000000"),
            Group("PPOT", "00"),
        ]

    def _tomorrow_colour(self, local: datetime) -> TempoColour:
        """Tomorrow's Tempo colour once announced (11:00), UNKNOWN before."""
        if self._contract.option is not TariffOption.TEMPO:
            return TempoColour.UNKNOWN
        today = self._tempo_day(local)
        if local.date() == today and local.time() < _TEMPO_ANNOUNCED:
            return TempoColour.UNKNOWN
        return self._tempo_colour(today + timedelta(days=1))

    def _day_profile(self, day: date) -> tuple[ProfileBlock, ...]:
        """Tomorrow's switches: the index in force from each time, and what the dry contact does."""
        starts = (time(0), _OFF_PEAK_END, _OFF_PEAK_START)
        option = self._contract.option
        if option is TariffOption.HC:
            return tuple(
                ProfileBlock(start, (0xC000 if off_peak else 0x8000) | index)
                for start, off_peak, index in zip(starts, (True, False, True), (1, 2, 1), strict=True)
            )
        if option is TariffOption.TEMPO:
            colours = (self._tempo_colour(day - timedelta(days=1)), *([self._tempo_colour(day)] * 2))
            codes = (
                0x4000 | self._tempo_index(colour, off_peak=off_peak)
                for colour, off_peak in zip(colours, (True, False, True), strict=True)
            )
            return tuple(ProfileBlock(start, code) for start, code in zip(starts, codes, strict=True))
        return (ProfileBlock(time(0), 0x8001),)

    def _tempo_index(self, colour: TempoColour, *, off_peak: bool) -> int:
        return _PERIODS[TariffOption.TEMPO].index(_tempo_period(colour, off_peak=off_peak)) + 1

    def _standard_groups(self) -> list[Group]:
        local, contract = self._local(), self._contract
        phases = range(1, contract.phases + 1)
        withdrawn = self._withdrawn_by_meter()
        suffixes = [""] + [str(phase) for phase in phases] if contract.phases == 3 else [""]
        index = self._supplier_index(local)
        tempo_day = self._tempo_day(local)
        red_today = contract.option is TariffOption.TEMPO and self._tempo_colour(tempo_day) is TempoColour.RED
        tomorrow = self._tomorrow_colour(local)
        relay_closed = self._relay_closed(local)
        groups = [
            Group("ADSC", self.serial),
            Group("VTIC", "02"),
            self._with_horodate("DATE", "", self._now),
            Group("NGTF", self._calendar_name()),
            Group("LTARF", self._tariff_label(local)),
            Group("EAST", f"{sum(int(wh) for wh in self._supplier_wh):09d}"),
            *(Group(f"EASF{n:02d}", f"{int(wh):09d}") for n, wh in enumerate(self._supplier_wh, start=1)),
            *(Group(f"EASD{n:02d}", f"{int(wh):09d}") for n, wh in enumerate(self._distributor_wh, start=1)),
        ]
        if contract.producer:
            groups.append(Group("EAIT", f"{int(self._injected_wh):09d}"))
            groups += [Group(f"ERQ{n}", f"{int(varh):09d}") for n, varh in enumerate(self._reactive_varh, start=1)]
        groups += [Group(f"IRMS{phase}", f"{self._amps(phase - 1):03d}") for phase in phases]
        groups += [Group(f"URMS{phase}", f"{round(self._volts[phase - 1]):03d}") for phase in phases]
        pref = "12" if contract.phases == 3 else "09"
        groups += [Group("PREF", pref), Group("PCOUP", pref)]
        groups += [Group(f"SINSTS{sfx}", f"{round(va):05d}") for sfx, va in zip(suffixes, withdrawn, strict=True)]
        groups += [self._peak_group(f"SMAXSN{sfx}", peak) for sfx, peak in zip(suffixes, self._smax_today, strict=True)]
        groups += [
            self._peak_group(f"SMAXSN{sfx}-1", peak) for sfx, peak in zip(suffixes, self._smax_yesterday, strict=True)
        ]
        if contract.producer:
            groups += [
                Group("SINSTI", f"{round(self._injected_va):05d}"),
                self._peak_group("SMAXIN", self._smaxin_today),
                self._peak_group("SMAXIN-1", self._smaxin_yesterday),
            ]
        groups += self._curve_groups("CCASN", self._load_curve)
        if contract.producer and contract.phases == 3:
            groups += self._curve_groups("CCAIN", self._injection_curve)
        umoy_moment, umoy = self._umoy
        groups += [
            self._with_horodate(f"UMOY{phase}", f"{round(umoy[phase - 1]):03d}", umoy_moment) for phase in phases
        ]
        status = Status(
            dry_contact_open=not relay_closed,
            producer=contract.producer,
            energy_negative=self._injected_va > 0,
            supplier_index=index,
            distributor_index=self._distributor_index(local),
            tempo_today=self._tempo_colour(tempo_day) if contract.option is TariffOption.TEMPO else TempoColour.UNKNOWN,
            tempo_tomorrow=tomorrow,
            mobile_peak_notice=int(tomorrow is TempoColour.RED),
            mobile_peak=int(red_today),
        )
        groups.append(Group("STGE", status_register(status)))
        if red_today:
            start = datetime.combine(tempo_day, _TEMPO_DAY_START, local.tzinfo)
            groups += [
                self._with_horodate("DPM1", "00", start, season=False),
                self._with_horodate("FPM1", "00", start + timedelta(days=1), season=False),
            ]
        tomorrow_profile = day_profile_value(self._day_profile(local.date() + timedelta(days=1)))
        groups += [
            Group("MSG1", _NO_MESSAGE),
            Group("PRM", self.prm),
            Group("RELAIS", relays_value(Relays(relay_closed, (False,) * 7))),
            Group("NTARF", f"{index:02d}"),
            Group("NJOURF", "00"),
            Group("NJOURF+1", "00"),
            Group("PJOURF+1", tomorrow_profile),
        ]
        if tomorrow is TempoColour.RED:
            groups.append(Group("PPOINTE", tomorrow_profile))
        return groups

    def _calendar_name(self) -> str:
        if not self._contract.consumer:
            return "PRODUCTEUR"
        return {
            TariffOption.BASE: "BASE",
            TariffOption.HC: "H PLEINE/CREUSE",
            TariffOption.TEMPO: "TEMPO",
            TariffOption.EJP: "EJP",
        }[self._contract.option].center(16)

    def _tariff_label(self, local: datetime) -> str:
        if not self._contract.consumer:
            return "INDEX NON CONSO "
        option = self._contract.option
        if option is TariffOption.HC:
            return " HEURE  CREUSE  " if self._off_peak(local) else " HEURE  PLEINE  "
        if option is TariffOption.TEMPO:
            colour = self._tempo_colour(self._tempo_day(local))
            return f"{'HC' if self._off_peak(local) else 'HP'}  {_TEMPO_WORDS[colour]}".center(16)
        return "BASE".center(16)

    def _with_horodate(self, label: str, value: str, moment: datetime, *, season: bool = True) -> Group:
        return Group(label, value, _horodate(moment, season=season))

    def _peak_group(self, label: str, peak: _Peak) -> Group:
        return self._with_horodate(label, f"{round(peak.value):05d}", peak.moment)

    def _curve_groups(self, label: str, curve: list[tuple[datetime, float]]) -> list[Group]:
        (before, before_w), (last, last_w) = curve
        return [
            self._with_horodate(label, f"{round(last_w):05d}", last),
            self._with_horodate(f"{label}-1", f"{round(before_w):05d}", before),
        ]

    # Faults.

    def _apply_faults(self, frame: bytes) -> bytes:
        rng, rate = self._fault_rng, self.fault_rate
        data = bytearray(frame)
        if Fault.CORRUPT in self.faults and rng.random() < rate:
            data = self._corrupt(data)
        if Fault.NOISE in self.faults and rng.random() < rate:
            noise = bytes(rng.choice(b"\x00\x7f\xff~?_`|xp") for _ in range(rng.randint(1, 8)))
            at = rng.choice((0, rng.randrange(1, len(data))))
            data[at:at] = noise
        if Fault.EOT in self.faults and rng.random() < rate:
            data = data[: rng.randrange(2, len(data) - 1)] + bytes([EOT])
        if Fault.DAMAGED_CONTROL in self.faults:
            data = bytearray(rng.choice(_DAMAGED_CONTROL) if byte in {STX, LF} else byte for byte in data)
        if Fault.CR_TO_LF in self.faults:
            data = data.replace(bytes([CR]), bytes([LF]))
        if Fault.PARITY in self.faults:
            data = bytearray(byte | (byte.bit_count() & 1) << 7 for byte in data)
        return bytes(data)

    def _corrupt(self, data: bytearray) -> bytearray:
        """Change one letter or digit of a group, so that its checksum no longer matches."""
        positions = [at for at in range(len(data)) if chr(data[at]).isalnum() and data[at - 1] not in {0x09, 0x20}]
        data[self._fault_rng.choice(positions)] ^= 0x01
        return data
