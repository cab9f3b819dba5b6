"""The household's retention of fine states: at `live` and per minute, power, currents and voltages kept N days.

Once a day (and when the entry is set up), the recorder's own purge (`recorder.purge_entities` with `keep_days`)
deletes the states of the entry's instantaneous entities older than the days chosen; the recorder's nightly purge
keeps everything else as long as it is set to. Energy indexes are never purged here: the energy dashboard needs them.
"""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_change

from .const import DOMAIN
from .coordinator import LinkyConfigEntry
from .device import meter_id
from .linky_tic import describe
from .privacy import Signal, fine_keep_days, signal

_LOGGER = logging.getLogger(__name__)
RECORDER: Final = "recorder"
PURGE_ENTITIES: Final = "purge_entities"
# After the recorder's own nightly purge (04:12), before the automatic backup (04:45).
PURGE_AT: Final = (4, 30, 0)


def fine_entities(hass: HomeAssistant, entry: LinkyConfigEntry) -> list[str]:
    """Return the entity ids of the entry's instantaneous signals: power, currents, voltages."""
    coordinator = entry.runtime_data
    prefix = f"{meter_id(entry)}_"
    return sorted(
        reg.entity_id
        for reg in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if signal(describe(coordinator.mode, reg.unique_id.removeprefix(prefix))) is Signal.INSTANTANEOUS
    )


class FinePurge:
    """Purge an entry's fine states older than the household's retention, once a day."""

    def __init__(self, hass: HomeAssistant, entry: LinkyConfigEntry) -> None:
        """Purge for a set-up entry."""
        self.hass = hass
        self.entry = entry
        self.keep_days = fine_keep_days(entry)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Purge now and every day at PURGE_AT; return what stops it. Nothing to do when the recorder's days apply."""
        if self.keep_days is None:
            return lambda: None
        self.hass.async_create_background_task(self.async_purge(), f"{DOMAIN} fine purge", eager_start=False)
        hour, minute, second = PURGE_AT
        return async_track_time_change(self.hass, self._daily, hour=hour, minute=minute, second=second)

    @callback
    def _daily(self, _now: datetime) -> None:
        self.hass.async_create_background_task(self.async_purge(), f"{DOMAIN} fine purge", eager_start=True)

    async def async_purge(self) -> None:
        """Ask the recorder to purge the fine states older than the days kept."""
        if self.keep_days is None or not self.hass.services.has_service(RECORDER, PURGE_ENTITIES):
            return
        if not (entity_ids := fine_entities(self.hass, self.entry)):
            return
        _LOGGER.debug(
            "%s: purging %d fine entities' states older than %d days", self.entry.title, len(entity_ids), self.keep_days
        )
        await self.hass.services.async_call(
            RECORDER, PURGE_ENTITIES, {"entity_id": entity_ids, "keep_days": self.keep_days}, blocking=True
        )
