"""Every TIC label, described once: what it means, its unit and kind, how private it is, which meters send it.

Facts about the protocol only: which entity a label makes, and how Home Assistant shows it, is the integration's
to decide from these facts. The decoder, the integration, the privacy ledger and the README's entity table read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypedDict, Unpack

from .const import Mode


class ValueKind(StrEnum):
    """How a value is written."""

    INTEGER = "integer"
    TEXT = "text"
    HORODATE = "horodate"  # the value is empty, the horodate is the information (DATE, DPM/FPM)
    HEX_REGISTER = "hex_register"
    DAY_PROFILE = "day_profile"


class PrivacyClass(StrEnum):
    """What a label reveals about the household."""

    IDENTIFIER = "identifier"  # identifies the household: never an entity, never logged
    CONSUMPTION = "consumption"  # fine-grained consumption: reveals daily life
    CONTRACT = "contract"  # contract and tariff
    TECHNICAL = "technical"  # state of the meter and the line
    MESSAGE = "message"  # free text from the supplier


class Quantity(StrEnum):
    """What an entity of the label measures; the integration maps it to device and state classes."""

    ENERGY = "energy"  # Wh index withdrawn
    ENERGY_RETURNED = "energy_returned"  # Wh index injected
    REACTIVE_ENERGY = "reactive_energy"  # varh index
    APPARENT_POWER = "apparent_power"  # VA
    APPARENT_POWER_KVA = "apparent_power_kva"  # kVA (subscribed, cut-off)
    ACTIVE_POWER = "active_power"  # W
    CURRENT = "current"  # A
    VOLTAGE = "voltage"  # V
    DURATION = "duration"  # minutes
    ENUM = "enum"
    TIMESTAMP = "timestamp"  # the horodate is the state
    TEXT = "text"
    PROBLEM = "problem"  # a warning present while the label is sent (ADPS, ADIR)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSpec:
    """One label of one mode."""

    label: str
    mode: Mode
    meaning: str
    privacy: PrivacyClass
    kind: ValueKind = ValueKind.INTEGER
    unit: str | None = None
    quantity: Quantity | None = None  # None: no entity of its own (identifiers, registers decoded elsewhere)
    horodate: bool = False
    three_phase: bool = False  # only three-phase meters send it
    producer: bool = False  # only producer (injection) contracts send it
    # Set by the contract or the meter's rating, not measured: a subscribed current or power, a maximum current.
    fixed: bool = False
    options: tuple[str, ...] = ()  # enum values
    # The meter computed the value over time (a maximum, a load-curve point, a mean) or it is the meter's clock: never
    # averaged again; a privacy level publishes its last value at the end of each window, as for an index.
    sampled: bool = False


# Cumulative energy indexes: what the index guard checks and what privacy levels publish as an index.
INDEX_QUANTITIES: Final = frozenset({Quantity.ENERGY, Quantity.ENERGY_RETURNED, Quantity.REACTIVE_ENERGY})

# The table below reads better with the classes' short names.
ID, USE, TARIFF, TECH, MSG = PrivacyClass
TXT, HORO, HEX, PROFILE = (ValueKind.TEXT, ValueKind.HORODATE, ValueKind.HEX_REGISTER, ValueKind.DAY_PROFILE)

PTEC_OPTIONS: Final = ("th", "hc", "hp", "hn", "pm", "hcjb", "hcjw", "hcjr", "hpjb", "hpjw", "hpjr")
DEMAIN_OPTIONS: Final = ("unknown", "blue", "white", "red")
OPTARIF_OPTIONS: Final = ("base", "hc", "ejp", "tempo")
TEMPO_INDEXES: Final = ("HCJB", "HPJB", "HCJW", "HPJW", "HCJR", "HPJR")
_TEMPO_MEANING: Final = {"HC": "off-peak", "HP": "peak", "B": "blue", "W": "white", "R": "red"}


# The unit of each quantity that has one; a row names a unit only where its quantity has none (ADPS, ADIR).
_UNITS: Final = {
    Quantity.ENERGY: "Wh",
    Quantity.ENERGY_RETURNED: "Wh",
    Quantity.REACTIVE_ENERGY: "varh",
    Quantity.APPARENT_POWER: "VA",
    Quantity.APPARENT_POWER_KVA: "kVA",
    Quantity.ACTIVE_POWER: "W",
    Quantity.CURRENT: "A",
    Quantity.VOLTAGE: "V",
    Quantity.DURATION: "min",
}


class _Details(TypedDict, total=False):
    """What a label's description may say beyond its name, meaning and privacy class."""

    kind: ValueKind
    unit: str
    quantity: Quantity
    horodate: bool
    three_phase: bool
    producer: bool
    fixed: bool
    options: tuple[str, ...]
    sampled: bool


class _Text(TypedDict):
    """A label whose entity shows its text as sent."""

    kind: ValueKind
    quantity: Quantity


class _Moment(TypedDict):
    """A label whose horodate is the information: its entity is a timestamp."""

    kind: ValueKind
    horodate: bool
    quantity: Quantity


_TEXT: Final = _Text(kind=TXT, quantity=Quantity.TEXT)
_MOMENT: Final = _Moment(kind=HORO, horodate=True, quantity=Quantity.TIMESTAMP)


def _label(label: str, mode: Mode, meaning: str, privacy: PrivacyClass, details: _Details) -> LabelSpec:
    """Describe one label; its unit is its quantity's unless the row names one."""
    quantity = details.get("quantity")
    if quantity is not None and quantity in _UNITS:
        details.setdefault("unit", _UNITS[quantity])
    return LabelSpec(label=label, mode=mode, meaning=meaning, privacy=privacy, **details)


def _historic(label: str, meaning: str, privacy: PrivacyClass, **details: Unpack[_Details]) -> LabelSpec:
    return _label(label, Mode.HISTORIC, meaning, privacy, details)


def _standard(label: str, meaning: str, privacy: PrivacyClass, **details: Unpack[_Details]) -> LabelSpec:
    return _label(label, Mode.STANDARD, meaning, privacy, details)


class _SampledDetails(TypedDict, total=False):
    """What a sampled label's description may say beyond its quantity."""

    three_phase: bool
    producer: bool


def _sampled(
    label: str, meaning: str, privacy: PrivacyClass, quantity: Quantity, **details: Unpack[_SampledDetails]
) -> LabelSpec:
    """Describe a standard label the meter computed over time, horodated: a maximum, a load-curve point, a mean."""
    return _standard(label, meaning, privacy, quantity=quantity, horodate=True, sampled=True, **details)


def _phases(label: str) -> tuple[tuple[str, str, bool], ...]:
    """(label, phase suffix for the meaning, three-phase only) for a mono label and its three phases."""
    return ((label, "", False), *((f"{label}{n}", f", phase {n}", True) for n in (1, 2, 3)))


def _tempo(index: str) -> str:
    """Meaning of a Tempo index (HCJB: off-peak hours of blue days)."""
    return f"energy index, Tempo {_TEMPO_MEANING[index[:2]]} on {_TEMPO_MEANING[index[3]]} days"


_HISTORIC: Final[tuple[LabelSpec, ...]] = (
    _historic("ADCO", "meter address (serial number)", ID, kind=TXT),
    _historic("OPTARIF", "tariff option", TARIFF, kind=TXT, quantity=Quantity.ENUM, options=OPTARIF_OPTIONS),
    _historic("ISOUSC", "subscribed current", TARIFF, quantity=Quantity.CURRENT, fixed=True),
    _historic("BASE", "energy index, base option", USE, quantity=Quantity.ENERGY),
    _historic("HCHC", "energy index, off-peak", USE, quantity=Quantity.ENERGY),
    _historic("HCHP", "energy index, peak", USE, quantity=Quantity.ENERGY),
    _historic("EJPHN", "energy index, EJP normal hours", USE, quantity=Quantity.ENERGY),
    _historic("EJPHPM", "energy index, EJP mobile peak hours", USE, quantity=Quantity.ENERGY),
    *(_historic(f"BBR{idx}", _tempo(idx), USE, quantity=Quantity.ENERGY) for idx in TEMPO_INDEXES),
    _historic("PEJP", "EJP mobile peak pre-notice", TARIFF, quantity=Quantity.DURATION),
    _historic("PTEC", "current tariff period", TARIFF, kind=TXT, quantity=Quantity.ENUM, options=PTEC_OPTIONS),
    _historic("DEMAIN", "Tempo colour of tomorrow", TARIFF, kind=TXT, quantity=Quantity.ENUM, options=DEMAIN_OPTIONS),
    *(
        _historic(lbl, f"RMS current{sfx}", USE, quantity=Quantity.CURRENT, three_phase=tri)
        for lbl, sfx, tri in _phases("IINST")
    ),
    _historic("ADPS", "subscribed power overrun warning", TECH, unit="A", quantity=Quantity.PROBLEM),
    *(
        _historic(
            f"ADIR{n}", f"overrun warning, phase {n}", TECH, unit="A", quantity=Quantity.PROBLEM, three_phase=True
        )
        for n in (1, 2, 3)
    ),
    *(
        _historic(lbl, f"maximum current{sfx}", TECH, quantity=Quantity.CURRENT, three_phase=tri, fixed=True)
        for lbl, sfx, tri in _phases("IMAX")
    ),
    _historic("PAPP", "apparent power", USE, quantity=Quantity.APPARENT_POWER),
    _historic(
        "PMAX",
        "maximum three-phase power of yesterday",
        USE,
        quantity=Quantity.APPARENT_POWER,
        three_phase=True,
        sampled=True,
    ),
    _historic("HHPHC", "peak/off-peak schedule group", TARIFF, **_TEXT),
    _historic("MOTDETAT", "status word", TECH, **_TEXT),
    _historic("PPOT", "phase presence (bit n set: phase n missing)", TECH, three_phase=True, **_TEXT),
)

_STANDARD: Final[tuple[LabelSpec, ...]] = (
    _standard("ADSC", "meter serial number", ID, kind=TXT),
    _standard("VTIC", "TIC version", TECH, **_TEXT),
    _standard("DATE", "meter date and time", TECH, **_MOMENT, sampled=True),
    _standard("NGTF", "supplier tariff calendar name", TARIFF, **_TEXT),
    _standard("LTARF", "current supplier tariff label", TARIFF, **_TEXT),
    _standard("EAST", "total active energy withdrawn", USE, quantity=Quantity.ENERGY),
    *(_standard(f"EASF{n:02}", f"supplier energy index {n}", USE, quantity=Quantity.ENERGY) for n in range(1, 11)),
    # Enedis' own split of the same energy (for the distribution part of a bill): not the dashboard's.
    *(_standard(f"EASD{n:02}", f"distributor energy index {n}", USE, quantity=Quantity.ENERGY) for n in range(1, 5)),
    _standard("EAIT", "total active energy injected", USE, quantity=Quantity.ENERGY_RETURNED, producer=True),
    *(
        _standard(
            f"ERQ{n}",
            f"reactive energy, quadrant {n}",
            USE,
            quantity=Quantity.REACTIVE_ENERGY,
            producer=True,
        )
        for n in range(1, 5)
    ),
    *(
        _standard(f"IRMS{n}", f"RMS current, phase {n}", USE, quantity=Quantity.CURRENT, three_phase=n > 1)
        for n in (1, 2, 3)
    ),
    *(
        _standard(f"URMS{n}", f"RMS voltage, phase {n}", TECH, quantity=Quantity.VOLTAGE, three_phase=n > 1)
        for n in (1, 2, 3)
    ),
    _standard("PREF", "reference (subscribed) power", TARIFF, quantity=Quantity.APPARENT_POWER_KVA, fixed=True),
    _standard("PCOUP", "cut-off threshold", TARIFF, quantity=Quantity.APPARENT_POWER_KVA, fixed=True),
    *(
        _standard(
            lbl, f"instantaneous apparent power withdrawn{sfx}", USE, quantity=Quantity.APPARENT_POWER, three_phase=tri
        )
        for lbl, sfx, tri in _phases("SINSTS")
    ),
    *(
        _sampled(lbl, f"maximum apparent power withdrawn today{sfx}", USE, Quantity.APPARENT_POWER, three_phase=tri)
        for lbl, sfx, tri in _phases("SMAXSN")
    ),
    *(
        _sampled(
            f"{lbl}-1",
            f"maximum apparent power withdrawn yesterday{sfx}",
            USE,
            Quantity.APPARENT_POWER,
            three_phase=tri,
        )
        for lbl, sfx, tri in _phases("SMAXSN")
    ),
    _standard("SINSTI", "instantaneous apparent power injected", USE, quantity=Quantity.APPARENT_POWER, producer=True),
    _sampled("SMAXIN", "maximum apparent power injected today", USE, Quantity.APPARENT_POWER, producer=True),
    _sampled(
        "SMAXIN-1",
        "maximum apparent power injected yesterday",
        USE,
        Quantity.APPARENT_POWER,
        producer=True,
    ),
    _sampled("CCASN", "active power withdrawn, current load-curve point", USE, Quantity.ACTIVE_POWER),
    _sampled("CCASN-1", "active power withdrawn, previous load-curve point", USE, Quantity.ACTIVE_POWER),
    _sampled("CCAIN", "active power injected, current load-curve point", USE, Quantity.ACTIVE_POWER, producer=True),
    _sampled(
        "CCAIN-1",
        "active power injected, previous load-curve point",
        USE,
        Quantity.ACTIVE_POWER,
        producer=True,
    ),
    *(
        _sampled(
            f"UMOY{n}",
            f"mean voltage over 10 minutes, phase {n}",
            TECH,
            Quantity.VOLTAGE,
            three_phase=n > 1,
        )
        for n in (1, 2, 3)
    ),
    _standard("STGE", "status register", TECH, kind=HEX),
    *(_standard(f"DPM{n}", f"start of mobile peak period {n}", TARIFF, **_MOMENT) for n in (1, 2, 3)),
    *(_standard(f"FPM{n}", f"end of mobile peak period {n}", TARIFF, **_MOMENT) for n in (1, 2, 3)),
    _standard("MSG1", "short message from the supplier", MSG, **_TEXT),
    _standard("MSG2", "ultra-short message from the supplier", MSG, **_TEXT),
    _standard("PRM", "delivery point reference", ID, kind=TXT),
    _standard("RELAIS", "relays (decimal bit field)", TECH, kind=TXT),
    _standard("NTARF", "number of the current supplier index", TARIFF, **_TEXT),
    _standard("NJOURF", "day-profile number, today", TARIFF, **_TEXT),
    _standard("NJOURF+1", "day-profile number, tomorrow", TARIFF, **_TEXT),
    _standard("PJOURF+1", "tomorrow's day profile", TARIFF, kind=PROFILE),
    _standard("PPOINTE", "next peak day's profile", TARIFF, kind=PROFILE),
)

CATALOGUE: Final[dict[Mode, dict[str, LabelSpec]]] = {
    Mode.HISTORIC: {spec.label: spec for spec in _HISTORIC},
    Mode.STANDARD: {spec.label: spec for spec in _STANDARD},
}
IDENTIFIER_LABELS: Final = frozenset(
    spec.label for specs in CATALOGUE.values() for spec in specs.values() if spec.privacy is ID
)
# Labels only a three-phase meter sends, and those only a producer (injection) contract sends, in either mode.
THREE_PHASE_LABELS: Final = frozenset(
    spec.label for specs in CATALOGUE.values() for spec in specs.values() if spec.three_phase
)
PRODUCER_LABELS: Final = frozenset(
    spec.label for specs in CATALOGUE.values() for spec in specs.values() if spec.producer
)


def describe(mode: Mode, label: str) -> LabelSpec | None:
    """Return the description of a label, or None for a label the catalogue does not know (kept as data)."""
    return CATALOGUE[mode].get(label)
