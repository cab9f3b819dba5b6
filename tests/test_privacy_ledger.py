"""The privacy ledger in the diagnostics: what the database keeps, read from the recorder's own filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import state_changes_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.linky_local.privacy import PrivacyLevel

from .conftest import VirtualMeter, start_clock

T0 = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)
VOLTAGE = "sensor.linky_voltage_phase_1"
POWER = "sensor.linky_apparent_power"


@pytest.fixture
def privacy_level() -> PrivacyLevel | None:
    """An entry that never chose a level: the default one."""
    return None


@pytest.fixture
def recorder_config() -> dict[str, object]:
    """The household keeps no voltage in its database."""
    return {"exclude": {"entity_globs": ["sensor.*_voltage_phase_*"]}}


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory) -> None:
    """Prepare the recorder's database, and stop the clocks, before Home Assistant starts (its tokens date from then)."""
    freezer.move_to(T0 - timedelta(minutes=1))


async def run_a_minute(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, meter: VirtualMeter, entry: MockConfigEntry
) -> None:
    """Read the meter for a minute, a frame every two seconds, until its window closes."""
    clock = await start_clock(hass, freezer, meter, entry, T0)
    for second in range(0, 60, 2):
        await clock.send_at(T0 + timedelta(seconds=second), SINSTS=f"{1000 + second * 10:05d}")
    await clock.close(T0 + timedelta(minutes=1))


async def test_ledger(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """For each label: its meaning, class, entities, whether the recorder keeps them, when they write, how often."""
    await run_a_minute(hass, freezer, virtual_meter, mock_config_entry)
    await async_wait_recording_done(hass)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics == snapshot(exclude=props("last_frame"))

    assert next(iter(diagnostics)) == "summary"
    ledger = diagnostics["ledger"]
    [voltage] = ledger["URMS1"]["entities"]
    assert (voltage["entity_id"], voltage["enabled"], voltage["recorded"]) == (VOLTAGE, True, False)
    assert voltage["states_last_hour"] == voltage["states_stored"] == 0  # excluded: the database holds none
    assert voltage["long_term_statistics"] is False
    [power] = ledger["SINSTS"]["entities"]
    assert (power["entity_id"], power["enabled"], power["recorded"]) == (POWER, True, True)
    assert power["long_term_statistics"] is True
    assert ledger["SINSTS"]["published"] == "mean"
    assert ledger["SINSTS"]["published_words"] == "as their average over each minute"
    assert ledger["EAST"]["published_words"] == "as their last value at the end of each minute"
    assert ledger["LTARF"]["published_words"] == "each time they change"
    assert ledger["MSG1"]["entities"][0]["enabled"] is False
    for identifier in ("ADSC", "PRM"):
        assert ledger[identifier]["is_entity"] is False
        assert ledger[identifier]["privacy_class"] == "identifier"
    assert VOLTAGE in diagnostics["summary"]["not_stored"]
    assert POWER in diagnostics["summary"]["stored"]["mean"]
    # What the ledger counts is what the recorder wrote.
    rows = await get_instance(hass).async_add_executor_job(
        state_changes_during_period, hass, T0 - timedelta(hours=1), None, POWER
    )
    assert len(rows[POWER]) == power["states_last_hour"] == power["states_stored"] >= 2
    assert diagnostics["summary"]["statement"].startswith("At the per-minute privacy level, your database stores: ")
