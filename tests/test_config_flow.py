"""Config flow: a real pseudo-terminal or TCP socket plays the meter, the flow reads it through serialx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager
import errno
import json
import os
from pathlib import Path
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from serialx.platforms import serial_rfc2217

from custom_components.linky_local import config_flow
from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.linky_tic import Group, Mode
from custom_components.linky_local.linky_tic.link import close_transport, connect_tic, detect
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel
from linky_tools.encoder import encode_frame
from tests_protocol.peers import ConnectTimeout, hanging_up_server
from tests_protocol.waiting import GUARD

from .conftest import TalkingPty, TalkingTcp, garbled_line, silent_line

INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN
SERIAL = "021861348497"
OTHER_SERIAL = "031962449508"

STANDARD_MONO = encode_frame(
    Mode.STANDARD,
    [
        Group("ADSC", SERIAL),
        Group("VTIC", "02"),
        Group("NGTF", "     TEMPO      "),
        Group("EAST", "012345678"),
        Group("IRMS1", "004"),
        Group("URMS1", "232"),
        Group("SINSTS", "00950"),
        Group("STGE", "003A0001"),
    ],
)
STANDARD_TRI = encode_frame(
    Mode.STANDARD,
    [
        Group("ADSC", SERIAL),
        Group("EAST", "012345678"),
        Group("IRMS1", "004"),
        Group("IRMS2", "002"),
        Group("IRMS3", "001"),
        Group("SINSTS", "01650"),
        Group("SINSTS1", "00950"),
    ],
)
HISTORIC_MONO = encode_frame(
    Mode.HISTORIC,
    [
        Group("ADCO", SERIAL),
        Group("OPTARIF", "BASE"),
        Group("ISOUSC", "30"),
        Group("BASE", "012345678"),
        Group("PTEC", "TH.."),
        Group("IINST", "004"),
        Group("PAPP", "00950"),
    ],
)
OTHER_METER = encode_frame(Mode.STANDARD, [Group("ADSC", OTHER_SERIAL), Group("EAST", "000000001")])
NO_SERIAL = encode_frame(Mode.STANDARD, [Group("EAST", "012345678"), Group("SINSTS", "00950")])
NOISE = bytes(range(0x20, 0x7F)) * 4


@pytest.fixture
async def pty_meter() -> AsyncIterator[TalkingPty]:
    """Return a standard single-phase meter on a pseudo-terminal."""
    async with TalkingPty(STANDARD_MONO) as meter:
        yield meter


@pytest.fixture
async def second_pty_meter() -> AsyncIterator[TalkingPty]:
    """Return a second pseudo-terminal carrying the same meter in historic mode (it moved to another dongle)."""
    async with TalkingPty(HISTORIC_MONO) as meter:
        yield meter


@pytest.fixture
async def tcp_meter(socket_enabled: None) -> AsyncIterator[TalkingTcp]:
    """Return a historic single-phase meter behind a TCP socket."""
    async with TalkingTcp(HISTORIC_MONO) as meter:
        yield meter


async def _start_user_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


async def _submit(hass: HomeAssistant, flow_id: str, device: str, mode: str = "auto") -> dict[str, Any]:
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_DEVICE: device, CONF_MODE: mode})
    await hass.async_block_till_done()
    return await choose_privacy(hass, dict(result))


async def choose_privacy(hass: HomeAssistant, result: Mapping[str, Any], **choice: str) -> dict[str, Any]:
    """Once the meter is found, choose its privacy level (the one offered when `choice` is empty)."""
    if result["type"] is FlowResultType.FORM and result["step_id"] == "privacy":
        result = await hass.config_entries.flow.async_configure(result["flow_id"], choice)
        await hass.async_block_till_done()
    return dict(result)


def meter_entry(device: str, mode: Mode = Mode.STANDARD) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Linky - Single-phase (standard TIC)",
        unique_id=SERIAL,
        data={CONF_DEVICE: device, CONF_MODE: mode.value, CONF_BAUDRATE: 9600 if mode is Mode.STANDARD else 1200},
    )


@pytest.mark.usefixtures("entry_setup")
@pytest.mark.parametrize(
    ("payload", "mode", "baudrate", "kind"),
    [
        (STANDARD_MONO, "standard", 9600, "Linky - Single-phase (standard TIC)"),
        (STANDARD_TRI, "standard", 9600, "Linky - Three-phase (standard TIC)"),
        (HISTORIC_MONO, "historic", 1200, "Linky - Single-phase (historic TIC)"),
    ],
    ids=["standard", "standard-three-phase", "historic"],
)
async def test_user_auto_detects_mode_and_speed(
    hass: HomeAssistant, pty_meter: TalkingPty, payload: bytes, mode: str, baudrate: int, kind: str
) -> None:
    """Automatic mode finds the meter's mode and speed, told on the last step; the title is a name in no language,
    never the serial number."""
    pty_meter.payload = payload
    flow_id = await _start_user_flow(hass)

    found = await hass.config_entries.flow.async_configure(flow_id, {CONF_DEVICE: pty_meter.path, CONF_MODE: "auto"})
    await hass.async_block_till_done()
    assert found["description_placeholders"] == {"name": kind}
    result = await choose_privacy(hass, found)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky"
    assert result["data"] == {CONF_DEVICE: pty_meter.path, CONF_MODE: mode, CONF_BAUDRATE: baudrate}
    assert result["result"].unique_id == SERIAL
    assert SERIAL not in result["title"]
    assert result["options"] == {CONF_PRIVACY_LEVEL: "minute"}


async def test_user_chooses_the_privacy_level_once_the_meter_is_found(
    hass: HomeAssistant, pty_meter: TalkingPty
) -> None:
    """The privacy level is asked once the meter is found, per minute offered; the one chosen goes to the options."""
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_DEVICE: pty_meter.path, CONF_MODE: "auto"})
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "privacy"
    defaults = {str(key): key.default() for key in result["data_schema"].schema}
    assert defaults == {CONF_NAME: "Linky", CONF_PRIVACY_LEVEL: PrivacyLevel.MINUTE.value}
    level = next(key for key in result["data_schema"].schema if key == CONF_PRIVACY_LEVEL)
    worded = result["data_schema"].schema[level].config["translation_key"]
    result = await choose_privacy(hass, result, **{CONF_PRIVACY_LEVEL: PrivacyLevel.DAILY.value})
    # A historic meter sends no voltage: its levels are worded without one.
    assert worded == {"standard": "privacy_level", "historic": "privacy_level_historic"}[result["data"][CONF_MODE]]

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky"
    assert result["options"] == {CONF_PRIVACY_LEVEL: "daily"}
    assert result["result"].options == {CONF_PRIVACY_LEVEL: "daily"}


@pytest.mark.usefixtures("entry_setup")
async def test_user_forced_mode(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """A forced mode reads the line at that mode's speed only."""
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, pty_meter.path, "standard")

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_DEVICE: pty_meter.path, CONF_MODE: "standard", CONF_BAUDRATE: 9600}


@pytest.mark.usefixtures("entry_setup")
async def test_user_socket(hass: HomeAssistant, tcp_meter: TalkingTcp) -> None:
    """A ser2net socket URL is read as is; its mode comes from the frames."""
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, tcp_meter.url)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Linky"
    assert result["data"] == {CONF_DEVICE: tcp_meter.url, CONF_MODE: "historic", CONF_BAUDRATE: 1200}
    assert result["result"].unique_id == SERIAL


@pytest.mark.usefixtures("entry_setup")
async def test_user_stores_the_by_id_path(hass: HomeAssistant, pty_meter: TalkingPty, tmp_path: Path) -> None:
    """A port typed as /dev/ttyUSB0 is stored as its /dev/serial/by-id link, which survives replugging."""
    by_id = tmp_path / "usb-FTDI_FT230X_Basic_UART_TINFO-1234-if00-port0"
    by_id.symlink_to(pty_meter.path)

    def serial_by_id(dev_path: str) -> str:
        # Home Assistant's helper scans /dev/serial/by-id; this one scans a directory of the test's own.
        return next((str(link) for link in tmp_path.iterdir() if os.path.realpath(link) == dev_path), dev_path)

    flow_id = await _start_user_flow(hass)
    with patch("homeassistant.components.usb.get_serial_by_id", side_effect=serial_by_id):
        result = await _submit(hass, flow_id, f" {pty_meter.path} ")

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DEVICE] == str(by_id)


@pytest.mark.usefixtures("entry_setup")
async def test_user_cannot_open_then_recovers(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """A port that does not exist gets an error; the right one then works."""
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, "/dev/linky-local-no-such-port")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "port_not_found"}

    result = await _submit(hass, flow_id, pty_meter.path)
    assert result["type"] is FlowResultType.CREATE_ENTRY


def _closed_tcp_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on (just released by the system)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(name="hanging_up_server")
async def hanging_up_server_fixture(socket_enabled: None) -> AsyncIterator[str]:
    """Return the URL of a TCP server that closes each connection at once, as ser2net does without its device."""
    async with hanging_up_server() as url:
        yield url


@pytest.mark.usefixtures("entry_setup", "socket_enabled")
@pytest.mark.parametrize(
    ("device", "error"),
    [
        ("/dev/linky-local-no-such-port", "port_not_found"),
        ("linky://127.0.0.1:2000", "invalid_port"),
        ("socket://127.0.0.1", "invalid_port"),
    ],
    ids=["missing-path", "unknown-scheme", "no-tcp-port"],
)
async def test_user_port_errors_say_why(hass: HomeAssistant, device: str, error: str) -> None:
    """Each way a port cannot be opened has its own error, not one "cannot open" for all."""
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, device)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


@pytest.mark.usefixtures("entry_setup", "socket_enabled")
@pytest.mark.parametrize("scheme", ["socket", "rfc2217"])
async def test_user_connection_refused(hass: HomeAssistant, scheme: str) -> None:
    """A TCP port nothing listens on is "connection refused", whether raw TCP or RFC 2217."""
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, f"{scheme}://127.0.0.1:{_closed_tcp_port()}")

    assert result["errors"] == {"base": "connection_refused"}


@pytest.mark.usefixtures("entry_setup")
async def test_user_connection_closed_by_the_server(hass: HomeAssistant, hanging_up_server: str) -> None:
    """A server that lets the flow in and hangs up at once is told apart from a silent line."""
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, hanging_up_server)

    assert result["errors"] == {"base": "connection_closed"}


@pytest.mark.usefixtures("entry_setup")
async def test_user_rfc2217_not_negotiated(hass: HomeAssistant, tcp_meter: TalkingTcp) -> None:
    """An rfc2217:// URL to a server that never completes the negotiation (here raw TCP) says so, then socket://
    works."""
    flow_id = await _start_user_flow(hass)

    connect_timeout = ConnectTimeout()
    with patch.object(serial_rfc2217, "asyncio_timeout", connect_timeout):
        submitting = hass.async_create_task(_submit(hass, flow_id, tcp_meter.url.replace("socket://", "rfc2217://")))
        async with asyncio.timeout(GUARD):
            await tcp_meter.heard.wait()  # connected, negotiating: serialx's timeout strikes now, not after 5 s
        connect_timeout.strike()
        result = await submitting
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "rfc2217_negotiation"}

    result = await _submit(hass, flow_id, tcp_meter.url)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("entry_setup")
@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "permission_denied"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "host_not_found"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "host_unreachable"),
        (TimeoutError(), "host_unreachable"),
        (OSError(errno.EIO, "Input/output error"), "cannot_connect"),
    ],
    ids=["permission", "unknown-host", "no-route", "connect-timeout", "other"],
)
async def test_user_system_errors_say_why(
    hass: HomeAssistant, pty_meter: TalkingPty, failure: OSError, error: str
) -> None:
    """What the system says when opening fails picks the error's words (tests run as root, without DNS)."""
    flow_id = await _start_user_flow(hass)

    with patch("serialx.create_serial_connection", side_effect=failure):
        result = await _submit(hass, flow_id, pty_meter.path)

    assert result["errors"] == {"base": error}


@pytest.mark.usefixtures("entry_setup")
async def test_user_port_busy_then_recovers(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """A port another program holds gets "busy"; once it lets go, the meter is read."""
    flow_id = await _start_user_flow(hass)
    holder = await connect_tic(pty_meter.path, 9600, asyncio.Protocol)
    try:
        result = await _submit(hass, flow_id, pty_meter.path)
    finally:
        await close_transport(holder)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "port_busy"}

    result = await _submit(hass, flow_id, pty_meter.path)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("entry_setup")
@pytest.mark.parametrize(
    ("payload", "mode", "error", "listening"),
    [
        (b"", "auto", "nothing_received", silent_line),
        (NOISE, "auto", "garbage_received", garbled_line),
        (STANDARD_MONO, "historic", "garbage_received", garbled_line),
        (NO_SERIAL, "auto", "no_serial_number", garbled_line),
    ],
    ids=["silent", "noise", "wrong-forced-mode", "no-serial-number"],
)
async def test_user_line_errors_then_recover(
    hass: HomeAssistant,
    pty_meter: TalkingPty,
    payload: bytes,
    mode: str,
    error: str,
    listening: Callable[[], AbstractContextManager[None]],
) -> None:
    """A silent, garbled or unidentifiable line gets its own error; once the meter talks, it is read."""
    pty_meter.payload = payload
    flow_id = await _start_user_flow(hass)

    with listening():
        result = await _submit(hass, flow_id, pty_meter.path, mode)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    pty_meter.payload = STANDARD_MONO
    result = await _submit(hass, flow_id, pty_meter.path)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("entry_setup")
async def test_user_timeout_then_recovers(
    hass: HomeAssistant, tcp_meter: TalkingTcp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port that hangs past the probe's time limit gets "timeout"; the flow stays usable."""
    tcp_meter.payload = b""
    monkeypatch.setattr(config_flow, "PROBE_TIMEOUT", 0.3)
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, tcp_meter.url)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "timeout_connect"}

    monkeypatch.undo()
    tcp_meter.payload = HISTORIC_MONO
    result = await _submit(hass, flow_id, tcp_meter.url)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("entry_setup")
async def test_user_unexpected_error_then_recovers(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """A bug in reading gets a translated error, not a traceback in the UI."""
    flow_id = await _start_user_flow(hass)
    with patch.object(config_flow, "detect", side_effect=RuntimeError("bug")):
        result = await _submit(hass, flow_id, pty_meter.path)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}

    result = await _submit(hass, flow_id, pty_meter.path)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("entry_setup")
async def test_user_same_meter_already_configured(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """A second entry for a meter already configured (here on another port) aborts."""
    meter_entry("socket://192.0.2.1:2000").add_to_hass(hass)
    flow_id = await _start_user_flow(hass)

    result = await _submit(hass, flow_id, pty_meter.path)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


@pytest.mark.usefixtures("entry_setup")
async def test_user_port_already_configured(hass: HomeAssistant, pty_meter: TalkingPty, tmp_path: Path) -> None:
    """A port an entry already reads, even under another name, aborts without being opened."""
    meter_entry(pty_meter.path).add_to_hass(hass)
    alias = tmp_path / "linky"
    alias.symlink_to(pty_meter.path)
    flow_id = await _start_user_flow(hass)

    with patch.object(config_flow, "detect", wraps=detect) as probe:
        result = await _submit(hass, flow_id, str(alias))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    probe.assert_not_called()


async def _reconfigure_running(
    hass: HomeAssistant, device: str, mode: Mode = Mode.STANDARD
) -> tuple[MockConfigEntry, str]:
    """Set up an entry of the meter on `device`, then start reconfiguring it: the entry and the flow's id."""
    entry = meter_entry(device, mode)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    return entry, result["flow_id"]


@pytest.mark.usefixtures("holding_entry_setup")
async def test_reconfigure_to_another_port(
    hass: HomeAssistant, pty_meter: TalkingPty, second_pty_meter: TalkingPty
) -> None:
    """The same meter on a new port, now in historic mode: the entry follows it and keeps its identity."""
    entry, flow_id = await _reconfigure_running(hass, pty_meter.path)

    result = await _submit(hass, flow_id, second_pty_meter.path)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connection_updated"
    assert entry.data == {CONF_DEVICE: second_pty_meter.path, CONF_MODE: "historic", CONF_BAUDRATE: 1200}
    # The success names the port read, the one now in use.
    assert result["description_placeholders"] == {"name": entry.title, CONF_DEVICE: second_pty_meter.path}
    assert entry.unique_id == SERIAL
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("holding_entry_setup")
async def test_reconfigure_same_port_held_by_the_entry(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """Re-detecting the port the running entry holds works: the entry lets it go while the flow reads it."""
    entry, flow_id = await _reconfigure_running(hass, pty_meter.path, Mode.HISTORIC)

    result = await _submit(hass, flow_id, pty_meter.path)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connection_updated"
    assert entry.data[CONF_MODE] == "standard"
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("holding_entry_setup")
async def test_reconfigure_to_another_meter(
    hass: HomeAssistant, pty_meter: TalkingPty, second_pty_meter: TalkingPty
) -> None:
    """A port that carries another meter aborts; the entry keeps reading its own port all along."""
    second_pty_meter.payload = OTHER_METER
    entry, flow_id = await _reconfigure_running(hass, pty_meter.path)
    running = entry.runtime_data

    result = await _submit(hass, flow_id, second_pty_meter.path)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_meter"
    assert entry.data[CONF_DEVICE] == pty_meter.path
    assert entry.unique_id == SERIAL
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is running
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("holding_entry_setup")
async def test_reconfigure_error_then_recovers(
    hass: HomeAssistant, pty_meter: TalkingPty, second_pty_meter: TalkingPty
) -> None:
    """A failed read of another port leaves the running meter alone, its port never closed; a good port then
    updates it."""
    entry, flow_id = await _reconfigure_running(hass, pty_meter.path)
    running = entry.runtime_data

    result = await _submit(hass, flow_id, "/dev/linky-local-no-such-port")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "port_not_found"}
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_DEVICE] == pty_meter.path
    assert entry.runtime_data is running

    result = await _submit(hass, flow_id, second_pty_meter.path)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connection_updated"
    assert entry.data[CONF_DEVICE] == second_pty_meter.path
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("entry_setup")
@pytest.mark.parametrize("device", ["socket://192.0.2.1:2000", "/dev/serial/by-id/usb-linky-local-test-if00"])
async def test_reconfigure_offers_the_port_in_use(hass: HomeAssistant, device: str) -> None:
    """Reconfigure's port field is the add flow's (its list of detected ports, its manual entry), the port in use
    suggested."""
    entry = meter_entry(device)
    entry.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)

    fields = {str(key): (key, selector) for key, selector in result["data_schema"].schema.items()}
    added = {str(key): selector for key, selector in config_flow.DATA_SCHEMA.schema.items()}
    assert {name: selector.serialize() for name, (_, selector) in fields.items()} == {
        name: selector.serialize() for name, selector in added.items()
    }
    assert fields[CONF_DEVICE][0].description == {"suggested_value": device}
    assert result["description_placeholders"] == {"name": entry.title, CONF_DEVICE: ""}


def test_manifest_discovers_only_tic_dongles() -> None:
    """USB discovery matches the µTeleinfo's serial number prefix, never a bare FTDI or CP210x chip id."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))

    assert "usb" in manifest["dependencies"]
    for matcher in manifest["usb"]:
        assert {"vid", "pid", "serial_number"} <= matcher.keys()
        assert matcher["serial_number"].endswith("*")
        assert matcher["serial_number"] == matcher["serial_number"].lower()


def test_config_translations() -> None:
    """English is a copy of strings.json; French has the same keys; every flow outcome has a text."""

    def keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for key, value in tree.items():
            found.add(prefix + key)
            if isinstance(value, dict):
                found |= keys(value, f"{prefix}{key}.")
        return found

    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
    french = json.loads((INTEGRATION / "translations" / "fr.json").read_text(encoding="utf-8"))
    for section in ("config", "selector"):
        assert english[section] == strings[section]
        assert keys(french[section]) == keys(strings[section])
    outcomes = set(config_flow.LINK_ERRORS.values()) | {"no_serial_number", "timeout_connect", "unknown"}
    outcomes |= {"nothing_received_builtin", "name_in_use"}
    aborts = {"already_configured", "already_in_progress", "connection_updated", "wrong_meter"}
    assert outcomes <= strings["config"]["error"].keys()
    assert aborts <= strings["config"]["abort"].keys()
    # Our own words for a reconfigured meter, which name it and the port read, not Home Assistant's generic text.
    for language in (strings, french):
        assert "{name}" in language["config"]["abort"]["connection_updated"]
        assert "{device}" in language["config"]["abort"]["connection_updated"]


async def test_user_form_renders(hass: HomeAssistant, hass_client: Any) -> None:
    """The form reaches the frontend through the HTTP API: a serial port selector and the three modes."""
    # At startup, as Home Assistant does: the HTTP routes freeze once the client connects.
    assert await async_setup_component(hass, "usb", {})
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()

    response = await client.post("/api/config/config_entries/flow", json={"handler": DOMAIN})

    assert response.status == 200
    form = await response.json()
    fields = {field["name"]: field for field in form["data_schema"]}
    assert fields[CONF_DEVICE]["selector"] == {"serial_port": {}}
    assert fields[CONF_MODE]["default"] == "auto"
    assert fields[CONF_MODE]["selector"]["select"]["options"] == ["auto", "historic", "standard"]
    assert fields[CONF_MODE]["selector"]["select"]["translation_key"] == "tic_mode"


@pytest.mark.usefixtures("holding_entry_setup")
async def test_reconfigure_same_port_silent_then_reloads(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """Re-detecting the entry's own port when the meter says nothing: an error, and the entry set up again."""
    entry, flow_id = await _reconfigure_running(hass, pty_meter.path)
    pty_meter.payload = b""
    with silent_line():
        result = await _submit(hass, flow_id, pty_meter.path, "standard")

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "nothing_received"}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("entry_setup")
async def test_reconfigure_same_port_of_a_stopped_entry(hass: HomeAssistant, pty_meter: TalkingPty) -> None:
    """An entry that is not running holds no port: its own port is read straight away, nothing unloaded."""
    entry = meter_entry(pty_meter.path)
    entry.add_to_hass(hass)
    assert entry.state is ConfigEntryState.NOT_LOADED
    result = await entry.start_reconfigure_flow(hass)

    result = await _submit(hass, result["flow_id"], pty_meter.path)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connection_updated"
