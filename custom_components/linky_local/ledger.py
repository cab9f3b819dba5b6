"""The privacy ledger: what Home Assistant keeps of a meter's values and where they go, told to the household.

Facts first, read when asked: the states each entity stored, counted in the recorder's own database (in its
executor); the recorder's retention and filter; long-term statistics; the assistants each entity is exposed to and the
exporters loaded. Then words, in the server's language, from those facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import reduce
import json
from pathlib import Path
from typing import Any, Final

from homeassistant.components.sensor import ATTR_STATE_CLASS
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance, session_scope
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .binary_sensor import BINARY_SENSORS
from .const import DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .destinations import Destinations, Outward, destinations, read_outward
from .device import meter_id
from .entity import LinkyEntityDescription, translation_key
from .linky_tic import Mode, PrivacyClass, describe
from .outbound import async_prepare
from .privacy import PrivacyLevel, Signal, fine_keep_days, power_statistics, publishes
from .sensor import LINK_SENSORS, SENSORS

RECENT: Final = timedelta(hours=1)
_DESCRIPTIONS: Final[dict[Platform, Mapping[Mode, Sequence[LinkyEntityDescription]]]] = {
    Platform.SENSOR: SENSORS,
    Platform.BINARY_SENSOR: BINARY_SENSORS,
}
_WINDOWS: Final = {PrivacyLevel.MINUTE: "minute", PrivacyLevel.HALF_HOURLY: "half_hour", PrivacyLevel.DAILY: "day"}


class Publishing(StrEnum):
    """When a label's entities write their state at a privacy level."""

    ON_CHANGE = "on_change"
    EVERY_FRAME = "every_frame"  # at `live`: each frame, when it changed
    MEAN = "mean"  # the time-weighted mean over each window
    LAST_VALUE = "last_value"  # the last value at the end of each window
    NEVER = "never"  # the level does not publish it


class NoEntity(StrEnum):
    """Why a label the meter sent has no entity."""

    UNKNOWN = "unknown"  # a label the integration does not know
    IDENTIFIER = "identifier"  # the serial number, the PRM: never an entity, never kept
    NOT_PUBLISHED = "not_published"  # the privacy level does not publish it
    NOT_YET = "not_yet"  # created once the meter's values call for it
    DECODED = "decoded"  # decoded into other entities, or kept only for them


def publishing(level: PrivacyLevel, label: str, kind: Signal) -> Publishing:
    """Say when a label's entities write their state at a privacy level."""
    if not publishes(level, label, kind):
        return Publishing.NEVER
    if kind is Signal.STATE:
        return Publishing.ON_CHANGE
    if level is PrivacyLevel.LIVE:
        return Publishing.EVERY_FRAME
    return Publishing.MEAN if kind is Signal.INSTANTANEOUS else Publishing.LAST_VALUE


@dataclass(frozen=True, slots=True)
class Recorder:
    """What the recorder does, from its configuration; None when it is not loaded."""

    keep_days: int
    keeps: Callable[[str], bool]  # its include/exclude filter


@dataclass(frozen=True, slots=True)
class Stored:
    """The rows of an entity's states in the recorder's database."""

    last_hour: int
    total: int


@dataclass(frozen=True, slots=True)
class EntityFacts:
    """What is known of one entity of the meter."""

    entity_id: str
    enabled: bool
    recorded: bool | None  # None: no recorder
    stored: Stored | None  # None: no recorder
    statistics: bool  # the recorder compiles long-term statistics of it
    destinations: Destinations


@dataclass(frozen=True, slots=True)
class LabelFacts:
    """What is known of one label the meter sent."""

    label: str
    privacy: PrivacyClass | None
    signal: Signal
    publishing: Publishing
    entities: tuple[EntityFacts, ...]
    no_entity: NoEntity | None


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """Everything the ledger tells, before it is put in words."""

    level: PrivacyLevel
    recorder: Recorder | None
    labels: tuple[LabelFacts, ...]
    link_entities: tuple[EntityFacts, ...]
    outward: Outward
    fine_keep_days: int | None = None  # the household's retention of fine states, when shorter than the recorder's
    identifier_events: int | None = None  # device registry events in the database naming a meter; None: no recorder
    power_statistics: bool = True  # power, currents and voltages keep long-term statistics

    @property
    def exporters(self) -> tuple[str, ...]:
        """Return the names of the exporters loaded."""
        return self.outward.exporters


async def async_read(hass: HomeAssistant, entry: LinkyConfigEntry) -> LedgerFacts:
    """Read the ledger's facts now: the counts from the recorder's database, in the recorder's executor."""
    coordinator: LinkyCoordinator = entry.runtime_data
    registry = er.async_get(hass)
    meter = meter_id(entry)
    recorder = _recorder(hass)
    await async_prepare(hass)
    outward = read_outward(hass)
    by_label: dict[str, list[tuple[str, str]]] = {}
    for platform, descriptions in _DESCRIPTIONS.items():
        for description in descriptions[coordinator.mode]:
            by_label.setdefault(description.label, []).append((platform, description.key))
    entity_ids = {
        (platform, key): entity_id
        for platform, key in [*(pair for pairs in by_label.values() for pair in pairs)]
        + [(Platform.SENSOR, description.key) for description in LINK_SENSORS]
        if (entity_id := registry.async_get_entity_id(platform, DOMAIN, f"{meter}_{key}")) is not None
    }
    stored: dict[str, Stored] = {}
    identifier_events = None
    if recorder is not None:
        identifier_events = await get_instance(hass).async_add_executor_job(_count_identifier_events, hass)
    if recorder is not None and entity_ids:
        since = dt_util.utcnow() - RECENT
        stored = await get_instance(hass).async_add_executor_job(
            _count_states, hass, sorted(set(entity_ids.values())), since
        )

    def facts(entity_id: str) -> EntityFacts:
        reg = registry.async_get(entity_id)
        enabled = reg is not None and not reg.disabled
        recorded = None if recorder is None else enabled and recorder.keeps(entity_id)
        state = hass.states.get(entity_id)
        return EntityFacts(
            entity_id=entity_id,
            enabled=enabled,
            recorded=recorded,
            stored=None if recorder is None else stored.get(entity_id, Stored(0, 0)),
            statistics=bool(recorded and state is not None and state.attributes.get(ATTR_STATE_CLASS)),
            destinations=destinations(hass, entity_id, enabled, outward),
        )

    labels = []
    for label in sorted(coordinator.values.seen):
        kind = coordinator.publisher.signal(label)
        entities = tuple(facts(entity_ids[pair]) for pair in by_label.get(label, []) if pair in entity_ids)
        labels.append(
            LabelFacts(
                label=label,
                privacy=spec.privacy if (spec := describe(coordinator.mode, label)) else None,
                signal=kind,
                publishing=publishing(coordinator.publisher.level, label, kind),
                entities=entities,
                no_entity=None if entities else _no_entity(coordinator, label, label in by_label),
            )
        )
    link = tuple(
        facts(entity_id)
        for description in LINK_SENSORS
        if (entity_id := entity_ids.get((Platform.SENSOR, description.key))) is not None
    )
    return LedgerFacts(
        coordinator.publisher.level,
        recorder,
        tuple(labels),
        link,
        outward,
        fine_keep_days(entry),
        identifier_events,
        power_statistics(entry),
    )


def _recorder(hass: HomeAssistant) -> Recorder | None:
    if "recorder" not in hass.config.components:
        return None
    instance = get_instance(hass)
    entity_filter = instance.entity_filter
    return Recorder(instance.keep_days, entity_filter or (lambda _: True))


def _count_states(hass: HomeAssistant, entity_ids: list[str], since: datetime) -> dict[str, Stored]:
    """Count each entity's rows in the states table, in all and since a moment (run in the recorder's executor)."""
    # Imported here: the recorder's modules load SQLAlchemy, which a Home Assistant without a recorder never needs.
    from homeassistant.components.recorder.db_schema import States, StatesMeta
    from sqlalchemy import case, func, select

    recent = func.sum(case((States.last_updated_ts >= since.timestamp(), 1), else_=0))
    query = (
        select(StatesMeta.entity_id, func.count(States.state_id), recent)
        .join(States, States.metadata_id == StatesMeta.metadata_id)
        .where(StatesMeta.entity_id.in_(entity_ids))
        .group_by(StatesMeta.entity_id)
    )
    with session_scope(hass=hass, read_only=True) as session:
        return {entity_id: Stored(int(last or 0), total) for entity_id, total, last in session.execute(query)}


def _count_identifier_events(hass: HomeAssistant) -> int:
    """Count the device registry's events in the database that name a device of this integration.

    Removing a device (a meter deleted from Home Assistant) records the device as it was, its identifiers (the
    serial number) included, until the recorder purges the event. Run in the recorder's executor.
    """
    from homeassistant.components.recorder.db_schema import EventData, Events, EventTypes
    from homeassistant.helpers.device_registry import EVENT_DEVICE_REGISTRY_UPDATED
    from sqlalchemy import func, select

    query = (
        select(func.count(Events.event_id))
        .join(EventTypes, Events.event_type_id == EventTypes.event_type_id)
        .join(EventData, Events.data_id == EventData.data_id)
        .where(EventTypes.event_type == EVENT_DEVICE_REGISTRY_UPDATED)
        .where(EventData.shared_data.like(f'%"{DOMAIN}"%'))
    )
    with session_scope(hass=hass, read_only=True) as session:
        return int(session.execute(query).scalar() or 0)


def _no_entity(coordinator: LinkyCoordinator, label: str, described: bool) -> NoEntity:
    spec = describe(coordinator.mode, label)
    if spec is None:
        return NoEntity.UNKNOWN
    if spec.privacy is PrivacyClass.IDENTIFIER:
        return NoEntity.IDENTIFIER
    if described:
        return NoEntity.NOT_YET if coordinator.publisher.publishes(label) else NoEntity.NOT_PUBLISHED
    return NoEntity.DECODED


# --- Words ---------------------------------------------------------------------------------------------------------


WORDS_DIR: Final = Path(__file__).parent / "words"


def _load_words(language: str) -> dict[str, str]:
    """Read the ledger's own strings: English, overlaid with the language's (run in the executor)."""
    words: dict[str, str] = json.loads((WORDS_DIR / "en.json").read_text(encoding="utf-8"))
    for name in dict.fromkeys((language.partition("-")[0], language)):
        if name != "en" and (path := WORDS_DIR / f"{name}.json").is_file():
            words |= json.loads(path.read_text(encoding="utf-8"))
    return words


class Words:
    """The ledger's sentences in the server's language (English for what a language lacks).

    The sentences are the ledger's own strings (words/<language>.json); the entities' names are their translations.
    """

    def __init__(self, words: Mapping[str, str], strings: Mapping[str, str]) -> None:
        """Use the ledger's own strings, and the entity translations flattened as Home Assistant gives them."""
        self._words = words
        self._strings = strings

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> Words:
        """Load the ledger's words and the entities' names in the server's language."""
        language = hass.config.language
        words = await hass.async_add_executor_job(_load_words, language)
        return cls(words, await async_get_translations(hass, language, "entity", [DOMAIN]))

    def __call__(self, key: str, **placeholders: object) -> str:
        """Return a ledger sentence with its placeholders filled in."""
        text = self._words.get(key, key)
        return text.format(**placeholders) if placeholders else text

    def meaning(self, mode: Mode, label: str) -> str | None:
        """Return what a label means: its entity's name, or the ledger's own words for a label without one."""
        key = translation_key(label)
        for platform in (Platform.SENSOR, Platform.BINARY_SENSOR):
            if (name := self._strings.get(f"component.{DOMAIN}.entity.{platform}.{key}.name")) is not None:
                return name
        if (text := self._words.get(f"meaning_{key}")) is not None:
            return text
        spec = describe(mode, label)
        return spec.meaning if spec else None

    def entities(self, count: int) -> str:
        """Return "1 entity", "3 entities"."""
        return self("entities_one" if count == 1 else "entities_other", count=count)

    def days(self, count: int) -> str:
        """Return "1 day", "7 days"."""
        return self("days_one" if count == 1 else "days_other", count=count)

    def publishing(self, level: PrivacyLevel, how: Publishing) -> str:
        """Word when entities write their state."""
        window = self(f"window_{_WINDOWS[level]}") if level in _WINDOWS else ""
        return self(f"published_{how}", window=window)


def as_diagnostics(facts: LedgerFacts, words: Words, mode: Mode) -> dict[str, Any]:
    """Put the facts in words: the summary, then each label, then the link's own entities."""
    return {
        "summary": summary(facts, words),
        "privacy_level": facts.level,
        "ledger": {label.label: _label(facts, label, words, mode) for label in facts.labels},
        "other_entities": [_entity(facts, entity, words) for entity in facts.link_entities],
    }


def _label(facts: LedgerFacts, label: LabelFacts, words: Words, mode: Mode) -> dict[str, Any]:
    return {
        "meaning": words.meaning(mode, label.label),
        "privacy_class": label.privacy,
        "signal": label.signal,
        "published": label.publishing if label.entities else Publishing.NEVER,
        "published_words": words.publishing(facts.level, label.publishing)
        if label.entities
        else words("published_no_entity"),
        "is_entity": bool(label.entities),
        "entities": [_entity(facts, entity, words, label.signal) for entity in label.entities],
        **({"why_no_entity": words(f"why_{label.no_entity}")} if label.no_entity else {}),
    }


def _entity(facts: LedgerFacts, entity: EntityFacts, words: Words, kind: Signal = Signal.STATE) -> dict[str, Any]:
    where = entity.destinations
    return {
        "entity_id": entity.entity_id,
        "enabled": entity.enabled,
        "recorded": entity.recorded,
        "states_last_hour": entity.stored.last_hour if entity.stored else None,
        "states_stored": entity.stored.total if entity.stored else None,
        "long_term_statistics": entity.statistics,
        "exposed_to_assist": where.assist,
        "exposed_to_cloud_assistants": list(where.cloud_assistants),
        "read_by_conversation_agents_off_device": [agent.name for agent in where.agents],
        "exporters": list(where.exporters),
        "backed_up_off_device": {"unencrypted": list(where.backups), "encrypted": list(where.encrypted_backups)},
        "leaves_the_house": where.leaves_house,
        "in_words": _entity_words(facts, entity, words, kind),
    }


def _entity_words(facts: LedgerFacts, entity: EntityFacts, words: Words, kind: Signal) -> list[str]:
    """One sentence for what the database keeps of the entity, then one per destination."""
    if not entity.enabled:
        return [words("entity_disabled")]
    recorder = facts.recorder
    days = recorder.keep_days if recorder else 0
    if kind is Signal.INSTANTANEOUS and facts.fine_keep_days is not None:
        days = min(days, facts.fine_keep_days)
    if recorder is None:
        sentences = [words("entity_no_recorder")]
    elif not entity.recorded:
        sentences = [words("entity_excluded")]
    elif entity.statistics:
        sentences = [words("entity_statistics", days=days)]
    else:
        sentences = [words("entity_no_statistics", days=days)]
    where = entity.destinations
    if where.assist:
        sentences.append(words("entity_assist" if where.agents else "entity_assist_home"))
    sentences += [words(f"entity_agent_{agent.runs}", agent=agent.name) for agent in where.agents]
    sentences += [words("entity_cloud", assistant=name) for name in where.cloud_assistants]
    sentences += [words("entity_exporter", exporter=name) for name in where.exporters]
    sentences += [words("entity_backup", agent=name) for name in where.backups]
    sentences += [words("entity_backup_encrypted", agent=name) for name in where.encrypted_backups]
    return sentences


def summary(facts: LedgerFacts, words: Words) -> dict[str, Any]:
    """Say in plain words what the database keeps of the meter, for how long, and what leaves Home Assistant."""
    stored: dict[Publishing, list[str]] = {}
    not_stored: list[str] = []
    entities = [(label.publishing, entity) for label in facts.labels for entity in label.entities]
    for how, entity in entities:
        if entity.recorded:
            stored.setdefault(how, []).append(entity.entity_id)
        else:
            not_stored.append(entity.entity_id)
    sentences: list[str] = []
    if not facts.labels:  # just set up or reloaded: no frame read yet, nothing to tell of its values
        sentences.append(words("summary_waiting"))
    elif facts.recorder is None:
        sentences.append(words("summary_no_recorder"))
    else:
        groups = [f"{words.entities(len(ids))} {words.publishing(facts.level, how)}" for how, ids in stored.items()]
        kept = reduce(lambda first, rest: words("summary_list", first=first, rest=rest), groups) if groups else ""
        sentences.append(
            words("summary_stored", level=words(f"level_{facts.level}"), kept=kept or words("summary_nothing"))
        )
        if not_stored:
            sentences.append(words("summary_not_stored", entities=words.entities(len(not_stored))))
        with_statistics = sum(1 for _, entity in entities if entity.statistics)
        sentences.append(
            words(
                "summary_statistics" if with_statistics else "summary_no_statistics",
                days=facts.recorder.keep_days,
                entities=words.entities(with_statistics),
            )
        )
        fine = [
            entity
            for label in facts.labels
            if label.signal is Signal.INSTANTANEOUS
            for entity in label.entities
            if entity.recorded
        ]
        if fine and facts.fine_keep_days is not None and facts.fine_keep_days < facts.recorder.keep_days:
            sentences.append(
                words("summary_fine_purge", days=words.days(facts.fine_keep_days), entities=words.entities(len(fine)))
            )
        if fine and not facts.power_statistics:
            sentences.append(words("summary_no_power_statistics"))
    if facts.labels:
        sentences += _destinations_words(facts, [entity for _, entity in entities], words)
    if facts.identifier_events and facts.recorder is not None:
        sentences.append(
            words(
                "summary_identifiers_in_events",
                events=words(
                    "events_one" if facts.identifier_events == 1 else "events_other", count=facts.identifier_events
                ),
                days=facts.recorder.keep_days,
            )
        )
    else:
        sentences.append(words("summary_identifiers"))
    return {
        "statement": " ".join(sentences),
        "stored": {how: sorted(ids) for how, ids in stored.items()},
        "not_stored": sorted(not_stored),
        "recorder_keep_days": facts.recorder.keep_days if facts.recorder else None,
        "fine_states_keep_days": facts.fine_keep_days,
        "power_long_term_statistics": facts.power_statistics,
        "leaves_the_house": sorted(entity.entity_id for _, entity in entities if entity.destinations.leaves_house),
        "conversation_agents": [
            {"name": agent.name, "may_read_exposed_entities": agent.reads_house, "runs": agent.runs}
            for agent in facts.outward.agents
        ],
        "automatic_backups": None
        if (backups := facts.outward.backups) is None
        else {
            "scheduled": backups.automatic,
            "include_database": backups.database,
            "agents": [
                {"name": target.name, "on_this_device": target.local, "encrypted": target.encrypted}
                for target in backups.targets
            ],
        },
        "serial_number": {
            "stored_in": ["configuration", "database"] if facts.identifier_events else ["configuration"],
            "not_in": [
                *([] if facts.identifier_events else ["database"]),
                "logs",
                "diagnostics",
                "entity_ids",
                "names",
            ],
            "device_registry_events_in_database": facts.identifier_events,
        },
        "prm": {"stored_in": [], "not_in": ["configuration", "database", "logs", "diagnostics", "entity_ids", "names"]},
    }


def _destinations_words(facts: LedgerFacts, entities: list[EntityFacts], words: Words) -> list[str]:
    """One sentence per destination of the meter's states past the recorder, or one saying there is none."""
    sentences = []
    leaving_agents = [agent for agent in facts.outward.agents if agent.leaves]
    if assist := sum(1 for entity in entities if entity.destinations.assist):
        sentences.append(
            words("summary_assist" if leaving_agents else "summary_assist_home", entities=words.entities(assist))
        )
        sentences += [
            words(f"summary_agent_{agent.runs}", agent=agent.name, entities=words.entities(assist))
            for agent in leaving_agents
        ]
    clouds: dict[str, int] = {}
    for entity in entities:
        for name in entity.destinations.cloud_assistants:
            clouds[name] = clouds.get(name, 0) + 1
    sentences += [words("summary_cloud", assistant=name, entities=words.entities(n)) for name, n in clouds.items()]
    enabled = sum(1 for entity in entities if entity.enabled)
    sentences += [
        words("summary_exporter", exporter=name, entities=words.entities(enabled)) for name in facts.exporters
    ]
    backups = facts.outward.backups
    recorded = sum(1 for entity in entities if entity.recorded)
    if backups is not None and recorded:
        sentences += [
            words(
                "summary_backup_encrypted" if target.encrypted else "summary_backup",
                agent=target.name,
                entities=words.entities(recorded),
            )
            for target in backups.database_off_device
        ]
    return sentences or [words("summary_nowhere")]
