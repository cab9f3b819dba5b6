"""The privacy ledger tells the truth: counts from the database, where states go past it, in the server's language.

Home Assistant's real recorder (SQLite in memory), its exposed-entities store, and MQTT Statestream set up on a
mocked MQTT client as the exporter. Helpers of this file only: `_run` (a frame every two seconds) and `_diagnostics`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.destinations import issue_id
from custom_components.linky_local.ledger import async_read
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel

from .conftest import Clock, VirtualMeter, start_clock
from .test_privacy_ledger import POWER, T0, privacy_level  # noqa: F401 - the fixture: the default level

CURRENT = "sensor.linky_current_phase_1"

# Frames sit at exact moments: each is read as it comes, at every level.
pytestmark = pytest.mark.usefixtures("reading_at_once")


@pytest.fixture
def start(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> Callable[[], Awaitable[Clock]]:
    """Return what sets the entry up, on the real recorder, a moment before T0 (what a test loads first comes first)."""

    async def start_at_t0() -> Clock:
        return await start_clock(hass, freezer, virtual_meter, mock_config_entry, T0)

    return start_at_t0


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: None, freezer: FrozenDateTimeFactory) -> None:
    """Prepare the recorder's database, and stop the clocks, before Home Assistant starts."""
    freezer.move_to(T0 - timedelta(minutes=1))


async def _run(clock: Clock, start: datetime, minutes: int) -> None:
    """Send a frame every two seconds for some minutes, the power changing at each; close the last window."""
    for second in range(0, minutes * 60, 2):
        await clock.send_at(start + timedelta(seconds=second), SINSTS=f"{1000 + second:05d}")
    await clock.close(start + timedelta(minutes=minutes))
    await async_wait_recording_done(clock.hass)


async def _diagnostics(hass: HomeAssistant, client: ClientSessionGenerator, entry: MockConfigEntry) -> dict[str, Any]:
    diagnostics: dict[str, Any] = await get_diagnostics_for_config_entry(hass, client, entry)
    return diagnostics


def _rows(hass: HomeAssistant, entity_id: str, since: datetime) -> int:
    """Count an entity's states in the database through the recorder's own history API (in its executor)."""
    states = get_significant_states(
        hass, since, None, [entity_id], significant_changes_only=False, include_start_time_state=False
    )
    return len(states.get(entity_id, []))


async def test_counts_come_from_the_database_and_survive_a_reload(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """After a reload the ledger counts every state the database holds for the last hour, those before it too."""
    clock = await start()
    await _run(clock, T0, 3)
    before = (await _diagnostics(hass, hass_client, mock_config_entry))["ledger"]["SINSTS"]["entities"][0]
    assert before["states_last_hour"] >= 3  # a mean each minute, and the first state

    assert await clock.complete(hass.config_entries.async_reload(mock_config_entry.entry_id))
    await _run(clock, T0 + timedelta(minutes=3, seconds=1), 2)

    ledger = (await _diagnostics(hass, hass_client, mock_config_entry))["ledger"]
    [power] = ledger["SINSTS"]["entities"]
    since = clock.moment - timedelta(hours=1)
    assert power["states_last_hour"] == await get_instance(hass).async_add_executor_job(_rows, hass, POWER, since)
    assert power["states_last_hour"] > before["states_last_hour"]  # nothing forgotten by the reload
    assert power["states_stored"] == power["states_last_hour"]  # the database is younger than an hour
    # An hour on, what was written is still stored, and no longer counted as written in the last hour.
    await clock.advance(3600)
    facts = await async_read(hass, mock_config_entry)
    [later] = next(label.entities for label in facts.labels if label.label == "SINSTS")
    assert later.stored is not None
    assert later.stored.total >= power["states_stored"]
    assert later.stored.last_hour < power["states_last_hour"]


async def test_what_leaves_the_house(
    start: Callable[[], Awaitable[Clock]],
    mqtt_mock: MagicMock,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """An exporter loaded: the ledger says the power leaves the house, a repair issue says it is finer than allowed."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "mqtt_statestream", {"mqtt_statestream": {"base_topic": "maison"}})
    clock = await start()
    await _run(clock, T0, 1)

    # The exporter really sends the power's per-minute mean out of Home Assistant.
    sent = {call.args[0]: call.args[1] for call in mqtt_mock.async_publish.call_args_list}
    topic = f"maison/sensor/{POWER.removeprefix('sensor.')}/state"
    assert sent[topic] == hass.states.get(POWER).state
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(mock_config_entry.entry_id))
    assert issue is not None
    assert issue.translation_key == "fine_signal_leaves"
    assert POWER in issue.translation_placeholders["entities"].split(", ")
    assert issue.translation_placeholders["destinations"] == "MQTT Statestream"

    diagnostics = await _diagnostics(hass, hass_client, mock_config_entry)
    [power] = diagnostics["ledger"]["SINSTS"]["entities"]
    assert power["exporters"] == ["MQTT Statestream"]
    assert power["leaves_the_house"] is True
    assert power["exposed_to_assist"] is False
    assert power["in_words"][-1] == (
        "MQTT Statestream sends its states to another server, unless its own settings leave it out: this leaves the "
        "house, unless that server is in it."
    )
    summary = diagnostics["summary"]
    assert POWER in summary["leaves_the_house"]
    assert "MQTT Statestream is set up in this Home Assistant: it sends the states of " in summary["statement"]

    # Exposed to Assist: read in the house, and said so.
    async_expose_entity(hass, "conversation", CURRENT, True)
    diagnostics = await _diagnostics(hass, hass_client, mock_config_entry)
    [current] = diagnostics["ledger"]["IRMS1"]["entities"]
    assert current["exposed_to_assist"] is True
    assert "Assist, Home Assistant's voice assistant, can read 1 entity: " in diagnostics["summary"]["statement"]

    # Half-hourly means leave the house no finer than Enedis' own load curve: the issue clears.
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    await clock.complete(
        hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_PRIVACY_LEVEL: PrivacyLevel.HALF_HOURLY.value}
        )
    )
    await clock.advance(1)
    assert mock_config_entry.runtime_data.publisher.level is PrivacyLevel.HALF_HOURLY
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(mock_config_entry.entry_id)) is None


async def test_disabling_what_leaves_clears_the_issue(
    start: Callable[[], Awaitable[Clock]],
    mqtt_mock: MagicMock,
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The issue follows the entities: once the fine signals that leave are all disabled, it clears by itself."""
    assert await async_setup_component(hass, "mqtt_statestream", {"mqtt_statestream": {"base_topic": "maison"}})
    clock = await start()
    await _run(clock, T0, 1)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(mock_config_entry.entry_id))
    assert issue is not None
    leaving = issue.translation_placeholders["entities"].split(", ")

    for entity_id in leaving:
        entity_registry.async_update_entity(entity_id, disabled_by=er.RegistryEntryDisabler.USER)
    await hass.async_block_till_done()

    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(mock_config_entry.entry_id)) is None


async def test_the_ledger_speaks_the_servers_language(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    """In French: the summary, the meanings, the sentences; nothing leaves, and no issue is raised."""
    clock = await start()
    await _run(clock, T0, 1)
    hass.config.language = "fr"

    diagnostics = await _diagnostics(hass, hass_client, mock_config_entry)

    statement = diagnostics["summary"]["statement"]
    assert statement.startswith("Au niveau de confidentialité « par minute », votre base de données enregistre : ")
    assert "en moyenne sur chaque minute" in statement
    assert "Aucune entité de ce compteur n'est exposée à un assistant vocal" in statement
    assert statement.endswith("La référence du point de livraison (PRM) n'est enregistrée nulle part.")
    assert diagnostics["ledger"]["SINSTS"]["meaning"] == "Puissance apparente"
    assert diagnostics["ledger"]["PRM"]["meaning"] == "Référence du point de livraison (PRM)"
    assert diagnostics["ledger"]["PRM"]["why_no_entity"].startswith("elle identifie le foyer")
    assert diagnostics["summary"]["leaves_the_house"] == []
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(mock_config_entry.entry_id)) is None


@pytest.mark.parametrize("privacy_level", [PrivacyLevel.DAILY])
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_daily_means_daily(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entity_registry: er.EntityRegistry,
    init_integration: MockConfigEntry,
) -> None:
    """At `daily`: indexes, the day's maxima, states; no load-curve point, no 10-minute mean, no instantaneous value."""
    keys = {
        reg.unique_id.removeprefix(f"{init_integration.unique_id}_")
        for reg in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    }
    curve = {"CCASN", "CCASN-1", "CCAIN", "CCAIN-1", "UMOY1", "UMOY2", "UMOY3"}
    instantaneous = {"SINSTS", "SINSTS1", "SINSTI", "IRMS1", "URMS1"}
    assert not keys & (curve | instantaneous)
    assert {"EAST", "EAIT", "SMAXSN", "SMAXSN-1", "SMAXIN", "LTARF", "DATE"} <= keys
    ledger = (await _diagnostics(hass, hass_client, init_integration))["ledger"]
    for label in ("CCASN", "CCAIN", "UMOY1", "SINSTS"):
        assert ledger[label]["is_entity"] is False
        assert ledger[label]["why_no_entity"] == "this privacy level does not publish it"
    assert ledger["EAST"]["published_words"] == "as their last value at the end of each day"


async def test_a_meter_removed_and_added_again(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    virtual_meter: VirtualMeter,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Removing a meter records its device, serial number included, in the events table: the new ledger says so."""
    clock = await start()
    await _run(clock, T0, 1)
    diagnostics = await _diagnostics(hass, hass_client, mock_config_entry)
    assert diagnostics["summary"]["serial_number"]["stored_in"] == ["configuration"]

    serial = mock_config_entry.unique_id
    assert serial
    assert await clock.complete(hass.config_entries.async_remove(mock_config_entry.entry_id))
    await async_wait_recording_done(hass)
    # The serial number really is in the database: the device registry's removal event holds its identifiers.
    assert await get_instance(hass).async_add_executor_job(_events_holding, hass, serial) == 1

    again = MockConfigEntry(
        domain=DOMAIN, title=mock_config_entry.title, unique_id=serial, data=mock_config_entry.data, options={}
    )
    again.add_to_hass(hass)
    later = T0 + timedelta(minutes=10)
    await _run(await start_clock(hass, freezer, virtual_meter, again, later), later, 1)

    summary = (await _diagnostics(hass, hass_client, again))["summary"]
    assert summary["serial_number"]["stored_in"] == ["configuration", "database"]
    assert "database" not in summary["serial_number"]["not_in"]
    assert summary["serial_number"]["device_registry_events_in_database"] == 1
    assert (
        "Your database also holds a serial number in 1 device registry event, written when a meter was removed from "
        "Home Assistant; the recorder deletes them with other events older than 10 days."
    ) in summary["statement"]


def _events_holding(hass: HomeAssistant, text: str) -> int:
    """Count the events whose data holds a text, straight from the database (in the recorder's executor)."""
    from homeassistant.components.recorder.db_schema import EventData, Events
    from homeassistant.helpers.recorder import session_scope
    from sqlalchemy import func, select

    query = (
        select(func.count(Events.event_id))
        .join(EventData, Events.data_id == EventData.data_id)
        .where(EventData.shared_data.contains(text))
    )
    with session_scope(hass=hass, read_only=True) as session:
        return int(session.execute(query).scalar() or 0)
