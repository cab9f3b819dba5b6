"""How the tests wait on real I/O: on the event itself, with one generous guard against a hang.

Shared by the protocol tests and the integration's tests. A guard is no claim about speed: on a loaded machine a
process starts, a frame arrives or a port closes many times later than usual, and the test must stay green.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

# Far beyond what any awaited event takes on a loaded machine (a Python process started beside three busy ones:
# about 15 s), and under pytest-timeout's 120 s (pyproject.toml) so that a hang is named where it happens.
GUARD: Final = 100.0


async def eventually(condition: Callable[[], bool], guard: float = GUARD) -> None:
    """Wait until the condition holds, for what no event tells; fail only on a hang."""
    async with asyncio.timeout(guard):
        while not condition():  # noqa: ASYNC110 - nothing tells this condition
            await asyncio.sleep(0.001)
