"""What the browser test runs against: a simulated meter, a fresh Home Assistant, Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import os
from pathlib import Path
import shutil
import sys

from playwright.sync_api import Browser, Page, expect, sync_playwright
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from _develop import DEMO_NAME, DEMO_PASSWORD, DEMO_USERNAME  # noqa: E402
from _ha_api import HomeAssistantApi, wait_for  # noqa: E402
from _stack import Child, free_port, prepare_config, start_home_assistant, start_simulator  # noqa: E402

ARTIFACTS = ROOT / "artifacts" / "e2e"
SCREENSHOTS = ROOT / "docs" / "screenshots"  # what the README shows
VIEWPORT = {"width": 1280, "height": 900}
# Waits on what the page shows, as long as a loaded two-core machine needs (Playwright's default: 5 s).
TIMEOUT = 60_000
expect.set_options(timeout=TIMEOUT)
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
def screenshots() -> Path:
    """Return the folder of the screenshots the README shows (committed: the tests replace them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def runtime_venv() -> Path:
    """Return the virtualenv Home Assistant runs from (scripts/e2e makes it)."""
    if not (venv := os.environ.get("LINKY_HA_VENV")):
        pytest.fail("LINKY_HA_VENV is not set: run the browser test with scripts/e2e")
    return Path(venv)


class Meters:
    """Simulated meters on free TCP ports, stopped together."""

    def __init__(self, python: str, logs: Path) -> None:
        """Start meters with this Python, their logs in that folder."""
        self._python = python
        self._logs = logs
        self._children: list[Child] = []

    def start(self, profile: str) -> str:
        """Serve a simulated meter; return the URL a person types in the config flow."""
        port = free_port()
        log = self._logs / f"simulator-{profile}-{port}.log"
        # One entry per serial number: each meter its own. Its digits 5-6 say the model the device page shows
        # (as the simulator's own: 76 a three-phase meter, 64 a single-phase one).
        serial = f"0418{76 if 'tri' in profile else 64}54{len(self._children):04d}"
        self._children.append(start_simulator(self._python, profile, port, log, serial=serial))
        return f"socket://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop every meter started."""
        for child in self._children:
            child.stop()


@pytest.fixture(scope="module")
def module_artifacts(artifacts: Path, request: pytest.FixtureRequest) -> Path:
    """Return the module's own folder of artifacts (Home Assistant's config and logs, simulator logs)."""
    folder = artifacts / request.module.__name__.rpartition(".")[2]
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def meters(module_artifacts: Path, runtime_venv: Path) -> Iterator[Meters]:
    """Start simulated meters for the module's tests."""
    started = Meters(str(runtime_venv / "bin" / "python"), module_artifacts)
    yield started
    started.stop()


@contextmanager
def fresh_home_assistant(runtime_venv: Path, config: Path) -> Iterator[HomeAssistantApi]:
    """Start Home Assistant on an empty config folder, onboard the demo owner through its onboarding API.

    It listens on Home Assistant's default port, 8123, like scripts/develop: one at a time.
    """
    shutil.rmtree(config, ignore_errors=True)
    prepare_config(config)
    process, api = start_home_assistant(runtime_venv, config)
    try:
        api.onboard(name=DEMO_NAME, username=DEMO_USERNAME, password=DEMO_PASSWORD)
        wait_for(api.is_running, timeout=900, interval=1, what="Home Assistant to finish starting")
        yield api
    finally:
        process.stop()


@pytest.fixture(scope="module")
def home_assistant(module_artifacts: Path, runtime_venv: Path) -> Iterator[HomeAssistantApi]:
    """Start a fresh Home Assistant for the module's tests."""
    with fresh_home_assistant(runtime_venv, module_artifacts / "config") as api:
        yield api


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
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT)
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
