"""Fixtures of the Linky Local tests: a simulated meter behind a real pty or TCP port, a config entry, a set-up entry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from datetime import UTC, datetime
import json
import os
from typing import Protocol
from unittest.mock import PropertyMock, patch

from freezegun import freeze_time
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

# Import our package before the hass fixture runs: otherwise Home Assistant finds the test plugin's own
# `custom_components` package first and never sees ours.
import custom_components.linky_local  # noqa: F401
from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.coordinator import LinkyCoordinator
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel
from custom_components.linky_local.tic import Group
from custom_components.linky_local.tic.guard import FIRST_VALUE_FRAMES
from linky_tools.encoder import encode_frame
from linky_tools.simulator import Profile, SimulatedMeter

# A winter weekday morning: Tempo colours, peak hours, heating.
START = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)
TITLES = {
    Profile.HISTORIC_BASE: "Linky monophasé (historique)",
    Profile.HISTORIC_HC: "Linky monophasé (historique)",
    Profile.HISTORIC_TEMPO: "Linky monophasé (historique)",
    Profile.HISTORIC_EJP: "Linky monophasé (historique)",
    Profile.HISTORIC_TRI: "Linky triphasé (historique)",
    Profile.STANDARD_MONO: "Linky monophasé (standard)",
    Profile.STANDARD_TRI: "Linky triphasé (standard)",
    Profile.STANDARD_TRI_PRODUCER: "Linky triphasé producteur (standard)",
    Profile.STANDARD_PRODUCER: "Linky monophasé producteur (standard)",
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom integrations in every test."""


class Port(Protocol):
    """The meter's end of a line the integration reads."""

    url: str

    async def send(self, data: bytes) -> None:
        """Send bytes to the reader."""


class PtyPort:
    """A real pseudo-terminal: the integration opens the slave by its path, the test writes to the master."""

    def __init__(self) -> None:
        """Open the pty; the slave stays open here too so that the pty lives while the integration reopens it."""
        self.master, self._slave = os.openpty()
        self.url = os.ttyname(self._slave)
        self._writer: asyncio.WriteTransport | None = None

    async def send(self, data: bytes) -> None:
        """Write without blocking the event loop, whatever the pty's buffer holds."""
        if self._writer is None:
            loop = asyncio.get_running_loop()
            pipe = os.fdopen(os.dup(self.master), "wb", buffering=0)
            self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, pipe)
        self._writer.write(data)

    def close(self) -> None:
        """Close both ends: a reader sees an I/O error."""
        if self._writer is not None:
            self._writer.close()
        for fd in (self.master, self._slave):
            os.close(fd)


class TcpPort:
    """A TCP server on 127.0.0.1 playing ser2net: `drop` closes it and its connections, `restore` listens again."""

    def __init__(self) -> None:
        """Make the port; `restore` starts listening."""
        self.url = ""
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._clients: list[asyncio.StreamWriter] = []
        self._connected = asyncio.Event()
        self._closed_by_reader = asyncio.Event()

    async def restore(self) -> None:
        """Listen (again, on the same port)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.append(writer)
        self.connections += 1
        self._connected.set()
        await reader.read()  # the integration never writes: this returns when it closes its end
        if writer in self._clients:
            self._closed_by_reader.set()

    async def wait_closed_by_reader(self) -> bool:
        """Wait until the integration closes its connection."""
        async with asyncio.timeout(10):
            await self._closed_by_reader.wait()
        return True

    async def send(self, data: bytes) -> None:
        """Send to every connected reader, once one is."""
        async with asyncio.timeout(10):
            await self._connected.wait()
        for client in self._clients:
            client.write(data)
            await client.drain()

    async def drop(self) -> None:
        """Stop listening and close every connection: readers see the end of the stream."""
        assert self._server is not None
        self._server.close()
        clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        self._connected.clear()
        self.connections = 0
        await self._server.wait_closed()


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until the condition holds, for what no coordinator update tells (a refused connection...)."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - no event tells a refused connection
            await asyncio.sleep(0.001)


async def wait_for(coordinator: LinkyCoordinator, condition: Callable[[], bool]) -> None:
    """Wait until the condition holds, checking it at each coordinator update."""
    if condition():
        return
    met = asyncio.Event()

    def check() -> None:
        if condition():
            met.set()

    unsubscribe = coordinator.async_add_listener(check)
    try:
        async with asyncio.timeout(10):
            await met.wait()
    finally:
        unsubscribe()


class VirtualMeter:
    """A simulated meter behind a real port."""

    def __init__(self, simulator: SimulatedMeter, port: Port) -> None:
        """Put the simulator behind the port."""
        self.simulator = simulator
        self.port = port

    async def send_frames(
        self, hass: HomeAssistant, entry: MockConfigEntry, count: int = 1, *, after: float | None = None
    ) -> None:
        """Send the simulator's next frames (the first `after` seconds later), wait until the entry took them in."""
        coordinator: LinkyCoordinator = entry.runtime_data
        expected = coordinator.decoder.stats.frames + count
        frames = [self.simulator.next_frame(after if n == 0 else None) for n in range(count)]
        await self.port.send(b"".join(frames))
        await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= expected)
        await hass.async_block_till_done()

    async def send_groups(self, hass: HomeAssistant, entry: MockConfigEntry, groups: Iterable[Group]) -> None:
        """Send a frame of these groups, as the meter would encode them."""
        coordinator: LinkyCoordinator = entry.runtime_data
        expected = coordinator.decoder.stats.frames + 1
        await self.port.send(encode_frame(self.simulator.mode, groups))
        await wait_for(coordinator, lambda: coordinator.decoder.stats.frames >= expected)
        await hass.async_block_till_done()


# Frames sent before a snapshot: (seconds skipped before the first, frames).
SNAPSHOT_ROUNDS: dict[Profile, tuple[tuple[float | None, int], ...]] = {
    # The simulated phase 2 goes over its limit at 08:35 local time: short frames follow.
    Profile.HISTORIC_TRI: ((None, 3), (290, 10)),
}


async def set_up_for_snapshot(hass: HomeAssistant, entry: MockConfigEntry, meter: VirtualMeter) -> None:
    """Set the entry up and send the frames that show what its kind of meter has to show."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    for after, count in SNAPSHOT_ROUNDS.get(meter.simulator.profile, ((None, FIRST_VALUE_FRAMES),)):
        await meter.send_frames(hass, entry, count, after=after)


async def snapshot_entities(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, snapshot: SnapshotAssertion, entry: MockConfigEntry
) -> None:
    """Snapshot each entity of an entry: what the registry and the state say, in fields stable across versions."""
    entries = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert entries
    for reg in sorted(entries, key=lambda reg: reg.entity_id):
        state = hass.states.get(reg.entity_id)
        assert state is not None, f"{reg.entity_id} has no state: is it disabled by default?"
        described = {
            "unique_id": reg.unique_id,
            "translation_key": reg.translation_key,
            "name": reg.original_name,
            "device_class": reg.original_device_class,
            "entity_category": reg.entity_category,
            "capabilities": reg.capabilities,
            "unit": reg.unit_of_measurement,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
        # Plain strings: Home Assistant versions differ in which keys and values are enums.
        assert json.loads(json.dumps(described, default=str)) == snapshot(name=reg.entity_id)


@pytest.fixture
def meter_profile() -> Profile:
    """Profile of the simulated meter; override it (or parametrize it indirectly) per test."""
    return Profile.STANDARD_TRI_PRODUCER


@pytest.fixture
def simulator(meter_profile: Profile) -> SimulatedMeter:
    """A deterministic simulated meter."""
    return SimulatedMeter(meter_profile, start=START, seed=0)


@pytest.fixture
def pty_port() -> Generator[PtyPort]:
    """A real pseudo-terminal."""
    port = PtyPort()
    yield port
    port.close()


@pytest.fixture
async def tcp_port(socket_enabled: None) -> AsyncGenerator[TcpPort]:
    """A real TCP server on 127.0.0.1."""
    port = TcpPort()
    await port.restore()
    yield port
    await port.drop()


@pytest.fixture
def port(pty_port: PtyPort) -> Port:
    """The port the integration reads: a pty unless a test overrides this fixture."""
    return pty_port


@pytest.fixture
def virtual_meter(simulator: SimulatedMeter, port: Port) -> VirtualMeter:
    """The simulated meter behind the port."""
    return VirtualMeter(simulator, port)


@pytest.fixture
def privacy_level() -> PrivacyLevel | None:
    """Privacy level of the entry: `live`, so that each frame shows at once; tests of the levels override it.

    None: an entry that never chose one (as the config flow makes it), at the default level.
    """
    return PrivacyLevel.LIVE


@pytest.fixture
def mock_config_entry(simulator: SimulatedMeter, port: Port, privacy_level: PrivacyLevel | None) -> MockConfigEntry:
    """A config entry of the simulated meter, as the config flow makes it, at the privacy level of `privacy_level`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLES[simulator.profile],
        unique_id=simulator.serial,
        data={CONF_DEVICE: port.url, CONF_MODE: str(simulator.mode), CONF_BAUDRATE: simulator.baudrate},
        options={} if privacy_level is None else {CONF_PRIVACY_LEVEL: str(privacy_level)},
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter
) -> MockConfigEntry:
    """Set the entry up and send it enough frames that every entity the meter calls for exists and has a value."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await virtual_meter.send_frames(hass, mock_config_entry, FIRST_VALUE_FRAMES)
    return mock_config_entry


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Serialize snapshots the Home Assistant way (registry ids as ANY...), into tests/snapshots."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def frozen_wall_clock() -> Generator[None]:
    """Stop the wall clock at START, for timestamps in snapshots; the event loop's clock runs on, for real I/O."""
    with freeze_time(START, ignore=["asyncio"]):
        yield


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, those disabled by default too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield
