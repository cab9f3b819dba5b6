"""Every entity's name and state has its English and French translation, and its icon a translation key."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.helpers.entity import EntityDescription
import pytest

from custom_components.linky_local.binary_sensor import BINARY_SENSORS
from custom_components.linky_local.linky_tic import Mode
from custom_components.linky_local.meter import MeterKind
from custom_components.linky_local.sensor import LINK_SENSORS, SENSORS

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "linky_local"
SENSOR_DESCRIPTIONS = [
    *LINK_SENSORS,
    *(description for descriptions in SENSORS.values() for description in descriptions),
]
BINARY_DESCRIPTIONS = [description for descriptions in BINARY_SENSORS.values() for description in descriptions]


def load(name: str) -> dict[str, Any]:
    """Read a JSON file of the integration."""
    data: dict[str, Any] = json.loads((INTEGRATION / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("language", ["strings.json", "translations/en.json", "translations/fr.json"])
@pytest.mark.parametrize(
    ("platform", "descriptions"), [("sensor", SENSOR_DESCRIPTIONS), ("binary_sensor", BINARY_DESCRIPTIONS)]
)
def test_every_entity_is_translated(language: str, platform: str, descriptions: list[EntityDescription]) -> None:
    """Each description's name, and each option of an enum, is translated."""
    entities = load(language)["entity"][platform]
    for description in descriptions:
        assert description.translation_key in entities, description.key
        translated = entities[description.translation_key]
        assert translated["name"], description.key
        options = getattr(description, "options", None) or []
        assert set(options) <= set(translated.get("state", {})), description.key


def test_no_translation_without_an_entity() -> None:
    """strings.json translates no entity that does not exist, and icons.json gives none an icon."""
    used = {
        "sensor": {description.translation_key for description in SENSOR_DESCRIPTIONS},
        "binary_sensor": {description.translation_key for description in BINARY_DESCRIPTIONS},
    }
    for name in ("strings.json", "icons.json"):
        for platform, keys in load(name)["entity"].items():
            assert set(keys) <= used[platform], name


def test_english_is_a_copy_of_strings() -> None:
    """translations/en.json is strings.json; translations/fr.json has the same keys."""
    strings = load("strings.json")
    assert load("translations/en.json") == strings

    def keys(data: dict[str, Any], prefix: str = "") -> set[str]:
        return set().union(
            *(
                keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
                for key, value in data.items()
            )
        )

    assert keys(load("translations/fr.json")) == keys(strings)


# Characters an entity row of a device page shows before it cuts the name, with room to spare: the browser test
# (tests/e2e) checks the page itself.
NAME_LENGTH = 20


@pytest.mark.parametrize("language", ["strings.json", "translations/fr.json"])
def test_entity_names_are_short(language: str) -> None:
    """Every entity name fits a device page's row, in English and in French."""
    long = {
        key: translated["name"]
        for platform in load(language)["entity"].values()
        for key, translated in platform.items()
        if len(translated["name"]) > NAME_LENGTH
    }
    assert not long, f"names longer than {NAME_LENGTH} characters: {long}"


@pytest.mark.parametrize("language", ["strings.json", "translations/fr.json"])
@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("producer", [False, True])
def test_every_meter_kind_has_a_model_name(language: str, mode: Mode, three_phase: bool, producer: bool) -> None:
    """The device's model is the meter's kind, in words of the server's language; only standard meters produce."""
    kind = MeterKind(mode, three_phase, producer)
    names = load(language)["device"]
    if producer and mode is Mode.HISTORIC:
        assert kind.translation_key not in names
    else:
        assert names[kind.translation_key]["name"]


def test_the_ledgers_words_are_in_english_and_french() -> None:
    """The ledger's own strings (words/): the same keys in both languages, each with the same placeholders."""
    english, french = load("words/en.json"), load("words/fr.json")
    assert english.keys() == french.keys()
    for key, text in english.items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", french[key])), key
    assert not [key for key in load("strings.json")["exceptions"] if key.startswith("ledger_")]


@pytest.mark.parametrize(("language", "voltage"), [("strings.json", "voltage"), ("translations/fr.json", "tension")])
def test_the_levels_name_what_the_meter_sends(language: str, voltage: str) -> None:
    """A standard meter's levels name voltages, a historic meter's none; each option fits a line (no jargon)."""
    selectors = load(language)["selector"]
    standard, historic = selectors["privacy_level"]["options"], selectors["privacy_level_historic"]["options"]
    assert standard.keys() == historic.keys()
    assert any(voltage in text for text in standard.values())
    assert not any(voltage in text for text in historic.values())
    for text in (*standard.values(), *historic.values()):
        assert len(text) <= 120, text
        for jargon in ("frame", "trame", "time-weighted", "pondérée", "load-curve point", "point de courbe"):
            assert jargon not in text
