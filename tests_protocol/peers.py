"""Peers for the tests of a TIC line, shared by the protocol tests and the integration's config flow tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def hanging_up_server() -> AsyncIterator[str]:
    """Yield the URL of a TCP server on 127.0.0.1 that hangs up on each client at once: a ser2net whose device is gone."""

    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    try:
        yield f"socket://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


class ConnectTimeout:
    """serialx's RFC 2217 connect timeout, struck by the test when what it waits for happened, not after 5 s.

    Stands for `asyncio.timeout` in `serialx.platforms.serial_rfc2217`: where the wait was cancelled is what the
    tests check (connecting, or negotiating), never how long it took.
    """

    def __init__(self) -> None:
        """Arm nothing yet: serialx arms it when it connects."""
        self.armed: asyncio.Timeout | None = None

    def __call__(self, _delay: float | None) -> asyncio.Timeout:
        """Return a timeout never due until struck."""
        self.armed = asyncio.timeout(None)
        return self.armed

    def strike(self) -> None:
        """Let the timeout fall due now, as serialx's would after its delay."""
        assert self.armed is not None, "serialx armed no connect timeout"
        self.armed.reschedule(asyncio.get_running_loop().time())
