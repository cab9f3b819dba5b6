"""Constants of the Linky Local integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "linky_local"
