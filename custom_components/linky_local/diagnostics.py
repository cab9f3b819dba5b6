"""Diagnostics of a meter: the privacy ledger (what Home Assistant records about the household) and the link's state.

The meter's serial number and PRM never appear: the PRM is never kept, and a last pass over the whole output
replaces the serial number wherever it would show (in unique ids, for one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .binary_sensor import BINARY_SENSORS
from .const import CONF_DEVICE, CONF_USB_DEVICE, CONF_USB_ID, DOMAIN
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .entity import LinkyEntityDescription, meter_id
from .privacy import PrivacyLevel, Signal
from .sensor import LINK_SENSORS, SENSORS
from .tic import Mode, PrivacyClass, describe
from .tic.interpret import MeterAddress

# The port may be a host's address, or a by-id path that names the adapter; the USB identity names it too.
TO_REDACT = {CONF_DEVICE, CONF_USB_DEVICE, CONF_USB_ID}
# Values shown as they are: the state of the meter and of the contract, nothing about the household's use.
_SHOWN = {PrivacyClass.TECHNICAL, PrivacyClass.CONTRACT}
_LEVEL_NAMES: Final = {
    PrivacyLevel.LIVE: "live",
    PrivacyLevel.MINUTE: "per-minute",
    PrivacyLevel.HALF_HOURLY: "half-hourly",
    PrivacyLevel.DAILY: "daily",
}
_WINDOW_NAMES: Final = {PrivacyLevel.MINUTE: "minute", PrivacyLevel.HALF_HOURLY: "half hour", PrivacyLevel.DAILY: "day"}
NOT_PUBLISHED: Final = "not published at this level"
NEVER: Final = "never: no entity"


def publishing(level: PrivacyLevel, signal: Signal) -> str:
    """Say when a label's entities write their state at a privacy level."""
    if signal is Signal.STATE:
        return "when it changes"
    if level is PrivacyLevel.LIVE:
        return "every frame, when it changes"
    window = _WINDOW_NAMES[level]
    if signal is not Signal.INSTANTANEOUS:
        return f"last value at the end of each {window}"
    return NOT_PUBLISHED if level is PrivacyLevel.DAILY else f"time-weighted mean over each {window}"


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: LinkyConfigEntry) -> dict[str, Any]:
    """Return the privacy ledger, and what helps understand a reading problem."""
    return _scrubbed(_diagnostics(hass, entry), _secrets(entry))


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: LinkyConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """Return the diagnostics of the meter's device: its entry's, each meter being one device."""
    diagnostics = _diagnostics(hass, entry)
    diagnostics["device"] = {
        "name": device.name,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "model_id": device.model_id,
        "hw_version": device.hw_version,
    }
    return _scrubbed(diagnostics, _secrets(entry))


def _diagnostics(hass: HomeAssistant, entry: LinkyConfigEntry) -> dict[str, Any]:
    coordinator = entry.runtime_data
    ledger = _Ledger(hass, entry)
    labels = sorted(coordinator.values.seen)
    shown = {
        label: group.value
        for label, group in coordinator.values.groups.items()
        if (spec := describe(coordinator.mode, label)) is not None and spec.privacy in _SHOWN
    }
    address = MeterAddress.parse(entry.unique_id or "")
    return {
        "summary": ledger.summary(),
        "privacy_level": coordinator.publisher.level,
        "ledger": {label: ledger.label(label) for label in labels},
        "other_entities": [ledger.entity(Platform.SENSOR, description.key) for description in LINK_SENSORS],
        "entry": {
            "title": entry.title,
            "data": async_redact_data(entry.data, TO_REDACT),
            "options": dict(entry.options),
        },
        "meter": {
            "mode": coordinator.mode,
            "baudrate": coordinator.baudrate,
            "manufacturer": address.manufacturer if address else None,
            "model": address.model if address else None,
            "model_id": address.meter_type_code if address else None,
        },
        "link": {
            "port_kind": coordinator.url.split("://", 1)[0] if "://" in coordinator.url else "serial",
            "state": coordinator.link_state,
            "last_frame": coordinator.last_frame_at.isoformat() if coordinator.last_frame_at else None,
            "reconnections": coordinator.reconnections,
            "failed_reconnections": coordinator.failed_reconnections,
        },
        "decoder": coordinator.decoder.stats.as_dict(),
        "index_guard": coordinator.values.guard.stats.as_dict(),
        "labels_seen": labels,
        "unknown_labels": [label for label in labels if describe(coordinator.mode, label) is None],
        "values": dict(sorted(shown.items())),
    }


_DESCRIPTIONS: Final[dict[Platform, Mapping[Mode, Sequence[LinkyEntityDescription]]]] = {
    Platform.SENSOR: SENSORS,
    Platform.BINARY_SENSOR: BINARY_SENSORS,
}


class _Ledger:
    """For each label of a meter, and each of its entities: what is published, when, and what the recorder keeps."""

    def __init__(self, hass: HomeAssistant, entry: LinkyConfigEntry) -> None:
        self._hass = hass
        self._coordinator: LinkyCoordinator = entry.runtime_data
        self._registry = er.async_get(hass)
        self._meter = meter_id(entry)
        self._now = dt_util.utcnow()
        self._recorder = "recorder" in hass.config.components
        self._entities: dict[str, list[tuple[str, LinkyEntityDescription]]] = {}
        for platform, descriptions in _DESCRIPTIONS.items():
            for description in descriptions[self._coordinator.mode]:
                self._entities.setdefault(description.label, []).append((platform, description))

    def label(self, label: str) -> dict[str, Any]:
        """Return what the ledger says about a label."""
        coordinator = self._coordinator
        spec = describe(coordinator.mode, label)
        signal = coordinator.publisher.signal(label)
        entities = [
            self.entity(platform, description.key)
            for platform, description in self._entities.get(label, [])
            if self._entity_id(platform, description.key) is not None
        ]
        return {
            "meaning": spec.meaning if spec else None,
            "privacy_class": spec.privacy if spec else None,
            "signal": signal,
            "published": publishing(coordinator.publisher.level, signal) if entities else NEVER,
            "is_entity": bool(entities),
            "entities": entities,
            **({} if entities else {"why_no_entity": self._why_no_entity(label)}),
        }

    def entity(self, platform: str, key: str) -> dict[str, Any]:
        """Return what the ledger says about one entity of the meter."""
        entity_id = self._entity_id(platform, key)
        reg = self._registry.async_get(entity_id) if entity_id else None
        enabled = reg is not None and not reg.disabled
        return {
            "entity_id": entity_id,
            "enabled": enabled,
            "recorded": self._recorded(entity_id) if enabled and entity_id else False,
            "states_last_hour": self._coordinator.publisher.writes.last_hour(entity_id, self._now) if entity_id else 0,
        }

    def summary(self) -> dict[str, Any]:
        """Say in plain words which of the meter's signals the database keeps, and how finely."""
        level = self._coordinator.publisher.level
        stored: dict[str, list[str]] = {}
        not_stored: list[str] = []
        for label in sorted(self._entities):
            when = publishing(level, self._coordinator.publisher.signal(label))
            for platform, description in self._entities[label]:
                if (entity_id := self._entity_id(platform, description.key)) is None:
                    continue
                if self.entity(platform, description.key)["recorded"]:
                    stored.setdefault(when, []).append(entity_id)
                else:
                    not_stored.append(entity_id)
        if not self._recorder:
            statement = "The recorder is not loaded: Home Assistant stores none of this meter's values in a database."
        else:
            kept = "; ".join(f"{len(ids)} {_plural(len(ids))} {_as(when)}" for when, ids in stored.items()) or "nothing"
            statement = (
                f"At the {_LEVEL_NAMES[level]} privacy level, these signals of the meter are stored in your "
                f"database: {kept}. {len(not_stored)} other {_plural(len(not_stored))} (disabled, or excluded "
                "from the recorder) store nothing. The meter's serial number and delivery point reference (PRM) are "
                "never stored."
            )
        return {
            "statement": statement,
            "stored": {when: sorted(ids) for when, ids in stored.items()},
            "not_stored": sorted(not_stored),
        }

    def _entity_id(self, platform: str, key: str) -> str | None:
        return self._registry.async_get_entity_id(platform, DOMAIN, f"{self._meter}_{key}")

    def _recorded(self, entity_id: str) -> bool | None:
        """Tell whether the recorder keeps an entity's states, from its own filter; None without a recorder."""
        if not self._recorder:
            return None
        entity_filter = get_instance(self._hass).entity_filter
        return entity_filter is None or entity_filter(entity_id)

    def _why_no_entity(self, label: str) -> str:
        spec = describe(self._coordinator.mode, label)
        if spec is None:
            return "a label this integration does not know"
        if spec.privacy is PrivacyClass.IDENTIFIER:
            return "it identifies the household: never an entity, its value is never kept"
        if label in self._entities:
            if not self._coordinator.publisher.creates(label):
                return NOT_PUBLISHED
            return "its entities are created once the meter's values call for them"
        return "decoded into other entities, or kept only for them"


def _as(when: str) -> str:
    """Word how entities are stored: "as their mean over each minute", "each time they change"..."""
    if when.startswith("every frame"):
        return "at every frame (about once a second), each time they change"
    if when.startswith(("time-weighted", "last value")):
        return f"as their {when}"
    return "each time they change"


def _plural(count: int) -> str:
    return "entity" if count == 1 else "entities"


def _secrets(entry: LinkyConfigEntry) -> list[str]:
    """Return what identifies the household and must never be shown: the serial number (unique ids hold it)."""
    return [secret for secret in (entry.unique_id,) if secret]


def _scrubbed(data: dict[str, Any], secrets: Iterable[str]) -> dict[str, Any]:
    """Replace each secret by REDACTED in every string of the data, keys included."""
    secrets = list(secrets)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {scrub(key): scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [scrub(item) for item in value]
        return value

    return {scrub(key): scrub(value) for key, value in data.items()}
