"""Why an RFC 2217 port did not open: serialx's one connect timeout covers the TCP connection and the negotiation.

The timeout strikes when the test has seen what it waits for (the client negotiating, the connection hanging), not
after serialx's 5 s: where the wait was cancelled is what is under test, not how long it took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from serialx.platforms import serial_rfc2217

from linky_tic import HostUnreachableError, Rfc2217NegotiationError, connect_tic

from .peers import ConnectTimeout
from .waiting import GUARD


@pytest.fixture
def connect_timeout(monkeypatch: pytest.MonkeyPatch) -> ConnectTimeout:
    """serialx's RFC 2217 connect timeout, under the test's control."""
    timeout = ConnectTimeout()
    monkeypatch.setattr(serial_rfc2217, "asyncio_timeout", timeout)
    return timeout


class SilentServer:
    """A TCP port that accepts connections and never speaks telnet, as a raw ser2net accepter."""

    def __init__(self) -> None:
        """Not listening yet."""
        self.port = 0
        self.negotiating = asyncio.Event()

    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Take the client's telnet options, answer nothing."""
        if await reader.read(1):
            self.negotiating.set()
        await reader.read()
        writer.close()


@pytest.fixture
async def raw_tcp_port(socket_enabled: None) -> AsyncIterator[SilentServer]:
    """A TCP port on 127.0.0.1 that never answers the negotiation."""
    silent = SilentServer()
    server = await asyncio.start_server(silent.client, "127.0.0.1", 0)
    silent.port = server.sockets[0].getsockname()[1]
    yield silent
    server.close()
    server.close_clients()
    await server.wait_closed()


async def test_a_server_that_does_not_negotiate(raw_tcp_port: SilentServer, connect_timeout: ConnectTimeout) -> None:
    """Connected, but no answer to the telnet options: the negotiation, not the host, is named."""
    opening = asyncio.create_task(connect_tic(f"rfc2217://127.0.0.1:{raw_tcp_port.port}", 9600, asyncio.Protocol))
    async with asyncio.timeout(GUARD):
        await raw_tcp_port.negotiating.wait()
    connect_timeout.strike()
    with pytest.raises(Rfc2217NegotiationError):
        await asyncio.wait_for(opening, GUARD)


async def test_a_host_that_never_answers(
    raw_tcp_port: SilentServer, connect_timeout: ConnectTimeout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TCP connection that never completes (a host gone, a firewall dropping packets) is an unreachable host."""
    loop = asyncio.get_running_loop()
    connecting = asyncio.Event()

    async def create_connection(*args: Any, **kwargs: Any) -> Any:
        connecting.set()
        await asyncio.Event().wait()  # the SYN goes unanswered

    monkeypatch.setattr(loop, "create_connection", create_connection)
    opening = asyncio.create_task(connect_tic(f"rfc2217://127.0.0.1:{raw_tcp_port.port}", 9600, asyncio.Protocol))
    async with asyncio.timeout(GUARD):
        await connecting.wait()
    connect_timeout.strike()
    with pytest.raises(HostUnreachableError):
        await asyncio.wait_for(opening, GUARD)
