"""Retention by level: at per minute, the household keeps power, currents and voltages a day; the ledger says so.

Home Assistant's real recorder (SQLite in memory) and its own purge; the integration asks for it once a day.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_purge_done,
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.linky_local.ledger import Words, async_read, summary as ledger_summary
from custom_components.linky_local.privacy import CONF_FINE_RETENTION, CONF_POWER_STATISTICS, CONF_PRIVACY_LEVEL
from custom_components.linky_local.retention import fine_entities

from .conftest import Clock
from .test_ledger_truth import (  # noqa: F401 - the fixture
    _diagnostics,
    _rows,
    _run,
    mock_recorder_before_hass,
    start as start,  # noqa: PLC0414 - the fixture setting the entry up on the recorder
)
from .test_privacy_ledger import POWER, T0

ENERGY = "sensor.linky_energy_withdrawn"

# Frames sit at exact moments: each is read as it comes, at every level.
pytestmark = pytest.mark.usefixtures("reading_at_once")


@pytest.fixture
def entry_options() -> dict[str, object]:
    """Per minute, fine states kept one day, no hourly statistics of power."""
    return {CONF_PRIVACY_LEVEL: "minute", CONF_FINE_RETENTION: "1", CONF_POWER_STATISTICS: False}


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry, entry_options: dict[str, object]) -> MockConfigEntry:
    """The entry with the household's retention choices."""
    return MockConfigEntry(
        domain=mock_config_entry.domain,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data=mock_config_entry.data,
        options=entry_options,
    )


async def test_fine_states_are_purged_after_a_day(
    recorder_mock: Recorder,
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The recorder keeps 10 days; the integration's daily purge deletes power older than a day, energy stays."""
    clock = await start()
    await _run(clock, T0, 2)
    fine = fine_entities(hass, mock_config_entry)
    assert POWER in fine
    assert ENERGY not in fine
    instance = get_instance(hass)
    since = T0 - timedelta(hours=1)
    assert await instance.async_add_executor_job(_rows, hass, POWER, since) >= 2
    energy_rows = await instance.async_add_executor_job(_rows, hass, ENERGY, since)
    assert energy_rows >= 1
    # No hourly statistics of power, at the household's choice; energy keeps its own.
    assert "state_class" not in hass.states.get(POWER).attributes
    assert hass.states.get(ENERGY).attributes["state_class"] == "total_increasing"

    diagnostics = await _diagnostics(hass, hass_client, mock_config_entry)
    summary = diagnostics["summary"]
    assert summary["fine_states_keep_days"] == 1
    assert summary["power_long_term_statistics"] is False
    assert "deletes the states of its " in summary["statement"]
    assert (
        " of power, currents and voltages older than 1 day, once a day, with the recorder's own purge."
        in (summary["statement"])
    )
    assert "power, currents and voltages keep no long-term statistics" in summary["statement"]

    # Two nights on (the meter silent): the purge at 04:30 has deleted the power states, kept the energy's.
    await clock.advance(2 * 24 * 3600)
    await async_wait_purge_done(hass)
    await async_wait_recording_done(hass)
    assert await instance.async_add_executor_job(_rows, hass, POWER, since) == 0
    assert await instance.async_add_executor_job(_rows, hass, ENERGY, since) >= energy_rows


@pytest.mark.parametrize(
    "entry_options", [{CONF_PRIVACY_LEVEL: "half_hourly", CONF_FINE_RETENTION: "1"}], ids=["half_hourly"]
)
async def test_no_purge_at_half_hourly(
    recorder_mock: Recorder,
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Half-hourly states are as coarse as Enedis' load curve: the recorder's own retention applies, and is said."""
    clock = await start()
    await _run(clock, T0, 31)
    summary = ledger_summary(await async_read(hass, mock_config_entry), await Words.async_load(hass))
    assert summary["fine_states_keep_days"] is None
    assert "deletes the states of its" not in summary["statement"]
    await clock.advance(2 * 24 * 3600)
    await async_wait_recording_done(hass)
    assert await get_instance(hass).async_add_executor_job(_rows, hass, POWER, T0 - timedelta(hours=1)) >= 1
