"""Config flow, continued: USB discovery (a dongle confirmed, found again on another path), the options flow, a
stopped entry.

Real pseudo-terminals play the dongles; only the USB enumeration (which ports are USB dongles, and which) is stood in
for, as no USB device exists on a test machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from unittest.mock import patch

from homeassistant.components import usb
from homeassistant.config_entries import SOURCE_USB, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local import config_flow
from custom_components.linky_local.const import (
    CONF_BAUDRATE,
    CONF_DEVICE,
    CONF_MODE,
    CONF_USB_DEVICE,
    CONF_USB_ID,
    DOMAIN,
)
from custom_components.linky_local.linky_tic.link import detect
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel

from .conftest import HeldPorts, TalkingPty, silent_line
from .test_config_flow import SERIAL, STANDARD_MONO, choose_privacy, meter_entry

DONGLE = usb.USBDevice(
    device="/dev/ttyUSB0",
    vid="0403",
    pid="6015",
    serial_number="TINFO-1234",
    manufacturer="FTDI",
    description="FT230X Basic UART",
)
DONGLE_ID = "0403:6015_TINFO-1234_FTDI_FT230X Basic UART"
OTHER_DONGLE_ID = "0403:6015_TINFO-5678_FTDI_FT230X Basic UART"


@pytest.fixture(name="meter")
async def meter_fixture() -> AsyncIterator[TalkingPty]:
    """Return a standard single-phase meter on a pseudo-terminal: the dongle's path now."""
    async with TalkingPty(STANDARD_MONO) as meter:
        yield meter


@pytest.fixture(name="old_port")
async def old_port_fixture() -> AsyncIterator[TalkingPty]:
    """Return another pseudo-terminal: the path the dongle had when the entry was made."""
    async with TalkingPty(STANDARD_MONO) as port:
        yield port


@pytest.fixture(name="opened")
def opened_fixture(holding_entry_setup: HeldPorts) -> list[str]:
    """Set entries up with a stand-in reader that holds its port as the real one does; list the ports it opened."""
    return holding_entry_setup.opened


def _usb_info(device: str, serial_number: str = "TINFO-1234") -> usb.UsbServiceInfo:
    return usb.UsbServiceInfo(
        device=device,
        vid="0403",
        pid="6015",
        serial_number=serial_number,
        manufacturer="FTDI",
        description="FT230X Basic UART",
    )


def _dongle_entry(device: str, usb_device: str | None = None) -> MockConfigEntry:
    """An entry made through USB discovery of DONGLE on `usb_device` (by default, its port)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Linky - Single-phase (standard TIC)",
        unique_id=SERIAL,
        data={
            CONF_DEVICE: device,
            CONF_MODE: "standard",
            CONF_BAUDRATE: 9600,
            CONF_USB_ID: DONGLE_ID,
            CONF_USB_DEVICE: usb_device or device,
        },
    )


async def _discover(hass: HomeAssistant, info: usb.UsbServiceInfo) -> dict[str, object]:
    with patch.object(config_flow, "detect", wraps=detect) as probe:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USB}, data=info)
        await hass.async_block_till_done()
    probe.assert_not_called()  # discovery never reads a port by itself
    return dict(result)


@pytest.mark.usefixtures("entry_setup")
async def test_usb_discovery_confirm(hass: HomeAssistant, meter: TalkingPty) -> None:
    """A discovered dongle is only read once the user confirms; then the meter becomes an entry."""
    with patch.object(config_flow, "detect", wraps=detect) as probe:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "usb_confirm"
        assert "TINFO-1234" in result["description_placeholders"]["name"]
        probe.assert_not_called()

        result = await choose_privacy(hass, await hass.config_entries.flow.async_configure(result["flow_id"], {}))
        await hass.async_block_till_done()

    probe.assert_called_once()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky"
    assert result["data"] == {
        CONF_DEVICE: meter.path,
        CONF_MODE: "standard",
        CONF_BAUDRATE: 9600,
        CONF_USB_ID: "0403:6015_TINFO-1234_FTDI_FT230X Basic UART",
        CONF_USB_DEVICE: meter.path,
    }
    assert result["result"].unique_id == SERIAL


@pytest.mark.usefixtures("entry_setup")
async def test_usb_confirm_error_then_recovers(hass: HomeAssistant, meter: TalkingPty) -> None:
    """A dongle not yet wired to the meter gets the error on the confirmation form; it can be retried."""
    meter.payload = b""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path)
    )
    with silent_line():
        result = await choose_privacy(hass, await hass.config_entries.flow.async_configure(result["flow_id"], {}))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_confirm"
    assert result["errors"] == {"base": "nothing_received"}

    meter.payload = STANDARD_MONO
    result = await choose_privacy(hass, await hass.config_entries.flow.async_configure(result["flow_id"], {}))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("entry_setup")
async def test_usb_discovery_of_a_configured_port(hass: HomeAssistant, meter: TalkingPty) -> None:
    """A dongle an entry already reads is not offered again, and its port is left alone."""
    meter_entry(meter.path).add_to_hass(hass)

    with patch.object(config_flow, "detect", wraps=detect) as probe:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path)
        )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    probe.assert_not_called()


@pytest.mark.usefixtures("entry_setup")
async def test_usb_discovery_of_a_configured_meter(hass: HomeAssistant, meter: TalkingPty) -> None:
    """A dongle that turns out to read a meter already configured elsewhere aborts after confirmation."""
    meter_entry("socket://192.0.2.1:2000").add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path)
    )

    result = await choose_privacy(hass, await hass.config_entries.flow.async_configure(result["flow_id"], {}))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_usb_discovery_twice(hass: HomeAssistant, meter: TalkingPty) -> None:
    """A dongle discovered while its first discovery waits for the user is not offered twice."""
    first = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path)
    )
    assert first["type"] is FlowResultType.FORM

    second = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path)
    )

    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"


async def test_usb_rediscovery_on_another_path_moves_the_entry(
    hass: HomeAssistant, meter: TalkingPty, old_port: TalkingPty, opened: list[str]
) -> None:
    """The dongle of an entry, found by USB discovery on a new path, takes the entry with it; it reloads there."""
    entry = _dongle_entry(old_port.path)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert opened == [old_port.path]

    result = await _discover(hass, _usb_info(meter.path))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {
        CONF_DEVICE: meter.path,
        CONF_MODE: "standard",
        CONF_BAUDRATE: 9600,
        CONF_USB_ID: DONGLE_ID,
        CONF_USB_DEVICE: meter.path,
    }
    assert entry.unique_id == SERIAL
    assert entry.state is ConfigEntryState.LOADED
    assert opened == [old_port.path, meter.path]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_usb_rediscovery_of_a_stopped_entry_updates_it_without_starting_it(
    hass: HomeAssistant, meter: TalkingPty, old_port: TalkingPty, opened: list[str]
) -> None:
    """An entry that is not running (its setup failed for good, or not done yet) gets the new path, stays stopped."""
    entry = _dongle_entry(old_port.path)
    entry.add_to_hass(hass)

    result = await _discover(hass, _usb_info(meter.path))

    assert result["reason"] == "already_configured"
    assert entry.data[CONF_DEVICE] == entry.data[CONF_USB_DEVICE] == meter.path
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert opened == []


async def test_usb_rediscovery_on_the_same_path_changes_nothing(
    hass: HomeAssistant, meter: TalkingPty, opened: list[str]
) -> None:
    """The dongle found again where its entry reads it: nothing to update, no reload."""
    entry = _dongle_entry(meter.path)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    data = dict(entry.data)

    result = await _discover(hass, _usb_info(meter.path))

    assert result["reason"] == "already_configured"
    assert entry.data == data
    assert opened == [meter.path]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_stale_dongle_identity_is_not_followed(
    hass: HomeAssistant, meter: TalkingPty, old_port: TalkingPty, opened: list[str]
) -> None:
    """The entry was moved to another port since its dongle was recorded: the old dongle is offered as new."""
    entry = _dongle_entry("socket://192.0.2.1:2000", usb_device=old_port.path)
    entry.add_to_hass(hass)
    data = dict(entry.data)

    result = await _discover(hass, _usb_info(meter.path))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_confirm"
    assert entry.data == data


async def test_another_dongle_does_not_move_the_entry(
    hass: HomeAssistant, meter: TalkingPty, old_port: TalkingPty, opened: list[str]
) -> None:
    """A second dongle on a new path is another meter's: offered as new, the entry keeps its port."""
    entry = _dongle_entry(old_port.path)
    entry.add_to_hass(hass)

    result = await _discover(hass, _usb_info(meter.path, serial_number="TINFO-5678"))

    assert result["type"] is FlowResultType.FORM
    assert entry.data[CONF_DEVICE] == old_port.path


async def test_usb_discovery_records_the_dongle(hass: HomeAssistant, meter: TalkingPty, opened: list[str]) -> None:
    """An entry made from a discovered dongle keeps the dongle's identity, to follow it later."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_usb_info(meter.path, serial_number="TINFO-5678")
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "privacy"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USB_ID] == OTHER_DONGLE_ID
    assert result["data"][CONF_USB_DEVICE] == result["data"][CONF_DEVICE] == meter.path
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_step_records_a_usb_dongle(hass: HomeAssistant, meter: TalkingPty, opened: list[str]) -> None:
    """A port typed in by the user that is a USB dongle gets the dongle's identity too."""
    dongle = usb.USBDevice(
        device=meter.path,
        vid=DONGLE.vid,
        pid=DONGLE.pid,
        serial_number=DONGLE.serial_number,
        manufacturer=DONGLE.manufacturer,
        description=DONGLE.description,
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with patch("homeassistant.components.usb.utils.scan_serial_ports", return_value=[dongle]):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_DEVICE: meter.path, CONF_MODE: "auto"}
        )
        assert result["step_id"] == "privacy"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USB_ID] == DONGLE_ID
    assert result["data"][CONF_USB_DEVICE] == meter.path
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_reconfigure_a_stopped_entry(hass: HomeAssistant, meter: TalkingPty, opened: list[str]) -> None:
    """An entry that is not running holds no port: reconfiguring it reads the new port straight away."""
    entry = _dongle_entry("socket://192.0.2.1:2000")
    entry.add_to_hass(hass)
    assert entry.state is ConfigEntryState.NOT_LOADED

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE: meter.path, CONF_MODE: "auto"}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connection_updated"
    assert entry.data[CONF_DEVICE] == meter.path
    assert opened == [meter.path]  # set up once, on the new port, by the reload
    await hass.config_entries.async_unload(entry.entry_id)


async def test_options_flow_keeps_the_chosen_level(hass: HomeAssistant, meter: TalkingPty, opened: list[str]) -> None:
    """The options form shows the entry's level; the one chosen is stored and the entry reloads with it."""
    entry = _dongle_entry(meter.path)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    key = next(iter(result["data_schema"].schema))
    assert key.description == {"suggested_value": "minute"}
    assert result["description_placeholders"]["name"] == entry.title
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRIVACY_LEVEL: PrivacyLevel.DAILY.value}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {CONF_PRIVACY_LEVEL: "daily"}
    assert opened == [meter.path, meter.path]
    await hass.config_entries.async_unload(entry.entry_id)
