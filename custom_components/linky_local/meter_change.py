"""The meter on the port changed: a frame with another serial number than the entry's.

Enedis replaced the meter, or the dongle was moved to another meter. Until the household says which (the repair's
fix flow, repairs.py), nothing of the other meter reaches this meter's entities: its frames are held back, the
entities go unavailable and one repair issue asks what happened. The other meter's serial number is personal data:
it stays in memory, never in a log line, a repair text or the diagnostics.

After a replacement the energy indexes continue from the old meter's: each index the new meter sends is shifted by
the offset stored in the entry (the old meter's last index minus the new meter's first one). Home Assistant's
statistics of a `total_increasing` sensor take a drop of more than 10 % for a new cycle and count the new cycle's
first value from zero, so publishing the new meter's own index would count its starting index as consumption; a
continued index makes every hour's change the Wh the meters measured, and keeps the old meter's last ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
import logging
import time
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir, restore_state

from .const import CONF_MODE, DOMAIN
from .linky_tic import CATALOGUE, INDEX_QUANTITIES, Frame, Group, IndexGuard, Mode, Verdict, decimal
from .meter import serial_number

_LOGGER = logging.getLogger(__name__)

ISSUE_TRANSLATION_KEY: Final = "meter_changed"
# Frames in a row that must carry the same other serial number before it is another meter: about one damaged group in
# 64 gets past its checksum, and a damaged serial number alone must not raise a repair.
CONFIRM_FRAMES: Final = 3
# Entry data: by index label, the Wh added to what the meter on the port sends (the meters before it counted them).
CONF_INDEX_OFFSETS: Final = "index_offsets"


# The energy indexes of each mode, those a replacement continues.
INDEX_LABELS: Final[dict[Mode, frozenset[str]]] = {
    mode: frozenset(label for label, spec in specs.items() if spec.quantity in INDEX_QUANTITIES)
    for mode, specs in CATALOGUE.items()
}


def issue_id(entry_id: str) -> str:
    """Return the id of the entry's meter-changed issue."""
    return f"{ISSUE_TRANSLATION_KEY}_{entry_id}"


@dataclass(slots=True)
class OtherMeter:
    """A meter seen on the port that is not the entry's; its serial number is personal data, kept in memory only."""

    serial: str = field(repr=False)
    mode: Mode
    # Its latest frame: what tells its kind (it holds the serial number too: memory only).
    frame: Frame = field(repr=False)
    # Its first trustworthy value of each index (the guard's), and the entry's meter's last ones before it came.
    first_indexes: dict[str, int] = field(default_factory=dict)
    own_last_indexes: dict[str, int] = field(default_factory=dict)
    guard: IndexGuard = field(default_factory=IndexGuard, repr=False)
    pending: dict[str, int] = field(default_factory=dict, repr=False)
    frames: int = 0


class MeterWatch:
    """Tell the entry's meter's frames from another meter's, and shift the indexes of a replaced meter."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, last_indexes: Mapping[str, Group]) -> None:
        """Watch for the entry's serial number; `last_indexes` holds the entry's meter's last trustworthy values."""
        self.hass = hass
        self.entry = entry
        self._last = last_indexes
        self._offsets: dict[str, int] = dict(entry.data.get(CONF_INDEX_OFFSETS, {}))
        # Another meter, once CONFIRM_FRAMES frames in a row told its serial number; until then a candidate.
        self.other: OtherMeter | None = None
        self._candidate: OtherMeter | None = None
        self._raised = False

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Return what clears the issue when the entry unloads: a running entry raises it again if it still applies.

        An issue raised while the entry was not running (reconfiguring its port found another meter) clears at the
        first frame of the entry's own meter.
        """
        self._raised = ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id(self.entry.entry_id)) is not None
        return self._clear

    @callback
    def take(self, frame: Frame) -> Frame | None:
        """Return the frame as this meter's entities take it (indexes shifted), or None when another meter sent it.

        A frame without a serial number (a damaged ADCO/ADSC group) belongs to the meter that sent the last one with
        it. A frame with another one is held back, and counts toward noticing another meter.
        """
        serial = serial_number(frame)
        own = self.entry.unique_id
        if serial is None or own is None:
            return None if self.other is not None else self._shifted(frame)
        if serial == own:
            self._candidate = None
            if self._raised:
                _LOGGER.info("%s: the meter is back on its port", self.entry.title)
                self._clear()
            return self._shifted(frame)
        seen: OtherMeter
        if self.other is not None and self.other.serial == serial:
            seen, self._candidate = self.other, None
        elif self._candidate is not None and self._candidate.serial == serial:
            seen = self._candidate
        else:
            seen = self._candidate = self._seen(serial, frame)
        seen.frame = frame
        seen.frames += 1
        self._note_indexes(seen, frame)
        if self.other is None and seen.frames >= CONFIRM_FRAMES:
            self._noticed(seen)
        return None

    def _seen(self, serial: str, frame: Frame) -> OtherMeter:
        """Start following a serial number not the entry's, and keep the entry's meter's last indexes before it."""
        mode = frame.mode
        own_last = {label: wh for label, group in self._last.items() if (wh := _index(mode, label, group)) is not None}
        return OtherMeter(serial, mode, frame, own_last_indexes=own_last)

    def _noticed(self, other: OtherMeter) -> None:
        self.other, self._candidate = other, None
        # Never the serial number: "a meter with another serial number".
        _LOGGER.warning(
            "%s: a meter with another serial number sends on this port; nothing of it is published until the repair "
            "in Settings is answered",
            self.entry.title,
        )
        async_raise_issue(self.hass, self.entry)
        self._raised = True

    @staticmethod
    def _note_indexes(other: OtherMeter, frame: Frame) -> None:
        """Keep the other meter's first value of each index: where its consumption starts counting.

        The guard checks it as it does the entry's meter's: a first value counts once the next one agrees with it.
        """
        for label, verdict in other.guard.check_frame(frame, time.monotonic()).items():
            if label in other.first_indexes or (value := decimal(frame.groups[label].value)) is None:
                continue
            if verdict is Verdict.PENDING:
                other.pending[label] = value
            elif verdict.published:
                other.first_indexes[label] = min(other.pending.get(label, value), value)

    def _shifted(self, frame: Frame) -> Frame:
        if not self._offsets:
            return frame
        groups = dict(frame.groups)
        for label, offset in self._offsets.items():
            if (group := groups.get(label)) is not None and (wh := decimal(group.value)) is not None:
                groups[label] = replace(group, value=f"{wh + offset:0{len(group.value)}d}")
        return replace(frame, groups=groups)

    @callback
    def _clear(self) -> None:
        self.other = self._candidate = None
        self._raised = False
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(self.entry.entry_id))


@callback
def async_raise_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Ask the household what the meter with another serial number on the entry's port is."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(entry.entry_id),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_TRANSLATION_KEY,
        translation_placeholders={"name": entry.title},
        data={"entry_id": entry.entry_id},
    )


def _index(mode: Mode, label: str, group: Group) -> int | None:
    return decimal(group.value) if label in INDEX_LABELS[mode] else None


def continued_offsets(own_last: Mapping[str, int], new_first: Mapping[str, int]) -> dict[str, int]:
    """Return the offsets that continue each index the two meters share from the old meter's last value.

    `own_last` are the values the entities took (shifted by the offsets of any replacement before); an index only
    the new meter sends gets no offset: its entity is new, and its statistics start at its first value.
    """
    return {label: own_last[label] - wh for label, wh in new_first.items() if label in own_last}


@callback
def restored_indexes(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, int]:
    """Return the last index each energy entity of the entry showed, as Home Assistant keeps it to restore it.

    What the entry's meter last sent when the reader never saw it since Home Assistant started (the other meter was
    already on the port): the values stored at the last stop, or when the entry unloaded.
    """
    stored = restore_state.async_get(hass).last_states
    registry = er.async_get(hass)
    found: dict[str, int] = {}
    for label in INDEX_LABELS[Mode(entry.data[CONF_MODE])]:
        entity_id = registry.async_get_entity_id(Platform.SENSOR, DOMAIN, f"{entry.unique_id}_{label}")
        if entity_id is None or (state := stored.get(entity_id)) is None or state.extra_data is None:
            continue
        if isinstance(value := state.extra_data.as_dict().get("native_value"), int):
            found[label] = value
    return found
