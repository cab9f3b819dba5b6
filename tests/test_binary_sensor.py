"""Binary sensors: overrun warnings, status register flags, relays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.linky_tic import Group
from custom_components.linky_local.linky_tic.interpret import Relays
from custom_components.linky_local.linky_tic.status import CutOff, Status
from linky_tools.encoder import relays_value, status_register
from linky_tools.simulator import Profile

from .conftest import VirtualMeter

# The overrun warnings of phases 1 and 2 of the historic three-phase meter.
PHASE_1_WARNING = "binary_sensor.linky_overrun_phase_1"
PHASE_2_WARNING = "binary_sensor.linky_overrun_phase_2"


@pytest.fixture(autouse=True)
def only_binary_sensors() -> Generator[None]:
    """Load the binary sensor platform alone."""
    with patch("custom_components.linky_local.PLATFORMS", [Platform.BINARY_SENSOR]):
        yield


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_TRI, Profile.STANDARD_MONO, Profile.STANDARD_TRI_PRODUCER])
async def test_binary_sensors(entities_match_snapshot: Callable[[], Awaitable[None]]) -> None:
    """A historic three-phase meter gets the warning of the phase over its limit; a standard one its flags."""
    await entities_match_snapshot()


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_TRI])
async def test_overrun_warning_in_short_frames(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Phase 2 goes over its limit: its warning appears with the short frames, and ends three frames after them."""
    assert hass.states.get(PHASE_2_WARNING) is None
    # 08:35 local time: the simulated meter's phase 2 goes over for 30 s, then short frames go on for a minute.
    await virtual_meter.send_frames(hass, init_integration, 4, after=293)
    assert hass.states.get(PHASE_2_WARNING).state == STATE_ON
    assert hass.states.get(PHASE_1_WARNING) is None

    # Nineteen more short frames, then the long one of the cycle, without the warning: still on.
    await virtual_meter.send_frames(hass, init_integration, 20)
    assert hass.states.get(PHASE_2_WARNING).state == STATE_ON
    # Past the minute of short frames, long frames only: off at the third frame without it.
    await virtual_meter.send_frames(hass, init_integration, 1, after=120)
    assert hass.states.get(PHASE_2_WARNING).state == STATE_ON
    await virtual_meter.send_frames(hass, init_integration, 1)
    assert hass.states.get(PHASE_2_WARNING).state == STATE_OFF


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
async def test_overrun_warning_appearing_late(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """ADPS makes its warning when the meter first sends it."""
    entity_id = "binary_sensor.linky_overrun_warning"
    assert hass.states.get(entity_id) is None
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(hass, init_integration, [*groups, Group("ADPS", "045")])
    assert hass.states.get(entity_id).state == STATE_ON


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_status_flags(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """The status register's flags and the relays follow the meter."""
    prefix = "binary_sensor.linky"
    status = Status(
        cut_off=CutOff.OVER_POWER,
        over_voltage=True,
        reference_power_exceeded=True,
        clock_degraded=True,
        producer=True,
    )
    groups = [group for group in virtual_meter.simulator.groups() if group.label not in {"STGE", "RELAIS"}]
    await virtual_meter.send_groups(
        hass,
        init_integration,
        [*groups, Group("STGE", status_register(status)), Group("RELAIS", relays_value(Relays(True, (False,) * 7)))],
    )
    for name in (
        "cut_off_open",
        "over_voltage",
        "reference_exceeded",
        "meter_clock_degraded",
        "producer_mode",
        "dry_contact",
    ):
        assert hass.states.get(f"{prefix}_{name}").state == STATE_ON, name
