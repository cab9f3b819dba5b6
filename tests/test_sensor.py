"""Sensors: what each kind of meter gets, values as the energy dashboard needs them, labels appearing late."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from unittest.mock import patch

from homeassistant.components.sensor import DEVICE_CLASS_UNITS
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.linky_tic import CATALOGUE, Group, parse_horodate
from custom_components.linky_local.sensor import SENSORS
from linky_tools.simulator import Profile

from .conftest import VirtualMeter


@pytest.fixture(autouse=True)
def only_sensors() -> Generator[None]:
    """Load the sensor platform alone."""
    with patch("custom_components.linky_local.PLATFORMS", [Platform.SENSOR]):
        yield


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "frozen_wall_clock")
@pytest.mark.parametrize(
    "meter_profile",
    [
        Profile.HISTORIC_TEMPO,
        Profile.HISTORIC_TRI,
        Profile.STANDARD_MONO,
        Profile.STANDARD_TRI,
        Profile.STANDARD_TRI_PRODUCER,
    ],
)
async def test_sensors(entities_match_snapshot: Callable[[], Awaitable[None]]) -> None:
    """Each kind of meter gets the sensors of the labels it sends, with their values."""
    await entities_match_snapshot()


async def test_disabled_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Rarely useful sensors, and indexes the contract does not use or that repeat another, are created disabled."""
    disabled = sorted(
        reg.unique_id.split("_", 1)[1]
        for reg in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if reg.disabled_by is not None
    )
    # The demo's meter: three-phase producer on a single-rate (BASE) calendar.
    assert disabled == [
        "CCAIN-1",
        "CCASN-1",
        "DATE",
        "EASD01",
        "EASD02",
        "EASD03",
        "EASD04",
        *(f"EASF{n:02}" for n in range(1, 11)),
        "ERQ1",
        "ERQ2",
        "ERQ3",
        "ERQ4",
        "MSG1",
        "NJOURF",
        "NJOURF+1",
        "SMAXIN-1",
        "SMAXIN-1_time",
        "SMAXIN_time",
        "SMAXSN-1",
        "SMAXSN-1_time",
        "SMAXSN1-1",
        "SMAXSN1-1_time",
        "SMAXSN1_time",
        "SMAXSN2-1",
        "SMAXSN2-1_time",
        "SMAXSN2_time",
        "SMAXSN3-1",
        "SMAXSN3-1_time",
        "SMAXSN3_time",
        "SMAXSN_time",
        "STGE_distributor_index",
        "STGE_supplier_index",
        "UMOY1",
        "UMOY2",
        "UMOY3",
        "VTIC",
        "frames_received",
        "last_frame",
    ]


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_EJP])
async def test_label_appearing_late(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    entity_registry: er.EntityRegistry,
) -> None:
    """The EJP notice gets its sensor when the meter first sends it, and goes unavailable once it stops."""
    entity_id = "sensor.linky_ejp_pre_notice"
    assert entity_registry.async_get(entity_id) is None
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(hass, init_integration, [*groups, Group("PEJP", "30")])
    assert hass.states.get(entity_id).state == "30"
    assert hass.states.get(entity_id).attributes["unit_of_measurement"] == "min"

    # A frame without it (a damaged group?) does not end it; three do.
    for _ in range(2):
        await virtual_meter.send_groups(hass, init_integration, groups)
        assert hass.states.get(entity_id).state == "30"
    await virtual_meter.send_groups(hass, init_integration, groups)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE


async def test_restart_restores_late_labels(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A sensor made for a label seen once is there again after a restart, before the label comes back."""
    entity_id = "sensor.linky_mobile_peak_1_start"
    groups = virtual_meter.simulator.groups()
    await virtual_meter.send_groups(
        hass, init_integration, [*groups, Group("DPM1", "00", parse_horodate(" 260116060000"))]
    )
    assert hass.states.get(entity_id).state == "2026-01-16T05:00:00+00:00"

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await virtual_meter.send_frames(hass, init_integration)
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE


def test_units_come_from_the_catalogue_and_suit_their_device_class() -> None:
    """Each label sensor shows the catalogue's unit, one Home Assistant accepts for the sensor's device class."""
    for mode, descriptions in SENSORS.items():
        for description in descriptions:
            spec = CATALOGUE[mode].get(description.key)
            if spec is None:
                continue  # derived from a label: a status field, a time of maximum
            assert description.native_unit_of_measurement == spec.unit, spec.label
            if description.device_class in DEVICE_CLASS_UNITS:
                assert spec.unit in DEVICE_CLASS_UNITS[description.device_class], spec.label
