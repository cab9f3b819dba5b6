"""The reader: bad input is counted and dropped, indexes are protected, states are written only when they change."""

from __future__ import annotations

from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.coordinator import LinkState, LinkyCoordinator
from custom_components.linky_local.linky_tic import Group
from custom_components.linky_local.linky_tic.status import CutOff, Status
from linky_tools.encoder import encode_frame, status_register

from .conftest import Clock, VirtualMeter, follow, wait_for, with_values, written

PREFIX = "sensor.linky"


async def test_index_spike_never_reaches_the_energy_dashboard(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A wrong index that got through the checksum is never published: the index guard stops it."""
    published = written(hass, f"{PREFIX}_energy_withdrawn")
    groups = virtual_meter.simulator.groups()
    wh = int(next(group.value for group in groups if group.label == "EAST"))
    for east in (wh + 10, wh + 20, 99_999_999, wh + 30, 7, wh + 40):
        await virtual_meter.send_groups(hass, init_integration, with_values(groups, EAST=f"{east:09d}"))
    assert [float(kwh) for kwh in published] == pytest.approx([(wh + step) / 1000 for step in (10, 20, 30, 40)])
    assert init_integration.runtime_data.values.guard.stats.rejected == 2


async def test_states_written_only_when_they_change(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Frames repeating a value write nothing; a new value is written once."""
    entity_id = f"{PREFIX}_voltage_phase_1"
    events = follow(hass, entity_id, lambda event: event.event_type, EVENT_STATE_CHANGED, EVENT_STATE_REPORTED)
    groups = virtual_meter.simulator.groups()
    for _ in range(3):
        await virtual_meter.send_groups(hass, init_integration, with_values(groups, URMS1="231"))
    await virtual_meter.send_groups(hass, init_integration, with_values(groups, URMS1="229"))
    assert events == [EVENT_STATE_CHANGED, EVENT_STATE_CHANGED]
    assert hass.states.get(entity_id).state == "229"


async def test_corrupted_group_is_counted_and_dropped(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A group whose checksum fails is counted; its label keeps its last value; the rest of the frame is used."""
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(hass, init_integration, with_values(groups, URMS1="231", URMS2="232"))
    frame = bytearray(encode_frame(virtual_meter.simulator.mode, with_values(groups, URMS1="240", URMS2="241")))
    at = frame.index(b"URMS1\t240") + len("URMS1\t24")
    frame[at] = ord("9")  # 249 with the checksum of 240
    coordinator: LinkyCoordinator = init_integration.runtime_data
    frames = coordinator.decoder.stats.frames
    await virtual_meter.port.send(b"\x00noise\xff" + bytes(frame))
    await wait_for(coordinator, lambda: coordinator.decoder.stats.frames > frames)
    await hass.async_block_till_done()

    assert hass.states.get(f"{PREFIX}_voltage_phase_1").state == "231"
    assert hass.states.get(f"{PREFIX}_voltage_phase_2").state == "241"
    assert hass.states.get(f"{PREFIX}_checksum_errors").state == "1"


async def test_values_that_make_no_sense(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A value of the wrong form, or a label no catalogue knows, harms nothing."""
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(
        hass,
        init_integration,
        [*with_values(groups, SINSTS="ABCDE", STGE="XYZ", RELAIS="999"), Group("SINST1", "00042")],
    )
    assert hass.states.get(f"{PREFIX}_apparent_power").state == STATE_UNKNOWN
    assert hass.states.get(f"{PREFIX}_cut_off_device").state == STATE_UNKNOWN
    assert hass.states.get("binary_sensor.linky_over_voltage").state == STATE_UNKNOWN
    assert hass.states.get("binary_sensor.linky_dry_contact").state == STATE_UNKNOWN
    await virtual_meter.send_frames(hass, init_integration)
    assert hass.states.get(f"{PREFIX}_apparent_power").state.isdigit()
    assert hass.states.get(f"{PREFIX}_cut_off_device").state == "closed"


@pytest.mark.parametrize("east", ["0000A0000", "000-00000"])
async def test_index_that_is_not_a_number_is_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter, east: str
) -> None:
    """An index of the wrong form is not a reading."""
    entity_id = f"{PREFIX}_energy_withdrawn"
    before = hass.states.get(entity_id).state
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(hass, init_integration, with_values(groups, EAST=east))
    assert hass.states.get(entity_id).state == before


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_status_register_fields(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """The status register's fields are sensors; mobile peaks get theirs once the meter announces one."""
    assert hass.states.get(f"{PREFIX}_mobile_peak_notice") is None
    status = Status(cut_off=CutOff.OVER_VOLTAGE, supplier_index=3, distributor_index=2, mobile_peak_notice=2)
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(hass, init_integration, with_values(groups, STGE=status_register(status)))
    assert hass.states.get(f"{PREFIX}_cut_off_device").state == "over_voltage"
    assert hass.states.get(f"{PREFIX}_supplier_period").state == "3"
    assert hass.states.get(f"{PREFIX}_distributor_period").state == "2"
    assert hass.states.get(f"{PREFIX}_mobile_peak_notice").state == "pm2"
    assert hass.states.get(f"{PREFIX}_mobile_peak").state == "none"
    # Not a Tempo contract: no Tempo colours.
    assert hass.states.get(f"{PREFIX}_tempo_today") is None


async def test_update_entity_while_receiving(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Asking for an update fetches nothing: the values stay as the meter sent them."""
    assert await async_setup_component(hass, "homeassistant", {})
    entity_id = f"{PREFIX}_voltage_phase_1"
    before = hass.states.get(entity_id).state
    await hass.services.async_call("homeassistant", "update_entity", {"entity_id": entity_id}, blocking=True)
    assert hass.states.get(entity_id).state == before


async def test_update_entity_while_lost(hass: HomeAssistant, running: MockConfigEntry, timeline: Clock) -> None:
    """Asking for an update while the meter is lost does not make its entities available."""
    assert await async_setup_component(hass, "homeassistant", {})
    entity_id = f"{PREFIX}_voltage_phase_1"
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE
    await timeline.run_until(lambda: timeline.coordinator.link_state is LinkState.DISCONNECTED, within=6)
    await hass.services.async_call("homeassistant", "update_entity", {"entity_id": entity_id}, blocking=True)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
