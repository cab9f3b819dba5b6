"""Fix flow of the meter-changed repair: the household says whether the meter was replaced or is another one."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntry, ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import HomeAssistant

from .config_flow import PROBE_TIMEOUT, NoSerialNumberError, identify
from .const import CONF_DEVICE, DOMAIN
from .meter_change import OtherMeter, continued_offsets, restored_indexes
from .replacement import async_move_to_meter
from .tic.frame import decimal
from .tic.guard import INDEX_LABELS
from .tic.link import Detection, TicLinkError

_LOGGER = logging.getLogger(__name__)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the fix flow of a meter-changed issue (the only fixable issue of the integration)."""
    return MeterChangedFlow(str((data or {}).get("entry_id")))


class MeterChangedFlow(RepairsFlow):
    """Ask what happened on the port: the meter was replaced, or this is another meter."""

    def __init__(self, entry_id: str) -> None:
        """Fix the issue of one config entry."""
        self._entry_id = entry_id

    def _entry(self) -> ConfigEntry | None:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        return entry if entry is not None and entry.domain == DOMAIN else None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Offer the two cases."""
        if (entry := self._entry()) is None:
            return self.async_abort(reason="entry_gone")
        return self.async_show_menu(
            step_id="init", menu_options=["replaced", "other_meter"], description_placeholders={"name": entry.title}
        )

    async def async_step_replaced(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Read the port again, then move the entry, its device and its entities to the new meter."""
        if (entry := self._entry()) is None:
            return self.async_abort(reason="entry_gone")
        errors: dict[str, str] = {}
        if user_input is not None:
            other = _other_meter(entry)
            # Before the entry unloads: its entities then store what they show, which may be nothing by now.
            own_last = (other.own_last_indexes if other else {}) or restored_indexes(self.hass, entry)
            if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY):
                await self.hass.config_entries.async_unload(entry.entry_id)  # it holds the port
            found = await _async_read(entry)
            if found is None:
                errors["base"] = "cannot_read"
            else:
                detection, serial = found
                if serial == entry.unique_id:
                    reason = "meter_back"
                elif any(other_entry.unique_id == serial for other_entry in self._configured()):
                    reason = "already_configured"
                else:
                    offsets = continued_offsets(own_last, _first_indexes(other, serial, detection))
                    await async_move_to_meter(self.hass, entry, serial, detection, offsets)
                    await self.hass.config_entries.async_setup(entry.entry_id)
                    return self.async_create_entry(data={})
                await self.hass.config_entries.async_setup(entry.entry_id)
                return self.async_abort(reason=reason, description_placeholders={"name": entry.title})
            await self.hass.config_entries.async_setup(entry.entry_id)
        return self.async_show_form(
            step_id="replaced",
            data_schema=vol.Schema({}),
            description_placeholders={"name": entry.title},
            errors=errors,
        )

    async def async_step_other_meter(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Stop reading the port for this meter (its entry is disabled), and say how to add the other one."""
        if (entry := self._entry()) is None:
            return self.async_abort(reason="entry_gone")
        if user_input is not None:
            await self.hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="other_meter", data_schema=vol.Schema({}), description_placeholders={"name": entry.title}
        )

    def _configured(self) -> list[ConfigEntry]:
        return [entry for entry in self.hass.config_entries.async_entries(DOMAIN) if entry.entry_id != self._entry_id]


def _other_meter(entry: ConfigEntry) -> OtherMeter | None:
    """Return what the running entry saw of the other meter, before it unloads."""
    if entry.state is not ConfigEntryState.LOADED:
        return None
    other: OtherMeter | None = entry.runtime_data.meter_watch.other
    return other


async def _async_read(entry: ConfigEntry) -> tuple[Detection, str] | None:
    """Read the meter on the entry's port in either mode: its detection and serial number, None when none reads."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await identify(entry.data[CONF_DEVICE], None)
    except (TimeoutError, NoSerialNumberError, TicLinkError) as err:
        _LOGGER.debug("%s: no meter read on its port: %s", entry.title, type(err).__name__)
        return None


def _first_indexes(other: OtherMeter | None, serial: str, detection: Detection) -> dict[str, int]:
    """Return where the new meter's consumption starts counting: its first index seen, else the one read now."""
    if other is not None and other.serial == serial and other.mode is detection.mode and other.first_indexes:
        return other.first_indexes
    frame = detection.frame
    return {
        label: wh
        for label, group in frame.groups.items()
        if label in INDEX_LABELS[frame.mode] and (wh := decimal(group.value)) is not None
    }
