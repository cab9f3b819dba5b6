"""Options flow: the privacy level, changed at any time; the entry reloads with it and its history stays."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.linky_tic.guard import FIRST_VALUE_FRAMES
from custom_components.linky_local.privacy import (
    CONF_FINE_RETENTION,
    CONF_POWER_STATISTICS,
    CONF_PRIVACY_LEVEL,
    DEFAULT_PRIVACY_LEVEL,
    PrivacyLevel,
)

from .conftest import VirtualMeter

POWER = "sensor.linky_apparent_power"
ENERGY = "sensor.linky_energy_withdrawn"


async def change_level(hass: HomeAssistant, entry: MockConfigEntry, level: PrivacyLevel) -> None:
    """Choose a level in the options flow."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input={CONF_PRIVACY_LEVEL: level.value}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


@pytest.mark.parametrize("privacy_level", [None])
async def test_form_shows_the_default_level(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """An entry that never chose a level is at the default one, and the form says so."""
    assert init_integration.runtime_data.publisher.level is DEFAULT_PRIVACY_LEVEL is PrivacyLevel.MINUTE
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    key, retention, statistics = result["data_schema"].schema
    assert key == CONF_PRIVACY_LEVEL
    assert key.description == {"suggested_value": "minute"}
    selector = result["data_schema"].schema[key]
    assert selector.config["options"] == ["live", "minute", "half_hourly", "daily"]
    assert selector.config["translation_key"] == "privacy_level"
    assert (retention, retention.description) == (CONF_FINE_RETENTION, {"suggested_value": "recorder"})
    assert (statistics, statistics.description) == (CONF_POWER_STATISTICS, {"suggested_value": True})
    # Which meter, and what its database keeps, in plain words from the ledger's facts.
    placeholders = result["description_placeholders"]
    assert placeholders["name"] == init_integration.title
    assert placeholders["summary"].startswith("The recorder is not loaded: Home Assistant stores none of this meter")


async def test_changing_the_level_reloads_the_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A new level takes effect at once: the entry reloads with it, and reads the meter again."""
    assert init_integration.runtime_data.publisher.level is PrivacyLevel.LIVE
    await change_level(hass, init_integration, PrivacyLevel.HALF_HOURLY)
    assert init_integration.options == {CONF_PRIVACY_LEVEL: "half_hourly"}
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.publisher.level is PrivacyLevel.HALF_HOURLY
    await virtual_meter.send_frames(hass, init_integration, FIRST_VALUE_FRAMES)
    assert init_integration.runtime_data.decoder.stats.frames == FIRST_VALUE_FRAMES


async def test_daily_removes_instantaneous_entities_and_finer_levels_bring_them_back(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    entity_registry: er.EntityRegistry,
) -> None:
    """At `daily` powers, currents and voltages leave the registry; back at `minute` they return, same entity ids."""
    power = entity_registry.async_get(POWER)
    entity_registry.async_update_entity(POWER, name="Household power", area_id="kitchen")
    await change_level(hass, init_integration, PrivacyLevel.DAILY)
    assert entity_registry.async_get(POWER) is None
    assert hass.states.get(POWER) is None
    assert entity_registry.async_get(ENERGY) is not None
    await virtual_meter.send_frames(hass, init_integration, FIRST_VALUE_FRAMES)
    assert entity_registry.async_get(POWER) is None

    await change_level(hass, init_integration, PrivacyLevel.MINUTE)
    await virtual_meter.send_frames(hass, init_integration, FIRST_VALUE_FRAMES)
    back = entity_registry.async_get(POWER)
    assert back is not None
    assert back.id == power.id
    assert back.name == "Household power"
    assert back.area_id == "kitchen"


async def test_the_summary_waits_for_the_first_values(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Just reloaded, no frame read yet: the dialog says the summary comes with the first values, not "nothing"."""
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert not init_integration.runtime_data.values.seen
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["description_placeholders"]["summary"].startswith(
        "No value of this meter has been read since it was last loaded: what your database keeps of it is told once "
        "its first values arrive, within seconds. The meter's serial number is in "
    )
    await virtual_meter.send_frames(hass, init_integration, FIRST_VALUE_FRAMES)
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["description_placeholders"]["summary"].startswith("The recorder is not loaded")
