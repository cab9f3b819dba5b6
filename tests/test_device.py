"""The meter's device and what a household picks in the energy dashboard: one obvious choice per contract."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.linky_tic import Group, Mode, parse_horodate
from custom_components.linky_local.sensor import SENSORS
from linky_tools.simulator import Profile

from .conftest import VirtualMeter, set_up_entry, with_values


def energy_sensors(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, bool]:
    """Return the entry's energy sensors (what the dashboard's pickers list), by entity id: enabled or not."""
    registry = er.async_get(hass)
    return {
        reg.entity_id: reg.disabled_by is None
        for reg in er.async_entries_for_config_entry(registry, entry.entry_id)
        if reg.original_device_class == SensorDeviceClass.ENERGY
    }


def enabled(sensors: dict[str, bool]) -> list[str]:
    return sorted(entity_id for entity_id, on in sensors.items() if on)


INTEGRATION = Path(__file__).parent.parent / "custom_components" / "linky_local"
TEMPO = [
    "sensor.linky_blue_off_peak",
    "sensor.linky_blue_peak",
    "sensor.linky_red_off_peak",
    "sensor.linky_red_peak",
    "sensor.linky_white_off_peak",
    "sensor.linky_white_peak",
]


@pytest.mark.parametrize(
    ("meter_profile", "picked"),
    [
        # A single-rate contract: the total, once (supplier index 1 and distributor index 1 count the same).
        (Profile.STANDARD_BASE, ["sensor.linky_energy_withdrawn"]),
        (
            Profile.STANDARD_MONO,
            ["sensor.linky_energy_withdrawn", "sensor.linky_off_peak_index", "sensor.linky_peak_index"],
        ),
        (Profile.STANDARD_TRI, sorted(["sensor.linky_energy_withdrawn", *TEMPO])),
        (Profile.STANDARD_PRODUCER, ["sensor.linky_energy_injected", "sensor.linky_energy_withdrawn"]),
        (Profile.HISTORIC_BASE, ["sensor.linky_base_index"]),
        (Profile.HISTORIC_TEMPO, TEMPO),
    ],
)
async def test_energy_dashboard_choices(
    hass: HomeAssistant, init_integration: MockConfigEntry, picked: list[str]
) -> None:
    """Only the indexes the contract uses are enabled, named after their tariff period; distributor indexes never."""
    sensors = energy_sensors(hass, init_integration)
    assert enabled(sensors) == picked
    assert not any(on for entity_id, on in sensors.items() if "distributor_index" in entity_id)


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
async def test_unknown_calendar(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A supplier's own calendar keeps "Supplier index N", enabled for the indexes in use: not zero, or in force."""
    await set_up_entry(hass, mock_config_entry)
    replaced = {
        "NGTF": " HC et Week-End ",
        "EASF01": "004432429",
        "EASF02": "009236697",
        "EASF03": "000000000",
        "NTARF": "03",  # week-end hours: in force, still at zero
    }
    groups = with_values(virtual_meter.simulator.groups(), **replaced)
    for _ in range(3):  # an index is taken once a second frame confirms it
        await virtual_meter.send_groups(hass, mock_config_entry, groups)
    assert enabled(energy_sensors(hass, mock_config_entry)) == [
        "sensor.linky_energy_withdrawn",
        "sensor.linky_supplier_index_1",
        "sensor.linky_supplier_index_2",
        "sensor.linky_supplier_index_3",
    ]


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_TRI])
async def test_named_index_after_a_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """An index named after its period keeps its name and entity id across a restart, made again at the first frame."""
    entity_id = "sensor.linky_red_peak"
    assert hass.states.get(entity_id).attributes["friendly_name"] == "Linky Red peak"
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    await virtual_meter.send_frames(hass, init_integration)
    assert hass.states.get(entity_id).attributes["friendly_name"] == "Linky Red peak"


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_TRI_PRODUCER])
async def test_model_in_the_server_language(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """The device bears the entry's name, in no language; its model, the meter's kind, in the server's language."""
    await hass.config.async_update(language="fr")
    await set_up_entry(hass, mock_config_entry)
    await virtual_meter.send_frames(hass, mock_config_entry)
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), mock_config_entry.entry_id)
    assert (device.name, device.model) == ("Linky", "Triphasé producteur (TIC standard)")
    assert device.hw_version == "Calibre 60 A, génération 3"


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
async def test_model_follows_the_contract(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """A household that starts producing sees its meter's model say so."""
    registry = dr.async_get(hass)
    [device] = dr.async_entries_for_config_entry(registry, init_integration.entry_id)
    assert device.model == "Single-phase (standard TIC)"
    groups = [*virtual_meter.simulator.groups(), Group("EAIT", "000000012")]
    for _ in range(3):
        await virtual_meter.send_groups(hass, init_integration, groups)
    assert registry.async_get(device.id).model == "Single-phase producer (standard TIC)"


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
async def test_max_power_time_moves_only_with_a_new_max(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """The time of the day's maximum is a new logbook entry only when the maximum goes up, not when its time alone moves."""
    entity_id = "sensor.linky_max_power_time"
    groups = virtual_meter.simulator.groups()
    smax = next(group for group in groups if group.label == "SMAXSN")
    assert smax.horodate is not None
    shown = hass.states.get(entity_id).state

    def with_max(value: str, minutes: int) -> list[Group]:
        raw = smax.horodate.raw  # season, then YYMMDDhhmmss: move the minutes
        moved = parse_horodate(f"{raw[:9]}{int(raw[9:11]) + minutes:02}{raw[11:]}")
        return [Group("SMAXSN", value, moved) if group.label == "SMAXSN" else group for group in groups]

    for _ in range(2):
        await virtual_meter.send_groups(hass, init_integration, with_max(smax.value, 1))
    assert hass.states.get(entity_id).state == shown
    for _ in range(2):
        await virtual_meter.send_groups(hass, init_integration, with_max(f"{int(smax.value) + 1:05}", 2))
    assert hass.states.get(entity_id).state != shown


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
async def test_new_contract_renames_the_indexes(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Off-peak hours become Tempo: the supplier indexes take the new periods' names, their entity ids unchanged."""
    entity_id = "sensor.linky_off_peak_index"
    assert hass.states.get(entity_id).attributes["friendly_name"] == "Linky Off-peak index"
    tempo = with_values(virtual_meter.simulator.groups(), NGTF="     TEMPO      ")
    await virtual_meter.send_groups(hass, init_integration, tempo)
    await hass.async_block_till_done()  # the entry reloads under the new names
    await virtual_meter.send_groups(hass, init_integration, tempo)
    assert hass.states.get(entity_id).attributes["friendly_name"] == "Linky Blue off-peak"


def test_device_page_words() -> None:
    """The index in force reads 1, not "01"; the supplier's offer and the tariff in force have names of their own, in
    French too (« Option tarifaire » is the historic option only)."""
    [ntarf] = [description for description in SENSORS[Mode.STANDARD] if description.key == "NTARF"]
    assert ntarf.value_fn(Group("NTARF", "01")) == 1
    for language in ("strings.json", "translations/fr.json"):
        sensors = json.loads((INTEGRATION / language).read_text(encoding="utf-8"))["entity"]["sensor"]
        names = [sensors[key]["name"] for key in ("ngtf", "ltarf", "optarif", "ptec", "ntarf")]
        assert len(set(names)) == len(names), names
