"""Horodates of standard mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from linky_tic import parse_horodate
from linky_tools.encoder import format_horodate


@pytest.mark.parametrize(
    ("raw", "iso", "degraded"),
    [
        ("E260712140327", "2026-07-12T14:03:27+02:00", False),
        ("e260712140327", "2026-07-12T14:03:27+02:00", True),
        ("H231231235959", "2023-12-31T23:59:59+01:00", False),
        ("h200229000000", "2020-02-29T00:00:00+01:00", True),
        (" 200214060000", "2020-02-14T06:00:00", False),
    ],
)
def test_parse(raw: str, iso: str, degraded: bool) -> None:
    horodate = parse_horodate(raw)
    assert horodate.raw == raw
    assert horodate.isoformat() == iso
    assert horodate.degraded is degraded
    assert format_horodate(horodate.moment, degraded=degraded) == raw


@pytest.mark.parametrize(
    "raw", ["", "E26071214032", "E2607121403277", "X260712140327", "E2607121403a7", "E261312140327", "H210229000000"]
)
def test_not_a_horodate(raw: str) -> None:
    assert parse_horodate(raw) is None


def test_format_converts_nothing() -> None:
    moment = datetime(2026, 7, 12, 12, 3, 27, tzinfo=UTC)
    assert format_horodate(moment.astimezone(timezone(timedelta(hours=2)))) == "E260712140327"
    assert format_horodate(moment.replace(tzinfo=None)) == " 260712120327"
