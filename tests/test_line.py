"""The byte path at the line's pace: reads in batches at the coarser levels, no frame lost, a failing entity alone."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.coordinator import (
    READ_BEFORE_BOUNDARY,
    READ_BEFORE_CLOSE,
    READ_PAUSE,
    LinkState,
    MeterSnapshot,
)
from custom_components.linky_local.linky_tic import Decoder, Mode, longest_pause
from custom_components.linky_local.privacy import PrivacyLevel, next_boundary
from custom_components.linky_local.publisher import CLOSE_LEAD
from custom_components.linky_local.sensor import LinkySensor
from linky_tools.simulator import Profile

from .conftest import Clock, MemoryLine, errors_logged, follow

ENERGY = {Mode.HISTORIC: "sensor.linky_base_index", Mode.STANDARD: "sensor.linky_energy_withdrawn"}
TOTAL = {Mode.HISTORIC: "BASE", Mode.STANDARD: "EAST"}


@pytest.fixture
def privacy_level() -> None:
    """The default level, as the config flow makes an entry."""


def test_the_pause_follows_the_line_and_the_level() -> None:
    """The kernel's buffer holds ~34 s of a 1200-baud line, ~4 s at 9600: half of it at most, less at `live`."""
    assert longest_pause(1200) == pytest.approx(17.07, abs=0.01)
    assert longest_pause(9600) == pytest.approx(2.13, abs=0.01)
    assert READ_PAUSE[PrivacyLevel.LIVE] <= 0.25
    assert all(READ_PAUSE[level] >= 10 for level in PrivacyLevel if level is not PrivacyLevel.LIVE)


@pytest.mark.usefixtures("total_withdrawn_enabled")
@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE, Profile.STANDARD_MONO])
async def test_no_frame_lost_reading_in_batches(
    hass: HomeAssistant, timeline: Clock, memory_line: MemoryLine, caplog: pytest.LogCaptureFixture
) -> None:
    """At the default level the line is read a few times a minute, every frame decoded, each index exact at a window.

    The meter talks without a pause for five minutes: every frame it sent is decoded (counted), in one session, in
    far fewer reads than frames; the index each window publishes is the last one the meter sent before it closed.
    """
    await timeline.set_up()
    reads = 0
    protocol = timeline.coordinator.line
    original = protocol.data_received

    def counted(data: bytes) -> None:
        nonlocal reads
        reads += 1
        original(data)

    protocol.data_received = counted  # type: ignore[method-assign]
    mode = timeline.meter.simulator.mode
    written = follow(hass, ENERGY[mode], lambda event: (event.data["new_state"].state, event.time_fired))
    sent: list[tuple[float, int]] = []  # (when the frame's last byte was sent, its total index)
    frames = timeline.coordinator.decoder.stats.frames
    end = timeline.now + 300
    while timeline.now < end:
        frame = timeline.next_frame()
        await timeline.talk(frame)
        total = next(g.value for g in Decoder(mode).feed(frame)[0].groups.values() if g.label == TOTAL[mode])
        sent.append((timeline.moment.timestamp(), int(total)))

    await timeline.read()
    assert timeline.coordinator.decoder.stats.frames - frames == len(sent)
    assert memory_line.opened == 1
    assert timeline.coordinator.link_state is LinkState.RECEIVING
    pause = timeline.coordinator.line.pause
    assert pause == min(READ_PAUSE[PrivacyLevel.MINUTE], longest_pause(timeline.meter.simulator.baudrate))
    assert reads <= 300 / pause + 2 * 300 / 60 + 2  # a read per pause, and one before each window closes
    assert reads < len(sent) / 2
    # The states written as a window closed (an index that changes in the last moment before the boundary is
    # published again at once, as the meter's own).
    published = [
        (state, fired, boundary)
        for state, fired in written
        if state not in {"unknown", "unavailable"}
        and abs((boundary := next_boundary(PrivacyLevel.MINUTE, fired)) - CLOSE_LEAD - fired) < timedelta(seconds=0.01)
    ]
    assert len(published) >= 4
    # The last state written before each boundary is the last index the meter sent before the line's last read.
    for boundary in {boundary for _, _, boundary in published}:
        before = [state for state, fired in written if fired < boundary and state not in {"unknown", "unavailable"}]
        last_read = boundary.timestamp() - READ_BEFORE_BOUNDARY
        assert round(float(before[-1]) * 1000) == max(total for moment, total in sent if moment <= last_read + 1e-6)
    for state, _, boundary in published:
        closed_at = (boundary - CLOSE_LEAD).timestamp()
        # Every frame sent before the window's last read is in it; one sent after it, only if the line was reading.
        read_before = max(total for moment, total in sent if moment <= closed_at - READ_BEFORE_CLOSE + 1e-6)
        sent_before = max(total for moment, total in sent if moment <= closed_at)
        assert read_before <= round(float(state) * 1000) <= sent_before
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.LIVE])
async def test_a_failing_entity_leaves_the_port_open(
    hass: HomeAssistant,
    running: MockConfigEntry,
    timeline: Clock,
    memory_line: MemoryLine,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An entity whose state write fails is logged once; the line reads on and the other entities show each frame."""
    failing = "sensor.linky_current_phase_1"
    original = LinkySensor.async_write_ha_state

    def write(self: LinkySensor) -> None:
        if self.entity_id == failing:
            raise RuntimeError("a bug in a state write")
        original(self)

    monkeypatch.setattr(LinkySensor, "async_write_ha_state", write)
    power = follow(hass, "sensor.linky_apparent_power", lambda event: event.data["new_state"].state)
    frames = timeline.coordinator.decoder.stats.frames
    sent = await timeline.frames(30)

    assert timeline.coordinator.decoder.stats.frames - frames == sent
    assert memory_line.opened == 1
    assert timeline.coordinator.link_state is LinkState.RECEIVING
    sinsts = next(group.value for group in timeline.meter.simulator.groups() if group.label == "SINSTS")
    assert len(power) >= sent / 2
    assert hass.states.get("sensor.linky_apparent_power").state == str(int(sinsts))
    [error] = errors_logged(caplog)
    assert "an entity failed to show the meter's values" in error
    assert timeline.coordinator.unexpected_errors >= 2


@pytest.mark.parametrize("meter_profile", [Profile.STANDARD_MONO])
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.LIVE])
async def test_a_frame_calls_only_the_views_of_what_it_changed(
    hass: HomeAssistant, running: MockConfigEntry, timeline: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At `live` each frame calls the entities of the labels whose value changed, not every entity of the meter."""
    called: list[str] = []
    original = LinkySensor._view

    def counted(self: LinkySensor, snapshot: MeterSnapshot) -> object:
        called.append(self.entity_id)
        return original(self, snapshot)

    monkeypatch.setattr(LinkySensor, "_view", counted)
    sent = await timeline.frames(30)

    assert "sensor.linky_reference_power" not in called  # PREF: the same in every frame
    assert called.count("sensor.linky_apparent_power") >= sent / 2  # SINSTS moves


@pytest.mark.parametrize("meter_profile", [Profile.HISTORIC_BASE, Profile.STANDARD_MONO])
@pytest.mark.parametrize("privacy_level", [PrivacyLevel.LIVE])
async def test_live_reads_twice_a_frame_and_at_most_a_pause_late(
    hass: HomeAssistant, timeline: Clock, memory_line: MemoryLine
) -> None:
    """At `live` the pause stretches to a frame period after each frame: about two reads a frame, none late."""
    await timeline.set_up()
    line = timeline.coordinator.line
    reads: list[float] = []
    original = line.data_received

    def counted(data: bytes) -> None:
        reads.append(timeline.moment.timestamp())
        original(data)

    line.data_received = counted  # type: ignore[method-assign]
    ends: list[float] = []
    frames = timeline.coordinator.decoder.stats.frames
    end = timeline.now + 120
    while timeline.now < end:
        frame = timeline.next_frame()
        for start in range(0, len(frame), 32):  # as an adapter delivers a line: a few bytes at a time
            await timeline.talk(frame[start : start + 32])
        ends.append(timeline.moment.timestamp())
    await timeline.read()

    assert timeline.coordinator.decoder.stats.frames - frames == len(ends)
    assert memory_line.opened == 1
    assert len(reads) <= 2.5 * len(ends)
    assert line.frame_period is not None
    late = [min(read for read in reads if read >= sent - 1e-6) - sent for sent in ends[5:]]
    assert max(late) <= READ_PAUSE[PrivacyLevel.LIVE] + 1e-3
