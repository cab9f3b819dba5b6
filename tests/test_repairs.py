"""Repair issues: raised when the line shows a problem the user can fix, cleared by themselves once it is gone."""

from __future__ import annotations

from dataclasses import replace
import json
from pathlib import Path

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.const import DOMAIN
from custom_components.linky_local.coordinator import LinkState
from custom_components.linky_local.health import issue_id
from custom_components.linky_local.linky_tic import Group, Mode
from custom_components.linky_local.linky_tic.const import BAUDRATES
from custom_components.linky_local.linky_tic.diagnosis import (
    SILENCE_SECONDS,
    TOTAL_ONLY_FRAMES,
    WINDOW_SECONDS,
    Problem,
)
from linky_tools.encoder import encode_frame
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import START, Clock, errors_logged, not_raw

STRINGS = Path(__file__).parent.parent / "custom_components" / "linky_local" / "strings.json"
ENERGY = "sensor.linky_energy_withdrawn"
# Every issue's translation key, each raised by a test below.
TRANSLATION_KEYS = {
    "silent",
    "total_index_only_with_periods",
    "tty_not_raw",
    "wrong_speed",
    "mode_switched_to_historic",
    "mode_switched_to_standard",
    "fine_signal_leaves",  # raised in test_ledger_truth.py
    "meter_changed",  # raised in test_meter_change.py
    "esphome_proxy_missing",  # raised in test_esphome_proxy.py
}


def raised(hass: HomeAssistant, entry: MockConfigEntry) -> dict[Problem, ir.IssueEntry]:
    """Return the entry's issues, by the problem each is raised for."""
    registry = ir.async_get(hass)
    return {
        problem: found
        for problem in Problem
        if (found := registry.async_get_issue(DOMAIN, issue_id(entry.entry_id, problem))) is not None
    }


def assert_issue(
    hass: HomeAssistant, entry: MockConfigEntry, problem: Problem, translation_key: str, severity: ir.IssueSeverity
) -> None:
    """Check that an issue is raised, alone, worded by a translated key that names the meter by its title only."""
    issues = raised(hass, entry)
    assert set(issues) == {problem}
    found = issues[problem]
    assert (found.translation_key, found.severity, found.is_fixable) == (translation_key, severity, False)
    assert found.translation_placeholders == {"name": entry.title}
    assert found.learn_more_url
    assert translation_key in json.loads(STRINGS.read_text(encoding="utf-8"))["issues"]


def test_every_issue_is_translated() -> None:
    """strings.json words exactly the issues the tests below raise."""
    assert set(json.loads(STRINGS.read_text(encoding="utf-8"))["issues"]) == TRANSLATION_KEYS


async def test_silence_for_ten_minutes(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Silence: entities unavailable at once and the port reopened over and over; an issue after 10 minutes only."""
    coordinator = timeline.coordinator
    await timeline.advance(SILENCE_SECONDS - 30)
    assert coordinator.link_state is not LinkState.RECEIVING
    assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE
    assert coordinator.reconnections >= 8
    assert raised(hass, running) == {}

    await timeline.advance(60)
    assert_issue(hass, running, Problem.SILENT, "silent", ir.IssueSeverity.ERROR)

    # The meter speaks again: the issue clears at its first bytes, and its first frame is published.
    await timeline.run_until(lambda: coordinator.link_state is LinkState.WAITING, within=61)
    await timeline.send(timeline.next_frame())
    assert raised(hass, running) == {}
    assert coordinator.link_state is LinkState.RECEIVING
    east = next(group.value for group in timeline.meter.simulator.groups() if group.label == "EAST")
    assert float(hass.states.get(ENERGY).state) == int(east) / 1000
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
async def test_a_linky_sending_only_its_total(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Only BASE on a base option: what it should send, a notice; with an option that has periods, a repair."""
    health = timeline.coordinator.health
    await timeline.frames(WINDOW_SECONDS)
    assert raised(hass, running) == {}
    assert health.notices["total_index_only"].as_dict() == {"times": 1, "active": True}
    logged = [*caplog.get_records("setup"), *caplog.records]  # it began with the first frames, in the fixture
    told = f"{running.title}: the meter sends only its total index, as it should on a base contract; a contract "
    told += "with several periods needs the standard TIC mode (ask the supplier)"
    assert [r.message for r in logged if "sends only its total index" in r.message] == [told]
    groups = timeline.meter.simulator.groups()
    with_option = [replace(group, value="HC..") if group.label == "OPTARIF" else group for group in groups]
    await timeline.send(encode_frame(Mode.HISTORIC, with_option))
    assert_issue(hass, running, Problem.TOTAL_INDEX_ONLY, "total_index_only_with_periods", ir.IssueSeverity.WARNING)
    assert health.notices["total_index_only"].active is False
    # One index per period: the meter was switched, or the contract has them. The issue clears.
    with_periods = [group for group in with_option if group.label != "BASE"]
    with_periods += [Group("HCHC", "001234567"), Group("HCHP", "007654321")]
    await timeline.send(encode_frame(Mode.HISTORIC, with_periods))
    assert raised(hass, running) == {}


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE])
async def test_an_ignored_issue_stays_ignored_after_a_reload(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock
) -> None:
    """The household ignores an issue; the entry reloads (a privacy change, a restart of the line): still ignored."""
    groups = timeline.meter.simulator.groups()
    with_option = [replace(group, value="HC..") if group.label == "OPTARIF" else group for group in groups]

    def historic_hc(_: bytes) -> bytes:
        return encode_frame(Mode.HISTORIC, with_option)

    await timeline.frames(TOTAL_ONLY_FRAMES * 2, historic_hc)
    problem = Problem.TOTAL_INDEX_ONLY
    ir.async_ignore_issue(hass, DOMAIN, issue_id(running.entry_id, problem), True)
    assert await timeline.complete(hass.config_entries.async_reload(running.entry_id))
    assert raised(hass, running) == {}  # cleared with the unloaded entry, until the line shows it again
    await timeline.frames(TOTAL_ONLY_FRAMES * 2, historic_hc)
    found = raised(hass, running)[problem]
    assert found.translation_key == "total_index_only_with_periods"
    assert found.dismissed_version is not None

    # Not ignored: raised again as a new issue after a reload.
    ir.async_ignore_issue(hass, DOMAIN, issue_id(running.entry_id, problem), False)
    assert await timeline.complete(hass.config_entries.async_reload(running.entry_id))
    await timeline.frames(TOTAL_ONLY_FRAMES * 2, historic_hc)
    assert raised(hass, running)[problem].dismissed_version is None


def uart_read(data: bytes, sent_baud: int, read_baud: int) -> bytes:
    """Return what a UART reading at `read_baud` receives from 7E1 bytes sent at `sent_baud` (8 bits per byte read).

    The receiver waits for a falling edge (a start bit), samples the middle of each bit at its own rate and looks for
    the next start bit from the middle of its stop bit: the wrong speed turns a TIC line into garbage.
    """
    bits = [level for byte in data for level in (0, *(byte >> n & 1 for n in range(7)), byte.bit_count() & 1, 1)]
    ratio = sent_baud / read_baud  # bits sent per bit read

    def level(at: float) -> int:
        return bits[int(at)] if int(at) < len(bits) else 1

    received = bytearray()
    at, end = 0.0, float(len(bits))
    while at < end:
        if level(at) == 1:
            at = float(int(at) + 1)
            continue
        received.append(sum(level(at + (n + 1.5) * ratio) << n for n in range(8)))
        at += 9.5 * ratio
    return bytes(received)


async def cleared_after_a_clean_minute(
    hass: HomeAssistant, entry: MockConfigEntry, timeline: Clock, problem: Problem
) -> None:
    """Fix the line: the issue stays while the last minute still shows mostly its symptoms, then clears by itself."""
    await timeline.frames(1)
    assert set(raised(hass, entry)) == {problem}
    await timeline.frames(WINDOW_SECONDS)
    assert raised(hass, entry) == {}


async def test_a_tty_not_in_raw_mode(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """CR turned into LF and ETX swallowed: values still come, and a warning says what alters the line."""
    coordinator = timeline.coordinator
    await timeline.frames(WINDOW_SECONDS, not_raw)
    assert coordinator.link_state is LinkState.RECEIVING
    assert coordinator.decoder.stats.lf_terminated_frames > 0
    assert_issue(hass, running, Problem.TTY_NOT_RAW, "tty_not_raw", ir.IssueSeverity.WARNING)
    await cleared_after_a_clean_minute(hass, running, timeline, Problem.TTY_NOT_RAW)
    assert errors_logged(caplog) == []


def damaged_control(data: bytes) -> bytes:
    """Return the bytes as some adapters give them: STX and every LF turned into other control bytes."""
    return data.replace(b"\x02", b"\x0b").replace(b"\n", b"\x0f")


async def test_an_adapter_that_damages_control_bytes(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """STX and LF altered by the adapter: values still come, so no repair; a notice counted, told once in the log."""
    coordinator = timeline.coordinator
    before = replace(coordinator.decoder.stats)
    await timeline.frames(WINDOW_SECONDS, damaged_control)
    assert coordinator.link_state is LinkState.RECEIVING
    stats = coordinator.decoder.stats
    assert stats.frames_without_stx == stats.frames - before.frames > 0
    assert stats.damaged_separator_groups == stats.groups - before.groups
    east = next(group.value for group in timeline.meter.simulator.groups() if group.label == "EAST")
    assert float(hass.states.get(ENERGY).state) == int(east) / 1000
    assert raised(hass, running) == {}
    notice = coordinator.health.notices["damaged_control"]
    assert notice.as_dict() == {"times": 1, "active": True}
    assert sum("changes some control characters" in record.message for record in caplog.records) == 1
    await timeline.frames(WINDOW_SECONDS + 1)  # the adapter replaced
    assert notice.as_dict() == {"times": 1, "active": False}
    assert errors_logged(caplog) == []


async def test_the_wrong_speed(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The meter switched to historic mode, read at 9600 baud: garbage, the meter lost, then an issue."""
    coordinator = timeline.coordinator
    historic = SimulatedMeter(Profile.HISTORIC_TRI, start=START, seed=1)

    def at_9600(data: bytes) -> bytes:
        return uart_read(data, BAUDRATES[Mode.HISTORIC], BAUDRATES[Mode.STANDARD])

    await timeline.frames(WINDOW_SECONDS - 10, at_9600, historic)
    assert hass.states.get(ENERGY).state == STATE_UNAVAILABLE
    assert raised(hass, running) == {}
    # The reader waits longer and longer between attempts: the issue comes at the next session with bytes.
    await timeline.frames(120, at_9600, historic)
    assert_issue(hass, running, Problem.WRONG_SPEED, "wrong_speed", ir.IssueSeverity.ERROR)
    assert coordinator.decoder.stats.bytes_discarded > 0

    # It stays while nothing arrives (the reader waiting to reopen the port, the line showing neither garbage nor
    # frames), and clears at the first valid frame.
    def line_shows_nothing() -> bool:
        diagnosis = coordinator.health.diagnosis
        return diagnosis is not None and diagnosis.silent_for > WINDOW_SECONDS and not diagnosis.problems

    await timeline.run_until(line_shows_nothing, within=4 * WINDOW_SECONDS, step=1)
    assert set(raised(hass, running)) == {Problem.WRONG_SPEED}
    await timeline.run_until(lambda: coordinator.link_state is LinkState.WAITING, within=61)
    await timeline.send(timeline.next_frame())
    assert raised(hass, running) == {}
    assert coordinator.link_state is LinkState.RECEIVING
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    ("meter_profile", "other_profile", "translation_key"),
    [
        (Profile.HISTORIC_HC, Profile.STANDARD_MONO, "mode_switched_to_standard"),
        (Profile.STANDARD_TRI_PRODUCER, Profile.HISTORIC_TRI, "mode_switched_to_historic"),
    ],
)
async def test_the_meter_switched_mode(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    other_profile: Profile,
    translation_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Valid frames of the other mode at the same speed (ser2net's, set for the new mode): the user is told."""
    coordinator = timeline.coordinator
    other = SimulatedMeter(other_profile, start=START, seed=1)
    await timeline.frames(WINDOW_SECONDS + 60, meter=other)
    assert coordinator.link_state is not LinkState.RECEIVING
    assert coordinator.decoder.stats.other_mode_frames >= 3
    assert_issue(hass, running, Problem.MODE_SWITCHED, translation_key, ir.IssueSeverity.ERROR)

    # Switched back: the first valid frame clears it.
    await timeline.run_until(lambda: coordinator.link_state is LinkState.WAITING, within=61)
    await timeline.send(timeline.next_frame())
    assert coordinator.link_state is LinkState.RECEIVING
    assert raised(hass, running) == {}
    assert errors_logged(caplog) == []


async def test_unloading_clears_the_issues(hass: HomeAssistant, running: MockConfigEntry, timeline: Clock) -> None:
    """An unloaded entry watches no line: its issues go with it."""
    await timeline.advance(SILENCE_SECONDS + 30)
    assert set(raised(hass, running)) == {Problem.SILENT}
    assert await timeline.complete(hass.config_entries.async_unload(running.entry_id))
    assert raised(hass, running) == {}
