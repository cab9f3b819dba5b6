"""Config flow of Linky Local."""

from __future__ import annotations

from homeassistant.config_entries import ConfigFlow

from .const import DOMAIN


class LinkyLocalConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Linky meter's TIC connection."""

    VERSION = 1
