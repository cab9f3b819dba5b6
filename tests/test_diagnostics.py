"""Diagnostics: the link and the decoder, and never the meter's serial number or PRM."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
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
    """The diagnostics tell the link's state, the decoder's counters, the labels seen and the meter's state."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diagnostics == snapshot(exclude=props("last_frame"))
    assert diagnostics["link"]["last_frame"] == init_integration.runtime_data.last_frame_at.isoformat()
    text = json.dumps(diagnostics)
    for secret in (virtual_meter.simulator.serial, virtual_meter.simulator.prm, virtual_meter.port.url):
        assert secret not in text
