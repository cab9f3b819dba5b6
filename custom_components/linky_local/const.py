"""Constants of the Linky Local integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "linky_local"

# Config entry data: the port (a /dev path, preferably /dev/serial/by-id/..., or a socket://, rfc2217://,
# esphome-hass:// URL), the detected TIC mode ("historic" or "standard") and the line speed in baud.
CONF_DEVICE: Final = "device"
CONF_MODE: Final = "mode"
CONF_BAUDRATE: Final = "baudrate"
MODE_AUTO: Final = "auto"
