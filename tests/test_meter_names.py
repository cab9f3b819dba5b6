"""Meters read apart: each has a name in no language (the entry's title, the device's name), asked in the config flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local import async_migrate_entry, config_flow
from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.device import free_name
from linky_tools.simulator import Profile

from .conftest import TalkingPty, VirtualMeter, set_up_entry, silent_line
from .test_config_flow import STANDARD_MONO


def test_free_name() -> None:
    """The first meter is "Linky", the next ones "Linky 2", "Linky 3"... whatever the household named the others."""
    assert free_name(set()) == "Linky"
    assert free_name({"Garage"}) == "Linky"
    assert free_name({"Linky", "Garage"}) == "Linky 2"
    assert free_name({"Linky", "Linky 2"}) == "Linky 3"


def _other_entry(title: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id="031962449508",
        minor_version=2,
        data={CONF_DEVICE: "socket://192.0.2.1:2000", CONF_MODE: "standard", CONF_BAUDRATE: 9600},
    )


async def _found(hass: HomeAssistant, device: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_DEVICE: device, CONF_MODE: "auto"})
    await hass.async_block_till_done()
    assert result["step_id"] == "privacy"
    return dict(result)


@pytest.mark.usefixtures("entry_setup")
async def test_second_meter_is_offered_another_name(hass: HomeAssistant) -> None:
    """With a "Linky" already there, the next meter is offered "Linky 2"; the other's name is refused."""
    _other_entry("Linky").add_to_hass(hass)
    async with TalkingPty(STANDARD_MONO) as meter:
        result = await _found(hass, meter.path)
    defaults = {str(key): key.default() for key in result["data_schema"].schema if str(key) == CONF_NAME}
    assert defaults == {CONF_NAME: "Linky 2"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: " linky "})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_in_use"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: "  Garage   annex "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage annex"


@pytest.mark.usefixtures("entry_setup")
async def test_blank_name_takes_the_one_offered(hass: HomeAssistant) -> None:
    """A name left blank is the one offered."""
    _other_entry("Production").add_to_hass(hass)
    async with TalkingPty(STANDARD_MONO) as meter:
        result = await _found(hass, meter.path)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: "  "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky"


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_PRODUCER])
async def test_name_is_the_device_and_the_entity_names(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A meter named "Production" is the device "Production", its entities "Production …", in the picker apart."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, title="Production")
    await set_up_entry(hass, mock_config_entry)
    await virtual_meter.send_frames(hass, mock_config_entry)
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), mock_config_entry.entry_id)
    assert device.name == "Production"
    state = hass.states.get("sensor.production_injected_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Production Injected power"


def _old_entry(title: str, serial: str, **fields: Any) -> MockConfigEntry:
    """An entry made before meters had names: titled after its kind, in the language of the day."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=serial,
        minor_version=1,
        **({"data": {CONF_DEVICE: "socket://192.0.2.1:2000", CONF_MODE: "historic", CONF_BAUDRATE: 1200}} | fields),
    )


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
async def test_titles_in_a_language_become_names(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Entries titled after their kind become "Linky", "Linky 2": their entity ids stay; a chosen title stays."""
    first = _old_entry("Linky - Monophasé (TIC historique)", "031962449508")
    chosen = _old_entry("Maison", "041962449509")
    for entry in (first, chosen):
        entry.add_to_hass(hass)
        assert await async_migrate_entry(hass, entry)
    old = _old_entry(
        "Linky - Single-phase (historic TIC)",
        str(mock_config_entry.unique_id),
        data=mock_config_entry.data,
        options=mock_config_entry.options,
    )
    # Registered by the old version, whose device was "Linky" for every meter: the second got "linky_2_".
    old.add_to_hass(hass)
    registry = er.async_get(hass)
    entity = registry.async_get_or_create(
        "sensor", DOMAIN, f"{old.unique_id}_BASE", config_entry=old, suggested_object_id="linky_2_base_index"
    )

    assert await hass.config_entries.async_setup(old.entry_id)
    await virtual_meter.send_frames(hass, old)

    assert (first.title, chosen.title, old.title) == ("Linky", "Maison", "Linky 2")
    assert old.minor_version == 2
    assert registry.async_get(entity.entity_id) is not None
    state = hass.states.get("sensor.linky_2_base_index")
    assert state is not None
    assert state.attributes["friendly_name"] == "Linky 2 Base index"


@pytest.mark.usefixtures("entry_setup")
async def test_builtin_port_says_so(hass: HomeAssistant) -> None:
    """Nothing on a computer's built-in serial port: the error says it is one, and names the port it tried."""
    async with TalkingPty(b"") as meter:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        with patch.object(config_flow, "_builtin_port", return_value=True), silent_line():
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_DEVICE: meter.path, CONF_MODE: "auto"}
            )
    assert result["errors"] == {"base": "nothing_received_builtin"}
    assert result["description_placeholders"] == {CONF_DEVICE: meter.path}


def test_builtin_port(tmp_path: Path) -> None:
    """ttyS and ttyAMA ports, under any alias, are built in; USB adapters and network ports are not."""
    for name, target in [("serial0", "/dev/ttyS0"), ("uart", "/dev/ttyAMA0"), ("dongle", "/dev/ttyUSB0")]:
        (tmp_path / name).symlink_to(target)
    assert config_flow._builtin_port(str(tmp_path / "serial0"))
    assert config_flow._builtin_port(str(tmp_path / "uart"))
    assert not config_flow._builtin_port(str(tmp_path / "dongle"))
    assert not config_flow._builtin_port("socket://127.0.0.1:2000")
