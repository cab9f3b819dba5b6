"""What the browser test runs against: a simulated meter, a fresh Home Assistant, Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import shutil
import sys

from playwright.sync_api import Browser, Page, sync_playwright
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from _develop import DEMO_NAME, DEMO_PASSWORD, DEMO_USERNAME  # noqa: E402
from _ha_api import HomeAssistantApi, wait_for  # noqa: E402
from _stack import DEFAULT_PROFILE, free_port, prepare_config, start_home_assistant, start_simulator  # noqa: E402

ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = os.environ.get("LINKY_CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing that would reach beyond localhost.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Return the folder for screenshots and logs, emptied."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def runtime_venv() -> Path:
    """Return the virtualenv Home Assistant runs from (scripts/e2e makes it)."""
    if not (venv := os.environ.get("LINKY_HA_VENV")):
        pytest.fail("LINKY_HA_VENV is not set: run the browser test with scripts/e2e")
    return Path(venv)


@pytest.fixture(scope="session")
def meter_url(artifacts: Path, runtime_venv: Path) -> Iterator[str]:
    """Serve the simulated meter on a free TCP port; return the URL a person types in the config flow."""
    port = free_port()
    profile = os.environ.get("LINKY_E2E_PROFILE", DEFAULT_PROFILE)
    simulator = start_simulator(str(runtime_venv / "bin" / "python"), profile, port, artifacts / "simulator.log")
    yield f"socket://127.0.0.1:{port}"
    simulator.stop()


@pytest.fixture(scope="session")
def home_assistant(artifacts: Path, runtime_venv: Path) -> Iterator[HomeAssistantApi]:
    """Start Home Assistant on an empty config folder and onboard the demo owner through its onboarding API.

    It listens on Home Assistant's default port, 8123, like scripts/develop: stop that first.
    """
    config = artifacts / "config"
    prepare_config(config)
    process, api = start_home_assistant(runtime_venv, config)
    try:
        api.onboard(name=DEMO_NAME, username=DEMO_USERNAME, password=DEMO_PASSWORD)
        wait_for(api.is_running, timeout=900, interval=1, what="Home Assistant to finish starting")
        yield api
    finally:
        process.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch Debian's Chromium (never a browser downloaded by Playwright)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/e2e installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Open a page; keep a screenshot of it when the test fails."""
    # The frontend's service worker reloads the page once it takes control, which would cut the test's steps
    # short at a random point; what the test checks does not depend on it.
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(FAILED, False):
        page.screenshot(path=artifacts / f"failure-{request.node.name}.png", full_page=True)
    context.close()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Note a failed test, for the page fixture's screenshot."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report
