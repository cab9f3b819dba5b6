"""Keep the meter's identifiers out of the logs: serialx logs the bytes it reads, which carry them.

At debug level, serialx (the serial library) logs each chunk it reads or writes, raw or as a hex dump, and a TIC
line's bytes carry the meter's serial number and PRM in clear. A filter on serialx's loggers replaces that payload
by its length: the records stay, useful to tell that bytes flow, and say nothing of what they are.
"""

from __future__ import annotations

import logging
import re
from typing import Final

# serialx's modules that log a line's bytes; any other serialx logger that exists when the filter is installed too.
SERIALX_LOGGERS: Final = (
    "serialx.async_serial",
    "serialx.common",
    "serialx.descriptor_transport",
    "serialx.platforms.serial_esphome",
    "serialx.platforms.serial_posix",
    "serialx.platforms.serial_rfc2217",
    "serialx.platforms.serial_socket",
)
_HEX_DUMP: Final = re.compile(r"[0-9a-fA-F]{2}(?: ?[0-9a-fA-F]{2})*")


class LinePayloadFilter(logging.Filter):
    """Replace the bytes of a line in a record's arguments by their length."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, its payload replaced."""
        if isinstance(record.args, tuple) and any(map(_is_payload, record.args)):
            record.args = tuple(_placeholder(arg) if _is_payload(arg) else arg for arg in record.args)
        return True


def _is_payload(arg: object) -> bool:
    if isinstance(arg, bytes | bytearray | memoryview):
        return True
    return isinstance(arg, str) and len(arg) >= 8 and _HEX_DUMP.fullmatch(arg) is not None


def _placeholder(arg: object) -> str:
    size = len(arg) if isinstance(arg, bytes | bytearray | memoryview) else len(str(arg).replace(" ", "")) // 2
    return f"<{size} bytes>"


_FILTER: Final = LinePayloadFilter()


def filter_line_payloads() -> None:
    """Install the filter on serialx's loggers (again: it is installed once per logger)."""
    names = {*SERIALX_LOGGERS, *(name for name in logging.Logger.manager.loggerDict if name.startswith("serialx"))}
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
