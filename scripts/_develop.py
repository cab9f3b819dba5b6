"""scripts/develop: a simulated meter (or a real one) and Home Assistant with Linky Local, live, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import shutil
import signal
import sys
import time
from types import FrameType

from _ha_api import HomeAssistantApi, HomeAssistantApiError, wait_for
from _stack import (
    DEFAULT_PROFILE,
    DOMAIN,
    ROOT,
    Child,
    add_esphome_device,
    add_meter,
    live_states,
    prepare_config,
    start_home_assistant,
    start_simulator,
    wait_for_live_value,
)

DEMO_NAME = "Demo"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "linky-local-demo"  # noqa: S105 - a local demo instance; printed for the person running it
STATE_FILE = ".linky-local-develop.json"  # which entry scripts/develop added, and for which device


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run Home Assistant with Linky Local and a simulated meter at http://localhost:8123.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help=f"simulated meter profile (default {DEFAULT_PROFILE}; see python -m linky_tools simulate --help)",
    )
    source.add_argument(
        "--device",
        help="a real meter instead of the simulated one: /dev/serial/by-id/..., socket://HOST:PORT, rfc2217://...",
    )
    parser.add_argument(
        "--faults", default="", help="line faults for the simulated meter: noise,eot,corrupt,parity,cr_lf"
    )
    parser.add_argument(
        "--esphome",
        action="store_true",
        help="the simulated meter behind a fake ESPHome device's serial proxy, added through the esphome integration",
    )
    parser.add_argument("--mode", default="auto", choices=("auto", "historic", "standard"), help="TIC mode")
    parser.add_argument("--meter-port", type=int, default=18123, help="the simulated meter's TCP port")
    parser.add_argument("--config", type=Path, default=ROOT / "config", help="config folder (default ./config)")
    parser.add_argument("--fresh", action="store_true", help="start from an empty config folder")
    return parser.parse_args()


def log_in(api: HomeAssistantApi) -> None:
    """Finish onboarding with the demo owner, or log in as the demo owner."""
    if not all(api.onboarding_steps_done().values()):
        print(">> Onboarding through Home Assistant's onboarding API")
        api.onboard(name=DEMO_NAME, username=DEMO_USERNAME, password=DEMO_PASSWORD)
        return
    try:
        api.login(DEMO_USERNAME, DEMO_PASSWORD)
    except HomeAssistantApiError as err:
        raise SystemExit(
            f"!! Cannot log in as {DEMO_USERNAME!r}: {err}\n"
            "   This config folder has other owners: run scripts/develop --fresh to start from an empty one."
        ) from err


def ensure_entry(api: HomeAssistantApi, config: Path, meter: dict[str, str]) -> None:
    """Add the meter through the config flow, unless the entry scripts/develop added last time is for it."""
    state_path = config / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    entry_id = state.pop("entry_id", None)
    if entry_id in {entry["entry_id"] for entry in api.config_entries(DOMAIN)}:
        if state == meter:
            print(f">> Keeping the Linky Local entry for {meter['device']}")
            return
        api.remove_config_entry(entry_id)
    print(f">> Adding Linky Local for {meter['device']} through the config flow")
    result = add_meter(api, meter["device"], meter["mode"])
    state_path.write_text(json.dumps({"entry_id": result["result"]["entry_id"], **meter}))


def ensure_esphome_device(api: HomeAssistantApi, port: int) -> str:
    """Add the fake ESP through the esphome integration unless it is there; return its serial proxy's URL."""
    for entry in api.config_entries("esphome"):
        if entry.get("state") == "loaded":
            return f"esphome-hass://esphome/{entry['entry_id']}?port_name=tic"
    print(f">> Adding the ESPHome device on 127.0.0.1:{port} through the esphome integration's config flow")
    return add_esphome_device(api, port)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, started: float, venv: Path, children: list[Child]) -> None:
    """Start everything, show where to look, and wait."""
    config: Path = args.config.resolve()
    if args.fresh and config.exists():
        print(f">> Removing {config}")
        shutil.rmtree(config)
    prepare_config(config)
    device = args.device
    if device is None:
        where = "an ESPHome serial proxy, API" if args.esphome else "socket://"
        print(f">> Starting the simulated meter ({args.profile}) behind {where} 127.0.0.1:{args.meter_port}")
        children.append(
            start_simulator(
                str(venv / "bin" / "python"),
                args.profile,
                args.meter_port,
                config / "simulator.log",
                faults=args.faults,
                esphome=args.esphome,
            )
        )
        device = f"socket://127.0.0.1:{args.meter_port}"
    print(f">> Starting Home Assistant on {config} (log: {config / 'home-assistant.log'})")
    ha, api = start_home_assistant(venv, config)
    children.append(ha)
    log_in(api)
    if args.esphome and args.device is None:
        device = ensure_esphome_device(api, args.meter_port)
    ensure_entry(api, config, {"device": device, "mode": args.mode, "profile": "" if args.device else args.profile})
    wait_for(api.is_running, timeout=900, interval=1, what="Home Assistant to finish starting")
    wait_for(lambda: live_states(api), timeout=300, interval=1, what="the meter's first values")
    print(f">> First values after {time.time() - started:.0f} s; waiting for one to change (once a minute by default)")
    entity_id, before, after = wait_for_live_value(api, timeout=300)
    device_id = api.render_template(f"{{{{ device_id('{entity_id}') }}}}")
    print(
        f"""
>> Live after {time.time() - started:.0f} s: {entity_id} went from {before:g} to {after:g}.

   Home Assistant   {api.base_url}
   Log in as        {DEMO_USERNAME} / {DEMO_PASSWORD}
   The meter        {api.base_url}/config/devices/device/{device_id}
   Its device       {device}
   Logs             {config / "home-assistant.log"}{"" if args.device else f", {config / 'simulator.log'}"}

   Ctrl-C stops everything."""
    )
    while True:
        for child in children:
            child.check_running()
        time.sleep(1)


def main() -> None:
    """Run scripts/develop."""
    args = parse_args()
    started = float(os.environ.get("LINKY_DEVELOP_START") or time.time())
    venv = Path(os.environ.get("LINKY_HA_VENV") or sys.prefix)
    # Explicit: a shell that starts us in the background has Ctrl-C ignored, and Python keeps it so.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    children: list[Child] = []
    try:
        run(args, started, venv, children)
    except KeyboardInterrupt:
        print("\n>> Stopping")
    except (RuntimeError, TimeoutError, HomeAssistantApiError) as err:
        print(f"!! {err}", file=sys.stderr)
        sys.exit(1)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave a half-stopped child behind
        for child in reversed(children):
            print(f">> Stopping {child.name}")
            child.stop()
    print(">> Stopped")


if __name__ == "__main__":
    main()
