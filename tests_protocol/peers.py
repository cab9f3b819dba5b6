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
