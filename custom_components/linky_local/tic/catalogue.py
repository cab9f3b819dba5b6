"""Every TIC label, described once: what it means, its unit and kind, how private it is, what entity it makes.

The decoder, the integration's entities, the privacy ledger and the README's entity table all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

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
    REACTIVE_ENERGY = "reactive_energy"  # VArh index
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
    enabled: bool = True  # entity enabled by default
    diagnostic: bool = False
    options: tuple[str, ...] = ()  # enum values
    # The meter computed the value over time (a maximum, a load-curve point, a mean) or it is the meter's clock: never
    # averaged again; a privacy level publishes its last value at the end of each window, as for an index.
    sampled: bool = False


H, S = Mode.HISTORIC, Mode.STANDARD
ID, USE, TARIFF, TECH, MSG = PrivacyClass
INT, TXT, HORO, HEX, PROFILE = ValueKind
Q = Quantity

PTEC_OPTIONS: Final = ("th", "hc", "hp", "hn", "pm", "hcjb", "hcjw", "hcjr", "hpjb", "hpjw", "hpjr")
DEMAIN_OPTIONS: Final = ("unknown", "blue", "white", "red")
OPTARIF_OPTIONS: Final = ("base", "hc", "ejp", "tempo")
TEMPO_INDEXES: Final = ("HCJB", "HPJB", "HCJW", "HPJW", "HCJR", "HPJR")
_TEMPO_MEANING: Final = {"HC": "off-peak", "HP": "peak", "B": "blue", "W": "white", "R": "red"}


def _h(label: str, meaning: str, privacy: PrivacyClass, **kw: object) -> LabelSpec:
    return LabelSpec(label=label, mode=H, meaning=meaning, privacy=privacy, **kw)  # type: ignore[arg-type]


def _s(label: str, meaning: str, privacy: PrivacyClass, **kw: object) -> LabelSpec:
    return LabelSpec(label=label, mode=S, meaning=meaning, privacy=privacy, **kw)  # type: ignore[arg-type]


def _phases(label: str) -> tuple[tuple[str, str, bool], ...]:
    """(label, phase suffix for the meaning, three-phase only) for a mono label and its three phases."""
    return ((label, "", False), *((f"{label}{n}", f", phase {n}", True) for n in (1, 2, 3)))


_HISTORIC: Final[tuple[LabelSpec, ...]] = (
    _h("ADCO", "meter address (serial number)", ID, kind=TXT),
    _h("OPTARIF", "tariff option", TARIFF, kind=TXT, quantity=Q.ENUM, options=OPTARIF_OPTIONS),
    _h("ISOUSC", "subscribed current", TARIFF, unit="A", quantity=Q.CURRENT, diagnostic=True),
    _h("BASE", "energy index, base option", USE, unit="Wh", quantity=Q.ENERGY),
    _h("HCHC", "energy index, off-peak", USE, unit="Wh", quantity=Q.ENERGY),
    _h("HCHP", "energy index, peak", USE, unit="Wh", quantity=Q.ENERGY),
    _h("EJPHN", "energy index, EJP normal hours", USE, unit="Wh", quantity=Q.ENERGY),
    _h("EJPHPM", "energy index, EJP mobile peak hours", USE, unit="Wh", quantity=Q.ENERGY),
    *(
        _h(
            f"BBR{idx}",
            f"energy index, Tempo {_TEMPO_MEANING[idx[:2]]} on {_TEMPO_MEANING[idx[3]]} days",
            USE,
            unit="Wh",
            quantity=Q.ENERGY,
        )
        for idx in TEMPO_INDEXES
    ),
    _h("PEJP", "EJP mobile peak pre-notice", TARIFF, unit="min", quantity=Q.DURATION),
    _h("PTEC", "current tariff period", TARIFF, kind=TXT, quantity=Q.ENUM, options=PTEC_OPTIONS),
    _h("DEMAIN", "Tempo colour of tomorrow", TARIFF, kind=TXT, quantity=Q.ENUM, options=DEMAIN_OPTIONS),
    *(
        _h(lbl, f"RMS current{sfx}", USE, unit="A", quantity=Q.CURRENT, three_phase=tri)
        for lbl, sfx, tri in _phases("IINST")
    ),
    _h("ADPS", "subscribed power overrun warning", TECH, unit="A", quantity=Q.PROBLEM),
    *(
        _h(f"ADIR{n}", f"overrun warning, phase {n}", TECH, unit="A", quantity=Q.PROBLEM, three_phase=True)
        for n in (1, 2, 3)
    ),
    *(
        _h(
            lbl,
            f"maximum current{sfx}",
            TECH,
            unit="A",
            quantity=Q.CURRENT,
            three_phase=tri,
            enabled=False,
            diagnostic=True,
        )
        for lbl, sfx, tri in _phases("IMAX")
    ),
    _h("PAPP", "apparent power", USE, unit="VA", quantity=Q.APPARENT_POWER),
    _h(
        "PMAX",
        "maximum three-phase power of yesterday",
        USE,
        unit="VA",
        quantity=Q.APPARENT_POWER,
        three_phase=True,
        sampled=True,
    ),
    _h("HHPHC", "peak/off-peak schedule group", TARIFF, kind=TXT, quantity=Q.TEXT, enabled=False, diagnostic=True),
    _h("MOTDETAT", "status word", TECH, kind=TXT, quantity=Q.TEXT, enabled=False, diagnostic=True),
    _h(
        "PPOT",
        "phase presence (bit n set: phase n missing)",
        TECH,
        kind=TXT,
        quantity=Q.TEXT,
        three_phase=True,
        enabled=False,
        diagnostic=True,
    ),
)

_STANDARD: Final[tuple[LabelSpec, ...]] = (
    _s("ADSC", "meter serial number", ID, kind=TXT),
    _s("VTIC", "TIC version", TECH, kind=TXT, quantity=Q.TEXT, enabled=False, diagnostic=True),
    _s(
        "DATE",
        "meter date and time",
        TECH,
        kind=HORO,
        horodate=True,
        quantity=Q.TIMESTAMP,
        diagnostic=True,
        sampled=True,
    ),
    _s("NGTF", "supplier tariff calendar name", TARIFF, kind=TXT, quantity=Q.TEXT),
    _s("LTARF", "current supplier tariff label", TARIFF, kind=TXT, quantity=Q.TEXT),
    _s("EAST", "total active energy withdrawn", USE, unit="Wh", quantity=Q.ENERGY),
    *(
        _s(f"EASF{n:02}", f"supplier energy index {n}", USE, unit="Wh", quantity=Q.ENERGY, enabled=n <= 6)
        for n in range(1, 11)
    ),
    *(_s(f"EASD{n:02}", f"distributor energy index {n}", USE, unit="Wh", quantity=Q.ENERGY) for n in range(1, 5)),
    _s("EAIT", "total active energy injected", USE, unit="Wh", quantity=Q.ENERGY_RETURNED, producer=True),
    *(
        _s(
            f"ERQ{n}",
            f"reactive energy, quadrant {n}",
            USE,
            unit="VArh",
            quantity=Q.REACTIVE_ENERGY,
            producer=True,
            enabled=False,
        )
        for n in range(1, 5)
    ),
    *(
        _s(f"IRMS{n}", f"RMS current, phase {n}", USE, unit="A", quantity=Q.CURRENT, three_phase=n > 1)
        for n in (1, 2, 3)
    ),
    *(
        _s(f"URMS{n}", f"RMS voltage, phase {n}", TECH, unit="V", quantity=Q.VOLTAGE, three_phase=n > 1)
        for n in (1, 2, 3)
    ),
    _s("PREF", "reference (subscribed) power", TARIFF, unit="kVA", quantity=Q.APPARENT_POWER_KVA, diagnostic=True),
    _s("PCOUP", "cut-off threshold", TARIFF, unit="kVA", quantity=Q.APPARENT_POWER_KVA, diagnostic=True),
    *(
        _s(
            lbl,
            f"instantaneous apparent power withdrawn{sfx}",
            USE,
            unit="VA",
            quantity=Q.APPARENT_POWER,
            three_phase=tri,
        )
        for lbl, sfx, tri in _phases("SINSTS")
    ),
    *(
        _s(
            lbl,
            f"maximum apparent power withdrawn today{sfx}",
            USE,
            unit="VA",
            quantity=Q.APPARENT_POWER,
            horodate=True,
            sampled=True,
            three_phase=tri,
        )
        for lbl, sfx, tri in _phases("SMAXSN")
    ),
    *(
        _s(
            f"{lbl}-1",
            f"maximum apparent power withdrawn yesterday{sfx}",
            USE,
            unit="VA",
            quantity=Q.APPARENT_POWER,
            horodate=True,
            sampled=True,
            three_phase=tri,
            enabled=False,
        )
        for lbl, sfx, tri in _phases("SMAXSN")
    ),
    _s("SINSTI", "instantaneous apparent power injected", USE, unit="VA", quantity=Q.APPARENT_POWER, producer=True),
    _s(
        "SMAXIN",
        "maximum apparent power injected today",
        USE,
        unit="VA",
        quantity=Q.APPARENT_POWER,
        horodate=True,
        sampled=True,
        producer=True,
    ),
    _s(
        "SMAXIN-1",
        "maximum apparent power injected yesterday",
        USE,
        unit="VA",
        quantity=Q.APPARENT_POWER,
        horodate=True,
        sampled=True,
        producer=True,
        enabled=False,
    ),
    _s(
        "CCASN",
        "active power withdrawn, current load-curve point",
        USE,
        unit="W",
        quantity=Q.ACTIVE_POWER,
        horodate=True,
        sampled=True,
    ),
    _s(
        "CCASN-1",
        "active power withdrawn, previous load-curve point",
        USE,
        unit="W",
        quantity=Q.ACTIVE_POWER,
        horodate=True,
        sampled=True,
        enabled=False,
    ),
    _s(
        "CCAIN",
        "active power injected, current load-curve point",
        USE,
        unit="W",
        quantity=Q.ACTIVE_POWER,
        horodate=True,
        sampled=True,
        producer=True,
    ),
    _s(
        "CCAIN-1",
        "active power injected, previous load-curve point",
        USE,
        unit="W",
        quantity=Q.ACTIVE_POWER,
        horodate=True,
        sampled=True,
        producer=True,
        enabled=False,
    ),
    *(
        _s(
            f"UMOY{n}",
            f"mean voltage over 10 minutes, phase {n}",
            TECH,
            unit="V",
            quantity=Q.VOLTAGE,
            horodate=True,
            sampled=True,
            three_phase=n > 1,
            enabled=False,
        )
        for n in (1, 2, 3)
    ),
    _s("STGE", "status register", TECH, kind=HEX),
    *(
        _s(f"DPM{n}", f"start of mobile peak period {n}", TARIFF, kind=HORO, horodate=True, quantity=Q.TIMESTAMP)
        for n in (1, 2, 3)
    ),
    *(
        _s(f"FPM{n}", f"end of mobile peak period {n}", TARIFF, kind=HORO, horodate=True, quantity=Q.TIMESTAMP)
        for n in (1, 2, 3)
    ),
    _s("MSG1", "short message from the supplier", MSG, kind=TXT, quantity=Q.TEXT, enabled=False),
    _s("MSG2", "ultra-short message from the supplier", MSG, kind=TXT, quantity=Q.TEXT, enabled=False),
    _s("PRM", "delivery point reference", ID, kind=TXT),
    _s("RELAIS", "relays (decimal bit field)", TECH, kind=TXT),
    _s("NTARF", "number of the current supplier index", TARIFF, kind=TXT, quantity=Q.TEXT, diagnostic=True),
    _s("NJOURF", "day-profile number, today", TARIFF, kind=TXT, quantity=Q.TEXT, enabled=False, diagnostic=True),
    _s("NJOURF+1", "day-profile number, tomorrow", TARIFF, kind=TXT, quantity=Q.TEXT, enabled=False, diagnostic=True),
    _s("PJOURF+1", "tomorrow's day profile", TARIFF, kind=PROFILE),
    _s("PPOINTE", "next peak day's profile", TARIFF, kind=PROFILE),
)

CATALOGUE: Final[dict[Mode, dict[str, LabelSpec]]] = {
    H: {spec.label: spec for spec in _HISTORIC},
    S: {spec.label: spec for spec in _STANDARD},
}
IDENTIFIER_LABELS: Final = frozenset(
    spec.label for specs in CATALOGUE.values() for spec in specs.values() if spec.privacy is ID
)


def describe(mode: Mode, label: str) -> LabelSpec | None:
    """Return the description of a label, or None for a label the catalogue does not know (kept as data)."""
    return CATALOGUE[mode].get(label)
