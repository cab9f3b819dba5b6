"""Fixtures of the Linky Local tests."""

from __future__ import annotations

import pytest

# Import our package before the hass fixture runs: otherwise Home Assistant finds the test plugin's own
# `custom_components` package first and never sees ours.
import custom_components.linky_local  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom integrations in every test."""
