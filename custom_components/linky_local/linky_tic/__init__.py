"""linky-tic: the TIC (Télé-Information Client) protocol of French electricity meters (Linky and earlier).

Framing and checksums, horodates, the label catalogue, the status register, the index guard, the line diagnosis,
and opening a line (a serial port, `socket://`, `rfc2217://` or `esphome-hass://` URL through serialx). No Home
Assistant import: this package is the library `linky-tic`, vendored in the Linky Local integration until it is
published (docs/development.md says how). Import from this module only: its submodules are not a stable API.
"""

from __future__ import annotations

from .catalogue import (
    CATALOGUE,
    IDENTIFIER_LABELS,
    INDEX_QUANTITIES,
    PRODUCER_LABELS,
    TEMPO_INDEXES,
    THREE_PHASE_LABELS,
    LabelSpec,
    PrivacyClass,
    Quantity,
    ValueKind,
    describe,
)
from .checksum import checksum
from .const import BAUDRATES, FRAME_PERIOD, Mode
from .decoder import Decoder, DecoderStats
from .diagnosis import SILENCE_SECONDS, WINDOW_SECONDS, Diagnosis, LineMonitor, Problem
from .frame import SHORT_FRAME_LABELS, Frame, Group, decimal
from .guard import DISCONTINUITY_FRAMES, FIRST_VALUE_FRAMES, GuardStats, IndexGuard, Verdict
from .horodate import Horodate, parse_horodate
from .interpret import (
    MeterAddress,
    MeterType,
    ProfileBlock,
    Relays,
    TariffOption,
    TariffPeriod,
    TempoColour,
    calendar_indexes,
    day_profile,
    tariff_option,
    tariff_period,
    tempo_tomorrow,
)
from .line import LineProtocol
from .link import (
    DETECT_TIMEOUT,
    ConnectionClosedError,
    ConnectionRefusedLinkError,
    Detection,
    GarbageReceivedError,
    HostNotFoundError,
    HostUnreachableError,
    InvalidPortError,
    NothingReceivedError,
    PermissionRefusedError,
    PortBusyError,
    PortNotFoundError,
    PortUnavailableError,
    Rfc2217NegotiationError,
    TicLinkError,
    TicTransport,
    close_transport,
    connect_tic,
    detect,
)
from .status import CutOff, EuridisOutput, PlcStatus, Status

__version__ = "0.1.0"

__all__ = [
    "BAUDRATES",
    "CATALOGUE",
    "DETECT_TIMEOUT",
    "DISCONTINUITY_FRAMES",
    "FIRST_VALUE_FRAMES",
    "FRAME_PERIOD",
    "IDENTIFIER_LABELS",
    "INDEX_QUANTITIES",
    "PRODUCER_LABELS",
    "SHORT_FRAME_LABELS",
    "SILENCE_SECONDS",
    "TEMPO_INDEXES",
    "THREE_PHASE_LABELS",
    "WINDOW_SECONDS",
    "ConnectionClosedError",
    "ConnectionRefusedLinkError",
    "CutOff",
    "Decoder",
    "DecoderStats",
    "Detection",
    "Diagnosis",
    "EuridisOutput",
    "Frame",
    "GarbageReceivedError",
    "Group",
    "GuardStats",
    "Horodate",
    "HostNotFoundError",
    "HostUnreachableError",
    "IndexGuard",
    "InvalidPortError",
    "LabelSpec",
    "LineMonitor",
    "LineProtocol",
    "MeterAddress",
    "MeterType",
    "Mode",
    "NothingReceivedError",
    "PermissionRefusedError",
    "PlcStatus",
    "PortBusyError",
    "PortNotFoundError",
    "PortUnavailableError",
    "PrivacyClass",
    "Problem",
    "ProfileBlock",
    "Quantity",
    "Relays",
    "Rfc2217NegotiationError",
    "Status",
    "TariffOption",
    "TariffPeriod",
    "TempoColour",
    "TicLinkError",
    "TicTransport",
    "ValueKind",
    "Verdict",
    "calendar_indexes",
    "checksum",
    "close_transport",
    "connect_tic",
    "day_profile",
    "decimal",
    "describe",
    "detect",
    "parse_horodate",
    "tariff_option",
    "tariff_period",
    "tempo_tomorrow",
]
