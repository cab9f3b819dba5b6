"""A household through time: its meter on the in-memory line, its events, and what the recorder's statistics must show.

Shared by tests/test_year_events.py (one event at a time) and benchmarks/year_bench.py (a year of them). The
household's meter talks on the test suite's in-memory line, every clock frozen and moved on by the suite's `Clock`.
Between events, frames may come sparser than the meter's own pace (one every `gap` seconds, the meter's indexes
advancing as its consumption profile says); around an event, at the meter's pace. Every frame the integration read is
noted in a `Ledger`: the meter's indexes at the end of each hour, what the recorder's hourly statistics must match.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import importlib.util
import math
import re
from typing import Any, Final

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir, restore_state
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.coordinator import LinkyCoordinator
from custom_components.linky_local.linky_tic import PortUnavailableError, TariffOption
from custom_components.linky_local.privacy import CONF_PRIVACY_LEVEL, PrivacyLevel
from linky_tools.simulator import SimulatedMeter

from .conftest import Clock, MemoryLine

# The supplier indexes per tariff period a Tempo contract uses (an HP/HC one the first two), and the total.
PERIODS: Final = ("EASF01", "EASF02", "EASF03", "EASF04", "EASF05", "EASF06")
LABELS: Final = (*PERIODS, "EAST")
_INDEX: Final = re.compile(rb"\n(EAST|EASF0[1-6])\t(\d{9})\t")
HOUR: Final = 3600
# Frames at the meter's pace before and after an event.
AROUND: Final = timedelta(minutes=2)


def replacement_available() -> bool:
    """Tell whether this branch has the meter replacement's repair and fix flow (issue 22, point 1)."""
    return importlib.util.find_spec("custom_components.linky_local.repairs") is not None


def hour_of(moment: float) -> int:
    """Return the start (POSIX seconds) of the UTC hour of a moment: France's offsets are whole hours."""
    return int(moment // HOUR * HOUR)


class Ledger:
    """The meter's indexes as the integration read them: the last frame's of each hour, kept in a fixed array."""

    def __init__(self, start: datetime, end: datetime) -> None:
        """Keep the hours from `start` to `end`; -1: no frame read in that hour."""
        self.first = hour_of(start.timestamp())
        self.hours = (hour_of(end.timestamp()) - self.first) // HOUR
        self._last = array("q", [-1]) * (self.hours * len(LABELS))
        self.frames = 0
        # After a meter replacement, the new meter's indexes continue the old one's series from its first frame.
        self._offsets = [0] * len(LABELS)
        self._seen = [0] * len(LABELS)

    def note(self, at: float, data: bytes) -> None:
        """Note the indexes of a frame the integration read at `at`."""
        row = (hour_of(at) - self.first) // HOUR
        values = _indexes(data)
        for column, value in values.items():
            self._seen[column] = value + self._offsets[column]
        if not 0 <= row < self.hours:
            return
        self.frames += 1
        for column in values:
            self._last[row * len(LABELS) + column] = self._seen[column]

    def switch_meter(self, first: bytes) -> None:
        """The meter was replaced: the new one's indexes continue the old one's from its first frame, `first`."""
        values = _indexes(first)
        self._offsets = [self._seen[column] - values.get(column, 0) for column in range(len(LABELS))]

    def at_end(self, label: str) -> list[int | None]:
        """Return the label's index at the end of each hour: its last frame's, carried over the hours without."""
        column, carried, values = LABELS.index(label), None, []
        for row in range(self.hours):
            if (value := self._last[row * len(LABELS) + column]) >= 0:
                carried = value
            values.append(carried)
        return values

    def hour_start(self, row: int) -> float:
        """Return the start of an hour of the ledger (POSIX seconds)."""
        return float(self.first + row * HOUR)


def _indexes(data: bytes) -> dict[int, int]:
    """Return a frame's indexes by their column in the ledger."""
    return {LABELS.index(label.decode()): int(value) for label, value in _INDEX.findall(data)}


@dataclass(slots=True)
class PeriodCheck:
    """One index's recorded hours against the meter's."""

    label: str
    entity_id: str | None
    hours: int = 0
    equal: int = 0
    worst_wh: int = 0
    negative: int = 0
    meter_wh: int = 0
    recorded_wh: int = 0
    unequal: list[tuple[float, int, int]] = field(default_factory=list)  # the first few: (hour, meter, recorded)
    unequal_rows: list[int] = field(default_factory=list)  # every unequal hour, by its row in the ledger

    @property
    def exact(self) -> bool:
        """Tell whether every hour and the total are equal to the Wh."""
        return self.equal == self.hours and self.meter_wh == self.recorded_wh


def compare(label: str, entity_id: str | None, meter: list[int | None], sums: list[float | None]) -> PeriodCheck:
    """Compare an index's hourly growth with its statistics' (kWh sums at each hour's end, carried), hour by hour.

    The first hour with a meter value and a statistic is the reference; an hour the meter's value did not reach
    (no frame read) is carried to the next hour with frames, so its growth counts there, once.
    """
    check = PeriodCheck(label, entity_id)
    reference: tuple[int, float] | None = None
    previous: tuple[int, float] | None = None
    for at, (wh, total) in enumerate(zip(meter, sums, strict=True)):
        if wh is None:
            continue
        kwh = total if total is not None else (previous[1] if previous else None)
        if kwh is None:
            continue  # no statistics yet: the reference comes with the first
        if reference is None:
            reference = previous = (wh, kwh)
            continue
        assert previous is not None
        grown, recorded = wh - previous[0], round((kwh - previous[1]) * 1000)
        check.hours += 1
        check.equal += grown == recorded
        check.negative += recorded < 0
        check.worst_wh = max(check.worst_wh, abs(grown - recorded))
        if grown != recorded:
            check.unequal_rows.append(at)
            if len(check.unequal) < 5:
                check.unequal.append((float(at), grown, recorded))
        previous = (wh, kwh)
    if reference is not None and previous is not None:
        check.meter_wh = previous[0] - reference[0]
        check.recorded_wh = round((previous[1] - reference[1]) * 1000)
    return check


async def hourly_sums(hass: HomeAssistant, ledger: Ledger, entity_ids: Iterable[str]) -> dict[str, list[float | None]]:
    """Return each statistic's kWh sum at the end of each hour of the ledger, None where it has no row."""
    start = dt_util.utc_from_timestamp(ledger.hour_start(0))
    end = dt_util.utc_from_timestamp(ledger.hour_start(ledger.hours))
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period, hass, start, end, set(entity_ids), "hour", None, {"sum"}
    )
    sums: dict[str, list[float | None]] = {}
    for entity_id in entity_ids:
        column: list[float | None] = [None] * ledger.hours
        for row in rows.get(entity_id, []):
            at = (int(row["start"]) - ledger.first) // HOUR
            if 0 <= at < ledger.hours and (value := row.get("sum")) is not None:
                column[at] = float(value)
        sums[entity_id] = column
    return sums


def index_entities(hass: HomeAssistant, entry: MockConfigEntry, serial: str) -> dict[str, str | None]:
    """Return the entity id of each index label's sensor, None for a label without one or a disabled one."""
    registry = er.async_get(hass)
    found: dict[str, str | None] = {}
    for label in LABELS:
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{serial}_{label}")
        entry_ = registry.async_get(entity_id) if entity_id else None
        found[label] = entity_id if entry_ is not None and not entry_.disabled else None
    return found


async def check_hours(hass: HomeAssistant, entry: MockConfigEntry, serial: str, ledger: Ledger) -> list[PeriodCheck]:
    """Compare every index's hourly statistics with the meter's Wh, hour by hour, over the ledger's hours."""
    entities = index_entities(hass, entry, serial)
    sums = await hourly_sums(hass, ledger, [entity_id for entity_id in entities.values() if entity_id])
    empty: list[float | None] = [None] * ledger.hours
    return [
        compare(label, entity_id, ledger.at_end(label), sums[entity_id] if entity_id else empty)
        for label, entity_id in entities.items()
    ]


class Household:
    """Drive one household's meter through time and its events, and note every frame the integration read."""

    def __init__(self, hass: HomeAssistant, clock: Clock, entry: MockConfigEntry, ledger: Ledger) -> None:
        """Drive the clock's meter and entry; `ledger` notes the frames read."""
        self.hass = hass
        self.clock = clock
        self.entry = entry
        self.ledger = ledger
        line = clock.meter.port
        assert isinstance(line, MemoryLine)
        self.line = line
        self.sent = 0
        self.noting = True  # False while another meter's frames must not reach the entities
        self.last_data = b""
        self.option: TariffOption | None = None  # the tariff option the household changed to, if it did
        self.restarts = 0
        self.reloads = 0

    @property
    def meter(self) -> SimulatedMeter:
        """Return the meter on the line."""
        return self.clock.meter.simulator

    @property
    def coordinator(self) -> LinkyCoordinator:
        """Return the entry's coordinator (a new one after each set-up)."""
        coordinator: LinkyCoordinator = self.entry.runtime_data
        return coordinator

    async def frame(self, elapsed: float | None = None) -> None:
        """Let the meter's clock move on (by a frame's line time, or `elapsed` s), send its frame, wait until read."""
        data = self.last_data = self.meter.next_frame(elapsed)
        await self.clock.move_to(max(self.meter.now, self.clock.moment))
        decoded = self.coordinator.decoder.stats.frames
        await self.line.send(data)
        await self.clock.read()
        self.sent += 1
        if self.noting and self.coordinator.decoder.stats.frames > decoded:
            self.ledger.note(self.clock.moment.timestamp(), data)

    async def sparse(self, until: datetime, gap: float) -> None:
        """Send a frame every `gap` seconds of the meter's clock until `until`."""
        while (left := (until - self.meter.now).total_seconds()) > 0:
            await self.frame(min(gap, left))

    async def real_pace(self, duration: timedelta = AROUND) -> None:
        """Send frames at the meter's own pace for `duration`."""
        end = self.meter.now + duration
        while self.meter.now < end:
            await self.frame()

    async def _settle(self) -> None:
        await self.hass.async_block_till_done()
        await self.clock.advance(0)

    async def restart(self) -> None:
        """Restart Home Assistant for the entry: dump the states, unload, load the stored states back, set up again."""
        hass, entry_id = self.hass, self.entry.entry_id
        await restore_state.async_get(hass).async_dump_states()
        assert await self.clock.complete(hass.config_entries.async_unload(entry_id))
        await restore_state.async_get(hass).async_load()
        assert await self.clock.complete(hass.config_entries.async_setup(entry_id))
        await self._settle()
        self.restarts += 1

    async def change_privacy(self, level: PrivacyLevel) -> None:
        """Choose another privacy level in the options flow, as the household would: the entry reloads."""
        options = self.hass.config_entries.options
        result = await options.async_init(self.entry.entry_id)
        result = await self.clock.complete(options.async_configure(result["flow_id"], {CONF_PRIVACY_LEVEL: str(level)}))
        assert result["type"] == "create_entry", result
        await self._settle()
        self.reloads += 1

    def change_contract(self, option: TariffOption) -> None:
        """Change the household's tariff option: the meter's calendar changes with its next frame."""
        self.meter.change_option(option)
        self.option = option

    async def power_cut(self, duration: timedelta) -> None:
        """Cut the household's power: the meter is silent for `duration`, then restarts."""
        self.meter.cut(duration.total_seconds())
        await self.clock.move_to(max(self.meter.now, self.clock.moment))

    async def replace_meter(self, new: SimulatedMeter) -> dict[str, Any]:
        """Enedis replaces the meter; the household answers the repair in its fix flow: "the meter was replaced".

        The new meter talks at its pace until the household answers: the ledger notes none of it (the integration
        must publish none), then continues the old meter's indexes from the new meter's first frame, as the entities
        must. Return what the flow showed and when the meter changed and the household answered.
        """
        hass, clock = self.hass, self.clock
        clock.meter.simulator = new
        self.noting = False
        swapped = clock.moment
        await self.frame()
        self.ledger.switch_meter(self.last_data)
        await self.real_pace()
        issue_id = f"meter_changed_{self.entry.entry_id}"
        raised = ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
        assert await async_setup_component(hass, "repairs", {})
        manager = repairs_flow_manager(hass)
        assert manager is not None
        # Home Assistant 2026.5 reads the issue from the data, 2026.10 from the context: both are given.
        result = await manager.async_init(DOMAIN, context={"issue_id": issue_id}, data={"issue_id": issue_id})
        menu = list(result.get("menu_options") or [])
        result = await manager.async_configure(result["flow_id"], {"next_step_id": "replaced"})
        if result["type"] == "form":  # the step confirms what it will do
            result = await clock.complete(manager.async_configure(result["flow_id"], {}))
        await self._settle()
        self.noting = True
        return {
            "issue_raised": raised,
            "menu": menu,
            "result": str(result["type"]),
            "swapped": swapped.timestamp(),
            "answered": clock.moment.timestamp(),
        }

    async def unplug(self, duration: timedelta) -> None:
        """Unplug the dongle for `duration`: the port disappears, the meter counts on unread, then it comes back."""
        self.line.refusing = True
        self.line.lose(PortUnavailableError(f"{self.line.url}: no such device"))
        end = self.meter.now + duration
        # The meter's clock (and its consumption) moves on with Home Assistant's, day by day.
        while self.meter.now < end:
            self.meter.next_frame(min(86400.0, (end - self.meter.now).total_seconds()))
            await self.clock.move_to(max(self.meter.now, self.clock.moment))
        self.line.refusing = False


def month_starts(start: datetime, end: datetime, zone: Any) -> list[datetime]:
    """Return the first moment of each local calendar month after `start` and up to `end`."""
    local = start.astimezone(zone)
    moments = []
    year, month = local.year, local.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        moment = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
        if moment > end:
            return moments
        moments.append(moment)


def weeks(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    """Return the moments every `every` after `start`, before `end`."""
    count = math.ceil((end - start) / every)
    return [start + every * n for n in range(1, count) if start + every * n < end]
