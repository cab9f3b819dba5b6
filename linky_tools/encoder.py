"""Encode what a meter sends: groups into TIC frames, and meanings (options, colours, status) into values."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Final

from linky_tic import Group, Mode, ProfileBlock, Relays, Status, TariffOption, TariffPeriod, TempoColour, checksum

STX: Final = 0x02
ETX: Final = 0x03
EOT: Final = 0x04
LF: Final = 0x0A
CR: Final = 0x0D


def encode_group(mode: Mode, group: Group, *, historic_method: int = 1) -> bytes:
    """Encode one group with its checksum, LF and CR included."""
    if mode is Mode.STANDARD:
        fields = [group.label]
        if group.horodate is not None:
            fields.append(group.horodate.raw)
        fields.append(group.value)
        covered = ("\t".join(fields) + "\t").encode("ascii")
        body = covered + bytes([checksum(covered)])
    else:
        text = f"{group.label} {group.value}".encode("ascii")
        covered = text if historic_method == 1 else text + b" "
        body = text + b" " + bytes([checksum(covered)])
    return bytes([LF]) + body + bytes([CR])


def encode_frame(mode: Mode, groups: Iterable[Group], *, historic_method: int = 1) -> bytes:
    """Encode a whole frame, STX to ETX."""
    body = b"".join(encode_group(mode, group, historic_method=historic_method) for group in groups)
    return bytes([STX]) + body + bytes([ETX])


# What a meter writes for each decoded meaning: the inverse of the library's decoders, written out on their own so
# that a test of one against the other can catch a mistake in either.
_OPTARIF: Final = {
    TariffOption.BASE: "BASE",
    TariffOption.HC: "HC..",
    TariffOption.EJP: "EJP.",
    TariffOption.TEMPO: "BBR(",
}
_DEMAIN: Final = {
    TempoColour.UNKNOWN: "----",
    TempoColour.BLUE: "BLEU",
    TempoColour.WHITE: "BLAN",
    TempoColour.RED: "ROUG",
}
_STGE_TEMPO: Final = (TempoColour.UNKNOWN, TempoColour.BLUE, TempoColour.WHITE, TempoColour.RED)
_PROFILE_BLOCKS: Final = 11


def format_horodate(moment: datetime, *, degraded: bool = False) -> str:
    """Encode a datetime as a horodate; naive datetimes get the space season."""
    offset = moment.utcoffset()
    if offset is None:
        season = " "
    else:
        season = "E" if offset == timedelta(hours=2) else "H"
        if degraded:
            season = season.lower()
    return season + moment.strftime("%y%m%d%H%M%S")


def optarif_value(option: TariffOption) -> str:
    """Return the OPTARIF value a meter sends for an option (a Linky's for Tempo)."""
    return _OPTARIF[option]


def ptec_value(period: TariffPeriod) -> str:
    """Return the PTEC value a meter sends for a period."""
    return period.upper().ljust(4, ".")


def demain_value(colour: TempoColour) -> str:
    """Return the DEMAIN value a meter sends for a colour."""
    return _DEMAIN[colour]


def relays_value(relays: Relays) -> str:
    """Encode RELAIS as the meter writes it."""
    bits = int(relays.dry_contact) | sum(int(on) << n for n, on in enumerate(relays.virtual, start=1))
    return f"{bits:03d}"


def day_profile_value(blocks: tuple[ProfileBlock, ...]) -> str:
    """Encode a day profile: blocks `HHMMSSSS`, then `NONUTILE` up to 11 blocks."""
    written = [f"{block.start.hour:02d}{block.start.minute:02d}{block.code:04X}" for block in blocks]
    return " ".join(written + ["NONUTILE"] * (_PROFILE_BLOCKS - len(blocks)))


def status_register(status: Status) -> str:
    """Encode STGE's fields as the meter writes them: 8 uppercase hexadecimal digits."""
    fields = (
        (0, int(status.dry_contact_open)),
        (1, status.cut_off),
        (4, int(status.terminal_cover_open)),
        (6, int(status.over_voltage)),
        (7, int(status.reference_power_exceeded)),
        (8, int(status.producer)),
        (9, int(status.energy_negative)),
        (10, status.supplier_index - 1),
        (14, status.distributor_index - 1),
        (16, int(status.clock_degraded)),
        (17, int(status.tic_mode is Mode.STANDARD)),
        (19, status.euridis),
        (21, status.plc),
        (23, int(status.plc_synchronised)),
        (24, _STGE_TEMPO.index(status.tempo_today)),
        (26, _STGE_TEMPO.index(status.tempo_tomorrow)),
        (28, status.mobile_peak_notice),
        (30, status.mobile_peak),
    )
    return f"{sum(value << first for first, value in fields):08X}"
