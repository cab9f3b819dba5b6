"""Home Assistant's policy for a label's entity, decided from the catalogue's facts about the label.

Which entities are enabled by default, which are diagnostics, which supplier index is named after a tariff period:
the protocol's catalogue says what a label is (quantity, privacy class, whether the contract or the meter's rating
fixes it, which meters send it); this module says what Home Assistant makes of it, for the entity descriptions and
for docs/entities.md (scripts/readme_entities.py).
"""

from __future__ import annotations

from typing import Final

from .linky_tic import LabelSpec, PrivacyClass, Quantity

# Contract details a user rarely looks at, shown among the device's diagnostics.
_CONTRACT_DETAILS: Final = frozenset({"HHPHC", "NTARF", "NJOURF", "NJOURF+1"})
# Of the diagnostics, those enabled: what the contract subscribes (a current, a power) and the index in force.
_SHOWN_DETAILS: Final = frozenset({"NTARF"})
_SUPPLIER_INDEX: Final = "EASF"
# Enedis' own split of the energy, for the distribution part of a bill: not the energy dashboard's.
_DISTRIBUTOR_INDEX: Final = "EASD"
# A label ending so tells the previous value (yesterday's maximum, the previous load-curve point).
_PREVIOUS: Final = "-1"


def diagnostic(spec: LabelSpec) -> bool:
    """Tell whether a label's entity is a diagnostic: a fixed value, the meter's own state, a contract detail."""
    return (
        spec.fixed
        or spec.label in _CONTRACT_DETAILS
        or (spec.privacy is PrivacyClass.TECHNICAL and spec.quantity in {Quantity.TEXT, Quantity.TIMESTAMP})
    )


def enabled_by_default(spec: LabelSpec) -> bool:
    """Tell whether a label's entity is enabled when first made.

    Disabled: what repeats another entity or few look at (previous values, reactive energy, the distributor's
    split, 10-minute mean voltages, supplier messages) and the diagnostics but what the contract subscribes.
    """
    if diagnostic(spec):
        return (spec.fixed and spec.privacy is PrivacyClass.CONTRACT) or spec.label in _SHOWN_DETAILS
    return not (
        spec.privacy is PrivacyClass.MESSAGE
        or spec.quantity is Quantity.REACTIVE_ENERGY
        or spec.label.endswith(_PREVIOUS)
        or spec.label.startswith(_DISTRIBUTOR_INDEX)
        or (spec.quantity is Quantity.VOLTAGE and spec.sampled)
    )


def supplier_rank(spec: LabelSpec) -> int | None:
    """Return the rank of a supplier index (EASF01 is 1), None for another label.

    Its entity is named after the tariff period of a known calendar (NGTF), and enabled only when the contract uses
    it as one of several indexes (a single one repeats EAST).
    """
    if spec.quantity is Quantity.ENERGY and spec.label.startswith(_SUPPLIER_INDEX):
        return int(spec.label.removeprefix(_SUPPLIER_INDEX))
    return None
