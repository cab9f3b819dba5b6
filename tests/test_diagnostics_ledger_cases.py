"""The privacy ledger's less common answers: a label it does not know, a level that publishes nothing, live values."""

from __future__ import annotations

from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.linky_local.linky_tic import Group
from custom_components.linky_local.privacy import PrivacyLevel

from .conftest import VirtualMeter


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: None) -> None:
    """Prepare the recorder's database before Home Assistant starts, for the test that loads it."""


async def _diagnostics(hass: HomeAssistant, client: ClientSessionGenerator, entry: MockConfigEntry) -> dict[str, Any]:
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(hass, client, entry)
    return diagnostics


async def test_a_label_the_integration_does_not_know(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
) -> None:
    """A label no catalogue lists is listed apart, and the ledger says why it has no entity."""
    await virtual_meter.send_groups(hass, init_integration, [Group("ZZTEST", "1")])
    diagnostics = await _diagnostics(hass, hass_client, init_integration)
    assert "ZZTEST" in diagnostics["unknown_labels"]
    assert diagnostics["ledger"]["ZZTEST"]["why_no_entity"] == "a label this integration does not know"
    assert diagnostics["ledger"]["ZZTEST"]["published_words"] == "never: no entity"
    assert diagnostics["ledger"]["ZZTEST"]["meaning"] is None


@pytest.mark.parametrize("privacy_level", [PrivacyLevel.DAILY])
async def test_a_level_that_publishes_no_power(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, init_integration: MockConfigEntry
) -> None:
    """At the daily level the power has no entity: the ledger says the level is why."""
    ledger = (await _diagnostics(hass, hass_client, init_integration))["ledger"]
    assert ledger["SINSTS"]["is_entity"] is False
    assert ledger["SINSTS"]["why_no_entity"] == "this privacy level does not publish it"
    assert ledger["EAST"]["is_entity"] is True


async def test_a_first_index_not_yet_trusted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    virtual_meter: VirtualMeter,
) -> None:
    """After a single frame an index waits for a second agreeing value: its entity comes then, and the ledger says so."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await virtual_meter.send_frames(hass, mock_config_entry, 1)
    ledger = (await _diagnostics(hass, hass_client, mock_config_entry))["ledger"]
    assert ledger["EAST"]["is_entity"] is False
    assert ledger["EAST"]["why_no_entity"] == "its entities are created once the meter's values call for them"


async def test_live_values_are_worded_as_such(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """At the live level the summary says the recorder keeps values at every frame."""
    statement = (await _diagnostics(hass, hass_client, init_integration))["summary"]["statement"]
    assert statement.startswith("At the live privacy level, your database stores: ")
    assert "about once a second, each time they change" in statement
