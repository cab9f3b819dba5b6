"""Setup, unload, reload and stop of the integration, on a real pty and a real TCP port; the silence and the backoff,
about time, on the in-memory line and frozen clocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_DEVICE, DOMAIN
from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import close_transport, connect_tic
from tests_protocol.waiting import eventually

from .conftest import Clock, MemoryLine, Port, PtyPort, TcpPort, VirtualMeter, fire_after, wait_for

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
    """The line drops: entities unavailable, one log line; refused retries; back: one log line.

    The retries' timers run on the real clock too, and a loaded machine may run them before the test hurries them:
    counts are at least, never exact. `test_refused_reconnections_back_off` holds the schedule on frozen clocks.
    """
    coordinator: LinkyCoordinator = init_integration.runtime_data
    await tcp_port.drop()
    await until(coordinator, lambda c: c.link_state is LinkState.DISCONNECTED)
    assert hass.states.get(APPARENT_POWER).state == STATE_UNAVAILABLE
    assert hass.states.get(LINK).state == "disconnected"

    # The server is down: the retries after 1 s and 2 s are refused.
    for failed, delay in enumerate((1, 2), start=1):
        fire_after(hass, delay)
        await eventually(lambda failed=failed: coordinator.failed_reconnections >= failed)
    await tcp_port.restore()
    fire_after(hass, 4)  # the next retry, unless the real clock ran more: then its own timer comes
    await until(coordinator, lambda c: c.link_state is LinkState.WAITING)
    assert tcp_port.connections >= 1

    await virtual_meter.send_frames(hass, init_integration)
    assert coordinator.link_state is LinkState.RECEIVING
    assert coordinator.reconnections >= 1
    assert hass.states.get(APPARENT_POWER).state.isdigit()
    assert hass.states.get(LINK).state == "receiving"
    assert caplog.text.count("the meter is lost") >= 1
    assert caplog.text.count("the meter is back") >= 1


async def lost_at(timeline: Clock, within: float) -> datetime:
    """Move the clocks on until the meter is lost; return when, to a hundredth of a second."""
    await timeline.run_until(
        lambda: timeline.coordinator.link_state is LinkState.DISCONNECTED, within=within, step=0.01
    )
    return timeline.moment


async def reopened_after(timeline: Clock, since: datetime, delay: float) -> None:
    """Check that the port is opened again `delay` seconds after `since`, not a tenth of a second before."""
    coordinator = timeline.coordinator
    reconnections = coordinator.reconnections
    await timeline.move_to(since + timedelta(seconds=delay - 0.1))
    assert (coordinator.link_state, coordinator.reconnections) == (LinkState.DISCONNECTED, reconnections)
    await timeline.move_to(since + timedelta(seconds=delay + 0.1))
    assert (coordinator.link_state, coordinator.reconnections) == (LinkState.WAITING, reconnections + 1)


@pytest.mark.parametrize("port", ["memory_line"], indirect=True)
async def test_refused_reconnections_back_off(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, memory_line: MemoryLine
) -> None:
    """The line drops and the port refuses: retries 1 s after, then 2 s, then 4 s later, never before."""
    coordinator = timeline.coordinator
    memory_line.refusing = True
    memory_line.lose()
    await hass.async_block_till_done()
    assert coordinator.link_state is LinkState.DISCONNECTED
    lost = timeline.moment
    for failed, retry in enumerate((1, 3), start=1):
        await timeline.move_to(lost + timedelta(seconds=retry - 0.1))
        assert coordinator.failed_reconnections == failed - 1
        await timeline.move_to(lost + timedelta(seconds=retry + 0.1))
        assert coordinator.failed_reconnections == failed
    memory_line.refusing = False
    await reopened_after(timeline, lost, 7)
    assert memory_line.opened == 2
    await timeline.send(timeline.next_frame())
    assert coordinator.link_state is LinkState.RECEIVING


@pytest.mark.parametrize("port", ["memory_line"], indirect=True)
async def test_silence(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """No frame for three frame periods: the meter is lost, the port reopened 1 s later, the next frame brings it
    back."""
    coordinator = timeline.coordinator
    await timeline.advance(4)
    assert coordinator.link_state is LinkState.RECEIVING

    lost = await lost_at(timeline, within=1.0)
    assert hass.states.get(APPARENT_POWER).state == STATE_UNAVAILABLE
    assert "no valid frame for 4.7 s" in caplog.text  # a pause between reads and three frames

    await reopened_after(timeline, lost, 1)
    await timeline.send(timeline.next_frame())
    assert coordinator.link_state is LinkState.RECEIVING
    assert hass.states.get(APPARENT_POWER).state.isdigit()
    assert coordinator.reconnections == 1


@pytest.mark.parametrize("port", ["memory_line"], indirect=True)
async def test_backoff_grows_while_the_port_opens_but_stays_silent(running: MockConfigEntry, timeline: Clock) -> None:
    """A port that opens but sends nothing does not reset the backoff: reopened 1 s, then 2 s, then 4 s after."""
    for delay in (1, 2, 4):
        lost = await lost_at(timeline, within=6)
        await reopened_after(timeline, lost, delay)
