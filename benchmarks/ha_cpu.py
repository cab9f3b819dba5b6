"""CPU per meter-hour in real Home Assistant processes: this integration at each privacy level against core `teleinfo`.

Run from the repository root: `.venv/bin/python -m benchmarks.ha_cpu [--windows 3] [--window 120]`. Each contender is
a Home Assistant process of its own (the 2026.10 test leg's, `--skip-pip`), with its own config folder, HTTP port on
127.0.0.1 (never 8123) and SQLite recorder, reading its own pseudo-terminal. This process plays the meters: simulated
frames at the line's real rate, written `--chunk` bytes at a time (2: what a USB adapter's latency timer delivers at
1200 baud, about sixty writes a second; 64: a larger FIFO). An idle Home Assistant (the same configuration with no
meter) is the baseline; every process is measured in the same windows, from its own counters (/proc/PID/stat: user
and system time, threads included), after a warm-up. For each contender the figures are:

- CPU per meter-hour: (its CPU time minus the idle process's) over the windows, scaled to an hour of the meter's frames;
- recorder rows per hour: the `states` rows its entities wrote in the windows (each one a state that changed);
- frames per hour the meter sent, for scale;
- at `live`, frame to state: from the moment the meter finished sending a frame to the moment Home Assistant wrote
  the state of the total index it carried (BASE or EAST), read from the recorder's `last_updated_ts`.

Live's floor is measured beside it: a Home Assistant whose only component writes as many changed states an hour as
live wrote in earlier runs (one state at a time, reading nothing): the cost of the state machine and the recorder.

Core `teleinfo` (HA 2026.10: opens the port every 10 s, reads one frame with pyserial in the executor, historic
mode only) runs from the same Home Assistant; its requirement pyteleinfo 0.4.0 is installed into the benchmarks' own
folder (benchmarks/parser.py's BENCH_SITE), never into the locked test virtualenvs; a Linux pty refuses 7E1, so its
own settings (TELEINFO_BYTESIZE, TELEINFO_PARITY) open the pty 8N1, as this integration falls back to.

The meter behind an ESPHome serial proxy: this process also plays the ESP (linky_tools.esphome_device, its UART fed
at the line's real rate), added to that Home Assistant's esphome integration; its baseline is an idle Home Assistant
with the same ESP added and its proxy unused, so the figure is what reading the meter through the proxy costs.

`LINKY_BENCH_ONLY=esphome` runs only the historic meter on a pty and through the proxy, at the default level.
`LINKY_BENCH_KEEP=1` keeps the config folders and their logs. `--short` (what CI runs): the historic scenario with 2-byte reads, this integration at the default level against the
idle baseline, and through an ESPHome serial proxy against its own, two windows of 10 s: seconds of measure, the same code path, small figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

import homeassistant
from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA

from linky_tools.esphome_device import EspHomeDevice
from linky_tools.simulator import BITS_PER_BYTE, Profile, SimulatedMeter

from .parser import BENCH_SITE, bench_import, pyteleinfo

ROOT = Path(__file__).resolve().parent.parent
INDEX_LABELS = ("BASE", "EAST")  # the total index of the simulated meters, whose states time the frame-to-state path
# Live's floor: a component that only writes states, one changed state at a time at a given rate, reading nothing.
WRITER_MANIFEST = {"domain": "bench_writes", "name": "Bench writes", "version": "0", "requirements": []}
WRITER = """
import itertools

DOMAIN = "bench_writes"


async def async_setup(hass, config):
    per_hour = config[DOMAIN]["per_hour"]
    interval = 3600 / per_hour
    count = itertools.count()

    def write():
        n = next(count)
        hass.states.async_set(f"sensor.bench_write_{n % 30}", str(n), {"unit_of_measurement": "W"})
        hass.loop.call_later(interval, write)

    hass.loop.call_later(interval, write)
    return True
"""
# The fake ESP forwards its UART's bytes as its line delivers them: 64 at a time (the MeterServer's chunk), the key of
# its scenario's baseline.
ESP_CHUNK = 0
ESP_ENTRY_ID = "benchesphome"
# Home Assistant falls back to recovery mode without its frontend, which the test virtualenv does not hold (Home
# Assistant installs it at its first start): the pinned wheel goes into a folder of the benchmark's own.
BENCH_FRONTEND = BENCH_SITE.parent / "bench-frontend"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Contender:
    """One Home Assistant process: which integration reads the meter, at which level."""

    name: str
    domain: str | None  # None: the idle baseline; "bench_writes": states written at `writes` an hour, nothing read
    profile: Profile
    chunk: int
    level: str | None = None
    writes: int = 0
    folder: Path = field(default=Path())
    process: subprocess.Popen[bytes] | None = None
    master: int = -1
    slave: int = -1
    cpu: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    frames: int = 0
    sent_at: dict[int, float] = field(default_factory=dict)  # total index (Wh) → when its frame's last byte was sent
    esphome: bool = False  # the meter behind a fake ESP's serial proxy, added to Home Assistant's esphome integration
    esp: EspHomeDevice | None = None


def scenario(
    profile: Profile, chunk: int, levels: tuple[str, ...], teleinfo: bool, live_writes: int = 0
) -> list[Contender]:
    """Return the contenders of one scenario: the idle baseline, ours at each level, teleinfo if asked.

    With `live_writes`, a writer of that many states an hour too, reading nothing: live's floor.
    """
    tag = f"{profile}/{chunk}B"
    contenders = [Contender(f"{tag} idle Home Assistant", None, profile, chunk)]
    if live_writes:
        contenders.append(Contender(f"{tag} state writes alone", "bench_writes", profile, chunk, writes=live_writes))
    contenders += [Contender(f"{tag} Linky Local, {level}", "linky_local", profile, chunk, level) for level in levels]
    if teleinfo:
        contenders.append(Contender(f"{tag} core teleinfo", "teleinfo", profile, chunk))
    return contenders


def esphome_scenario(profile: Profile, level: str) -> list[Contender]:
    """Return the contenders of the meter behind an ESPHome serial proxy.

    The baseline is an idle Home Assistant with the ESP added (its esphome integration and that one's dependencies,
    the proxy unused), then ours reading it.
    """
    tag = f"{profile}/ESPHome proxy"
    return [
        Contender(f"{tag} idle Home Assistant + ESP", None, profile, ESP_CHUNK, esphome=True),
        Contender(f"{tag} Linky Local, {level}", "linky_local", profile, ESP_CHUNK, level, esphome=True),
    ]


class _CountedFrames:
    """The frames a fake ESP's UART receives, counted for the report."""

    def __init__(self, contender: Contender) -> None:
        self.contender = contender
        self.meter = SimulatedMeter(contender.profile, start=datetime.now(UTC), seed=1)
        self.baudrate = self.meter.baudrate

    def next_frame(self) -> bytes:
        self.contender.frames += 1
        return self.meter.next_frame()


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(contender: Contender, url: str) -> None:
    """Write the contender's configuration and, for a meter, its config entry."""
    folder = contender.folder
    (folder / ".storage").mkdir(parents=True)
    (folder / "configuration.yaml").write_text(
        "homeassistant:\n  name: bench\n  time_zone: Europe/Paris\n  country: FR\n  unit_system: metric\n"
        "  latitude: 48.85\n  longitude: 2.35\n  elevation: 35\n"
        f"recorder:\n  db_url: sqlite:///{folder / 'home-assistant_v2.db'}\n"
        "logger:\n  default: warning\n",
        encoding="utf-8",
    )
    # Home Assistant 2026.10 keeps its HTTP settings in storage and reverts (restarting) a changed port that nobody
    # confirmed in the UI within five minutes: store ours as the confirmed one.
    http = HTTP_STORAGE_SCHEMA({"server_port": free_port(), "server_host": ["127.0.0.1"]})
    http |= {"created_at": datetime.now(UTC).isoformat(), "error": None, "error_message": None}
    (folder / ".storage" / "http").write_text(
        json.dumps(
            {"version": 2, "key": "http", "data": {"stable": http, "pending": None, "yaml_migration_done": True}}
        ),
        encoding="utf-8",
    )
    (folder / "custom_components").mkdir()
    (folder / "custom_components" / "linky_local").symlink_to(ROOT / "custom_components" / "linky_local")
    if contender.domain == "bench_writes":
        writer = folder / "custom_components" / "bench_writes"
        writer.mkdir()
        (writer / "manifest.json").write_text(json.dumps(WRITER_MANIFEST), encoding="utf-8")
        (writer / "__init__.py").write_text(WRITER, encoding="utf-8")
        with (folder / "configuration.yaml").open("a", encoding="utf-8") as configuration:
            configuration.write(f"bench_writes:\n  per_hour: {contender.writes}\n")
    entries = []
    if contender.esp is not None:
        esp = contender.esp
        esp_data = {"host": esp.host, "port": esp.port, "password": "", "noise_psk": ""}
        entries.append(_entry(ESP_ENTRY_ID, "esphome", esp_data, {}, esp.mac_address.lower()))
        url = f"esphome-hass://esphome/{ESP_ENTRY_ID}?port_name=tic"
    if contender.domain == "linky_local":
        mode = "historic" if contender.profile.startswith("historic") else "standard"
        data = {"device": url, "mode": mode, "baudrate": 1200 if mode == "historic" else 9600}
        entries.append(_entry("benchlinky_local", "linky_local", data, {"privacy_level": contender.level}))
    elif contender.domain == "teleinfo":
        entries.append(_entry("benchteleinfo", "teleinfo", {"serial_port": url}, {}))
    if not entries:
        return
    storage = {"version": 1, "minor_version": 1, "key": "core.config_entries", "data": {"entries": entries}}
    (folder / ".storage" / "core.config_entries").write_text(json.dumps(storage), encoding="utf-8")


def _entry(
    entry_id: str, domain: str, data: dict[str, object], options: dict[str, object], unique_id: str | None = None
) -> dict[str, object]:
    return {
        "entry_id": entry_id,
        "version": 1,
        "minor_version": 1,
        "domain": domain,
        "title": "bench",
        "data": data,
        "options": options,
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": unique_id,
        "disabled_by": None,
    }


def latencies(contender: Contender, start: float, end: float) -> list[float]:
    """Return, for each state of the total index written between two POSIX times, the seconds since its frame ended."""
    database = contender.folder / "home-assistant_v2.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT state, last_updated_ts FROM states JOIN states_meta USING (metadata_id) "
            "WHERE last_updated_ts >= ? AND last_updated_ts < ? "
            "AND (states_meta.entity_id LIKE '%base_index' OR states_meta.entity_id LIKE '%energy_withdrawn')",
            (start, end),
        ).fetchall()
    found = []
    for state, written in rows:
        try:
            index = round(float(state) * 1000)
        except ValueError:
            continue
        if (sent := contender.sent_at.get(index)) is not None:
            found.append(written - sent)
    return found


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU seconds, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rows_between(contender: Contender, start: float, end: float) -> int:
    """Return the states rows the contender's meter entities wrote between two POSIX times."""
    if contender.domain is None:
        return 0
    database = contender.folder / "home-assistant_v2.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM states JOIN states_meta USING (metadata_id) "
            "WHERE last_updated_ts >= ? AND last_updated_ts < ? "
            "AND (states_meta.entity_id LIKE 'sensor.%' OR states_meta.entity_id LIKE 'binary_sensor.%')",
            (start, end),
        ).fetchone()
    return int(count)


async def feed(contenders: list[Contender], stop: asyncio.Event) -> None:
    """Write each contender's meter frames to its pty at the line's rate, `chunk` bytes at a time.

    Bytes that find the pty's buffer full (a reader that closed the port between polls) are lost, as on a real line.
    """
    loop = asyncio.get_running_loop()
    start = datetime.now(UTC)

    async def one(contender: Contender) -> None:
        meter = SimulatedMeter(contender.profile, start=start, seed=1)
        seconds_per_byte = BITS_PER_BYTE / meter.baudrate
        due = loop.time()
        while not stop.is_set():
            frame = meter.next_frame()
            index = next(int(group.value) for group in meter.groups() if group.label in INDEX_LABELS)
            contender.frames += 1
            for offset in range(0, len(frame), contender.chunk):
                chunk = frame[offset : offset + contender.chunk]
                due += len(chunk) * seconds_per_byte
                await asyncio.sleep(max(0.0, due - loop.time()))
                with contextlib.suppress(BlockingIOError):
                    os.write(contender.master, chunk)
            contender.sent_at.setdefault(index, time.time())  # when the meter first sent this index, whole

    await asyncio.gather(
        *(
            one(contender)
            for contender in contenders
            if contender.domain not in {None, "bench_writes"} and not contender.esphome
        )
    )


def start(contender: Contender, folder: Path) -> None:
    """Open the contender's pty, write its configuration and start its Home Assistant."""
    contender.folder = folder / contender.name.replace("/", "-").replace(" ", "_").replace(",", "")
    contender.master, contender.slave = os.openpty()
    os.set_blocking(contender.master, False)
    write_config(contender, os.ttyname(contender.slave))
    env = {**os.environ, "PYTHONPATH": str(BENCH_FRONTEND)}
    if contender.domain == "teleinfo":
        # A Linux pty refuses 7E1 (EINVAL): pyteleinfo's own settings open it 8N1, as this integration falls back to.
        env |= {
            "PYTHONPATH": f"{BENCH_FRONTEND}{os.pathsep}{BENCH_SITE}",
            "TELEINFO_BYTESIZE": "8",
            "TELEINFO_PARITY": "N",
        }
    contender.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "homeassistant", "--config", str(contender.folder), "--skip-pip"],
        env=env,
        cwd=contender.folder,  # not the repository's root, whose custom_components Python would import first
        stdout=subprocess.DEVNULL,
        stderr=(contender.folder / "stderr.log").open("wb"),
    )


def stop_all(contenders: list[Contender]) -> None:
    """Stop every Home Assistant and close the ptys."""
    for contender in contenders:
        if contender.process is not None and contender.process.poll() is None:
            contender.process.terminate()
    for contender in contenders:
        if contender.process is not None:
            try:
                contender.process.wait(30)
            except subprocess.TimeoutExpired:
                contender.process.kill()
        for fd in (contender.master, contender.slave):
            if fd >= 0:
                os.close(fd)


def report(contenders: list[Contender], seconds: float) -> None:
    """Print each contender's figures per meter-hour, against its scenario's idle baseline."""
    scale = 3600 / seconds
    print(f"\n{'contender':<52} {'CPU s per meter-hour':>22} {'rows/h':>8} {'frames/h':>9}")
    baselines: dict[tuple[Profile, int], float] = {}
    for contender in contenders:
        if contender.domain is None:
            baselines[contender.profile, contender.chunk] = sum(contender.cpu)
    results: dict[str, float] = {}
    for contender in contenders:
        cpu = sum(contender.cpu)
        if contender.domain is None:
            print(f"{contender.name:<52} {cpu * scale:>16.1f} (idle) {'':>8} {'':>9}")
            continue
        net = (cpu - baselines[contender.profile, contender.chunk]) * scale
        per_window = 3600 * len(contender.cpu) / seconds
        windows = ", ".join(
            f"{(c - b) * per_window:.1f}" for c, b in zip(contender.cpu, _idle(contenders, contender), strict=True)
        )
        results[contender.name] = net
        frames = contender.frames * 3600 / max(seconds_run(contenders), 1.0)
        print(
            f"{contender.name:<52} {net:>22.1f} {sum(contender.rows) * scale:>8.0f} {frames:>9.0f}   windows: {windows}"
        )
        if contender.latencies:
            ordered = sorted(contender.latencies)
            print(
                f"{'':<52}   frame to state: median {statistics.median(ordered) * 1000:.0f} ms, "
                f"95th percentile {ordered[int(0.95 * (len(ordered) - 1))] * 1000:.0f} ms ({len(ordered)} states)"
            )
    teleinfo = {name.split(" core")[0]: cpu for name, cpu in results.items() if name.endswith("core teleinfo")}
    writers = {name.split(" state")[0]: cpu for name, cpu in results.items() if name.endswith("state writes alone")}
    for name, cpu in results.items():
        prefix = name.split(" Linky Local")[0]
        if "Linky Local" in name and prefix in teleinfo and teleinfo[prefix] > 0:
            print(f"  ratio {name}: {cpu / teleinfo[prefix]:.2f} of core teleinfo's")
        if name.endswith("Linky Local, live") and writers.get(prefix, 0) > 0:
            print(f"  ratio {name}: {cpu / writers[prefix]:.2f} of the state writes alone")


def _idle(contenders: list[Contender], contender: Contender) -> list[float]:
    return next(
        c.cpu for c in contenders if c.domain is None and (c.profile, c.chunk) == (contender.profile, contender.chunk)
    )


_STARTED = time.monotonic()


def seconds_run(_contenders: list[Contender]) -> float:
    """Return the seconds the meters have been sending."""
    return time.monotonic() - _STARTED


async def run(contenders: list[Contender], warm_up: float, windows: int, window: float) -> None:
    """Start everything, warm up, measure the windows, print the figures."""
    global _STARTED
    with tempfile.TemporaryDirectory(prefix="linky-ha-cpu-", delete=not os.environ.get("LINKY_BENCH_KEEP")) as folder:
        for contender in contenders:
            if contender.esphome:
                contender.esp = EspHomeDevice(_CountedFrames(contender))
                await contender.esp.start()
            start(contender, Path(folder))
        stop = asyncio.Event()
        _STARTED = time.monotonic()
        feeding = asyncio.create_task(feed(contenders, stop))
        try:
            print(f"{len(contenders)} Home Assistant processes started; warming up {warm_up:.0f} s", flush=True)
            await asyncio.sleep(warm_up)
            for contender in contenders:
                contender.frames = 0
            _STARTED = time.monotonic()
            for number in range(windows):
                before = {c.name: cpu_seconds(_pid(c)) for c in contenders}
                began = time.time()
                await asyncio.sleep(window)
                ended = time.time()
                for contender in contenders:
                    contender.cpu.append(cpu_seconds(_pid(contender)) - before[contender.name])
                await asyncio.sleep(6)  # the recorder commits every 5 s
                for contender in contenders:
                    contender.rows.append(rows_between(contender, began, ended))
                    if contender.level == "live":
                        contender.latencies += latencies(contender, began, ended)
                print(f"window {number + 1} of {windows} measured", flush=True)
            report(contenders, windows * window)
            for contender in contenders:
                if contender.domain == "linky_local" and not sum(contender.rows) and contender.level == "live":
                    print(f"!!! {contender.name} wrote no row: is it reading? see {contender.folder}/stderr.log")
        finally:
            stop.set()
            feeding.cancel()
            stop_all(contenders)
            for contender in contenders:
                if contender.esp is not None:
                    await contender.esp.close()


def _pid(contender: Contender) -> int:
    assert contender.process is not None
    if contender.process.poll() is not None:
        log = (contender.folder / "stderr.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"{contender.name}: Home Assistant exited\n{log}")
    return contender.process.pid


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--window", type=float, default=120.0, help="seconds per window")
    parser.add_argument("--warm-up", type=float, default=240.0, help="seconds: a dozen Home Assistants start")
    parser.add_argument("--short", action="store_true", help="CI's short mode: seconds, small figures")
    args = parser.parse_args()
    constraints = Path(homeassistant.__file__).parent / "package_constraints.txt"
    [frontend] = [line for line in constraints.read_text().splitlines() if line.startswith("home-assistant-frontend==")]
    bench_import(frontend, "hass_frontend", BENCH_FRONTEND, deps=False)
    if os.environ.get("LINKY_BENCH_ONLY") == "live":
        asyncio.run(run(scenario(Profile.HISTORIC_BASE, 2, ("live",), teleinfo=False, live_writes=7400), 40.0, 1, 30.0))
        return
    if os.environ.get("LINKY_BENCH_ONLY") == "esphome":  # through the proxy beside a pty, at --windows and --window
        contenders = scenario(Profile.HISTORIC_BASE, 2, ("minute",), teleinfo=False)
        contenders += esphome_scenario(Profile.HISTORIC_BASE, "minute")
        asyncio.run(run(contenders, warm_up=60.0, windows=args.windows, window=args.window))
        return
    if args.short:
        contenders = scenario(Profile.HISTORIC_BASE, 2, ("minute",), teleinfo=False)
        contenders += esphome_scenario(Profile.HISTORIC_BASE, "minute")
        asyncio.run(run(contenders, warm_up=30.0, windows=2, window=10.0))
        return
    pyteleinfo()  # installed into BENCH_SITE on first use
    contenders = [
        # The writers write as many states as live did here before (rows per hour, printed beside them to compare).
        *scenario(
            Profile.HISTORIC_BASE, 2, ("live", "minute", "half_hourly", "daily"), teleinfo=True, live_writes=7400
        ),
        *scenario(Profile.HISTORIC_BASE, 64, ("minute",), teleinfo=True),
        *scenario(Profile.STANDARD_TRI_PRODUCER, 2, ("live", "minute"), teleinfo=False, live_writes=15800),
        *esphome_scenario(Profile.HISTORIC_BASE, "minute"),
    ]
    asyncio.run(run(contenders, args.warm_up, args.windows, args.window))


if __name__ == "__main__":
    main()
