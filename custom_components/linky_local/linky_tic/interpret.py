"""Meaning of the values that are codes: tariff option and period, Tempo colours, relays, day profiles, address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Final

from .catalogue import TEMPO_INDEXES
from .frame import decimal


class TempoColour(StrEnum):
    """Colour of a Tempo day; UNKNOWN before it is announced, or for a contract without colours."""

    UNKNOWN = "unknown"
    BLUE = "blue"
    WHITE = "white"
    RED = "red"


class TariffOption(StrEnum):
    """Historic OPTARIF."""

    BASE = "base"
    HC = "hc"
    EJP = "ejp"
    TEMPO = "tempo"


class TariffPeriod(StrEnum):
    """Historic PTEC: the tariff period now in force."""

    TH = "th"  # all hours (base option)
    HC = "hc"  # off-peak
    HP = "hp"  # peak
    HN = "hn"  # EJP normal hours
    PM = "pm"  # EJP mobile peak
    HCJB = "hcjb"
    HCJW = "hcjw"
    HCJR = "hcjr"
    HPJB = "hpjb"
    HPJW = "hpjw"
    HPJR = "hpjr"

    @property
    def off_peak(self) -> bool:
        """Whether the period is an off-peak one."""
        return self in {TariffPeriod.HC, TariffPeriod.HCJB, TariffPeriod.HCJW, TariffPeriod.HCJR}

    @property
    def tempo_colour(self) -> TempoColour | None:
        """Colour of the Tempo day for a Tempo period, None for the other options."""
        return _PERIOD_COLOURS.get(self[-1]) if len(self) == 4 else None


_PERIOD_COLOURS: Final = {"b": TempoColour.BLUE, "w": TempoColour.WHITE, "r": TempoColour.RED}
_DEMAIN: Final = {
    "----": TempoColour.UNKNOWN,
    "BLEU": TempoColour.BLUE,
    "BLAN": TempoColour.WHITE,
    "ROUG": TempoColour.RED,
}
_OPTARIF: Final = {"BASE": TariffOption.BASE, "HC..": TariffOption.HC, "EJP.": TariffOption.EJP}


def tariff_option(value: str) -> TariffOption | None:
    """Decode OPTARIF (`BASE`, `HC..`, `EJP.`, `BBRx`); None for a value the specification does not list."""
    if len(value) == 4 and value.startswith("BBR"):
        return TariffOption.TEMPO  # the fourth character encodes the Tempo relay programme
    return _OPTARIF.get(value)


def tariff_period(value: str) -> TariffPeriod | None:
    """Decode PTEC (`TH..`, `HC..`, `HPJR`...); None for a value the specification does not list."""
    try:
        return TariffPeriod(value.rstrip(".").lower())
    except ValueError:
        return None


def tempo_tomorrow(value: str) -> TempoColour | None:
    """Decode DEMAIN (`----`, `BLEU`, `BLAN`, `ROUG`); None for a value the specification does not list."""
    return _DEMAIN.get(value)


# The supplier calendars (NGTF) whose indexes are well known: each supplier index (EASF01, EASF02...) counts the
# period the historic label of the same rank names. Other calendars (a supplier's own offers) are not guessed.
_CALENDAR_INDEXES: Final = {
    "BASE": ("BASE",),
    "HPLEINE/CREUSE": ("HCHC", "HCHP"),
    "TEMPO": tuple(f"BBR{index}" for index in TEMPO_INDEXES),
    "EJP": ("EJPHN", "EJPHPM"),
}


def calendar_indexes(ngtf: str) -> tuple[str, ...] | None:
    """Return the historic labels naming a known calendar's supplier indexes, in order; None for another calendar."""
    return _CALENDAR_INDEXES.get("".join(ngtf.split()).upper())


@dataclass(frozen=True, slots=True)
class Relays:
    """RELAIS: the real dry-contact relay (bit 0) and virtual relays 1..7 (bits 1..7); True is closed."""

    dry_contact: bool
    virtual: tuple[bool, bool, bool, bool, bool, bool, bool]

    @classmethod
    def parse(cls, value: str) -> Relays | None:
        """Decode the 3-digit decimal RELAIS value; None when it is not one."""
        if (bits := decimal(value)) is None or bits > 0xFF:
            return None
        virtual = tuple(bool(bits >> n & 1) for n in range(1, 8))
        return cls(bool(bits & 1), virtual)  # type: ignore[arg-type]


UNUSED_BLOCK: Final = "NONUTILE"


@dataclass(frozen=True, slots=True)
class ProfileBlock:
    """One switch of a day profile: from `start`, `code` applies; its low 4 bits are the supplier index (1..10)."""

    start: time
    code: int

    @property
    def supplier_index(self) -> int:
        """Supplier tariff index in force from `start`."""
        return self.code & 0x0F


def day_profile(value: str) -> tuple[ProfileBlock, ...] | None:
    """Decode PJOURF+1 or PPOINTE: 11 blocks `HHMMSSSS` or `NONUTILE`; None when the value is not one."""
    blocks: list[ProfileBlock] = []
    for block in value.split(" "):
        if block == UNUSED_BLOCK:
            continue
        if len(block) != 8 or not block[:4].isdigit() or not block.isascii():
            return None
        try:
            blocks.append(ProfileBlock(time(int(block[:2]), int(block[2:4])), int(block[4:], 16)))
        except ValueError:
            return None
    return tuple(blocks)


# Euridis identifiers (list CCTT, V3.04A of 2019): the meter makers and meter types a household is likely to have.
MANUFACTURERS: Final = {
    "01": "Crouzet / Monetel",
    "02": "Sagemcom",
    "03": "Itron (Schlumberger, Actaris)",
    "04": "Landis+Gyr",
    "05": "Sauter / Stepper Énergie",
    "06": "Itron",
    "07": "MAEC",
    "11": "Elster / Honeywell",
    "27": "Iskraemeco",
    "31": "Hexing",
    "34": "Elster / Honeywell",
    "39": "ZIV",
    "81": "Sagemcom",
    "82": "Landis+Gyr",
    "83": "Elster / Honeywell",
    "84": "Sagemcom",
    "85": "Itron",
}


@dataclass(frozen=True, slots=True)
class MeterType:
    """A Linky type of Enedis' list: phases, rated current, generation (G1, G3) and what sets it apart."""

    three_phase: bool
    amps: int
    generation: str
    note: str = ""  # top entry, trial, pilot, interoperability

    @property
    def description(self) -> str:
        """Return the type in English words, e.g. "Linky three-phase 60 A (G3)"."""
        phases = "three-phase" if self.three_phase else "single-phase"
        return f"Linky {phases} {self.amps} A ({', '.join(filter(None, (self.generation, self.note)))})"

    @property
    def rating(self) -> str:
        """Return the rated current and generation, words of no language: "60 A, G3"."""
        return f"{self.amps} A, {self.generation}"


# Every Linky type of the list; 61 enters from the top, the others from the bottom.
METER_TYPES: Final = {
    "60": MeterType(three_phase=False, amps=60, generation="G1"),
    "61": MeterType(three_phase=False, amps=60, generation="G3", note="top entry"),
    "62": MeterType(three_phase=False, amps=90, generation="G1"),
    "63": MeterType(three_phase=True, amps=60, generation="G1"),
    "64": MeterType(three_phase=False, amps=60, generation="G3"),
    "65": MeterType(three_phase=False, amps=90, generation="G3", note="trial"),
    "67": MeterType(three_phase=False, amps=90, generation="G1", note="pilot"),
    "68": MeterType(three_phase=True, amps=60, generation="G1", note="pilot"),
    "70": MeterType(three_phase=False, amps=60, generation="G3", note="interoperability"),
    "71": MeterType(three_phase=True, amps=60, generation="G3", note="interoperability"),
    "75": MeterType(three_phase=False, amps=90, generation="G3"),
    "76": MeterType(three_phase=True, amps=60, generation="G3"),
}


@dataclass(frozen=True, slots=True)
class MeterAddress:
    """What the 12-digit Euridis address (ADCO/ADSC) says about the meter; the serial part is not kept."""

    manufacturer_code: str
    year: int
    meter_type_code: str

    @classmethod
    def parse(cls, value: str) -> MeterAddress | None:
        """Decode `CCYYTTNNNNNN` (maker, year, type, serial); None when the value is not 12 digits."""
        if len(value) != 12 or decimal(value) is None:
            return None
        year = int(value[2:4])
        return cls(value[:2], year + (1900 if year >= 90 else 2000), value[4:6])

    @property
    def manufacturer(self) -> str | None:
        """Name of the meter's maker, None for a code not in our table."""
        return MANUFACTURERS.get(self.manufacturer_code)

    @property
    def meter_type(self) -> MeterType | None:
        """The meter's type, None for a code not in our table."""
        return METER_TYPES.get(self.meter_type_code)

    @property
    def model(self) -> str | None:
        """Description of the meter type in English words, None for a code not in our table."""
        return None if (meter_type := self.meter_type) is None else meter_type.description
