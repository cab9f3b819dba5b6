"""The index guard through a running integration: wrong indexes that carry a valid checksum never reach statistics.

A 6-bit checksum lets about one corrupted group in 64 through. Here the frames are encoded with the wrong values, so
their checksums are valid: the case no checksum can catch. They travel through a real pty, the recorder records what
is published, and the long-term statistics the energy dashboard reads are compiled from it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import logging

from homeassistant.components.recorder import Recorder
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    statistics_during_period,
)

from custom_components.linky_local.coordinator import LinkState
from custom_components.linky_local.linky_tic import Group, Mode
from custom_components.linky_local.linky_tic.guard import DISCONTINUITY_FRAMES
from linky_tools.encoder import encode_frame

from .conftest import Clock, errors_logged

PREFIX = "sensor.linky"
INDEXES = {"EAST": f"{PREFIX}_energy_withdrawn", "EAIT": f"{PREFIX}_energy_injected"}
# What replaces the true index in some frames, from the true value `wh` and the last one published, each with a valid
# checksum. (A value between the last published and the true one is not wrong: the meter went through it.)
BOGUS = {
    "far ahead": lambda wh, last: 999_999_999,
    "zero": lambda wh, last: 0,
    "one Wh back": lambda wh, last: last - 1,
    "2 kWh ahead": lambda wh, last: wh + 2000,  # 1.5 s after the last frame: 4.8 MW
    "a digit off": lambda wh, last: wh + 10_000_000,
}


@pytest.fixture(
    params=[datetime(2026, 1, 15, 7, 30, tzinfo=UTC), datetime(2026, 1, 15, 18, 0, tzinfo=UTC)],
    ids=["injecting", "withdrawing"],
)
def meter_start(request: pytest.FixtureRequest) -> datetime:
    """The producer meter on a winter morning, when its panels inject, and in the evening, when the house draws."""
    start: datetime = request.param
    return start


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: object) -> None:
    """Prepare the recorder's database before Home Assistant starts (the custom integrations fixture starts it)."""


def indexes(groups: list[Group]) -> dict[str, int]:
    """Return the true values of the indexes watched."""
    return {group.label: int(group.value) for group in groups if group.label in INDEXES}


def with_values(groups: list[Group], values: dict[str, int]) -> list[Group]:
    """Return the groups with some indexes replaced."""
    return [replace(group, value=f"{values[group.label]:09d}") if group.label in values else group for group in groups]


async def send(timeline: Clock, groups: list[Group]) -> None:
    """Send a frame of these groups, its checksums valid, after the meter's clock moved on by one frame."""
    frame = encode_frame(Mode.STANDARD, groups)
    await timeline.send(frame)


async def test_bogus_indexes_never_reach_the_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    timeline: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Backwards, too far ahead, repeated twice: each is counted, logged at debug, and never published."""
    caplog.set_level(logging.DEBUG, logger="custom_components.linky_local.linky_tic.guard")
    states: dict[str, list[str]] = {entity_id: [] for entity_id in INDEXES.values()}

    @callback
    def record(event: Event) -> None:
        if (written := states.get(event.data["entity_id"])) is not None:
            written.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    mock_config_entry.add_to_hass(hass)
    assert await timeline.complete(hass.config_entries.async_setup(mock_config_entry.entry_id))

    meter = timeline.meter.simulator
    guard = timeline.coordinator.values.guard
    true: dict[str, list[int]] = {label: [] for label in INDEXES}
    bogus_sent = 0
    for n in range(60):
        timeline.next_frame()
        groups = meter.groups()
        values = indexes(groups)
        for label, wh in values.items():
            true[label].append(wh)
        if n > 5 and n % 5 == 0:
            wrong = list(BOGUS.values())[(n // 5) % len(BOGUS)]
            bogus = {label: wrong(wh, guard.value(label)) for label, wh in values.items()}
            await send(timeline, with_values(groups, bogus))
            bogus_sent += len(values)
        elif n > 5 and n % 7 == 0:
            # The same wrong value twice in a row: agreeing values, but fewer than a discontinuity needs.
            twice = {label: wh + 100_000 for label, wh in values.items()}
            await send(timeline, with_values(groups, twice))
            await send(timeline, with_values(groups, twice))
            bogus_sent += 2 * len(values)
        else:
            await send(timeline, groups)
        if n == 40:
            # The meter away for a while, lost, found again: its indexes moved on, which is no discontinuity.
            await timeline.advance(40)
            await timeline.run_until(lambda: timeline.coordinator.link_state is LinkState.WAITING, within=61)

    # Unavailable while the meter was away, else a number each time.
    published = {
        entity_id: [float(state) for state in written if state != STATE_UNAVAILABLE]
        for entity_id, written in states.items()
    }
    assert guard.stats.rejected == bogus_sent
    assert caplog.text.count("not published") == bogus_sent
    assert guard.stats.discontinuities == 0
    for label, entity_id in INDEXES.items():
        # Every value published is one the meter really counted, in order; the last one is the meter's last.
        assert published[entity_id] == sorted(published[entity_id])
        assert {round(kwh * 1000) for kwh in published[entity_id]} <= set(true[label])
        assert round(published[entity_id][-1] * 1000) == true[label][-1]

    # The energy dashboard's statistics: the energy of the period is exactly what the meter counted in it.
    await async_wait_recording_done(hass)
    do_adhoc_statistics(hass, start=timeline.start)
    await async_wait_recording_done(hass)
    stats = await recorder_mock.async_add_executor_job(
        statistics_during_period,
        hass,
        timeline.start,
        timeline.start + timedelta(minutes=5),
        set(INDEXES.values()),
        "5minute",
        None,
        {"state", "sum"},
    )
    assert any(true[label][-1] > true[label][1] for label in INDEXES)
    for label, entity_id in INDEXES.items():
        [period] = stats[entity_id]
        first, last = published[entity_id][0], published[entity_id][-1]
        assert period["state"] == pytest.approx(last)
        assert period["sum"] == pytest.approx(last - first)
        assert round((last - first) * 1000) == true[label][-1] - true[label][1]
    assert errors_logged(caplog) == []


async def test_a_replaced_meter_is_accepted_once_its_values_agree(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, timeline: Clock
) -> None:
    """A genuine discontinuity (a new meter, its index starting over) is published once several frames agree."""
    mock_config_entry.add_to_hass(hass)
    assert await timeline.complete(hass.config_entries.async_setup(mock_config_entry.entry_id))
    await timeline.frames(5)
    entity_id = INDEXES["EAST"]
    before = hass.states.get(entity_id).state
    for wh in range(100, 100 + DISCONTINUITY_FRAMES):
        assert hass.states.get(entity_id).state == before
        timeline.next_frame()
        await send(timeline, with_values(timeline.meter.simulator.groups(), {"EAST": wh}))
    assert hass.states.get(entity_id).state == str((100 + DISCONTINUITY_FRAMES - 1) / 1000)
    stats = timeline.coordinator.values.guard.stats
    assert (stats.discontinuities, stats.rejected_backwards) == (1, DISCONTINUITY_FRAMES - 1)
