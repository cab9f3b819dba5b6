"""Where a meter's states go past the recorder: voice assistants, exporters; a repair issue when too fine a one leaves.

Read from Home Assistant's own configuration when asked: the entities exposed to each assistant (Assist, and the
cloud assistants when Home Assistant Cloud is set up), and the integrations known to send states elsewhere that are
loaded. An exporter's own filter is its own configuration, which it does not publish: an entity it may leave out is
told as sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import async_listen_entity_updates, async_should_expose
from homeassistant.const import EVENT_COMPONENT_LOADED
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from .const import DOMAIN
from .coordinator import LinkyConfigEntry
from .device import meter_id
from .linky_tic import describe
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


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where one entity's states go past the recorder."""

    assist: bool  # exposed to Assist: read in the house, unless Assist talks to a conversation agent in the cloud
    cloud_assistants: tuple[str, ...]  # names of the cloud assistants it is exposed to
    exporters: tuple[str, ...]  # names of the loaded exporters, which send its states unless their filter says not

    @property
    def leaves_house(self) -> bool:
        """Tell whether the entity's states leave the house (or may, by an exporter whose filter cannot be read)."""
        return bool(self.cloud_assistants or self.exporters)


def exporters(hass: HomeAssistant) -> tuple[str, ...]:
    """Return the names of the known exporters loaded in this Home Assistant."""
    return tuple(name for domain, name in EXPORTERS.items() if domain in hass.config.components)


def destinations(hass: HomeAssistant, entity_id: str, enabled: bool) -> Destinations:
    """Tell where an entity's states go; a disabled entity writes none, so goes nowhere."""
    if not enabled:
        return Destinations(assist=False, cloud_assistants=(), exporters=())
    exposed = set()
    if DATA_EXPOSED_ENTITIES in hass.data:
        assistants = [ASSIST, *(CLOUD_ASSISTANTS if CLOUD in hass.config.components else ())]
        exposed = {assistant for assistant in assistants if async_should_expose(hass, assistant, entity_id)}
    return Destinations(
        assist=ASSIST in exposed,
        cloud_assistants=tuple(name for key, name in CLOUD_ASSISTANTS.items() if key in exposed),
        exporters=exporters(hass),
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
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._assistants_watched = False

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check now, and again whenever what decides it changes; return what stops the watch and clears the issue."""
        self._unsubscribe += [
            self.hass.bus.async_listen(EVENT_COMPONENT_LOADED, self._changed),
            self.hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, self._changed),
        ]
        self.check()
        return self._stop

    @callback
    def _changed(self, _: Event[Any] | None = None) -> None:
        self.check()

    @callback
    def check(self) -> None:
        """Raise the issue, or clear it, as the entities' destinations are now."""
        self._watch_assistants()
        leaves = [(entity_id, where) for entity_id, where in self._fine_entities() if where.leaves_house]
        leaving = tuple(sorted(entity_id for entity_id, _ in leaves))
        if leaving == self.raised:
            return
        self.raised = leaving
        if not leaving:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(self.entry.entry_id))
            return
        names = sorted({name for _, where in leaves for name in _names(where)})
        ir.async_create_issue(
            self.hass,
            DOMAIN,
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
        for reg in er.async_entries_for_config_entry(registry, self.entry.entry_id):
            label = reg.unique_id.removeprefix(prefix)
            if signal(describe(coordinator.mode, label)) is Signal.INSTANTANEOUS:
                yield reg.entity_id, destinations(self.hass, reg.entity_id, not reg.disabled)

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
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(self.entry.entry_id))


def _names(where: Destinations) -> tuple[str, ...]:
    return (*where.cloud_assistants, *where.exporters) if where.leaves_house else ()
