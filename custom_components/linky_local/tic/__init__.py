"""TIC (Télé-Information Client) protocol of French electricity meters: no Home Assistant import here."""

from __future__ import annotations

from .catalogue import CATALOGUE, LabelSpec, PrivacyClass, Quantity, ValueKind, describe
from .const import BAUDRATES, Mode
from .decoder import Decoder, DecoderStats
from .frame import Frame, Group
from .horodate import Horodate, parse_horodate

__all__ = [
    "BAUDRATES",
    "CATALOGUE",
    "Decoder",
    "DecoderStats",
    "Frame",
    "Group",
    "Horodate",
    "LabelSpec",
    "Mode",
    "PrivacyClass",
    "Quantity",
    "ValueKind",
    "describe",
    "parse_horodate",
]
