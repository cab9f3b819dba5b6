"""The Linky Local integration: a Linky meter's local TIC output in Home Assistant."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .destinations import LeavingWatch
from .device import DEFAULT_NAME, async_follow_kind, free_name
from .esphome_proxy import async_clear_proxy_issue
from .outbound import async_prepare
from .retention import FinePurge

PLATFORMS = [Platform.BINARY_SENSOR, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: LinkyConfigEntry) -> bool:
    """Open the meter's port, start reading it, add its entities, watch where their states go, purge fine ones."""
    coordinator = LinkyCoordinator(hass, entry)
    await coordinator.async_start()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(await async_follow_kind(hass, entry, coordinator))
    await async_prepare(hass)
    entry.async_on_unload(LeavingWatch(hass, entry).async_start())
    entry.async_on_unload(FinePurge(hass, entry).async_start())
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LinkyConfigEntry) -> bool:
    """Unload the entities; the reader task is cancelled with the entry, which closes the port."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_migrate_entry(hass: HomeAssistant, entry: LinkyConfigEntry) -> bool:
    """Give a meter titled after its kind in the language of its day ("Linky - Monophasé (TIC historique)") a name.

    The title becomes "Linky", or "Linky 2"... when another meter bears it; a title the household chose stays. Entity
    ids are kept by the entity registry.
    """
    if entry.version == 1 and entry.minor_version < 2:
        title = entry.title
        if title.startswith(f"{DEFAULT_NAME} - "):
            others = hass.config_entries.async_entries(entry.domain, include_ignore=False)
            title = free_name({other.title for other in others if other.entry_id != entry.entry_id})
        hass.config_entries.async_update_entry(entry, title=title, minor_version=2)
    return True


async def async_remove_entry(hass: HomeAssistant, entry: LinkyConfigEntry) -> None:
    """Forget the entry's repair about a missing ESPHome serial proxy."""
    async_clear_proxy_issue(hass, entry.entry_id)
