"""The error paths of the meter-changed fix flow, the agents' reading and the ESPHome proxy check, one by one."""

from __future__ import annotations

from unittest.mock import AsyncMock, patch

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.esphome_proxy import async_missing_proxy, async_proxy_error
from custom_components.linky_local.linky_tic import PortNotFoundError
from custom_components.linky_local.meter_change import async_raise_issue, issue_id
from custom_components.linky_local.outbound import Runs, _on_this_device, _runs, integration_name

UNKNOWN_PROXY = "esphome-hass://esphome/no_such_entry?port_name=tic"


async def _repairs(hass: HomeAssistant) -> None:
    """Set up Repairs with the integration's fix flows, the integration's entries not set up."""
    hass.config.components.add(DOMAIN)  # loaded, as far as Repairs looks for its platform
    assert await async_setup_component(hass, "repairs", {})


async def _fix_flow(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, object]:
    """Raise the entry's meter-changed issue and open its fix flow, as the household does from Repairs."""
    await _repairs(hass)
    async_raise_issue(hass, entry)
    issue = issue_id(entry.entry_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    return dict(await manager.async_init(DOMAIN, context={"issue_id": issue}, data={"issue_id": issue}))


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Linky",
        unique_id="041864543210",
        data={CONF_DEVICE: "/dev/ttyLINKY_GONE", CONF_MODE: "historic", CONF_BAUDRATE: 1200},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize("step", ["replaced", "other_meter"])
async def test_the_entry_removed_while_the_flow_is_open(hass: HomeAssistant, step: str) -> None:
    """The entry removed between the menu and the household's answer: the flow says so, and changes nothing."""
    entry = _entry(hass)
    result = await _fix_flow(hass, entry)
    assert result["type"] is FlowResultType.MENU
    await hass.config_entries.async_remove(entry.entry_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = dict(await manager.async_configure(str(result["flow_id"]), {"next_step_id": step}))
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "entry_gone")


async def test_the_entry_gone_before_the_flow_opens(hass: HomeAssistant) -> None:
    """An issue left behind by an entry that is gone: its flow ends at once."""
    entry = _entry(hass)
    await _repairs(hass)
    async_raise_issue(hass, entry)
    await hass.config_entries.async_remove(entry.entry_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    issue = issue_id(entry.entry_id)
    result = dict(await manager.async_init(DOMAIN, context={"issue_id": issue}, data={"issue_id": issue}))
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "entry_gone")


async def test_replaced_but_no_meter_reads_on_the_port(hass: HomeAssistant) -> None:
    """A stopped entry whose port reads no meter: "replaced" says it could not read one, and the entry is set up
    again as it was."""
    entry = _entry(hass)
    result = await _fix_flow(hass, entry)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = dict(await manager.async_configure(str(result["flow_id"]), {"next_step_id": "replaced"}))
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "replaced")
    with (
        patch("custom_components.linky_local.repairs.identify", side_effect=PortNotFoundError("gone")),
        patch.object(hass.config_entries, "async_setup", AsyncMock(return_value=True)) as set_up,
    ):
        result = dict(await manager.async_configure(str(result["flow_id"]), {}))
    assert (result["type"], result["errors"]) == (FlowResultType.FORM, {"base": "cannot_read"})
    set_up.assert_awaited_once_with(entry.entry_id)
    assert entry.unique_id == "041864543210"


async def test_agents_of_integrations_not_loaded(hass: HomeAssistant) -> None:
    """An integration whose manifest was not read is named by its domain; a local server runs where its URL says."""
    assert integration_name(hass, "no_such_integration") == "no_such_integration"
    assert _runs(hass, "ollama", {"url": "http://localhost:11434"}) is Runs.DEVICE
    assert _runs(hass, "ollama", {"url": "http://nas.home:11434"}) is Runs.OTHER_HOST
    assert _runs(hass, "no_such_integration", {}) is Runs.REMOTE
    assert not _on_this_device("nas.home")
    assert _on_this_device("127.0.0.1:11434")


async def test_a_proxy_of_an_esp_not_configured(hass: HomeAssistant) -> None:
    """A proxy URL naming an ESPHome entry that does not exist: nothing can be said of it, no error of its own."""
    assert async_missing_proxy(hass, UNKNOWN_PROXY) is None
    assert async_proxy_error(hass, UNKNOWN_PROXY) is None
