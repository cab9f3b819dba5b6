"""Diagnostics of the entry and of the device; identifiers redacted everywhere. The ledger: test_privacy_ledger.py."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from .conftest import VirtualMeter


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    snapshot: SnapshotAssertion,
) -> None:
    """At `live`, without a recorder: the link, the decoder, the labels seen and the ledger, nothing kept."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics == snapshot(exclude=props("last_frame"))
    assert diagnostics["link"]["last_frame"] == init_integration.runtime_data.last_frame_at.isoformat()
    text = json.dumps(diagnostics)
    for secret in (virtual_meter.simulator.serial, virtual_meter.simulator.prm, virtual_meter.port.url):
        assert secret not in text


async def test_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The device's diagnostics are its entry's, with the device's maker and model; without a recorder, none kept."""
    [device] = dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    diagnostics = await get_diagnostics_for_device(hass, hass_client, init_integration, device)
    entry_diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics.pop("device") == {
        "name": "Linky",
        "manufacturer": "Landis+Gyr",
        "model": "Three-phase producer (standard TIC)",
        "model_id": None,
        "hw_version": "60 A rating, generation 3",
    }
    assert diagnostics == entry_diagnostics
    assert diagnostics["summary"]["statement"].startswith(
        "The recorder is not loaded: Home Assistant stores none of this meter's values in a database. No entity of "
        "this meter is exposed to a voice assistant, no known exporter"
    )
    assert {entity["recorded"] for label in diagnostics["ledger"].values() for entity in label["entities"]} <= {
        None,
        False,
    }


async def test_identifiers_redacted_everywhere(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, init_integration: MockConfigEntry
) -> None:
    """A last pass redacts the serial number wherever it shows: here in a title the user wrote it in."""
    serial = init_integration.unique_id
    assert serial is not None
    hass.config_entries.async_update_entry(init_integration, title=f"Linky {serial}")
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics["entry"]["title"] == "Linky **REDACTED**"
    text = json.dumps(diagnostics)
    assert serial not in text
    assert init_integration.data["device"] not in text
