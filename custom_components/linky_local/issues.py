"""Raise and clear the integration's repair issues so that one the household ignored stays ignored.

Home Assistant keeps an ignored issue ignored across restarts, but an issue deleted and raised again is a new one.
An entry's issues are deleted when it unloads (a reload, a privacy level changed) and raised again by the next setup:
the ids the household ignored are remembered for the life of Home Assistant, and ignored again when raised.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

_IGNORED: Final[HassKey[set[str]]] = HassKey(f"{DOMAIN}_ignored_issues")


@callback
def async_raise(hass: HomeAssistant, issue_id: str, **issue: Any) -> None:
    """Raise (or update) an issue; ignore it again if the household ignored it before it was last cleared."""
    ir.async_create_issue(hass, DOMAIN, issue_id, **issue)
    if issue_id in hass.data.get(_IGNORED, ()):
        ir.async_ignore_issue(hass, DOMAIN, issue_id, True)


@callback
def async_clear(hass: HomeAssistant, issue_id: str) -> None:
    """Clear an issue, remembering whether the household had ignored it."""
    ignored = hass.data.setdefault(_IGNORED, set())
    found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    if found is not None and found.dismissed_version is not None:
        ignored.add(issue_id)
    elif found is not None:
        ignored.discard(issue_id)
    ir.async_delete_issue(hass, DOMAIN, issue_id)
