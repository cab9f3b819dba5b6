"""The energy dashboard's grid picker offers a household one obvious sensor per tariff period of its meter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _ha_api import HomeAssistantApi, wait_for
from _stack import DOMAIN, add_meter, live_states
from playwright.sync_api import Page, expect
import pytest

from .conftest import fresh_home_assistant
from .ui import call_ws, log_in, open_grid_dialog, open_import_picker, pick, picker_items, set_language

if TYPE_CHECKING:
    from .conftest import Meters

TEMPO_PERIODS = (
    "Blue off-peak",
    "Blue peak",
    "White off-peak",
    "White peak",
    "Red off-peak",
    "Red peak",
)


@dataclass(frozen=True)
class Contract:
    """A simulated meter, what the picker must offer for it and what a household picks."""

    profile: str
    offered: frozenset[str]
    picked: tuple[str, ...]
    screenshot: str | None = None  # the README's picture of the picker, in docs/screenshots


# The README shows the single-rate meter's picker: one choice.
BASE = Contract("standard_base", frozenset({"Energy withdrawn"}), ("Energy withdrawn",), screenshot="energy-picker")
# A Tempo household prices each period: one grid connection per index; the total, which would count them twice
# beside them, is not offered (disabled).
TEMPO = Contract("standard_tri", frozenset(TEMPO_PERIODS), TEMPO_PERIODS)


@dataclass
class Home:
    """A fresh Home Assistant with one simulated meter added."""

    api: HomeAssistantApi
    contract: Contract
    artifacts: Path


@pytest.fixture(scope="module", params=[BASE, TEMPO], ids=lambda contract: contract.profile)
def home(request: pytest.FixtureRequest, module_artifacts: Path, runtime_venv: Path, meters: Meters) -> Iterator[Home]:
    """Start Home Assistant with one meter of the contract, added through the config flow (its API)."""
    contract: Contract = request.param
    folder = module_artifacts / contract.profile
    with fresh_home_assistant(runtime_venv, folder / "config") as api:
        add_meter(api, meters.start(contract.profile))
        wait_for(lambda: live_states(api), timeout=300, interval=1, what="the meter's first values")
        yield Home(api, contract, folder)


def stat_ids(prefs: Any) -> list[str]:
    """Return the statistics the energy preferences import from the grid."""
    return [source["stat_energy_from"] for source in prefs["energy_sources"] if source["type"] == "grid"]


def test_grid_picker_offers_the_meters_energy_sensors(page: Page, home: Home, screenshots: Path):
    log_in(page, home.api)
    items = open_import_picker(open_grid_dialog(page, home.api))
    page.screenshot(path=home.artifacts / "picker-en.png")
    if home.contract.screenshot:
        page.screenshot(path=screenshots / f"{home.contract.screenshot}-en.png")
    offered = picker_items(items)

    assert len({item.device for item in offered}) == 1, offered  # the meter's own sensors, nothing else
    assert sorted(item.name for item in offered) == sorted(home.contract.offered)


def test_french_picker(page: Page, home: Home, screenshots: Path):
    log_in(page, home.api)
    set_language(page, home.api, "fr")
    try:
        items = open_import_picker(open_grid_dialog(page, home.api))
        page.screenshot(path=home.artifacts / "picker-fr.png")
        if home.contract.screenshot:
            page.screenshot(path=screenshots / f"{home.contract.screenshot}-fr.png")
        offered = picker_items(items)
    finally:
        set_language(page, home.api, "en")
    assert len(offered) == len(home.contract.offered), offered
    assert not {item.name for item in offered} & home.contract.offered, offered  # in French


def test_household_picks_and_saves(page: Page, home: Home):
    log_in(page, home.api)
    for name in home.contract.picked:
        dialog = open_grid_dialog(page, home.api)
        pick(open_import_picker(dialog), name)
        save = dialog.locator("ha-button[slot=primaryAction]")
        expect(save).to_be_enabled()
        save.click()
        expect(dialog).to_be_hidden()

    saved = stat_ids(call_ws(page, {"type": "energy/get_prefs"}))
    entries = call_ws(page, {"type": "config/entity_registry/get_entries", "entity_ids": saved})
    assert all(entries[entity_id]["platform"] == DOMAIN for entity_id in saved), entries
    names = [entries[entity_id]["name"] or entries[entity_id]["original_name"] for entity_id in saved]
    assert sorted(names) == sorted(home.contract.picked)
