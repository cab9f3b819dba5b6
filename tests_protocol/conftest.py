"""Fixtures of the protocol and tools tests: no Home Assistant here, not even its test plugin."""

from __future__ import annotations

from collections.abc import Generator
import os
from pathlib import Path
import sys

import pytest

# Before anything imports the protocol package: it must come without the integration, so without Home Assistant.
import linky_tools  # noqa: F401

# ../shared/captures beside the repository; LINKY_CAPTURES names them when the tests run from a copy (the wheel's).
CAPTURES = Path(os.environ.get("LINKY_CAPTURES") or Path(__file__).resolve().parents[2] / "shared" / "captures")
# Real captures from public projects, byte-exact, some with identifiers anonymised without their checksums.
REALWORLD = CAPTURES / "realworld"


@pytest.fixture(autouse=True, scope="session")
def no_home_assistant() -> Generator[None]:
    """Fail the run if anything the protocol tests use imported Home Assistant."""
    yield
    assert "homeassistant" not in sys.modules, "the protocol package or the tools imported Home Assistant"


def capture_files() -> list[Path]:
    """Return the real captures beside the project, none when the folder is absent."""
    return sorted(CAPTURES.glob("*.tic")) if CAPTURES.is_dir() else []


def realworld_files() -> list[Path]:
    """Return the real-world captures, none when the folder is absent."""
    return sorted(REALWORLD.glob("*.tic")) if REALWORLD.is_dir() else []


def read_capture(name: str) -> bytes:
    """Return a capture's bytes, skipping the test when the captures are absent."""
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"capture {name} absent")
    return path.read_bytes()
