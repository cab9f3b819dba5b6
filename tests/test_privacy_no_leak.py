"""The meter's serial number and PRM never leak: not in any log record of a full run, nor in the diagnostics."""

from __future__ import annotations

import asyncio
import json
import logging

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.linky_local.const import CONF_DEVICE, CONF_MODE, DOMAIN, MODE_AUTO
from custom_components.linky_local.linky_tic import Group
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel
from custom_components.linky_local.redaction import filter_line_payloads
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import START, PtyPort, VirtualMeter

# A serial number and a PRM found nowhere else in a run.
SERIAL = "021975318642"
PRM = "30002468013579"


@pytest.fixture
def port(pty_port: PtyPort) -> PtyPort:
    """A real pty: the config flow probes a real port, and serialx logs what it reads from it."""
    return pty_port


@pytest.fixture
def simulator(meter_profile: Profile) -> SimulatedMeter:
    """The simulated meter, with identifiers of its own."""
    return SimulatedMeter(meter_profile, start=START, seed=0, serial=SERIAL, prm=PRM)


def secrets_in(text: str) -> list[str]:
    """Return the identifiers, or the serial number's last six digits, found in a text."""
    return [secret for secret in (SERIAL, PRM, SERIAL[-6:]) if secret in text]


async def test_no_identifier_anywhere(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    virtual_meter: VirtualMeter,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The config flow, setup, frames (a supplier's message, a corrupted group), diagnostics, a level change and unload.

    Every logger at debug level, serialx's included, which logs the bytes it reads.
    """
    caplog.set_level(logging.DEBUG)
    entry = await add_through_the_config_flow(hass, virtual_meter)
    await choose_level(hass, entry, PrivacyLevel.LIVE)  # each frame shows at once: the test waits on them
    await virtual_meter.send_frames(hass, entry, 3)
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(hass, entry, [*groups, Group("MSG2", "COUPURE")])
    await virtual_meter.port.send(b"\x02\nADSC\t" + SERIAL.encode() + b"\tZ\r\x03")  # a wrong checksum
    await virtual_meter.send_frames(hass, entry, 2)
    assert entry.runtime_data.decoder.stats.checksum_errors == 1

    [device] = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    diagnostics = [
        await get_diagnostics_for_config_entry(hass, hass_client, entry),
        await get_diagnostics_for_device(hass, hass_client, entry, device),
    ]
    assert secrets_in(json.dumps(diagnostics)) == []

    await choose_level(hass, entry, PrivacyLevel.MINUTE)
    await virtual_meter.port.send(virtual_meter.simulator.next_frame())
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    assert any(record.name.startswith("serialx") for record in caplog.records)
    leaks = [
        record.getMessage()
        for record in caplog.records
        if secrets_in(record.getMessage() + (record.exc_text or "") + str(record.args))
    ]
    assert leaks == []
    # Names and ids the user sees.
    seen = [entry.title, device.name or ""]
    for reg in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        seen += [reg.entity_id, reg.original_name or ""]
    assert secrets_in(" ".join(seen)) == []


async def choose_level(hass: HomeAssistant, entry: ConfigEntry, level: PrivacyLevel) -> None:
    """Choose a privacy level in the options flow; the entry reloads."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(result["flow_id"], user_input={CONF_PRIVACY_LEVEL: level.value})
    await hass.async_block_till_done()


async def add_through_the_config_flow(hass: HomeAssistant, meter: VirtualMeter) -> ConfigEntry:
    """Add the meter as a user does, the meter sending its frames all along; return its entry, set up."""

    async def keep_sending() -> None:
        while True:
            await meter.port.send(meter.simulator.next_frame())
            await asyncio.sleep(0.05)

    sending = hass.async_create_background_task(keep_sending(), "meter")
    try:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_DEVICE: meter.port.url, CONF_MODE: MODE_AUTO}
        )
        assert result["step_id"] == "privacy"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
    finally:
        sending.cancel()
    entry = result["result"]
    assert entry.unique_id == SERIAL
    return entry


def test_serialx_payloads_become_their_length(caplog: pytest.LogCaptureFixture) -> None:
    """Raw bytes and hex dumps of the line (RFC 2217) are replaced by their length; other records are left alone."""
    filter_line_payloads()
    caplog.set_level(logging.DEBUG)
    frame = b"\x02\nADSC\t" + SERIAL.encode() + b"\t=\r\x03"
    logging.getLogger("serialx.descriptor_transport").debug("Received %r", frame)
    logging.getLogger("serialx.platforms.serial_rfc2217").debug("RX raw: %d bytes  [%s]", len(frame), frame.hex(" "))
    logging.getLogger("serialx.platforms.serial_socket").debug("Connected to %s:%d", "127.0.0.1", 2000)
    assert [record.getMessage() for record in caplog.records] == [
        "Received '<23 bytes>'",
        "RX raw: 23 bytes  [<23 bytes>]",
        "Connected to 127.0.0.1:2000",
    ]
