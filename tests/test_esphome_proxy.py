"""A meter behind an ESPHome serial proxy, end to end: Home Assistant's real esphome integration and aioesphomeapi
client, serialx's transport (`esphome-hass://`), and a fake ESP32 on 127.0.0.1 (linky_tools.esphome_device) whose
UART the simulated meter feeds at its real line rate, decoding it at whatever the client configured.

Both Home Assistant legs run these: 2026.5 is the first with serial proxies (its aioesphomeapi speaks API 1.14, the
device answers as one of that generation; 2026.10's speaks 1.18). Waits are on real TCP I/O; their limits only guard
against a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.tic import Mode
from linky_tools.esphome_device import EspHomeDevice, esphome_device
from linky_tools.simulator import SimulatedMeter
from linky_tools.uart import UartSettings

from .conftest import START
from .esphome_proxy import add_esphome_device, scanned_ports

pytestmark = pytest.mark.usefixtures("socket_enabled", "mock_bluetooth", "mock_async_zeroconf")

PROFILE = {Mode.HISTORIC: "historic_base", Mode.STANDARD: "standard_mono"}
BAUD = {Mode.HISTORIC: 1200, Mode.STANDARD: 9600}


@pytest.fixture(params=[Mode.HISTORIC, Mode.STANDARD], ids=["historic", "standard"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """The meter's TIC mode, hence its line's speed."""
    mode: Mode = request.param
    return mode


@pytest.fixture
async def device(mode: Mode) -> AsyncIterator[EspHomeDevice]:
    """An ESP32 with a serial proxy named `tic`, wired to a simulated single-phase meter."""
    async with esphome_device(SimulatedMeter(PROFILE[mode], start=START, seed=0)) as esp:
        yield esp


async def _configure(hass: HomeAssistant, device: str) -> dict[str, object]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_DEVICE: device, CONF_MODE: "auto"})
    if result.get("step_id") == "privacy":
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    return dict(result)


@pytest.mark.usefixtures("entry_setup")
async def test_config_flow_finds_the_meter_behind_the_proxy(
    hass: HomeAssistant, device: EspHomeDevice, mode: Mode
) -> None:
    """The ESP added, the port selector lists its proxy; in automatic mode the flow finds the meter's mode and speed
    (7E1: the UART reads garbage at the other speed) and creates the entry on the proxy's URL."""
    await add_esphome_device(hass, device)
    ports = await scanned_ports(hass)
    proxies = [url for url in ports if url.startswith("esphome-hass://")]
    assert len(proxies) == 1, ports
    assert ports[proxies[0]] == "esp32dev (tic)"

    result = await _configure(hass, proxies[0])

    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"] == {CONF_DEVICE: proxies[0], CONF_MODE: mode.value, CONF_BAUDRATE: BAUD[mode]}
    # The flow asked the UART for 7E1 at the meter's speed, after 9600 (the standard speed) first.
    assert UartSettings(BAUD[mode], 7, parity=True) in device.configured
    assert device.configured[0] == UartSettings(9600, 7, parity=True)
