"""Fixtures of the soak run: the test suite's own (Home Assistant, the simulated meter behind a real pty)."""

from tests.conftest import *  # noqa: F403
