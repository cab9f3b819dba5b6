"""The meter's device and what a household picks in the energy dashboard: one obvious choice per contract."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.entity import translation_key
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
        # Several periods: their indexes, not the total beside them, which would count twice.
        (Profile.STANDARD_MONO, ["sensor.linky_off_peak_index", "sensor.linky_peak_index"]),
        (Profile.STANDARD_TRI, TEMPO),
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


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
async def test_peak_time_moves_only_with_a_new_max(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """The time of the day's maximum moves only when the maximum goes up at another minute: its time alone moving,
    or two rises in one minute, make no new logbook entry; the maximum's own sensor tells the time too."""
    entity_id = "sensor.linky_peak_time"
    groups = virtual_meter.simulator.groups()
    smax = next(group for group in groups if group.label == "SMAXSN")
    assert smax.horodate is not None
    shown = hass.states.get(entity_id).state
    writes: list[str] = []
    hass.bus.async_listen("state_changed", lambda event: writes.append(event.data["entity_id"]))

    def with_max(value: int, minutes: int, seconds: int = 0) -> list[Group]:
        raw = smax.horodate.raw  # season, then YYMMDDhhmmss: move the minutes and seconds
        moved = parse_horodate(f"{raw[:9]}{int(raw[9:11]) + minutes:02}{seconds:02}")
        return [Group("SMAXSN", f"{value:05}", moved) if group.label == "SMAXSN" else group for group in groups]

    for _ in range(2):
        await virtual_meter.send_groups(hass, init_integration, with_max(int(smax.value), 1))
    assert hass.states.get(entity_id).state == shown
    for _ in range(2):
        await virtual_meter.send_groups(hass, init_integration, with_max(int(smax.value) + 1, 2, 5))
    assert (moved := hass.states.get(entity_id).state) != shown
    assert writes.count(entity_id) == 1
    for _ in range(2):
        await virtual_meter.send_groups(hass, init_integration, with_max(int(smax.value) + 2, 2, 40))
    assert hass.states.get(entity_id).state == moved
    assert writes.count(entity_id) == 1
    assert hass.states.get("sensor.linky_max_power_today").attributes["reached_at"] == moved


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
async def test_peak_time_is_disabled_at_first(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The peak times start disabled (each rise would be a logbook entry); the maximum tells its time itself."""
    registry = er.async_get(hass)
    assert registry.async_get("sensor.linky_peak_time").disabled_by is er.RegistryEntryDisabler.INTEGRATION
    state = hass.states.get("sensor.linky_max_power_today")
    assert state.attributes["reached_at"].endswith(":00+00:00")


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
        names = [sensors[translation_key(label)]["name"] for label in ("NGTF", "LTARF", "OPTARIF", "PTEC", "NTARF")]
        assert len(set(names)) == len(names), names


def test_power_picker_says_the_curve_is_a_mean() -> None:
    """The only active powers (the energy dashboard's power picker) are load-curve means: their names say so."""
    words = {"strings.json": "Mean", "translations/fr.json": "Moyenne"}
    for language, mean in words.items():
        sensors = json.loads((INTEGRATION / language).read_text(encoding="utf-8"))["entity"]["sensor"]
        assert sensors[translation_key("CCASN")]["name"].startswith(mean)
        assert sensors[translation_key("CCAIN")]["name"].startswith(mean)
