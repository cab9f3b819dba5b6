"""The browser test: a person adds the simulated meter through Home Assistant's UI (run by scripts/e2e)."""
