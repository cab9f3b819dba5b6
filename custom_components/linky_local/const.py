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
# The USB identity (vid:pid_serial_manufacturer_description) of the dongle found on `usb_device`, to follow the dongle
# when USB discovery finds it on another path. Stale once `device` was changed to another port: it is then ignored.
CONF_USB_ID: Final = "usb_id"
CONF_USB_DEVICE: Final = "usb_device"
