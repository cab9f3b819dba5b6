"""What Home Assistant's own configuration says of two ways a house's states reach other machines.

- Conversation agents (OpenAI, Anthropic, Google Generative AI, OpenRouter, Home Assistant Cloud, Ollama...): each
  conversation entity's config entry (or subentry) says whether it may use Home Assistant's LLM API `assist`, which
  gives it the states of the entities exposed to Assist with each request; its integration's manifest says whether
  it calls a service on the internet, and a local server's URL whether it runs on this device or another machine.
- Backups: the backup manager's stored settings say whether automatic backups run, whether they include the
  database (every recorded state), to which agents they go, and whether each agent's copy is encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import ipaddress
from typing import Any, Final
from urllib.parse import urlsplit

from homeassistant.const import CONF_LLM_HASS_API
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.llm import LLM_API_ASSIST
from homeassistant.loader import IntegrationNotLoaded, async_get_integrations, async_get_loaded_integration

CONVERSATION: Final = "conversation"
BACKUP: Final = "backup"
# Home Assistant Cloud's conversation agent always uses the Assist API; it has no setting for it.
_ALWAYS_ASSIST: Final = frozenset({"cloud"})
# Integrations that talk to a server the household runs, when their manifest cannot be read (not loaded).
_LOCAL_SERVERS: Final = frozenset({"ollama", "llama_cpp"})
# Where a local server's address is, in its config entry's data.
_URL_KEYS: Final = ("url", "base_url", "host")


class Runs(StrEnum):
    """Where a conversation agent runs."""

    DEVICE = "device"  # on the machine that runs Home Assistant
    OTHER_HOST = "other_host"  # a server on another machine: the states leave this device
    REMOTE = "remote"  # a service on the internet


@dataclass(frozen=True, slots=True)
class Agent:
    """A conversation agent set up in Home Assistant."""

    name: str
    reads_house: bool  # it may use the Assist API: the exposed entities' states go with each request
    runs: Runs

    @property
    def leaves(self) -> bool:
        """Tell whether what it reads of the house leaves this device."""
        return self.reads_house and self.runs is not Runs.DEVICE


@dataclass(frozen=True, slots=True)
class BackupTarget:
    """A backup agent automatic backups go to."""

    name: str
    domain: str
    local: bool  # this device's own disk
    encrypted: bool


@dataclass(frozen=True, slots=True)
class Backups:
    """Home Assistant's automatic backups, as its settings are."""

    automatic: bool
    database: bool  # the database (every recorded state) is in them
    targets: tuple[BackupTarget, ...]

    @property
    def database_off_device(self) -> tuple[BackupTarget, ...]:
        """Return the agents automatic backups take the database to, off this device."""
        if not self.automatic or not self.database:
            return ()
        return tuple(target for target in self.targets if not target.local)


async def async_prepare(hass: HomeAssistant) -> None:
    """Read the manifests of the integrations behind conversation agents and backup agents (names, iot_class)."""
    domains = {
        entry.domain
        for reg in er.async_get(hass).entities.values()
        if reg.domain == CONVERSATION
        and reg.config_entry_id
        and (entry := hass.config_entries.async_get_entry(reg.config_entry_id)) is not None
    }
    if (found := backups(hass)) is not None:
        domains |= {target.domain for target in found.targets}
    unknown = [domain for domain in domains if not _known(hass, domain)]
    if unknown:
        await async_get_integrations(hass, unknown)


def _known(hass: HomeAssistant, domain: str) -> bool:
    try:
        async_get_loaded_integration(hass, domain)
    except IntegrationNotLoaded:
        return False
    return True


def integration_name(hass: HomeAssistant, domain: str) -> str:
    """Return an integration's name once its manifest was read, else its domain."""
    try:
        return async_get_loaded_integration(hass, domain).name
    except IntegrationNotLoaded:
        return domain


def conversation_agents(hass: HomeAssistant) -> tuple[Agent, ...]:
    """Return the conversation agents of enabled config entries, from the entity registry and their entries."""
    agents = []
    for reg in er.async_get(hass).entities.values():
        if reg.domain != CONVERSATION or reg.disabled or reg.config_entry_id is None:
            continue
        entry = hass.config_entries.async_get_entry(reg.config_entry_id)
        if entry is None or entry.disabled_by is not None:
            continue
        subentry = entry.subentries.get(reg.config_subentry_id) if reg.config_subentry_id else None
        settings: Any = subentry.data if subentry is not None else entry.options
        apis = settings.get(CONF_LLM_HASS_API) or []
        reads = entry.domain in _ALWAYS_ASSIST or LLM_API_ASSIST in ([apis] if isinstance(apis, str) else apis)
        agents.append(Agent(integration_name(hass, entry.domain), reads, _runs(hass, entry.domain, entry.data)))
    return tuple(sorted(set(agents), key=lambda agent: agent.name))


def _runs(hass: HomeAssistant, domain: str, data: Any) -> Runs:
    try:
        local = str(async_get_loaded_integration(hass, domain).manifest.get("iot_class", "")).startswith("local")
    except IntegrationNotLoaded:
        local = domain in _LOCAL_SERVERS
    if not local:
        return Runs.REMOTE
    address = next((str(data[key]) for key in _URL_KEYS if data.get(key)), None)
    return Runs.DEVICE if address is None or _on_this_device(address) else Runs.OTHER_HOST


def _on_this_device(address: str) -> bool:
    host = urlsplit(address if "://" in address else f"//{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def backups(hass: HomeAssistant) -> Backups | None:
    """Return the automatic backups' settings; None when the backup integration is not loaded."""
    if BACKUP not in hass.config.components:
        return None
    # Imported here: the backup integration's modules are loaded only where it is.
    from homeassistant.components.backup.config import ScheduleRecurrence
    from homeassistant.components.backup.const import DATA_MANAGER

    if (manager := hass.data.get(DATA_MANAGER)) is None:
        return None
    config = manager.config.data
    password = config.create_backup.password
    targets = []
    for agent_id in config.create_backup.agent_ids:
        agent = manager.backup_agents.get(agent_id)
        domain = agent.domain if agent is not None else agent_id.partition(".")[0]
        settings = config.agents.get(agent_id)
        targets.append(
            BackupTarget(
                name=integration_name(hass, domain),
                domain=domain,
                local=agent_id in manager.local_backup_agents,
                encrypted=password is not None and (settings.protected if settings is not None else True),
            )
        )
    return Backups(
        automatic=config.schedule.recurrence is not ScheduleRecurrence.NEVER,
        database=config.create_backup.include_database,
        targets=tuple(targets),
    )
