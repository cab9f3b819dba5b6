"""Setup, unload, reload and stop of the integration, on a real pty and a real TCP port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_DEVICE, DOMAIN
from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import close_transport, connect_tic

from .conftest import Port, PtyPort, TcpPort, VirtualMeter, eventually, fire_after, wait_for

APPARENT_POWER = "sensor.linky_apparent_power"
LINK = "sensor.linky_link"


@pytest.fixture
def port(request: pytest.FixtureRequest) -> Port:
    """Read the meter over TCP, as from ser2net, so that tests can cut the line; `pty_port` when parametrized so."""
    port: Port = request.getfixturevalue(getattr(request, "param", "tcp_port"))
    return port


async def until(coordinator: LinkyCoordinator, condition: Callable[[LinkyCoordinator], bool]) -> None:
    """Wait for a state of the coordinator."""
    await wait_for(coordinator, lambda: condition(coordinator))


async def test_setup_unload(hass: HomeAssistant, init_integration: MockConfigEntry, tcp_port: TcpPort) -> None:
    """The entry loads and reads the meter; unloading it closes the port and makes the entities unavailable."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.link_state is LinkState.RECEIVING
    assert hass.states.get(APPARENT_POWER).state.isdigit()

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(APPARENT_POWER).state == STATE_UNAVAILABLE
    assert await tcp_port.wait_closed_by_reader()


async def test_device(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """One device per meter, named as its entry, its kind as the model, its maker and rating in words; no serial."""
    [device] = dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    assert device.identifiers == {(DOMAIN, "041876543210")}
    assert device.name == "Linky"
    assert device.manufacturer == "Landis+Gyr"
    assert device.model == "Three-phase producer (standard TIC)"
    assert device.model_id is None  # Enedis' type code: nothing a household reads
    assert device.hw_version == "60 A rating, generation 3"
    assert device.serial_number is None
    assert hass.states.get("sensor.linky_apparent_power") is not None


async def test_port_missing(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """A port that cannot be opened at start makes Home Assistant retry the setup later."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, CONF_DEVICE: "/dev/serial/by-id/no-such-dongle"}
    )
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot open the meter's port" in (mock_config_entry.reason or "")


@pytest.mark.parametrize("port", ["pty_port"], indirect=True)
async def test_reload_on_a_pty(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Reloading closes the pty before opening it again (serialx locks it), then reads on."""
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    await virtual_meter.send_frames(hass, init_integration)
    assert init_integration.runtime_data.link_state is LinkState.RECEIVING
    assert hass.states.get(APPARENT_POWER).state.isdigit()


@pytest.mark.parametrize("port", ["pty_port"], indirect=True)
async def test_unload_releases_the_pty(hass: HomeAssistant, init_integration: MockConfigEntry, port: PtyPort) -> None:
    """After unloading, another program can open the port at once."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await close_transport(await connect_tic(port.url, 9600, asyncio.Protocol))


async def test_stop_closes_the_port(hass: HomeAssistant, init_integration: MockConfigEntry, tcp_port: TcpPort) -> None:
    """Home Assistant's stop cancels the reader task, which closes the port."""
    await hass.async_stop()
    assert await tcp_port.wait_closed_by_reader()


async def test_reconnect_after_the_peer_drops(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    tcp_port: TcpPort,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The line drops: entities unavailable, one log line; retries back off 1, 2, 4 s; back: one log line."""
    coordinator: LinkyCoordinator = init_integration.runtime_data
    await tcp_port.drop()
    await until(coordinator, lambda c: c.link_state is LinkState.DISCONNECTED)
    assert hass.states.get(APPARENT_POWER).state == STATE_UNAVAILABLE
    assert hass.states.get(LINK).state == "disconnected"

    # The server is down: the retries after 1 s and 2 s are refused.
    for failed, delay in enumerate((1, 2), start=1):
        fire_after(hass, delay)
        await eventually(lambda failed=failed: coordinator.failed_reconnections == failed)
    await tcp_port.restore()
    # The next retry comes 4 s after the last one, not before.
    fire_after(hass, 3)
    await hass.async_block_till_done()
    assert tcp_port.connections == 0
    fire_after(hass, 4)
    await until(coordinator, lambda c: c.link_state is LinkState.WAITING)
    assert tcp_port.connections == 1

    await virtual_meter.send_frames(hass, init_integration)
    assert coordinator.link_state is LinkState.RECEIVING
    assert hass.states.get(APPARENT_POWER).state.isdigit()
    assert hass.states.get(LINK).state == "receiving"
    assert caplog.text.count("the meter is lost") == 1
    assert caplog.text.count("the meter is back") == 1


@pytest.mark.parametrize("port", ["pty_port"], indirect=True)
async def test_silence(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No frame for three frame periods: the meter is lost, the port reopened, and the next frame brings it back."""
    coordinator: LinkyCoordinator = init_integration.runtime_data
    fire_after(hass, 4)
    await hass.async_block_till_done()
    assert coordinator.link_state is LinkState.RECEIVING

    fire_after(hass, 4.8)
    await until(coordinator, lambda c: c.link_state is LinkState.DISCONNECTED)
    assert hass.states.get(APPARENT_POWER).state == STATE_UNAVAILABLE
    assert "no valid frame for 4.7 s" in caplog.text  # a pause between reads and three frames

    fire_after(hass, 1)
    await until(coordinator, lambda c: c.link_state is LinkState.WAITING)
    await virtual_meter.send_frames(hass, init_integration)
    assert hass.states.get(APPARENT_POWER).state.isdigit()
    assert coordinator.reconnections == 1


async def test_backoff_grows_while_the_port_opens_but_stays_silent(
    hass: HomeAssistant, init_integration: MockConfigEntry, tcp_port: TcpPort
) -> None:
    """A port that accepts the connection but sends nothing does not reset the backoff."""
    coordinator: LinkyCoordinator = init_integration.runtime_data
    for attempt, delay in enumerate((1, 2, 4), start=1):
        fire_after(hass, 4.8)
        await until(coordinator, lambda c: c.link_state is LinkState.DISCONNECTED)
        fire_after(hass, delay - 0.5)
        await hass.async_block_till_done()
        assert coordinator.reconnections == attempt - 1
        fire_after(hass, delay)
        await until(coordinator, lambda c: c.link_state is LinkState.WAITING)
        assert coordinator.reconnections == attempt
