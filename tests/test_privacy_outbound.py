"""The ledger follows a meter's states to conversation agents and off-site backups, as Home Assistant is set up.

Conversation agents: the config entries and subentries of Home Assistant's own integrations (OpenAI, Ollama), their
conversation entities in the entity registry (their Python requirements are not in the test venvs, so they are not
set up: their manifests are read, as the ledger reads them). Backups: Home Assistant's own backup integration, set
up, with its local agent and an off-site agent of a test integration, configured through its own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from homeassistant.components.backup import AgentBackup, BackupAgent
from homeassistant.components.backup.config import ScheduleRecurrence
from homeassistant.components.backup.const import DATA_MANAGER
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockModule, mock_integration, mock_platform
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.destinations import issue_id

from .conftest import Clock
from .test_ledger_truth import (  # noqa: F401 - the recorder's fixture
    _diagnostics,
    _run,
    mock_recorder_before_hass,
    start as start,  # noqa: PLC0414 - the fixture setting the entry up on the recorder
)
from .test_privacy_ledger import POWER, T0, privacy_level  # noqa: F401 - the fixture: the default level

OFFSITE = "offsite_vault"
UNENCRYPTED = "Automatic backups take the database, with its states, to Vault Storage, unencrypted: this leaves the "
UNENCRYPTED += "house."
ENCRYPTED = "Automatic backups take the database, with its states, to Vault Storage, encrypted: it leaves the house, "
ENCRYPTED += "readable only with your backup encryption key."


def _agent_entry(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, domain: str, data: dict[str, Any], apis: list[str]
) -> MockConfigEntry:
    """Add a conversation agent as its integration stores it: an entry, a conversation subentry, its entity."""
    entry = MockConfigEntry(
        domain=domain,
        data=data,
        subentries_data=[
            ConfigSubentryData(
                data={"llm_hass_api": apis}, subentry_type="conversation", title="Assistant", unique_id=None
            )
        ],
    )
    entry.add_to_hass(hass)
    [subentry_id] = entry.subentries
    entity_registry.async_get_or_create(
        "conversation", domain, f"{domain}_agent", config_entry=entry, config_subentry_id=subentry_id
    )
    return entry


async def _ledger(hass: HomeAssistant, client: ClientSessionGenerator, entry: MockConfigEntry) -> dict[str, Any]:
    diagnostics = await _diagnostics(hass, client, entry)
    [power] = diagnostics["ledger"]["SINSTS"]["entities"]
    return {"power": power, "summary": diagnostics["summary"]}


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry.entry_id))


async def test_a_cloud_agent_allowed_to_control_home_assistant(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
) -> None:
    """OpenAI may control Home Assistant: the power exposed to Assist leaves the house with each request."""
    assert await async_setup_component(hass, "homeassistant", {})
    openai = _agent_entry(hass, entity_registry, "openai_conversation", {"api_key": "k"}, ["assist"])
    clock = await start()
    await _run(clock, T0, 1)
    assert _issue(hass, mock_config_entry) is None  # not exposed: OpenAI reads nothing of it

    async_expose_entity(hass, "conversation", POWER, True)
    await hass.async_block_till_done()

    ledger = await _ledger(hass, hass_client, mock_config_entry)
    assert ledger["power"]["read_by_conversation_agents_off_device"] == ["OpenAI"]
    assert ledger["power"]["leaves_the_house"] is True
    assert ledger["power"]["in_words"][1:3] == [
        "Exposed to Assist: your voice assistant can read it.",
        (
            "OpenAI, a conversation agent allowed to control Home Assistant, is a service on the internet: it "
            "receives its state with each request: this leaves the house."
        ),
    ]
    assert ledger["summary"]["conversation_agents"] == [
        {"name": "OpenAI", "may_read_exposed_entities": True, "runs": "remote"}
    ]
    assert (
        "OpenAI, a conversation agent allowed to control Home Assistant, is a service on the internet: it "
        in (ledger["summary"]["statement"])
    )
    issue = _issue(hass, mock_config_entry)
    assert issue is not None
    assert issue.translation_placeholders["entities"] == POWER
    assert issue.translation_placeholders["destinations"] == "OpenAI"

    # The household turns off "Control Home Assistant" in the agent's settings: nothing leaves, the issue clears.
    [subentry] = openai.subentries.values()
    hass.config_entries.async_update_subentry(openai, subentry, data={"llm_hass_api": []})
    await hass.async_block_till_done()
    assert _issue(hass, mock_config_entry) is None
    ledger = await _ledger(hass, hass_client, mock_config_entry)
    assert ledger["power"]["leaves_the_house"] is False
    assert ledger["power"]["in_words"][1] == (
        "Exposed to Assist: your voice assistant can read it; no conversation agent off this device may read it, "
        "so this stays in the house."
    )


@pytest.mark.parametrize(
    ("url", "runs", "leaves"),
    [("http://localhost:11434", "device", False), ("http://192.168.1.20:11434", "other_host", True)],
)
async def test_a_local_server(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
    url: str,
    runs: str,
    leaves: bool,
) -> None:
    """Ollama on this device keeps the power in the house; on another machine, it leaves this device, and says so."""
    assert await async_setup_component(hass, "homeassistant", {})
    _agent_entry(hass, entity_registry, "ollama", {"url": url}, ["assist"])
    clock = await start()
    await _run(clock, T0, 1)
    async_expose_entity(hass, "conversation", POWER, True)
    await hass.async_block_till_done()

    ledger = await _ledger(hass, hass_client, mock_config_entry)
    assert ledger["summary"]["conversation_agents"] == [
        {"name": "Ollama", "may_read_exposed_entities": True, "runs": runs}
    ]
    assert ledger["power"]["leaves_the_house"] is leaves
    statement = ledger["summary"]["statement"]
    said = "Ollama, a conversation agent allowed to control Home Assistant, runs on another machine: it receives "
    assert (said in statement) is leaves
    assert ("no conversation agent off this device may read them, so this stays in the house." in statement) is not (
        leaves
    )
    issue = _issue(hass, mock_config_entry)
    assert (issue is not None) is leaves
    if issue is not None:
        assert issue.translation_placeholders["destinations"] == "Ollama"


class _OffsiteAgent(BackupAgent):
    """A backup agent off this device (a test integration's): the backup manager lists it; nothing is uploaded."""

    domain = OFFSITE
    name = "vault"
    unique_id = "vault"

    async def async_download_backup(self, backup_id: str, **kwargs: Any) -> AsyncIterator[bytes]:
        raise NotImplementedError

    async def async_upload_backup(self, **kwargs: Any) -> None:
        raise NotImplementedError

    async def async_delete_backup(self, backup_id: str, **kwargs: Any) -> None:
        raise NotImplementedError

    async def async_list_backups(self, **kwargs: Any) -> list[AgentBackup]:
        return []

    async def async_get_backup(self, backup_id: str, **kwargs: Any) -> AgentBackup:
        raise NotImplementedError


async def _set_up_backups(hass: HomeAssistant) -> None:
    """Home Assistant's backup integration, with its local agent and an off-site one."""
    mock_integration(hass, MockModule(OFFSITE, partial_manifest={"name": "Vault Storage"}))

    async def agents(hass: HomeAssistant) -> list[BackupAgent]:
        return [_OffsiteAgent()]

    mock_platform(hass, f"{OFFSITE}.backup", type("Platform", (), {"async_get_backup_agents": staticmethod(agents)}))
    assert await async_setup_component(hass, OFFSITE, {})
    assert await async_setup_component(hass, "backup", {})
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("password", "protected", "sentence"),
    [(None, True, UNENCRYPTED), ("a long passphrase", False, UNENCRYPTED), ("a long passphrase", True, ENCRYPTED)],
    ids=["no_password", "agent_not_protected", "encrypted"],
)
async def test_off_site_backups(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    password: str | None,
    protected: bool,
    sentence: str,
) -> None:
    """The database in automatic backups sent off this device: unencrypted, it leaves the house; encrypted, said so."""
    await _set_up_backups(hass)
    manager = hass.data[DATA_MANAGER]
    assert set(manager.backup_agents) == {"backup.local", f"{OFFSITE}.vault"}
    manager.config.update(
        create_backup={
            "agent_ids": ["backup.local", f"{OFFSITE}.vault"],
            "include_database": True,
            "password": password,
        },
        schedule={"recurrence": ScheduleRecurrence.DAILY},
        agents={f"{OFFSITE}.vault": {"protected": protected}},
    )
    clock = await start()
    await _run(clock, T0, 1)

    ledger = await _ledger(hass, hass_client, mock_config_entry)
    encrypted = sentence == ENCRYPTED
    assert ledger["power"]["backed_up_off_device"] == {
        "unencrypted": [] if encrypted else ["Vault Storage"],
        "encrypted": ["Vault Storage"] if encrypted else [],
    }
    assert ledger["power"]["in_words"][-1] == sentence
    assert ledger["power"]["leaves_the_house"] is not encrypted
    assert ledger["summary"]["automatic_backups"] == {
        "scheduled": True,
        "include_database": True,
        "agents": [
            {"name": "Backup", "on_this_device": True, "encrypted": password is not None},
            {"name": "Vault Storage", "on_this_device": False, "encrypted": encrypted},
        ],
    }
    issue = _issue(hass, mock_config_entry)
    assert (issue is not None) is not encrypted
    if issue is not None:
        assert issue.translation_placeholders["destinations"] == "Vault Storage"

    # The database left out of the backups: nothing of the meter goes with them; the issue clears at the next check.
    manager.config.update(create_backup={"include_database": False})
    ledger = await _ledger(hass, hass_client, mock_config_entry)
    assert ledger["power"]["backed_up_off_device"] == {"unencrypted": [], "encrypted": []}
    await clock.advance(3600)
    assert _issue(hass, mock_config_entry) is None
    manager.config.update(schedule={"recurrence": ScheduleRecurrence.NEVER})  # the backup manager's timer stops


async def test_home_assistant_clouds_own_agent(
    start: Callable[[], Awaitable[Clock]],
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entity_registry: er.EntityRegistry,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Home Assistant Cloud's conversation agent always uses the Assist API: no setting says so, it reads the house."""
    assert await async_setup_component(hass, "homeassistant", {})
    _agent_entry(hass, entity_registry, "cloud", {}, [])
    clock = await start()
    await _run(clock, T0, 1)
    async_expose_entity(hass, "conversation", POWER, True)
    await hass.async_block_till_done()

    ledger = await _ledger(hass, hass_client, mock_config_entry)
    assert ledger["summary"]["conversation_agents"] == [
        {"name": "Home Assistant Cloud", "may_read_exposed_entities": True, "runs": "remote"}
    ]
    assert ledger["power"]["read_by_conversation_agents_off_device"] == ["Home Assistant Cloud"]
    issue = _issue(hass, mock_config_entry)
    assert issue is not None
    assert issue.translation_placeholders["destinations"] == "Home Assistant Cloud"
