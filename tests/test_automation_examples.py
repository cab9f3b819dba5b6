"""The README's automation examples (docs/automations/): valid for Home Assistant, about entities the meter has.

Each example is validated as the automation editor validates it, its entity ids and trigger states are checked
against the entities the simulated standard Tempo meter gets, and the examples are loaded into Home Assistant and
fired by what the meter sends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
import re
from typing import Any

from homeassistant.components.automation.config import ValidationStatus, async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.linky_tic import Group
from custom_components.linky_local.linky_tic.interpret import TempoColour
from custom_components.linky_local.linky_tic.status import CutOff, Status
from linky_tools.encoder import status_register
from linky_tools.simulator import Profile

from .conftest import VirtualMeter

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "automations"
NAMES = ("tempo_red_tomorrow", "reference_power_overrun", "cut_off_open", "mobile_peak_announced", "meter_lost")
# The simulated Tempo meter's 29 January 2026 is red; the colour is announced the day before at 11:00 (10:00 UTC).
BEFORE_ANNOUNCEMENT = datetime(2026, 1, 28, 9, 58, tzinfo=UTC)
ENTITY_ID = re.compile(r"\b(?:sensor|binary_sensor)\.linky_[a-z0-9_]+")


def _example(name: str) -> dict[str, Any]:
    config = load_yaml(EXAMPLES / f"{name}.yaml")
    assert isinstance(config, dict)
    return config


def _entity_ids(config: dict[str, Any]) -> set[str]:
    """Every Linky Local entity id the example names, in its triggers and in its templates."""
    return set(ENTITY_ID.findall(str(config)))


# A standard three-phase Tempo meter, the kind whose status register has every field the examples use, two minutes
# before tomorrow's red day is announced.
ON_THE_EVE_OF_A_RED_DAY = pytest.mark.parametrize(
    ("meter_profile", "meter_start"), [(Profile.STANDARD_TRI, BEFORE_ANNOUNCEMENT)], ids=["tempo_tri"]
)


def test_the_examples_are_those_listed() -> None:
    assert sorted(path.stem for path in EXAMPLES.glob("*.yaml")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_the_readme_shows_the_example(name: str) -> None:
    """The README shows each file as it is, in English and in the French section."""
    readme = (ROOT / "README.md").read_text()
    block = f"```yaml\n{(EXAMPLES / f'{name}.yaml').read_text()}```"
    assert readme.count(block) == 1, f"README.md lacks docs/automations/{name}.yaml as it is"
    assert readme.count(f"docs/automations/{name}.yaml") >= 2, f"the French section does not name {name}.yaml"


@pytest.mark.parametrize("name", NAMES)
async def test_the_example_is_a_valid_automation(hass: HomeAssistant, name: str) -> None:
    """Home Assistant's automation editor accepts the example (it raises on any error)."""
    validated = await async_validate_config_item(hass, name, _example(name))
    assert validated is not None
    assert validated.validation_status == ValidationStatus.OK


@ON_THE_EVE_OF_A_RED_DAY
async def test_the_examples_use_the_meter_s_entities_and_states(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    virtual_meter: VirtualMeter,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every entity an example names is one of the meter's, enabled, and each trigger state is one it can take."""
    await virtual_meter.send_frames(hass, init_integration, 1, after=180)  # past 11:00: tomorrow is announced
    for name in NAMES:
        config = _example(name)
        assert _entity_ids(config), name
        for entity_id in _entity_ids(config):
            entry = entity_registry.async_get(entity_id)
            assert entry is not None, f"{name}: {entity_id} is not an entity of the simulated meter"
            assert entry.platform == DOMAIN
            assert entry.disabled_by is None, f"{name}: {entity_id} is disabled by default"
        for trigger in config["triggers"]:
            state = hass.states.get(trigger["entity_id"])
            assert state is not None
            possible = {"on", "off"} if state.domain == "binary_sensor" else set(state.attributes["options"])
            for key, allowed in (
                ("from", possible),
                ("to", possible),
                ("not_to", possible | {"unavailable", "unknown"}),
            ):
                states = trigger.get(key, [])
                states = states if isinstance(states, list) else [states]
                assert set(states) <= allowed, f"{name}: {key} {states} not among {allowed}"
            assert "to" in trigger or "not_to" in trigger, f"{name}: the trigger fires on any change"


@ON_THE_EVE_OF_A_RED_DAY
async def test_the_examples_fire_on_what_the_meter_sends(
    hass: HomeAssistant, init_integration: MockConfigEntry, virtual_meter: VirtualMeter
) -> None:
    """Loaded into Home Assistant, the examples act when the meter announces a red day, an overrun, a cut-off."""
    notified = async_mock_service(hass, "notify", "mobile_app_telephone")
    switched_off = async_mock_service(hass, "switch", "turn_off")
    assert await async_setup_component(hass, "automation", {"automation": [_example(name) for name in NAMES]})
    await hass.async_block_till_done()
    automations = hass.states.async_all("automation")
    assert sorted(state.name for state in automations) == sorted(_example(name)["alias"] for name in NAMES)
    assert {state.state for state in automations} == {"on"}

    def titles() -> list[str]:
        return [call.data["title"] for call in notified]

    assert titles() == []
    await virtual_meter.send_frames(hass, init_integration, 1, after=180)  # 11:01 local: tomorrow is red
    assert hass.states.get("sensor.linky_tempo_tomorrow").state == "red"
    assert sorted(titles()) == ["Jour rouge demain", "Pointe mobile annoncée"]
    assert "(Period 1)" in notified[titles().index("Pointe mobile annoncée")].data["message"]

    # The household draws too much, then the meter trips: what its status register then says.
    today = TempoColour.BLUE
    overrun = Status(reference_power_exceeded=True, tempo_today=today, tempo_tomorrow=TempoColour.RED)
    await virtual_meter.send_groups(hass, init_integration, [Group("STGE", status_register(overrun))])
    assert [call.data["entity_id"] for call in switched_off] == [["switch.chauffe_eau"]]
    assert titles()[-1] == "Puissance souscrite dépassée"

    tripped = Status(cut_off=CutOff.OVER_POWER, tempo_today=today, tempo_tomorrow=TempoColour.RED)
    await virtual_meter.send_groups(hass, init_integration, [Group("STGE", status_register(tripped))])
    assert titles()[-1] == "Compteur disjoncté"
    assert "(Open: over-power)" in notified[-1].data["message"]
