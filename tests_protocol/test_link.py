"""Opening and reading a TIC line: each way it fails gives a TicLinkError the config flow can word for the user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os
from pathlib import Path

import pytest

from linky_tic import ConnectionClosedError, Mode, NothingReceivedError, PortUnavailableError, connect_tic, detect

from .peers import hanging_up_server
from .waiting import GUARD


@pytest.fixture(name="closing_server")
async def closing_server_fixture(socket_enabled: None) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that hangs up on each client at once: a ser2net whose device is gone."""
    async with hanging_up_server() as url:
        yield url


async def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(PortUnavailableError, match="No such file"):
        await connect_tic(str(tmp_path / "ttyUSB9"), 9600, asyncio.Protocol)


async def test_an_unknown_kind_of_port() -> None:
    with pytest.raises(PortUnavailableError, match="bogus"):
        await connect_tic("bogus://192.0.2.1:2000", 9600, asyncio.Protocol)


async def test_a_file_that_is_no_terminal(tmp_path: Path) -> None:
    """Neither 7E1 nor 8N1 can be set on a plain file: the fallback fails too, and says so."""
    path = tmp_path / "not-a-tty"
    path.write_bytes(b"")
    with pytest.raises(PortUnavailableError):
        await connect_tic(str(path), 1200, asyncio.Protocol)


async def test_a_pty_whose_other_side_closes() -> None:
    """Reading a terminal whose device went away (a dongle unplugged) is a lost port."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    os.close(master)
    try:
        with pytest.raises(PortUnavailableError):
            await detect(path, Mode.STANDARD, within=GUARD)  # the error ends the wait, not a window
    finally:
        os.close(slave)


async def test_a_socket_closed_by_the_far_end(closing_server: str) -> None:
    """The far end hangs up before sending anything: a closed connection, whichever way serialx tells it."""
    with pytest.raises(ConnectionClosedError):
        await detect(closing_server, Mode.HISTORIC, within=GUARD)


async def test_nothing_received() -> None:
    """A line nobody writes to: nothing was received, however long the wait."""
    master, slave = os.openpty()
    try:
        with pytest.raises(NothingReceivedError):
            await detect(os.ttyname(slave), Mode.STANDARD, within=0.001)
    finally:
        os.close(master)
        os.close(slave)
