"""Network serial against the real server: Debian's ser2net, started by the test on 127.0.0.1 over a pseudo-terminal
that the simulated meter feeds at its line rate (linky_tools.serve).

Each ser2net gets its own configuration: a raw TCP accepter and a telnet(rfc2217) accepter on the same pty, as the
example of docs/hardware.md. Without ser2net (`scripts/setup` installs it where apt is available) these tests are skipped.
Waits are on real time: ser2net is a real process. Their limits only guard against a hang, never a slow machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
import shutil
import socket

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import Mode
from linky_tools.serve import MeterServer, serve_pty
from linky_tools.simulator import SimulatedMeter
from tests_protocol.waiting import GUARD

from .conftest import START, wait_for

SER2NET = shutil.which("ser2net") or (path if Path(path := "/usr/sbin/ser2net").exists() else None)
pytestmark = pytest.mark.skipif(
    SER2NET is None, reason="ser2net is not installed (scripts/setup installs it with apt-get where it can)"
)

# The line settings a ser2net user writes for each mode: the meter's own speed, 7 bits, even parity, 1 stop bit.
LINE = {Mode.HISTORIC: "1200e71", Mode.STANDARD: "9600e71"}
LINE_BAUD = {Mode.HISTORIC: 1200, Mode.STANDARD: 9600}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Ser2net:
    """A ser2net process serving one pty on a raw TCP accepter and a telnet(rfc2217) accepter."""

    def __init__(self, folder: Path, device: str, mode: Mode) -> None:
        """Write the configuration; `start` runs ser2net."""
        self.raw_port, self.rfc2217_port = _free_port(), _free_port()
        self.raw_url = f"socket://127.0.0.1:{self.raw_port}"
        self.rfc2217_url = f"rfc2217://127.0.0.1:{self.rfc2217_port}"
        self.config = folder / "ser2net.yaml"
        self.config.write_text(
            f"connection: &raw\n"
            f"  accepter: tcp,127.0.0.1,{self.raw_port}\n"
            f"  connector: serialdev,{device},{LINE[mode]},local\n"
            f"  options:\n"
            f"    kickolduser: true\n"
            f"connection: &rfc2217\n"
            f"  accepter: telnet(rfc2217),tcp,127.0.0.1,{self.rfc2217_port}\n"
            f"  connector: serialdev,{device},{LINE[mode]},local\n"
            f"  options:\n"
            f"    kickolduser: true\n",
            encoding="utf-8",
        )
        self.log = folder / "ser2net.log"
        self.pidfile = folder / "ser2net.pid"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Run ser2net in the foreground (not as a service), wait until both accepters listen."""
        assert SER2NET is not None
        with self.log.open("ab") as log:
            # -n: no daemon; -d: log to stdout; -u: no UUCP lock file; -P: our own pid file.
            self._process = await asyncio.create_subprocess_exec(
                SER2NET, "-n", "-d", "-u", "-P", str(self.pidfile), "-c", str(self.config), stdout=log, stderr=log
            )
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(GUARD):
            for port in (self.raw_port, self.rfc2217_port):
                while not await loop.run_in_executor(None, _listening, port):
                    assert self._process.returncode is None, self.log.read_text(encoding="utf-8", errors="replace")
                    await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop ser2net: its clients see their connection end, new ones are refused."""
        if self._process is None:
            return
        process, self._process = self._process, None
        process.terminate()
        try:
            async with asyncio.timeout(GUARD):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture(params=[Mode.HISTORIC, Mode.STANDARD], ids=["historic", "standard"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """The meter's TIC mode, hence the line's speed."""
    mode: Mode = request.param
    return mode


@pytest.fixture
async def meter_line(mode: Mode) -> AsyncIterator[MeterServer]:
    """A simulated single-phase meter talking on a pty at its real line rate, as a meter does, read or not."""
    profile = "historic_base" if mode is Mode.HISTORIC else "standard_mono"
    line = await serve_pty(SimulatedMeter(profile, start=START, seed=0))
    yield line
    await line.close()


@pytest.fixture
async def ser2net(socket_enabled: None, tmp_path: Path, meter_line: MeterServer, mode: Mode) -> AsyncIterator[Ser2net]:
    """Debian's ser2net serving the meter's pty, on free ports of 127.0.0.1."""
    server = Ser2net(tmp_path, meter_line.url, mode)
    await server.start()
    yield server
    await server.stop()


async def _configure(hass: HomeAssistant, device: str) -> dict[str, object]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_DEVICE: device, CONF_MODE: "auto"})
    if result.get("step_id") == "privacy":  # the meter was found: take the privacy level offered
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    return dict(result)


async def _configure_once_free(hass: HomeAssistant, device: str) -> dict[str, object]:
    """Configure, again while ser2net hangs up at once: it does so until its serial device is free (it lets it go a
    moment after a client left, and opens it slowly on a loaded machine), and tells no one when it is."""
    async with asyncio.timeout(GUARD):
        while (result := await _configure(hass, device)).get("errors") == {"base": "connection_closed"}:  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # ser2net tells no one when its device is free: ask again
    return result


@pytest.mark.usefixtures("entry_setup")
async def test_config_flow_raw_tcp(hass: HomeAssistant, ser2net: Ser2net, mode: Mode) -> None:
    """A raw TCP accepter read as socket://, in automatic mode: the meter, its mode and speed are found."""
    result = await _configure_once_free(hass, ser2net.raw_url)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_DEVICE: ser2net.raw_url, CONF_MODE: mode.value, CONF_BAUDRATE: LINE_BAUD[mode]}


@pytest.mark.usefixtures("entry_setup")
async def test_config_flow_rfc2217_says_why(hass: HomeAssistant, ser2net: Ser2net) -> None:
    """ser2net's telnet(rfc2217) accepter does not complete serialx's negotiation (docs/upstream/): the flow says so
    in its own words, and the raw TCP accepter of the same line then works."""
    result = await _configure_once_free(hass, ser2net.rfc2217_url)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "rfc2217_negotiation"}

    # ser2net lets its serial device go a moment after the RFC 2217 client left (about a second here); until then
    # it hangs up on new clients at once, which the flow tells as such. A user retrying sees the same.
    result = await _configure_once_free(hass, ser2net.raw_url)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_running_entry_through_ser2net_restarted(hass: HomeAssistant, ser2net: Ser2net, mode: Mode) -> None:
    """An entry reads the meter through the raw TCP accepter; ser2net restarts under it; it reconnects by itself and
    reads on."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        # The simulated meter's serial number: frames of another would be held back as another meter's.
        unique_id=SimulatedMeter("standard_mono", start=START).serial,
        data={CONF_DEVICE: ser2net.raw_url, CONF_MODE: mode.value, CONF_BAUDRATE: LINE_BAUD[mode]},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator: LinkyCoordinator = entry.runtime_data
    stats = coordinator.decoder.stats
    await wait_for(coordinator, lambda: stats.frames >= 3, within=GUARD)
    assert coordinator.link_state is LinkState.RECEIVING

    await ser2net.stop()
    await wait_for(coordinator, lambda: coordinator.link_state is LinkState.DISCONNECTED, within=GUARD)
    before = stats.frames
    await ser2net.start()
    await wait_for(coordinator, lambda: stats.frames >= before + 3, within=GUARD)

    assert coordinator.link_state is LinkState.RECEIVING
    assert coordinator.reconnections >= 1
    assert stats.frames > before
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
