"""Opening and reading a TIC line: each way it fails gives a TicLinkError the config flow can word for the user."""

from __future__ import annotations

from collections.abc import AsyncIterator
import os
from pathlib import Path

import pytest

from linky_tic.decoder import Decoder
from linky_tic.link import (
    ConnectionClosedError,
    NothingReceivedError,
    PortUnavailableError,
    close_tic,
    open_tic,
    read_frame,
)

from .peers import hanging_up_server


@pytest.fixture(name="closing_server")
async def closing_server_fixture(socket_enabled: None) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that hangs up on each client at once: a ser2net whose device is gone."""
    async with hanging_up_server() as url:
        yield url


async def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(PortUnavailableError, match="No such file"):
        await open_tic(str(tmp_path / "ttyUSB9"), 9600)


async def test_an_unknown_kind_of_port() -> None:
    with pytest.raises(PortUnavailableError, match="bogus"):
        await open_tic("bogus://192.0.2.1:2000", 9600)


async def test_a_file_that_is_no_terminal(tmp_path: Path) -> None:
    """Neither 7E1 nor 8N1 can be set on a plain file: the fallback fails too, and says so."""
    path = tmp_path / "not-a-tty"
    path.write_bytes(b"")
    with pytest.raises(PortUnavailableError):
        await open_tic(str(path), 1200)


async def test_a_pty_whose_other_side_closes() -> None:
    """Reading a terminal whose device went away (a dongle unplugged) is a lost port."""
    master, slave = os.openpty()
    reader, writer = await open_tic(os.ttyname(slave), 9600)
    os.close(master)
    os.close(slave)
    try:
        with pytest.raises(PortUnavailableError):
            await read_frame(reader, Decoder(), 10.0, url="test")
    finally:
        await close_tic(writer)


async def test_a_socket_closed_by_the_far_end(closing_server: str) -> None:
    """The far end hangs up before sending anything: a closed connection, whichever way serialx tells it."""
    reader, writer = await open_tic(closing_server, 9600)
    try:
        with pytest.raises(ConnectionClosedError):
            await read_frame(reader, Decoder(), 10.0, url="test")
    finally:
        await close_tic(writer)


async def test_no_time_to_read() -> None:
    """Given no time at all, nothing is read, and nothing was received."""
    master, slave = os.openpty()
    reader, writer = await open_tic(os.ttyname(slave), 9600)
    try:
        with pytest.raises(NothingReceivedError):
            await read_frame(reader, Decoder(), 0.0, url="test")
    finally:
        await close_tic(writer)
        os.close(master)
        os.close(slave)
