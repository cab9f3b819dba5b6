"""Run a simulated meter and Home Assistant with the integration, and stop them cleanly.

Standard library only: scripts/develop and the browser test (in its own virtualenv) both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
from typing import IO, Any, Self

from _ha_api import HomeAssistantApi, wait_for

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "linky_local"
DEFAULT_PROFILE = "standard_tri_producer"
HOME_ASSISTANT_PORT = 8123  # Home Assistant's default
HOME_ASSISTANT_URL = f"http://localhost:{HOME_ASSISTANT_PORT}"

# Only what the demo needs, so that a first start installs little: the frontend (with config, onboarding, auth),
# the recorder and the views that read it (history, logbook, energy), and our logs at debug level. The house is
# in France, as a Linky is. No http section: Home Assistant 2026.10 moves it to its own storage and asks in the UI
# to confirm any change from the default port, 8123. Home Assistant sets up its base platforms whatever the
# configuration says, among them text-to-speech (which runs ffmpeg to read its version) and camera (which loads
# libturbojpeg): without those system packages, which a Home Assistant OS or container install has and the demo
# never uses, each logs a traceback at start; their two loggers are quiet here.
CONFIGURATION_YAML = """\
# Written by scripts/develop for a Linky Local demo. Edit freely: it is not written again while it exists.
homeassistant:
  name: Linky Local demo
  country: FR
  time_zone: Europe/Paris
  currency: EUR
  unit_system: metric
  latitude: 48.8566
  longitude: 2.3522
  elevation: 35
frontend:
recorder:
history:
logbook:
energy:
logger:
  default: warning
  logs:
    homeassistant.setup: info
    homeassistant.util.package: info
    custom_components.linky_local: debug
    # No camera and no voice in this demo: Home Assistant's base platforms look for ffmpeg and libturbojpeg.
    haffmpeg: critical
    homeassistant.components.camera.img_util: critical
"""

# Onboarding's core-config step is marked done before the first start: configuration.yaml holds the core config,
# and that step's handler adds Google Translate, Met.no, Radio Browser and Shopping list, which need the internet
# (a red "Failed setup, will retry" card offline) and packages the demo does not want. Onboarding's other steps
# (owner, analytics, integrations) stay for the onboarding API, as a person's browser would go through them.
ONBOARDING_STORE = {"version": 4, "minor_version": 1, "key": "onboarding", "data": {"done": ["core_config"]}}

# Pinned by Home Assistant at versions without a Python 3.14 wheel: the runtime virtualenv has newer ones instead
# (requirements/ha-runtime.txt says why), which Home Assistant must not replace.
SKIP_PIP_PACKAGES = ("pymicro-vad", "pyspeex-noise")


@dataclass
class Child:
    """A child process started in its own session, so that Ctrl-C reaches us and we stop it in order."""

    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> Self:
        """Start the process, its output going to log_path."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            self.args,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        return self

    def running(self) -> bool:
        """Return whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def check_running(self) -> None:
        """Raise if the process has ended."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.name} stopped (exit {self.process.returncode}); see {self.log_path}")

    def stop(self, timeout: float = 60) -> None:
        """Ask the process to stop (SIGTERM), kill it when it does not within timeout seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f">> {self.name} did not stop within {timeout:.0f} s: killing it")
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int) -> bool:
    """Return whether something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_simulator(
    python: str,
    profile: str,
    port: int,
    log_path: Path,
    *,
    faults: str = "",
    serial: str | None = None,
    esphome: bool = False,
) -> Child:
    """Start the simulated meter serving its TIC line on socket://127.0.0.1:port; wait until it listens.

    With `esphome`, the line is behind a fake ESPHome device whose native API listens there instead, its serial
    proxy named `tic`. Meters of one Home Assistant need serial numbers of their own (an entry's unique id).
    """
    if port_accepts(port):
        raise RuntimeError(f"127.0.0.1:{port} is already in use: pick another port for the simulated meter")
    args = [python, "-m", "linky_tools", "simulate", "--profile", profile]
    args += ["--esphome" if esphome else "--tcp", f"127.0.0.1:{port}"]
    if faults:
        args += ["--faults", faults]
    if serial:
        args += ["--serial", serial]
    child = Child("the simulated meter", args, log_path).start()

    def listening() -> bool:
        child.check_running()
        return port_accepts(port)

    wait_for(listening, timeout=60, interval=0.2, what="the simulated meter to listen")
    return child


def prepare_config(config: Path) -> None:
    """Make a Home Assistant config folder with the integration linked in (not the repository's copy)."""
    (config / "custom_components").mkdir(parents=True, exist_ok=True)
    link = config / "custom_components" / DOMAIN
    if not link.is_symlink():
        link.symlink_to(ROOT / "custom_components" / DOMAIN, target_is_directory=True)
    yaml = config / "configuration.yaml"
    if not yaml.exists():
        yaml.write_text(CONFIGURATION_YAML)
    storage = config / ".storage"
    if not storage.exists():
        storage.mkdir()
        (storage / "onboarding").write_text(json.dumps(ONBOARDING_STORE))


def start_home_assistant(venv: Path, config: Path) -> tuple[Child, HomeAssistantApi]:
    """Start Home Assistant on a config folder; return once its HTTP server answers."""
    api = HomeAssistantApi(HOME_ASSISTANT_URL)
    if api.is_up() or port_accepts(HOME_ASSISTANT_PORT):
        raise RuntimeError(f"something already listens on port {HOME_ASSISTANT_PORT}: stop it first")
    child = Child(
        "Home Assistant",
        [str(venv / "bin" / "hass"), "--config", str(config), "--skip-pip-packages", ",".join(SKIP_PIP_PACKAGES)],
        config / "home-assistant.console.log",
        # Runtime installs go to the project's uv cache, so the next fresh config folder starts quicker.
        env={"UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(cache_dir() / "uv"))},
    ).start()

    def answering() -> bool:
        child.check_running()
        return api.is_up()

    wait_for(answering, timeout=900, interval=1, what="Home Assistant's HTTP server")
    return child, api


def cache_dir() -> Path:
    """Return the project's cache folder outside the clone, as scripts/setup computes it."""
    if cache := os.environ.get("LINKY_CACHE"):
        return Path(cache)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "linky-local"


def add_meter(api: HomeAssistantApi, device: str, mode: str = "auto", name: str | None = None) -> dict[str, Any]:
    """Add a Linky Local entry through the config flow, as "Add integration" does; return the flow's result.

    The meter gets `name`, or the name offered ("Linky", "Linky 2"...).
    """
    step = api.start_config_flow(DOMAIN)
    if step.get("type") == "form":
        step = api.continue_config_flow(step["flow_id"], {"device": device, "mode": mode})
    if step.get("type") == "form" and step.get("step_id") == "privacy":
        # The level offered: per minute.
        step = api.continue_config_flow(step["flow_id"], {} if name is None else {"name": name})
    if step.get("type") != "create_entry":
        raise RuntimeError(f"the config flow did not create an entry: {step}")
    return step


def add_esphome_device(api: HomeAssistantApi, port: int) -> str:
    """Add the ESPHome device on 127.0.0.1:port through esphome's config flow, as a person does.

    Return the URL of its serial proxy `tic` as Home Assistant's port selector lists it.
    """
    step = api.start_config_flow("esphome")
    if step.get("type") == "form":
        step = api.continue_config_flow(step["flow_id"], {"host": "127.0.0.1", "port": port})
    if step.get("type") != "create_entry":
        raise RuntimeError(f"the esphome config flow did not create an entry: {step}")
    return f"esphome-hass://esphome/{step['result']['entry_id']}?port_name=tic"


def live_states(api: HomeAssistantApi) -> dict[str, float]:
    """Return the numeric states of the integration's entities."""
    numbers = {}
    for entity_id, state in api.integration_states(DOMAIN).items():
        try:
            numbers[entity_id] = float(state)
        except ValueError:
            continue
    return numbers


def wait_for_live_value(api: HomeAssistantApi, timeout: float) -> tuple[str, float, float]:
    """Wait until one of the integration's numeric states changes; return (entity_id, before, after)."""
    first: dict[str, float] = {}

    def changed() -> tuple[str, float, float] | None:
        now = live_states(api)
        if not first:
            first.update(now)
            return None
        for entity_id, value in now.items():
            if entity_id in first and value != first[entity_id]:
                return entity_id, first[entity_id], value
        first.update({k: v for k, v in now.items() if k not in first})
        return None

    result: tuple[str, float, float] = wait_for(changed, timeout=timeout, interval=1, what="a live value")
    return result
