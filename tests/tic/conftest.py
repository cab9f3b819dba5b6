"""Fixtures of the TIC package tests."""

from __future__ import annotations

from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "captures"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the integration tests' fixture: the TIC package needs no Home Assistant instance."""


def capture_files() -> list[Path]:
    """Return the real captures beside the project, none when the folder is absent."""
    return sorted(CAPTURES.glob("*.tic")) if CAPTURES.is_dir() else []


def read_capture(name: str) -> bytes:
    """Return a capture's bytes, skipping the test when the captures are absent."""
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"capture {name} absent")
    return path.read_bytes()
