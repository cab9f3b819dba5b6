"""The household's automation blueprints (blueprints/automation/linky_local/): valid, and acting on the meter.

Each blueprint is checked by Home Assistant's own blueprint model and the automation blueprint schema, its Linky
inputs are shown to offer the meter's entities (the selector's filter), and instances of them, as the README's
import buttons give them to Home Assistant, are loaded as automations and fired by what the simulated meter sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    ValidationStatus,
    async_validate_config_item,
)
from homeassistant.components.blueprint import Blueprint
from homeassistant.components.blueprint.errors import MissingInput
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.coordinator import LinkState
from custom_components.linky_local.linky_tic import Group
from custom_components.linky_local.linky_tic.interpret import TempoColour
from custom_components.linky_local.linky_tic.status import CutOff, Status
from linky_tools.encoder import status_register
from linky_tools.simulator import Profile

from .conftest import Clock, VirtualMeter

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "blueprints" / "automation" / "linky_local"
SOURCE = "https://github.com/linky-local/linky_local/blob/main/blueprints/automation/linky_local/"
NAMES = ("tempo_red_tomorrow", "reference_power_overrun", "cut_off_open", "mobile_peak_announced", "meter_lost")
# The simulated Tempo meter's 29 January 2026 is red; the colour is announced the day before at 11:00 (10:00 UTC).
BEFORE_ANNOUNCEMENT = datetime(2026, 1, 28, 9, 58, tzinfo=UTC)
# Where Home Assistant's importer saves a blueprint of this repository: blueprints/automation/<owner>/<file>.
IMPORTED = "linky-local"
RAW = "https://raw.githubusercontent.com/linky-local/linky_local/main/blueprints/automation/linky_local/"
PHONE = "notify.mobile_app_telephone"
WATER_HEATER = "switch.chauffe_eau"
# What a household picks for each blueprint's Linky input, on a server in English: the meter's entity.
LINKY_INPUTS = {
    "tempo_red_tomorrow": ("tempo_tomorrow", "sensor.linky_tempo_tomorrow"),
    "reference_power_overrun": ("warning", "binary_sensor.linky_reference_exceeded"),
    "cut_off_open": ("cut_off", "sensor.linky_cut_off_device"),
    "mobile_peak_announced": ("notice", "sensor.linky_mobile_peak_notice"),
    "meter_lost": ("link", "sensor.linky_link"),
}


# The translation keys of the entities each Linky input is for: its description names them in English and French.
TRANSLATION_KEYS = {
    "tempo_red_tomorrow": [("sensor", "tempo_tomorrow")],
    "reference_power_overrun": [("binary_sensor", "reference_power_exceeded"), ("binary_sensor", "overrun_warning")],
    "cut_off_open": [("sensor", "cut_off")],
    "mobile_peak_announced": [("sensor", "mobile_peak_notice")],
    "meter_lost": [("sensor", "link_state")],
}
TRANSLATIONS = ROOT / "custom_components" / "linky_local" / "translations"


def _blueprint(name: str) -> Blueprint:
    return Blueprint(
        load_yaml_dict(FOLDER / f"{name}.yaml"), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )


def _instance(name: str, **inputs: Any) -> dict[str, Any]:
    """An automation made from the blueprint, as the blueprint editor saves it."""
    key, entity_id = LINKY_INPUTS[name]
    chosen: dict[str, Any] = {key: entity_id, "notify": [PHONE], **inputs}
    if name == "reference_power_overrun":
        chosen.setdefault("load", [WATER_HEATER])
    return {"alias": name, "use_blueprint": {"path": f"{IMPORTED}/{name}.yaml", "input": chosen}}


@pytest.fixture(name="blueprint_folder")
def blueprint_folder_fixture(hass: HomeAssistant, tmp_path: Path) -> None:
    """The configuration folder holds the blueprints where the README's import buttons put them."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / "blueprints" / "automation").mkdir(parents=True)
    (tmp_path / "blueprints" / "automation" / IMPORTED).symlink_to(FOLDER)


def test_the_blueprints_are_those_listed() -> None:
    assert sorted(path.stem for path in FOLDER.glob("*.yaml")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_the_blueprint_is_valid(name: str) -> None:
    """Home Assistant's blueprint model accepts it (it raises on any error) for this version, and it says where from."""
    blueprint = _blueprint(name)
    assert blueprint.domain == "automation"
    assert blueprint.validate() is None
    assert blueprint.metadata["source_url"] == f"{SOURCE}{name}.yaml"
    assert blueprint.metadata["name"].startswith("Linky Local: ")


async def test_the_import_buttons_import_them(
    hass: HomeAssistant, tmp_path: Path, hass_ws_client: WebSocketGenerator, aioclient_mock: AiohttpClientMocker
) -> None:
    """What a README button does: Home Assistant's blueprint import, then save, from the file's raw GitHub address."""
    hass.config.config_dir = str(tmp_path)
    assert await async_setup_component(hass, "automation", {})
    client = await hass_ws_client(hass)
    for name in NAMES:
        url = f"{RAW}{name}.yaml"
        aioclient_mock.get(url, text=(FOLDER / f"{name}.yaml").read_text())
        await client.send_json_auto_id({"type": "blueprint/import", "url": url})
        imported = await client.receive_json()
        assert imported["success"], imported
        assert imported["result"]["validation_errors"] is None
        assert imported["result"]["suggested_filename"] == f"{IMPORTED}/{name}"
        assert imported["result"]["blueprint"]["metadata"]["source_url"] == url
        await client.send_json_auto_id(
            {
                "type": "blueprint/save",
                "domain": "automation",
                "path": imported["result"]["suggested_filename"],
                "yaml": imported["result"]["raw_data"],
                "source_url": url,
            }
        )
        saved = await client.receive_json()
        assert saved["success"], saved
        copy = load_yaml_dict(tmp_path / "blueprints" / "automation" / IMPORTED / f"{name}.yaml")
        assert {key: value for key, value in copy.items() if key != "blueprint"} == {
            key: value for key, value in load_yaml_dict(FOLDER / f"{name}.yaml").items() if key != "blueprint"
        }


@pytest.mark.parametrize("name", NAMES)
def test_the_meter_is_chosen_among_linky_local_entities(name: str) -> None:
    """The Linky input offers only this integration's entities; the household picks, nothing is hard-coded."""
    blueprint = _blueprint(name)
    key, entity_id = LINKY_INPUTS[name]
    (linky_filter,) = blueprint.inputs[key]["selector"]["entity"]["filter"]
    assert linky_filter["integration"] == DOMAIN
    assert linky_filter["domain"] == [entity_id.split(".")[0]]
    assert len(linky_filter["device_class"]) == 1
    notify = blueprint.inputs["notify"]["selector"]["entity"]
    assert notify["multiple"] is True
    assert [entity_filter["domain"] for entity_filter in notify["filter"]] == [["notify"]]
    assert not re.search(r"\b[a-z_]+\.linky_", str(blueprint.data)), "a blueprint names an entity instead of asking"


@pytest.mark.parametrize("name", NAMES)
def test_the_input_names_the_entity_as_the_interface_does(name: str) -> None:
    """The household looks for the entity by the name its description gives, in English and in French."""
    key, _ = LINKY_INPUTS[name]
    description = _blueprint(name).inputs[key]["description"]
    for language in ("en", "fr"):
        entities = json.loads((TRANSLATIONS / f"{language}.json").read_text())["entity"]
        for platform, translation_key in TRANSLATION_KEYS[name]:
            assert entities[platform][translation_key]["name"] in description, (language, translation_key)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.usefixtures("blueprint_folder")
async def test_an_instance_is_a_valid_automation(hass: HomeAssistant, name: str) -> None:
    """The automation editor accepts an instance with only the required inputs chosen (it raises on any error)."""
    validated = await async_validate_config_item(hass, name, _instance(name))
    assert validated is not None
    assert validated.validation_status == ValidationStatus.OK


@pytest.mark.usefixtures("blueprint_folder")
async def test_a_missing_input_is_refused(hass: HomeAssistant) -> None:
    config = _instance("tempo_red_tomorrow")
    del config["use_blueprint"]["input"]["notify"]
    with pytest.raises(MissingInput, match="notify"):
        await async_validate_config_item(hass, "incomplete", config)


# A standard three-phase Tempo meter, the kind whose status register has every field the blueprints use, two minutes
# before tomorrow's red day is announced.
ON_THE_EVE_OF_A_RED_DAY = pytest.mark.parametrize(
    ("meter_profile", "meter_start"), [(Profile.STANDARD_TRI, BEFORE_ANNOUNCEMENT)], ids=["tempo_tri"]
)


@ON_THE_EVE_OF_A_RED_DAY
async def test_the_chosen_entities_are_the_meter_s(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each entity a household picks is one of the meter's, enabled, and matches its blueprint's filter."""
    await virtual_meter.send_frames(hass, init_integration, 1, after=180)  # past 11:00: tomorrow is announced
    for name, (key, entity_id) in LINKY_INPUTS.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, f"{name}: {entity_id} is not an entity of the simulated meter"
        assert entry.platform == DOMAIN
        assert entry.disabled_by is None, f"{name}: {entity_id} is disabled by default"
        state = hass.states.get(entity_id)
        assert state is not None
        (linky_filter,) = _blueprint(name).inputs[key]["selector"]["entity"]["filter"]
        assert [state.attributes["device_class"]] == linky_filter["device_class"], name


@ON_THE_EVE_OF_A_RED_DAY
@pytest.mark.usefixtures("blueprint_folder")
async def test_the_blueprints_fire_on_what_the_meter_sends(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Loaded into Home Assistant, the instances act when the meter announces a red day, an overrun, a cut-off."""
    notified = async_mock_service(hass, "notify", "send_message")
    switched_off = async_mock_service(hass, "switch", "turn_off")
    also = async_mock_service(hass, "input_boolean", "turn_on")
    automations = [_instance(name) for name in NAMES if name != "meter_lost"]
    # The household's own extra action, on one of them.
    automations[0]["use_blueprint"]["input"]["also"] = [
        {"action": "input_boolean.turn_on", "target": {"entity_id": "input_boolean.red_day"}}
    ]
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()
    assert {state.state for state in hass.states.async_all("automation")} == {"on"}

    def titles() -> list[str]:
        return [call.data["title"] for call in notified]

    assert titles() == []
    await virtual_meter.send_frames(hass, init_integration, 1, after=180)  # 11:01 local: tomorrow is red
    assert hass.states.get("sensor.linky_tempo_tomorrow").state == "red"
    assert sorted(titles()) == ["Jour rouge demain", "Pointe mobile annoncée"]
    assert all(call.data["entity_id"] == [PHONE] for call in notified)
    assert "(Period 1)" in notified[titles().index("Pointe mobile annoncée")].data["message"]
    assert [call.data["entity_id"] for call in also] == [["input_boolean.red_day"]]

    # The household draws too much, then the meter trips: what its status register then says.
    today = TempoColour.BLUE
    overrun = Status(reference_power_exceeded=True, tempo_today=today, tempo_tomorrow=TempoColour.RED)
    await virtual_meter.send_groups(hass, init_integration, [Group("STGE", status_register(overrun))])
    assert [call.data["entity_id"] for call in switched_off] == [[WATER_HEATER]]
    assert titles()[-1] == "Puissance souscrite dépassée"

    tripped = Status(cut_off=CutOff.OVER_POWER, tempo_today=today, tempo_tomorrow=TempoColour.RED)
    await virtual_meter.send_groups(hass, init_integration, [Group("STGE", status_register(tripped))])
    assert titles()[-1] == "Compteur disjoncté"
    assert "(Open: over-power)" in notified[-1].data["message"]


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE], ids=["historic_base"])
@pytest.mark.usefixtures("blueprint_folder")
async def test_meter_lost_fires_after_the_chosen_minutes(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock
) -> None:
    """The meter stops sending: the link turns disconnected, and the message follows the minutes chosen later."""
    notified = async_mock_service(hass, "notify", "send_message")
    assert await async_setup_component(hass, "automation", {"automation": [_instance("meter_lost", minutes=3)]})
    await hass.async_block_till_done()
    link = "sensor.linky_link"
    assert hass.states.get(link).state == LinkState.RECEIVING
    await timeline.run_until(lambda: hass.states.get(link).state != LinkState.RECEIVING, within=60, step=0.5)
    lost_at = timeline.now
    # Lost, the link goes from disconnected to waiting each time the port is reopened, and back: the message waits
    # for the minutes chosen all the same.
    seen: set[str] = set()

    def notified_once_lost() -> bool:
        seen.add(hass.states.get(link).state)
        return bool(notified)

    await timeline.run_until(notified_once_lost, within=600, step=5)
    assert 180 <= timeline.now - lost_at <= 185
    assert seen == {LinkState.DISCONNECTED, LinkState.WAITING}
    assert notified[0].data["title"] == "Compteur Linky perdu"
    assert notified[0].data["entity_id"] == [PHONE]
