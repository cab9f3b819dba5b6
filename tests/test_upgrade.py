"""An existing install upgrades without a change of entity: the registries 0.1.0 wrote, loaded by this version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from awesomeversion import AwesomeVersion
from freezegun.api import FrozenDateTimeFactory
from homeassistant import bootstrap
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import __version__ as ha_version
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    category_registry as cr,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    issue_registry as ir,
    label_registry as lr,
    restore_state as rs,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import CONF_BAUDRATE, CONF_DEVICE, CONF_MODE, DOMAIN
from custom_components.linky_local.entity import LEGACY_TRANSLATION_KEYS
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import Clock, Port, VirtualMeter

# The entity and device registries of Linky Local 0.1.0, each simulated meter set up at the default level and read
# until every entity existed (entry id `entry_<profile>`).
REGISTRIES = Path(__file__).parent / "fixtures" / "entity_registry_0_1_0"
# The names 0.1.0 gave that this version changed on purpose: a supplier's offer and tariff told apart, the load curve
# said to be a mean, the time of a peak (issue 25's device page).
RENAMED = {
    "Tariff calendar": "Supplier offer",
    "Tariff label": "Current tariff",
    "Load curve": "Mean power drawn",
    "Injection curve": "Mean power injected",
    "Max power time": "Peak time",
    "Max injection time": "Injection peak time",
}
# The titles 0.1.0 gave its entries (this version names them after the household's choice, "Linky" at first).
TITLES_0_1_0 = {
    Profile.HISTORIC_BASE: "Linky - Single-phase (historic TIC)",
    Profile.HISTORIC_HC: "Linky - Single-phase (historic TIC)",
    Profile.HISTORIC_TEMPO: "Linky - Single-phase (historic TIC)",
    Profile.HISTORIC_EJP: "Linky - Single-phase (historic TIC)",
    Profile.HISTORIC_TRI: "Linky - Three-phase (historic TIC)",
    Profile.STANDARD_BASE: "Linky - Single-phase (standard TIC)",
    Profile.STANDARD_MONO: "Linky - Single-phase (standard TIC)",
    Profile.STANDARD_TRI: "Linky - Three-phase (standard TIC)",
    Profile.STANDARD_TRI_PRODUCER: "Linky - Three-phase producer (standard TIC)",
    Profile.STANDARD_PRODUCER: "Linky - Single-phase producer (standard TIC)",
}


def _stored(profile: Profile) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads((REGISTRIES / f"{profile}.json").read_text())
    return stored


@pytest.fixture
def privacy_level() -> None:
    """The entries were made at the default level, as the config flow makes them."""


@pytest.fixture
def hass_storage(hass_storage: dict[str, Any], meter_profile: Profile) -> dict[str, Any]:
    """Home Assistant's storage holding the registries 0.1.0 wrote, before Home Assistant starts."""
    hass_storage.update(_stored(meter_profile))
    return hass_storage


@pytest.fixture
def load_registries() -> bool:
    """Start Home Assistant without its registries: the test loads them from the stored ones."""
    return False


async def _load_registries(hass: HomeAssistant) -> None:
    """Load the registries from storage, as Home Assistant does when it starts."""
    dr.async_setup(hass)
    with (
        patch("homeassistant.helpers.restore_state.RestoreStateData.async_setup_dump", return_value=None),
        patch("homeassistant.helpers.restore_state.start.async_at_start"),
    ):
        for registry in (ar, cr, dr, er, fr, ir, lr, rs):
            await registry.async_load(hass)
    hass.data[bootstrap.DATA_REGISTRIES_LOADED] = None


@pytest.mark.skipif(
    AwesomeVersion(ha_version) < AwesomeVersion("2026.10.0"),
    reason="0.1.0's registries were stored by Home Assistant 2026.10, whose storage versions 2026.5 cannot read",
)
@pytest.mark.parametrize("meter_profile", list(Profile))
async def test_entities_unchanged_after_upgrade(
    hass: HomeAssistant,
    simulator: SimulatedMeter,
    port: Port,
    virtual_meter: VirtualMeter,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    meter_profile: Profile,
) -> None:
    """Every entity 0.1.0 registered keeps its entity id, unique id, name and enabled state; none is added."""
    old = {
        entity["unique_id"]: entity
        for entity in _stored(meter_profile)["core.entity_registry"]["data"]["entities"]
        if entity["platform"] == DOMAIN
    }
    assert old, "the stored registry holds the entities"
    await _load_registries(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=f"entry_{meter_profile}",
        title=TITLES_0_1_0[meter_profile],
        unique_id=simulator.serial,
        data={CONF_DEVICE: port.url, CONF_MODE: str(simulator.mode), CONF_BAUDRATE: simulator.baudrate},
    )
    reloads: list[str] = []
    monkeypatch.setattr(hass.config_entries, "async_schedule_reload", reloads.append)
    clock = Clock(hass, freezer, virtual_meter, entry)
    await clock.set_up()
    await clock.frames(120)  # two windows of the default level

    assert entry.state is ConfigEntryState.LOADED
    now = {reg.unique_id: reg for reg in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)}
    # The same registry entries, loaded, not made anew from today's names.
    assert {uid: reg.id for uid, reg in now.items()} == {uid: e["id"] for uid, e in old.items()}
    assert {uid: reg.entity_id for uid, reg in now.items()} == {uid: e["entity_id"] for uid, e in old.items()}
    assert {uid: reg.disabled_by for uid, reg in now.items()} == {uid: e["disabled_by"] for uid, e in old.items()}
    # Translation keys are named after meaning now; each entity keeps its name but those renamed on purpose for the
    # device page (issue 25), and nothing was reloaded.
    assert {uid: reg.translation_key for uid, reg in now.items()} == {
        uid: LEGACY_TRANSLATION_KEYS.get(e["translation_key"], e["translation_key"]) for uid, e in old.items()
    }
    assert {uid: reg.original_name for uid, reg in now.items()} == {
        uid: RENAMED.get(e["original_name"], e["original_name"]) for uid, e in old.items()
    }
    assert not reloads
    for unique_id, reg in now.items():
        assert hass.states.get(reg.entity_id) is not None or reg.disabled_by is not None, unique_id
