"""Where a meter's states go past the recorder; a repair issue when too fine a one leaves the house.

Read from Home Assistant's own configuration when asked: the entities exposed to each assistant (Assist, and the
cloud assistants when Home Assistant Cloud is set up); the conversation agents that may read what Assist exposes,
and where they run; the automatic backups that take the database off this device, encrypted or not (outbound.py);
the integrations known to send states elsewhere that are loaded. An exporter's own filter is its own configuration,
which it does not publish: an entity it may leave out is told as sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import async_listen_entity_updates, async_should_expose
from homeassistant.config_entries import SIGNAL_CONFIG_ENTRY_CHANGED
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.recorder import get_instance

from .const import DOMAIN
from .coordinator import LinkyConfigEntry
from .device import meter_id
from .issues import async_clear, async_raise
from .linky_tic import describe
from .outbound import Agent, Backups, async_prepare, backups, conversation_agents
from .privacy import FINEST_LEAVING, Signal, finer_than, signal

ASSIST: Final = "conversation"
CLOUD: Final = "cloud"
# Home Assistant Cloud's assistants: what they read goes to Amazon's or Google's servers.
CLOUD_ASSISTANTS: Final = {"cloud.alexa": "Amazon Alexa", "cloud.google_assistant": "Google Assistant"}
# Integrations of Home Assistant core that send (or serve) every state they are not told to leave out.
EXPORTERS: Final = {
    "influxdb": "InfluxDB",
    "prometheus": "Prometheus",
    "mqtt_statestream": "MQTT Statestream",
    "graphite": "Graphite",
    "datadog": "Datadog",
    "splunk": "Splunk",
    "logentries": "Logentries",
    "google_pubsub": "Google Pub/Sub",
    "azure_event_hub": "Azure Event Hub",
    "azure_data_explorer": "Azure Data Explorer",
    "apache_kafka": "Apache Kafka",
    "emoncms_history": "Emoncms history",
    "zabbix": "Zabbix",
}
ISSUE_KEY: Final = "fine_signal_leaves"
# Backup settings have no event of their own: they are read again this often, and at every other change.
RECHECK_INTERVAL: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Outward:
    """What Home Assistant is set up to send elsewhere, read once for all the entities of a meter."""

    agents: tuple[Agent, ...] = ()
    backups: Backups | None = None
    exporters: tuple[str, ...] = ()
    recorder_filter: Any = field(default=None)  # the recorder's filter; None without a recorder

    def recorded(self, entity_id: str) -> bool:
        """Tell whether the recorder writes the entity's states to the database."""
        return self.recorder_filter is not None and bool(self.recorder_filter(entity_id))


def read_outward(hass: HomeAssistant) -> Outward:
    """Read what Home Assistant is set up to send elsewhere, now."""
    recorder_filter = None
    if "recorder" in hass.config.components:
        recorder_filter = get_instance(hass).entity_filter or (lambda _: True)
    return Outward(conversation_agents(hass), backups(hass), exporters(hass), recorder_filter)


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where one entity's states go past the recorder."""

    assist: bool  # exposed to Assist: read in the house, unless a conversation agent off this device may read it
    cloud_assistants: tuple[str, ...]  # names of the cloud assistants it is exposed to
    exporters: tuple[str, ...]  # names of the loaded exporters, which send its states unless their filter says not
    agents: tuple[Agent, ...] = ()  # conversation agents off this device that may read it (exposed to Assist)
    backups: tuple[str, ...] = ()  # backup agents off this device receiving the database unencrypted
    encrypted_backups: tuple[str, ...] = ()  # the same, encrypted

    @property
    def leaves_house(self) -> bool:
        """Tell whether the entity's states leave the house (or may, by an exporter whose filter cannot be read)."""
        return bool(self.cloud_assistants or self.exporters or self.agents or self.backups)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the names of what takes its states out of the house."""
        return (*self.cloud_assistants, *(agent.name for agent in self.agents), *self.exporters, *self.backups)


def exporters(hass: HomeAssistant) -> tuple[str, ...]:
    """Return the names of the known exporters loaded in this Home Assistant."""
    return tuple(name for domain, name in EXPORTERS.items() if domain in hass.config.components)


def destinations(hass: HomeAssistant, entity_id: str, enabled: bool, outward: Outward) -> Destinations:
    """Tell where an entity's states go; a disabled entity writes none, so goes nowhere."""
    if not enabled:
        return Destinations(assist=False, cloud_assistants=(), exporters=())
    exposed = set()
    if DATA_EXPOSED_ENTITIES in hass.data:
        assistants = [ASSIST, *(CLOUD_ASSISTANTS if CLOUD in hass.config.components else ())]
        exposed = {assistant for assistant in assistants if async_should_expose(hass, assistant, entity_id)}
    off_device = outward.backups.database_off_device if outward.backups and outward.recorded(entity_id) else ()
    return Destinations(
        assist=ASSIST in exposed,
        cloud_assistants=tuple(name for key, name in CLOUD_ASSISTANTS.items() if key in exposed),
        exporters=outward.exporters,
        agents=tuple(agent for agent in outward.agents if agent.leaves) if ASSIST in exposed else (),
        backups=tuple(target.name for target in off_device if not target.encrypted),
        encrypted_backups=tuple(target.name for target in off_device if target.encrypted),
    )


def issue_id(entry_id: str) -> str:
    """Return the id of an entry's repair issue about a fine signal leaving the house."""
    return f"{ISSUE_KEY}_{entry_id}"


class LeavingWatch:
    """Keep an entry's repair issue raised while an instantaneous signal finer than half-hourly leaves the house."""

    def __init__(self, hass: HomeAssistant, entry: LinkyConfigEntry) -> None:
        """Watch the entities of a set-up entry."""
        self.hass = hass
        self.entry = entry
        self.raised: tuple[str, ...] = ()
        self._names: tuple[str, ...] = ()
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._assistants_watched = False

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check now, and again whenever what decides it changes; return what stops the watch and clears the issue."""
        self._unsubscribe += [
            self.hass.bus.async_listen(EVENT_COMPONENT_LOADED, self._changed),
            self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._changed),
            async_dispatcher_connect(self.hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._entry_changed),
            async_track_time_interval(self.hass, self._changed, RECHECK_INTERVAL, cancel_on_shutdown=True),
        ]
        self.check()
        return self._stop

    @callback
    def _changed(self, _: Event[Any] | Any = None) -> None:
        self.hass.async_create_background_task(self._async_check(), f"{DOMAIN} destinations check", eager_start=True)

    async def _async_check(self) -> None:
        await async_prepare(self.hass)  # a new agent's manifest: its name, where it runs
        self.check()

    @callback
    def _entry_changed(self, _change: Any, entry: Any) -> None:
        # A conversation agent's settings (its subentries) changed; this entry's own changes reload it.
        if entry.entry_id != self.entry.entry_id:
            self.check()

    @callback
    def check(self) -> None:
        """Raise the issue, or clear it, as the entities' destinations are now."""
        self._watch_assistants()
        leaves = [(entity_id, where) for entity_id, where in self._fine_entities() if where.leaves_house]
        leaving = tuple(sorted(entity_id for entity_id, _ in leaves))
        names = tuple(sorted({name for _, where in leaves for name in where.names}))
        if (leaving, names) == (self.raised, self._names):
            return
        self.raised, self._names = leaving, names
        if not leaving:
            async_clear(self.hass, issue_id(self.entry.entry_id))
            return
        async_raise(
            self.hass,
            issue_id(self.entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_KEY,
            translation_placeholders={
                "name": self.entry.title,
                "entities": ", ".join(leaving),
                "destinations": ", ".join(names),
            },
        )

    def _fine_entities(self) -> Iterable[tuple[str, Destinations]]:
        coordinator = self.entry.runtime_data
        if not finer_than(coordinator.publisher.level, FINEST_LEAVING):
            return
        prefix = f"{meter_id(self.entry)}_"
        registry = er.async_get(self.hass)
        outward = read_outward(self.hass)
        for reg in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            label = reg.unique_id.removeprefix(prefix)
            if signal(describe(coordinator.mode, label)) is Signal.INSTANTANEOUS:
                yield reg.entity_id, destinations(self.hass, reg.entity_id, not reg.disabled, outward)

    def _watch_assistants(self) -> None:
        """Follow the assistants' exposure settings once Home Assistant's exposed entities exist."""
        if self._assistants_watched or DATA_EXPOSED_ENTITIES not in self.hass.data:
            return
        self._assistants_watched = True
        self._unsubscribe += [
            async_listen_entity_updates(self.hass, assistant, self._changed)
            for assistant in (ASSIST, *CLOUD_ASSISTANTS)
        ]

    @callback
    def _stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.raised = ()
        async_clear(self.hass, issue_id(self.entry.entry_id))
