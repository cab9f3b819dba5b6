"""Why an RFC 2217 port did not open: serialx's one connect timeout covers the TCP connection and the negotiation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from linky_tic import HostUnreachableError, Rfc2217NegotiationError, connect_tic


@pytest.fixture
async def raw_tcp_port(socket_enabled: None) -> AsyncIterator[int]:
    """A TCP port that accepts connections and never speaks telnet, as a raw ser2net accepter."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    server.close_clients()
    await server.wait_closed()


async def test_a_server_that_does_not_negotiate(raw_tcp_port: int) -> None:
    """Connected, but no answer to the telnet options: the negotiation, not the host, is named."""
    with pytest.raises(Rfc2217NegotiationError):
        await connect_tic(f"rfc2217://127.0.0.1:{raw_tcp_port}", 9600, asyncio.Protocol)


async def test_a_host_that_never_answers(raw_tcp_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TCP connection that never completes (a host gone, a firewall dropping packets) is an unreachable host."""
    loop = asyncio.get_running_loop()

    async def create_connection(*args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()  # the SYN goes unanswered

    monkeypatch.setattr(loop, "create_connection", create_connection)
    with pytest.raises(HostUnreachableError):
        await connect_tic(f"rfc2217://127.0.0.1:{raw_tcp_port}", 9600, asyncio.Protocol)
