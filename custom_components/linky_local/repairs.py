"""Fix flow of the meter-changed repair: the household says whether the meter was replaced or is another one."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Type-checked against Home Assistant 2026.10 (see config_flow.py); 2026.5 has no RepairsFlowResult yet.
    from homeassistant.components.repairs import RepairsFlowResult
    import probatio as vol
else:
    import voluptuous as vol

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry, ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .config_flow import PROBE_TIMEOUT, NoSerialNumberError, identify
from .const import CONF_BAUDRATE, CONF_DEVICE, DOMAIN
from .linky_tic import Frame, TicLinkError, decimal
from .meter_change import INDEX_LABELS, OtherMeter, continued_offsets, restored_indexes
from .replacement import NewMeter, async_move_to_meter

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
        """Move the entry, its device and its entities to the new meter, then read it.

        A meter the reader decoded is known: its mode and speed are the entry's. Otherwise (a meter in the other TIC
        mode, found by reconfiguring the port) the port is read again, in either mode, while the entry lets it go.
        """
        if (entry := self._entry()) is None:
            return self.async_abort(reason="entry_gone")
        errors: dict[str, str] = {}
        if user_input is not None:
            other = _other_meter(entry)
            # Before the entry unloads: its entities then store what they show, which may be nothing by now.
            own_last = (other.own_last_indexes if other else {}) or restored_indexes(self.hass, entry)
            if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY):
                await self.hass.config_entries.async_unload(entry.entry_id)  # it holds the port
            if other is not None:
                meter: NewMeter | None = NewMeter(other.serial, other.mode, entry.data[CONF_BAUDRATE], other.frame)
                # Its indexes as the guard confirmed them, else as last read: one frame may be all there was.
                first = {**_indexes(other.frame), **other.pending, **other.first_indexes}
            else:
                meter = await _async_read(entry)
                first = {} if meter is None else _indexes(meter.frame)
            if meter is None:
                errors["base"] = "cannot_read"
            elif meter.serial == entry.unique_id or any(
                other_entry.unique_id == meter.serial for other_entry in self._configured()
            ):
                if meter.serial == entry.unique_id:
                    reason = "meter_back"
                    ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
                else:
                    reason = "already_configured"
                await self.hass.config_entries.async_setup(entry.entry_id)
                return self.async_abort(reason=reason, description_placeholders={"name": entry.title})
            else:
                await async_move_to_meter(self.hass, entry, meter, continued_offsets(own_last, first))
                await self.hass.config_entries.async_setup(entry.entry_id)
                return self.async_create_entry(data={})
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


async def _async_read(entry: ConfigEntry) -> NewMeter | None:
    """Read the meter on the entry's port in either mode; None when none reads."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            detection, serial = await identify(entry.data[CONF_DEVICE], None)
    except (TimeoutError, NoSerialNumberError, TicLinkError) as err:
        _LOGGER.debug("%s: no meter read on its port: %s", entry.title, type(err).__name__)
        return None
    return NewMeter(serial, detection.mode, detection.baudrate, detection.frame)


def _indexes(frame: Frame) -> dict[str, int]:
    """Return the indexes of a frame: where a meter read once counts from."""
    return {
        label: wh
        for label, group in frame.groups.items()
        if label in INDEX_LABELS[frame.mode] and (wh := decimal(group.value)) is not None
    }
