"""A meter behind an ESPHome serial proxy, end to end: Home Assistant's real esphome integration and aioesphomeapi
client, serialx's transport (`esphome-hass://`), and a fake ESP32 on 127.0.0.1 (linky_tools.esphome_device) whose
UART the simulated meter feeds at its real line rate, decoding it at whatever the client configured.

Both Home Assistant legs run these: 2026.5 is the first with serial proxies (its aioesphomeapi speaks API 1.14, the
device answers as one of that generation; 2026.10's speaks 1.18). Waits are on real TCP I/O; their limits only guard
against a hang.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import itertools
import logging
from typing import Final
from unittest.mock import patch

from homeassistant.components.esphome.const import DOMAIN as ESPHOME_DOMAIN
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.selector import SerialPortSelector
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import DETECT_TIMEOUT, Mode
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel
from linky_tools.esphome_device import EspHomeDevice, esphome_device
from linky_tools.serve import serve_pty
from linky_tools.simulator import SimulatedMeter
from linky_tools.uart import UartSettings

from .conftest import START, fire_after, wait_for, written
from .esphome_proxy import GUARD, add_esphome_device, esphome_available, scanned_ports, until

pytestmark = pytest.mark.usefixtures("socket_enabled", "mock_bluetooth", "mock_async_zeroconf")

PROFILE = {Mode.HISTORIC: "historic_base", Mode.STANDARD: "standard_mono"}
BAUD = {Mode.HISTORIC: 1200, Mode.STANDARD: 9600}
WIFI_LOST_MINUTES: Final = 2
TICK: Final = 10  # seconds the timers are fired ahead at a time
# After the Wi-Fi is back: both backoffs (Linky Local's up to 60 s, aioesphomeapi's) have tried again by then.
RECOVERY_WITHIN: Final = WIFI_LOST_MINUTES * 60 + 300


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

    # A historic meter's line read at 9600 baud is garbage however long it is listened to: that attempt keeps the
    # product's own window; the attempt that finds the meter waits as long as a loaded machine needs.
    windows = {Mode.STANDARD: 4.0} if mode is Mode.HISTORIC else {}
    with patch.dict(DETECT_TIMEOUT, windows):
        result = await _configure(hass, proxies[0])

    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"] == {CONF_DEVICE: proxies[0], CONF_MODE: mode.value, CONF_BAUDRATE: BAUD[mode]}
    # The flow asked the UART for 7E1 at the meter's speed, after 9600 (the standard speed) first.
    assert UartSettings(BAUD[mode], 7, parity=True) in device.configured
    assert device.configured[0] == UartSettings(9600, 7, parity=True)


async def _meter_on_the_proxy(hass: HomeAssistant, device: EspHomeDevice, mode: Mode) -> MockConfigEntry:
    """Add the ESP, then a Linky Local entry reading its proxy; return it once frames flow."""
    await add_esphome_device(hass, device)
    [url] = [url for url in await scanned_ports(hass) if url.startswith("esphome-hass://")]
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=device.source.serial,  # the meter's serial number, as the config flow stores it
        data={CONF_DEVICE: url, CONF_MODE: mode.value, CONF_BAUDRATE: BAUD[mode]},
        options={CONF_PRIVACY_LEVEL: PrivacyLevel.LIVE.value},  # every frame published: no window to wait for
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator: LinkyCoordinator = entry.runtime_data
    await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= 3, within=GUARD)
    return entry


class FiredAhead:
    """A clock of the test for the timers of Home Assistant's loop (keep-alives, backoffs): each tick runs those due
    within `seconds` more than the last; TCP I/O goes on in real time meanwhile."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start at now."""
        self.hass = hass
        self.seconds = 0

    async def tick(self) -> None:
        """Move on by TICK seconds and run the timers due by then."""
        self.seconds += TICK
        fire_after(self.hass, self.seconds)
        await self.hass.async_block_till_done()


def _numeric_entity(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Return a sensor of the entry that shows a number of the meter (not a diagnostic of the link)."""
    for registered in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if (
            registered.entity_category is None
            and (state := hass.states.get(registered.entity_id)) is not None
            and _is_number(state.state)
        ):
            return registered.entity_id
    pytest.fail("no sensor shows a number")


def _is_number(state: str) -> bool:
    try:
        float(state)
    except ValueError:
        return False
    return True


def _times_unavailable(states: list[str]) -> int:
    """Count how many times the states went unavailable."""
    return sum(1 for before, now in itertools.pairwise(["", *states]) if now == STATE_UNAVAILABLE != before)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the errors logged, but haffmpeg's: the esphome integration's ffmpeg dependency looks for the ffmpeg
    program, which this machine may lack."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR and not record.name.startswith("haffmpeg")
    ]


def _said(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return sum(1 for record in caplog.records if words in record.getMessage())


@pytest.mark.parametrize("mode", [Mode.STANDARD], indirect=True)
async def test_values_flow_and_survive_a_reboot_of_the_esp(
    hass: HomeAssistant, device: EspHomeDevice, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    """Values flow through the proxy; the ESP reboots (its connections close): the entities go unavailable once and
    come back without a reload, the loss and the return each logged once."""
    caplog.set_level(logging.INFO, logger="custom_components.linky_local")
    entry = await _meter_on_the_proxy(hass, device, mode)
    coordinator: LinkyCoordinator = entry.runtime_data
    entity_id = _numeric_entity(hass, entry)
    states = written(hass, entity_id)

    await device.reboot()
    await wait_for(coordinator, lambda: coordinator.link_state is LinkState.DISCONNECTED, within=GUARD)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    frames = coordinator.decoder.stats.frames
    await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= frames + 3, within=GUARD)

    assert _is_number(hass.states.get(entity_id).state)
    assert entry.runtime_data is coordinator, "the entry was reloaded"
    assert entry.state is ConfigEntryState.LOADED
    assert _times_unavailable(states) == 1, states
    assert (_said(caplog, "the meter is lost"), _said(caplog, "the meter is back")) == (1, 1)
    assert _errors(caplog) == []


@pytest.mark.parametrize("mode", [Mode.STANDARD], indirect=True)
async def test_the_esp_loses_its_wifi_for_two_minutes(
    hass: HomeAssistant, device: EspHomeDevice, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    """The ESP leaves the network without a word (its connections stall): aioesphomeapi's keep-alive notices on Home
    Assistant's clock, the entities go unavailable once; two minutes later it is back and so are they, without a
    reload, each way logged once. Timers run on the test's clock (fired ahead); only TCP I/O is waited for."""
    caplog.set_level(logging.INFO, logger="custom_components.linky_local")
    entry = await _meter_on_the_proxy(hass, device, mode)
    coordinator: LinkyCoordinator = entry.runtime_data
    entity_id = _numeric_entity(hass, entry)
    states = written(hass, entity_id)
    esphome = hass.config_entries.async_entries(ESPHOME_DOMAIN)[0]

    clock = FiredAhead(hass)
    await device.lose_wifi()
    while clock.seconds < WIFI_LOST_MINUTES * 60:
        await clock.tick()  # keep-alive pings go unanswered, then reconnections find nobody
    assert not esphome_available(esphome)
    # serialx 1.11 (Home Assistant 2026.10) ends the port with the API connection; serialx 1.7 (2026.5) does not tell,
    # and the reader notices the silence (three frame periods, on the loop's real clock).
    await wait_for(coordinator, lambda: coordinator.link_state is LinkState.DISCONNECTED, within=GUARD)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE

    await device.regain_wifi()
    frames = coordinator.decoder.stats.frames

    # No real-time guard around this: firing the timers ahead would fire it too. The test's clock bounds it.
    while coordinator.decoder.stats.frames < frames + 3:
        assert clock.seconds < RECOVERY_WITHIN, "not back within the backoffs' longest waits"
        await clock.tick()  # the next attempt of each side's backoff
        with contextlib.suppress(TimeoutError):  # the attempt's TCP I/O, in real time; ends with the frames
            await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= frames + 3, within=1)
    assert _is_number(hass.states.get(entity_id).state)
    assert entry.runtime_data is coordinator, "the entry was reloaded"
    assert _times_unavailable(states) == 1, states
    assert (_said(caplog, "the meter is lost"), _said(caplog, "the meter is back")) == (1, 1)
    assert _errors(caplog) == []


@pytest.mark.parametrize("mode", [Mode.STANDARD], indirect=True)
async def test_the_proxy_removed_from_the_esp_is_a_repair(
    hass: HomeAssistant, device: EspHomeDevice, mode: Mode, issue_registry: ir.IssueRegistry
) -> None:
    """The ESP is flashed without its serial proxy: once it is back, a repair says which device lost which proxy and
    what to do; flashed with it again, the meter is read again and the repair goes away by itself."""
    entry = await _meter_on_the_proxy(hass, device, mode)
    coordinator: LinkyCoordinator = entry.runtime_data
    esphome = hass.config_entries.async_entries(ESPHOME_DOMAIN)[0]
    clock = FiredAhead(hass)

    await device.reboot(proxies=[])
    issue_id = f"esphome_proxy_missing_{entry.entry_id}"
    while (issue := issue_registry.async_get_issue(DOMAIN, issue_id)) is None:
        assert clock.seconds < RECOVERY_WITHIN, "no repair"
        await clock.tick()  # the reader's next attempt to reopen the port
        with contextlib.suppress(TimeoutError):  # the ESP's reconnection, in real time; ends with the repair
            await until(lambda: issue_registry.async_get_issue(DOMAIN, issue_id) is not None, within=1)

    assert esphome_available(esphome)
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "esphome_proxy_missing"
    assert issue.translation_placeholders == {"name": entry.title, "device": device.friendly_name, "proxy": "tic"}
    assert coordinator.link_state is LinkState.DISCONNECTED

    await device.reboot(proxies=["tic"])
    frames = coordinator.decoder.stats.frames
    while coordinator.decoder.stats.frames < frames + 3:
        assert clock.seconds < 2 * RECOVERY_WITHIN, "not read again"
        await clock.tick()
        with contextlib.suppress(TimeoutError):
            await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= frames + 3, within=1)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert entry.runtime_data is coordinator


@pytest.mark.parametrize("mode", [Mode.STANDARD], indirect=True)
async def test_reconfigure_from_a_usb_dongle_to_the_proxy_keeps_the_entities(
    hass: HomeAssistant, device: EspHomeDevice, mode: Mode
) -> None:
    """The meter was read by a dongle (a pty); its wires move to the ESP: the reconfigure form's port picker (which
    lists the proxy) takes its URL, and reconfigured onto it the entry keeps its entities (same ids) and reads on."""
    dongle = await serve_pty(SimulatedMeter(PROFILE[mode], start=START, seed=0))
    try:
        result = await _configure(hass, dongle.url)
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        entry = hass.config_entries.async_get_entry(result["result"].entry_id)
        assert entry is not None
        coordinator: LinkyCoordinator = entry.runtime_data
        await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= 2, within=GUARD)
    finally:
        await dongle.close()  # the wires leave the dongle
    registry = er.async_get(hass)
    entities = {e.unique_id: e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert entities

    await add_esphome_device(hass, device)
    [url] = [url for url in await scanned_ports(hass) if url.startswith("esphome-hass://")]
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    # The add flow's port field: the port picker, whose list (Home Assistant's scan) holds the proxy.
    field = next(key for key in result["data_schema"].schema if key == CONF_DEVICE)
    assert isinstance(result["data_schema"].schema[field], SerialPortSelector)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_DEVICE: url, CONF_MODE: "auto"})
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT, result
    assert result["reason"] == "connection_updated"
    assert entry.data == {CONF_DEVICE: url, CONF_MODE: mode.value, CONF_BAUDRATE: BAUD[mode]}
    coordinator = entry.runtime_data
    await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= 2, within=GUARD)
    assert {e.unique_id: e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)} == entities


@pytest.mark.usefixtures("entry_setup")
@pytest.mark.parametrize("mode", [Mode.STANDARD], indirect=True)
async def test_config_flow_with_the_esp_off(hass: HomeAssistant, device: EspHomeDevice) -> None:
    """The ESP is off when the household picks its proxy, then back without it: the form says each in its own words
    (not that the port is no valid address)."""
    esphome = await add_esphome_device(hass, device)
    [url] = [url for url in await scanned_ports(hass) if url.startswith("esphome-hass://")]
    await device.power_off()
    await until(lambda: not esphome_available(esphome))

    result = await _configure(hass, url)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "esphome_offline"}

    device.proxies = []  # flashed without it
    await device.power_on()
    await until(lambda: esphome_available(esphome))
    result = await _configure(hass, url)
    assert result["errors"] == {"base": "esphome_proxy_missing"}
