"""Nothing the integration does blocks the event loop, checked with Home Assistant's detection on as in production."""

from __future__ import annotations

import time
from unittest.mock import patch

from homeassistant import block_async_io
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import Port, TcpPort, VirtualMeter


@pytest.fixture
def blocking_call_detection(disable_block_async_io: None) -> None:
    """Turn the detection on for every call production checks, those it skips in tests too; the test plugin's
    `disable_block_async_io` turns it off after the test."""
    with patch.object(block_async_io, "_IN_TESTS", False):
        block_async_io.enable()


@pytest.fixture(params=["pty", "tcp"])
def port(request: pytest.FixtureRequest) -> Port:
    """A tty, then a `socket://` line."""
    if request.param == "tcp":
        tcp_port: TcpPort = request.getfixturevalue("tcp_port")
        return tcp_port
    return request.getfixturevalue("pty_port")


@pytest.mark.usefixtures("blocking_call_detection")
async def test_nothing_blocks_the_loop(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    virtual_meter: VirtualMeter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup, reading, reload and unload on a tty and on `socket://` make no blocking call in the event loop."""
    with pytest.raises(RuntimeError, match="Caught blocking call to sleep"):
        time.sleep(0)  # noqa: ASYNC251 - proves the detection is on

    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await virtual_meter.send_frames(hass, mock_config_entry, 3)
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await virtual_meter.send_frames(hass, mock_config_entry, 3)
    assert hass.states.get("sensor.linky_apparent_power").state.isdigit()
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED
    assert "Detected blocking call" not in caplog.text
