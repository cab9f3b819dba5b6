"""The meter on the port changed: nothing of the other meter is published, one repair asks what happened.

The entry reads an in-memory line on frozen clocks; when the household answers "replaced", the fix flow reads the
port again as the config flow does: a real pseudo-terminal carrying the new meter's frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
import json
import logging
from pathlib import Path
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_USER, ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.diagnostics import async_get_config_entry_diagnostics
from custom_components.linky_local.linky_tic import Decoder, Group, Mode
from custom_components.linky_local.meter_change import CONF_INDEX_OFFSETS, CONFIRM_FRAMES, INDEX_LABELS, issue_id
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import START, Clock, TalkingPty, with_values, written

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "linky_local"
ENERGY = "sensor.linky_energy_withdrawn"
NEW_SERIAL = "031962449508"
# A new meter's indexes start near zero: what Enedis' tests left on it.
START_WH = 1234


class NewMeter(SimulatedMeter):
    """A meter just installed: another serial number, and indexes that start at START_WH."""

    def __init__(self, profile: Profile, *, start: datetime = START, seed: int = 7) -> None:
        """Make the meter; its consumption follows the profile from START_WH on."""
        super().__init__(profile, start=start, seed=seed, serial=NEW_SERIAL)
        self._base = {
            group.label: int(group.value)
            for group in SimulatedMeter.groups(self)
            if group.label in INDEX_LABELS[self.mode]
        }

    def groups(self) -> list[Group]:
        """Return the simulated groups, each index lowered to start at START_WH."""
        return [
            replace(group, value=f"{int(group.value) - self._base[group.label] + START_WH:09d}")
            if group.label in self._base
            else group
            for group in super().groups()
        ]

    def payload(self, count: int = 3) -> bytes:
        """Return the bytes of a few frames, for a port that repeats them."""
        return b"".join(self.next_frame() for _ in range(count))


def index_of(data: bytes, mode: Mode, label: str = "EAST") -> int:
    """Return a label's value in a frame's bytes."""
    frames = Decoder(mode).feed(data)
    assert len(frames) == 1
    value = frames[0].value(label)
    assert value is not None
    return int(value)


def issues_of(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    """Return the integration's repair issues by id."""
    return {issue: entry for (domain, issue), entry in ir.async_get(hass).issues.items() if domain == DOMAIN}


def wh(hass: HomeAssistant, entity_id: str) -> int:
    """Return an energy entity's state in Wh (it shows kWh)."""
    return round(float(hass.states.get(entity_id).state) * 1000)


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up Home Assistant's repairs, which runs the fix flows."""
    assert await async_setup_component(hass, "repairs", {})


@pytest.fixture
def new_meter(meter_profile: Profile) -> NewMeter:
    """The meter Enedis installed in place of the entry's, of the same kind."""
    return NewMeter(meter_profile)


@pytest.fixture
async def new_meter_port(hass: HomeAssistant, running: MockConfigEntry, meter_profile: Profile) -> AsyncIterator[str]:
    """A real port carrying a new meter's frames, where the entry's data says its port is, for the fix flow's read."""
    async with TalkingPty(NewMeter(meter_profile).payload()) as pty:
        hass.config_entries.async_update_entry(running, data={**running.data, CONF_DEVICE: pty.path})
        yield pty.path


async def reading_ports[T](timeline: Clock, awaitable: Coroutine[Any, Any, T]) -> T:
    """Await a flow step that reads a real port, the frozen clocks moved on meanwhile.

    Not `Clock.complete`: it waits for Home Assistant's tasks, and a task reading a real port waits for real I/O.
    """
    task = asyncio.get_running_loop().create_task(awaitable)
    while not task.done():
        await timeline.advance(0.01)
    return task.result()


async def answer(hass: HomeAssistant, timeline: Clock, entry: MockConfigEntry, choice: str) -> dict[str, Any]:
    """Open the repair's fix flow, choose `choice` in its menu, confirm; return the flow's end."""
    manager = repairs_flow_manager(hass)
    assert manager is not None
    issue = issue_id(entry.entry_id)
    # Home Assistant 2026.5 takes the issue id in the data, 2026.10 in the context.
    result: dict[str, Any] = dict(
        await manager.async_init(DOMAIN, context={"issue_id": issue}, data={"issue_id": issue})
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["replaced", "other_meter"]
    result = dict(await manager.async_configure(result["flow_id"], {"next_step_id": choice}))
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, choice)
    return dict(await reading_ports(timeline, manager.async_configure(result["flow_id"], {})))


async def test_another_meter_publishes_nothing(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    new_meter: NewMeter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another meter's frames, with a lower index: no state of it in the energy entity, exactly one repair."""
    caplog.set_level(logging.DEBUG)
    old_serial = running.unique_id
    assert old_serial is not None
    before = wh(hass, ENERGY)
    states = written(hass, ENERGY)

    # A minute of frames: far more than the guard's three values in a row that accept a discontinuity.
    assert await timeline.frames(60, meter=new_meter) > 10

    assert states == [STATE_UNAVAILABLE]
    assert timeline.coordinator.values.groups["EAST"].value == f"{before:09d}"
    issues = issues_of(hass)
    assert list(issues) == [issue_id(running.entry_id)]
    issue = issues[issue_id(running.entry_id)]
    assert (issue.translation_key, issue.is_fixable, issue.severity) == ("meter_changed", True, ir.IssueSeverity.ERROR)
    assert issue.translation_placeholders == {"name": running.title}
    assert issue.data == {"entry_id": running.entry_id}
    assert "another serial number" in caplog.text
    for serial in (NEW_SERIAL, old_serial):
        assert serial not in caplog.text


async def test_asking_for_an_update_shows_nothing_old(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, new_meter: NewMeter
) -> None:
    """An update asked for while the other meter is on the port leaves the entities unavailable."""
    assert await async_setup_component(hass, "homeassistant", {})
    await timeline.frames(10, meter=new_meter)

    await hass.services.async_call("homeassistant", "update_entity", {"entity_id": ENERGY}, blocking=True)

    assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE


async def test_one_damaged_serial_number_is_no_other_meter(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, simulator: SimulatedMeter
) -> None:
    """A frame whose serial number got past its checksum damaged is held back, and raises nothing."""
    states = written(hass, ENERGY)
    damaged = with_values(simulator.groups(), ADSC=NEW_SERIAL)
    assert CONFIRM_FRAMES > 2
    for _ in range(2):  # in a row: a damaged group twice running is already rare
        await timeline.send_groups_at(timeline.moment + timedelta(seconds=2), damaged)
    await timeline.frames(5)

    assert issue_id(running.entry_id) not in issues_of(hass)
    assert STATE_UNAVAILABLE not in states
    assert timeline.coordinator.meter_watch.other is None


async def test_the_meter_back_clears_the_repair(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, new_meter: NewMeter
) -> None:
    """The dongle back on its meter: the issue clears by itself, and the entities read their meter again."""
    await timeline.frames(10, meter=new_meter)
    assert issue_id(running.entry_id) in issues_of(hass)

    await timeline.frames(10)

    assert issue_id(running.entry_id) not in issues_of(hass)
    assert hass.states.get(ENERGY).state != STATE_UNAVAILABLE


async def test_replaced(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    new_meter: NewMeter,
    repairs: None,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """'Replaced': the entry, device and entities move to the new serial; entity ids stay; the index continues."""
    caplog.set_level(logging.DEBUG)
    old_serial = running.unique_id
    assert old_serial is not None
    old_entities = {
        reg.unique_id.removeprefix(f"{old_serial}_"): reg.entity_id
        for reg in er.async_entries_for_config_entry(entity_registry, running.entry_id)
    }
    last_old = wh(hass, ENERGY)
    sent: list[int] = []

    def note(data: bytes) -> bytes:
        sent.append(index_of(data, Mode.STANDARD))
        return data

    await timeline.frames(30, note, meter=new_meter)
    result = await answer(hass, timeline, running, "replaced")

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert running.state is ConfigEntryState.LOADED
    assert running.unique_id == NEW_SERIAL
    assert running.title == "Linky"  # the household's name for its meter stays
    assert issue_id(running.entry_id) not in issues_of(hass)
    moved = {
        reg.unique_id.removeprefix(f"{NEW_SERIAL}_"): reg.entity_id
        for reg in er.async_entries_for_config_entry(entity_registry, running.entry_id)
    }
    assert moved == old_entities
    [device] = dr.async_entries_for_config_entry(device_registry, running.entry_id)
    assert device.identifiers == {(DOMAIN, NEW_SERIAL)}
    assert running.data[CONF_INDEX_OFFSETS]["EAST"] == last_old - sent[0]

    await timeline.frames(10, note, meter=new_meter)

    # The old meter's last index, plus what the new one measured since its first frame: its start counts nothing.
    assert wh(hass, ENERGY) == last_old + sent[-1] - sent[0]
    assert wh(hass, ENERGY) - last_old < START_WH + 100
    for serial in (NEW_SERIAL, old_serial):
        assert serial not in caplog.text


async def test_replaced_after_a_restart(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    new_meter: NewMeter,
    repairs: None,
) -> None:
    """The entry set up again while the other meter is on the port: the index continues from the one restored."""
    last_old = wh(hass, ENERGY)
    assert await timeline.complete(hass.config_entries.async_unload(running.entry_id))
    assert await timeline.complete(hass.config_entries.async_setup(running.entry_id))
    sent: list[int] = []

    def note(data: bytes) -> bytes:
        sent.append(index_of(data, Mode.STANDARD))
        return data

    await timeline.frames(30, note, meter=new_meter)
    other = timeline.coordinator.meter_watch.other
    assert other is not None
    assert other.own_last_indexes == {}  # the reader never saw its own meter since it started
    assert (await answer(hass, timeline, running, "replaced"))["type"] is FlowResultType.CREATE_ENTRY

    assert running.data[CONF_INDEX_OFFSETS]["EAST"] == last_old - sent[0]


async def test_other_meter(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    new_meter: NewMeter,
    new_meter_port: str,
    repairs: None,
) -> None:
    """'Another meter': the entry stops (disabled, kept), and the other meter can be added on the same port."""
    await timeline.frames(10, meter=new_meter)

    result = await answer(hass, timeline, running, "other_meter")

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert running.disabled_by is ConfigEntryDisabler.USER
    assert running.state is ConfigEntryState.NOT_LOADED
    assert running.unique_id != NEW_SERIAL
    assert issue_id(running.entry_id) not in issues_of(hass)
    flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    found = await reading_ports(
        timeline,
        hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_DEVICE: new_meter_port, CONF_MODE: "auto"}),
    )
    assert (found["type"], found["step_id"]) == (FlowResultType.FORM, "privacy")
    hass.config_entries.flow.async_abort(flow["flow_id"])


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
@pytest.mark.usefixtures("total_withdrawn_enabled")
async def test_replaced_by_a_meter_of_another_kind(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    repairs: None,
    entity_registry: er.EntityRegistry,
) -> None:
    """A historic single-phase meter replaced by a standard three-phase one: at 1200 baud the line shows no frame;
    the household reconfigures the port, which finds another serial number and raises the repair; "replaced" moves
    the entry to the new meter's mode and speed."""
    base_index = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{running.unique_id}_BASE")
    assert base_index is not None
    new = NewMeter(Profile.STANDARD_TRI)
    async with TalkingPty(NewMeter(Profile.STANDARD_TRI).payload()) as pty:
        hass.config_entries.async_update_entry(running, data={**running.data, CONF_DEVICE: pty.path})
        flow = await running.start_reconfigure_flow(hass)
        reconfigured = await reading_ports(
            timeline,
            hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_DEVICE: pty.path, CONF_MODE: "auto"}),
        )
        assert (reconfigured["type"], reconfigured["reason"]) == (FlowResultType.ABORT, "meter_changed")
        await timeline.advance(1)  # the entry, let go for the read, is set up again
        assert running.state is ConfigEntryState.LOADED
        assert issue_id(running.entry_id) in issues_of(hass)
        assert running.data[CONF_MODE] == "historic"
        result = await answer(hass, timeline, running, "replaced")

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (running.data[CONF_MODE], running.data[CONF_BAUDRATE]) == ("standard", 9600)
    assert running.title == "Linky"
    assert timeline.coordinator.mode is Mode.STANDARD
    assert entity_registry.async_get(base_index).unique_id == f"{NEW_SERIAL}_BASE"
    for _ in range(5):
        frame = timeline.next_frame(new)
        # The clock times the line at the old meter's 1200 baud: the new one's frames take an eighth of that.
        await timeline.send(frame, len(frame) * 1200 // 9600)
    # The standard mode's index is a new entity: its statistics start at its first value.
    assert wh(hass, ENERGY) >= START_WH
    assert hass.states.get(base_index).state == STATE_UNAVAILABLE


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
async def test_the_meter_back_before_the_answer(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, simulator: SimulatedMeter, repairs: None
) -> None:
    """The port read for the answer shows the entry's own meter again: nothing moves, the flow says so."""
    old_serial = running.unique_id
    async with TalkingPty(NewMeter(Profile.STANDARD_TRI).payload()) as pty:
        hass.config_entries.async_update_entry(running, data={**running.data, CONF_DEVICE: pty.path})
        flow = await running.start_reconfigure_flow(hass)
        await reading_ports(
            timeline,
            hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_DEVICE: pty.path, CONF_MODE: "auto"}),
        )
        await timeline.advance(1)
        pty.payload = b"".join(simulator.next_frame() for _ in range(3))  # the dongle back on its meter
        result = await answer(hass, timeline, running, "replaced")

    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "meter_back")
    assert result["description_placeholders"] == {"name": running.title}
    assert running.unique_id == old_serial
    assert running.data[CONF_MODE] == "historic"
    assert running.state is ConfigEntryState.LOADED
    assert issue_id(running.entry_id) not in issues_of(hass)


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
async def test_reconfigure_finds_another_meter_then_its_own_comes_back(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock
) -> None:
    """The repair raised by reconfiguring clears at the first frame of the entry's own meter."""
    async with TalkingPty(NewMeter(Profile.STANDARD_TRI).payload()) as pty:
        hass.config_entries.async_update_entry(running, data={**running.data, CONF_DEVICE: pty.path})
        flow = await running.start_reconfigure_flow(hass)
        await reading_ports(
            timeline,
            hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_DEVICE: pty.path, CONF_MODE: "auto"}),
        )
    await timeline.advance(1)
    assert issue_id(running.entry_id) in issues_of(hass)

    await timeline.frames(10)

    assert issue_id(running.entry_id) not in issues_of(hass)
    assert hass.states.get("sensor.linky_base_index").state != STATE_UNAVAILABLE


def test_fix_flow_is_worded() -> None:
    """Every step, choice, error and end of the fix flow has its words, in English and French."""
    for name in ("strings.json", "translations/fr.json"):
        issue = json.loads((INTEGRATION / name).read_text(encoding="utf-8"))["issues"]["meter_changed"]
        steps = issue["fix_flow"]["step"]
        assert set(steps) == {"init", "replaced", "other_meter"}
        assert set(steps["init"]["menu_options"]) == {"replaced", "other_meter"}
        assert set(issue["fix_flow"]["abort"]) == {"entry_gone", "meter_back", "already_configured"}
        assert set(issue["fix_flow"]["error"]) == {"cannot_read"}


async def test_serial_never_in_diagnostics(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    new_meter: NewMeter,
) -> None:
    """While another meter is on the port, the diagnostics name neither serial number."""
    await timeline.frames(10, meter=new_meter)
    diagnostics = str(await timeline.complete(async_get_config_entry_diagnostics(hass, running)))

    assert running.unique_id is not None
    assert NEW_SERIAL not in diagnostics
    assert running.unique_id not in diagnostics
