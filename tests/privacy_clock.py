"""A frozen clock the privacy tests move on, and frames sent at chosen moments with chosen values.

The `freezer` fixture freezes Home Assistant's clocks and the event loop's own: the publisher's windows close only
when the test moves the clock past them, and each frame carries the moment it was sent at.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import time
from typing import Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_local.publisher import CLOSE_LEAD
from custom_components.linky_local.tic import Group
from linky_tools.encoder import encode_frame

from .conftest import VirtualMeter

OPEN_STEP: Final = timedelta(milliseconds=10)
REAL_PAUSE: Final = 0.001
READ_STEPS: Final = 10_000  # 10 s of real time at most, for a loaded machine
# The loop runs a timer once the clocks are past its time (at epoch magnitudes its resolution is lost to rounding).
TIMER_PAST: Final = timedelta(microseconds=1)
# Less than the silence after which the meter is lost, when no frame comes.
SET_UP_BEFORE: Final = timedelta(seconds=3)


def with_values(groups: list[Group], **values: str) -> list[Group]:
    """Return the groups with some values replaced."""
    return [replace(group, value=values[group.label]) if group.label in values else group for group in groups]


async def run_due_timers(hass: HomeAssistant) -> None:
    """Let the loop run every timer whose time has passed on the frozen clocks, those they schedule included."""
    loop = hass.loop
    for _ in range(10000):
        due = [h for h in get_scheduled_timer_handles(loop) if not h.cancelled() and h.when() < loop.time()]
        if not due:
            break
        await asyncio.sleep(0)
    else:
        raise AssertionError(f"timers keep falling due: {due}")
    await hass.async_block_till_done()


async def advance_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    """Move the clocks on to a moment, stopping at each timer due before it to run it at its time, as real time would.

    A window's close must write its states at its own time, not at the next frame's.
    """
    loop, target = hass.loop, moment.timestamp()
    while True:
        due = [handle.when() for handle in get_scheduled_timer_handles(loop) if not handle.cancelled()]
        if not due or (first := min(due)) >= target:
            break
        freezer.move_to(datetime.fromtimestamp(first, UTC) + TIMER_PAST)
        await run_due_timers(hass)
    freezer.move_to(moment)
    await run_due_timers(hass)


async def set_up(hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry) -> None:
    """Set an entry up, the clocks moving on by small steps while the port opens (serialx waits a moment)."""
    entry.add_to_hass(hass)
    setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    while not setup.done():
        freezer.tick(OPEN_STEP)
        await hass.async_add_executor_job(time.sleep, REAL_PAUSE)
    assert setup.result()
    await hass.async_block_till_done()


class Clock:
    """Move the clocks on and send frames in step with them."""

    def __init__(
        self, hass: HomeAssistant, freezer: FrozenDateTimeFactory, meter: VirtualMeter, entry: MockConfigEntry
    ) -> None:
        """Drive an entry and its simulated meter."""
        self.hass = hass
        self.freezer = freezer
        self.meter = meter
        self.entry = entry

    async def move_to(self, moment: datetime) -> None:
        """Move the clocks to a moment, each timer due on the way run at its own time (the windows closing...)."""
        await advance_to(self.hass, self.freezer, moment)

    async def close(self, boundary: datetime) -> None:
        """Move the clocks just past the moment the windows ending at `boundary` close."""
        await self.move_to(boundary - CLOSE_LEAD + TIMER_PAST)

    async def send(self, moment: datetime, **values: str) -> None:
        """Send a frame at a moment, the simulated meter's groups with some values replaced; wait until it is read.

        Between windows a frame may tell the entities nothing: wait on the decoder, not on the coordinator.
        """
        simulator = self.meter.simulator
        await self.send_groups(moment, with_values(simulator.groups(), **values))

    async def send_groups(self, moment: datetime, groups: list[Group]) -> None:
        """Send a frame of these groups at a moment; wait until it is read."""
        await self.move_to(moment)
        decoder = self.entry.runtime_data.decoder
        expected = decoder.stats.frames + 1
        await self.meter.port.send(encode_frame(self.meter.simulator.mode, groups))
        for _ in range(READ_STEPS):
            if decoder.stats.frames >= expected:
                break
            await self.hass.async_add_executor_job(time.sleep, REAL_PAUSE)
        assert decoder.stats.frames >= expected, "the frame was not read"
        await self.hass.async_block_till_done()


async def start_clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, meter: VirtualMeter, entry: MockConfigEntry, at: datetime
) -> Clock:
    """Set up the entry of a French home a moment before `at`; the first, partial window ends at `at`."""
    await hass.config.async_set_time_zone("Europe/Paris")
    freezer.move_to(at - SET_UP_BEFORE)
    await set_up(hass, freezer, entry)
    clock = Clock(hass, freezer, meter, entry)
    await clock.close(at)
    return clock
