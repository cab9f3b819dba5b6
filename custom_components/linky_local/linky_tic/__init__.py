"""linky-tic: the TIC (Télé-Information Client) protocol of French electricity meters (Linky and earlier).

Framing and checksums, horodates, the label catalogue, the status register, the index guard, the line diagnosis,
and opening a line (a serial port, `socket://`, `rfc2217://` or `esphome-hass://` URL through serialx). No Home
Assistant import: this package is the library `linky-tic`, vendored in the Linky Local integration until it is
published (docs/development.md says how). Import from this module only: its submodules are not a stable API.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
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
    from .checksums import checksum
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
    from .line import LineProtocol, longest_pause
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

# Each name is imported from its module when first used: decoding alone (a command line, a script) loads neither the
# catalogue nor asyncio and serialx, and starts fast.
_MODULE_OF: dict[str, str] = {
    "CATALOGUE": ".catalogue",
    "IDENTIFIER_LABELS": ".catalogue",
    "INDEX_QUANTITIES": ".catalogue",
    "LabelSpec": ".catalogue",
    "PRODUCER_LABELS": ".catalogue",
    "PrivacyClass": ".catalogue",
    "Quantity": ".catalogue",
    "TEMPO_INDEXES": ".catalogue",
    "THREE_PHASE_LABELS": ".catalogue",
    "ValueKind": ".catalogue",
    "describe": ".catalogue",
    "checksum": ".checksums",
    "BAUDRATES": ".const",
    "FRAME_PERIOD": ".const",
    "Mode": ".const",
    "Decoder": ".decoder",
    "DecoderStats": ".decoder",
    "Diagnosis": ".diagnosis",
    "LineMonitor": ".diagnosis",
    "Problem": ".diagnosis",
    "SILENCE_SECONDS": ".diagnosis",
    "WINDOW_SECONDS": ".diagnosis",
    "Frame": ".frame",
    "Group": ".frame",
    "SHORT_FRAME_LABELS": ".frame",
    "decimal": ".frame",
    "DISCONTINUITY_FRAMES": ".guard",
    "FIRST_VALUE_FRAMES": ".guard",
    "GuardStats": ".guard",
    "IndexGuard": ".guard",
    "Verdict": ".guard",
    "Horodate": ".horodate",
    "parse_horodate": ".horodate",
    "MeterAddress": ".interpret",
    "MeterType": ".interpret",
    "ProfileBlock": ".interpret",
    "Relays": ".interpret",
    "TariffOption": ".interpret",
    "TariffPeriod": ".interpret",
    "TempoColour": ".interpret",
    "calendar_indexes": ".interpret",
    "day_profile": ".interpret",
    "tariff_option": ".interpret",
    "tariff_period": ".interpret",
    "tempo_tomorrow": ".interpret",
    "LineProtocol": ".line",
    "longest_pause": ".line",
    "ConnectionClosedError": ".link",
    "ConnectionRefusedLinkError": ".link",
    "DETECT_TIMEOUT": ".link",
    "Detection": ".link",
    "GarbageReceivedError": ".link",
    "HostNotFoundError": ".link",
    "HostUnreachableError": ".link",
    "InvalidPortError": ".link",
    "NothingReceivedError": ".link",
    "PermissionRefusedError": ".link",
    "PortBusyError": ".link",
    "PortNotFoundError": ".link",
    "PortUnavailableError": ".link",
    "Rfc2217NegotiationError": ".link",
    "TicLinkError": ".link",
    "TicTransport": ".link",
    "close_transport": ".link",
    "connect_tic": ".link",
    "detect": ".link",
    "CutOff": ".status",
    "EuridisOutput": ".status",
    "PlcStatus": ".status",
    "Status": ".status",
}


def __getattr__(name: str) -> Any:
    """Import a name of the public API from its module when it is first used."""
    if (module := _MODULE_OF.get(name)) is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public API."""
    return sorted(__all__)


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
    "longest_pause",
    "parse_horodate",
    "tariff_option",
    "tariff_period",
    "tempo_tomorrow",
]
