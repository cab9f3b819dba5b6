"""What each privacy level costs in Home Assistant's database: state rows per day and database size; energy exact.

Run from the repository root: `.venv/bin/python -m benchmarks.recorder [--hours 24] [--jobs 2]`. For each level it
runs benchmarks/recorder_bench.py under pytest: Home Assistant from the test harness with its real recorder on a
SQLite file, the simulated standard three-phase meter (Tempo) on the test suite's in-memory line (no port: the
benchmark is about the database) through one local day in France (plus ten minutes either side), every frame at the
meter's own pace on accelerated (frozen, moved on) clocks. Then it reads each database as Home Assistant left it:

- state rows written during the day, in total and per entity (the `states` table), and the database file's size;
- the same stream's rows for two peers' behaviours, taken from the live run's states after every frame: "every
  10 s" (each entity's changed state every 10 s, as HA core's teleinfo polls) and "every frame" (linkytic's
  real-time mode: a state write per entity and frame, a row when it changed);
- the energy check: the growth of the total energy index (EAST) in the recorder's long-term statistics (what the
  energy dashboard shows) at the level's resolution (each hour for live, minute and half-hourly; the day for daily)
  beside the meter's own growth between the last frames before the same boundaries.

Then, for `live` and `minute`, the rows the database holds after 30 days for each retention choice of the options
flow (fine states kept 1 day, 7 days, or as the recorder: 10 days by default; hourly statistics of power kept or
not), from the rows measured: each entity's state rows and statistics rows per day, states kept their days, 5-minute
statistics 10 days, hourly statistics forever (energy indexes always keep theirs). tests/test_retention.py checks on
the real recorder that the purge deletes what this counts as gone.

A day at the meter's pace is some 69,000 frames, all of them through Home Assistant: no batching, no sampling. The
levels run two at a time, one process each: 17 minutes on a busy two-core machine, the live level the longest (it
writes a dozen rows a second). `--hours 2` gives a quick look; `--short` (what CI runs) one hour, in about a minute.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import itertools
import json
import os
from pathlib import Path
import sqlite3
import subprocess
import tempfile
import time
from typing import Any

from .harness import pytest_command

ROOT = Path(__file__).resolve().parent.parent
LEVELS = ("live", "minute", "half_hourly", "daily")
ENERGY = "sensor.linky_energy_withdrawn"
PREFIX = "linky_"
DAY_HOURS = 24.0  # the daily level publishes at the end of a local day: none ends in a shorter run
TARGETS = {"every_10_s": 5, "every_frame": 30}  # the default level keeps at most 1/5 and 1/30 of their rows


def run_level(level: str, hours: float, folder: Path) -> dict[str, Any]:
    """Run one level's day under pytest; return its report, with its database's path."""
    report, database = folder / f"{level}.json", folder / f"{level}.db"
    env = {
        **os.environ,
        "BENCH_LEVEL": level,
        "BENCH_HOURS": str(hours),
        "BENCH_REPORT": str(report),
        "BENCH_DB": str(database),
    }
    command = pytest_command("recorder_bench.py")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)  # noqa: S603
    wall = time.perf_counter() - started
    if result.returncode or not report.exists():
        print(result.stdout[-5000:], result.stderr[-5000:], sep="\n")
        raise SystemExit(f"the {level} run failed")
    figures: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    figures["database"] = str(database)
    figures["wall_seconds"] = wall
    return figures


def state_rows(database: str, start: float, end: float) -> dict[str, int]:
    """Return the state rows each entity wrote between two moments."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT states_meta.entity_id, COUNT(*) FROM states"
            " JOIN states_meta ON states.metadata_id = states_meta.metadata_id"
            " WHERE states.last_updated_ts >= ? AND states.last_updated_ts < ? GROUP BY states_meta.entity_id",
            (start, end),
        ).fetchall()
    return dict(rows)


def database_bytes(database: str) -> int:
    """Return the size of the database's files (the write-ahead log included)."""
    return sum(os.path.getsize(path) for path in (database, f"{database}-wal") if os.path.exists(path))


def hourly_sums(database: str, statistic_id: str) -> dict[float, float]:
    """Return the recorder's long-term energy sum at the end of each hour, by the hour's start."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT statistics.start_ts, statistics.sum FROM statistics"
            " JOIN statistics_meta ON statistics.metadata_id = statistics_meta.id"
            " WHERE statistics_meta.statistic_id = ? ORDER BY statistics.start_ts",
            (statistic_id,),
        ).fetchall()
    return dict(rows)


def energy_check(figures: dict[str, Any]) -> tuple[int, int, int]:
    """Compare the recorded energy with the meter's at the level's resolution: (periods, equal, worst gap in Wh)."""
    sums = hourly_sums(figures["database"], ENERGY)
    indexes: list[tuple[float, int]] = figures["indexes"]

    def meter_before(moment: float) -> int:
        return [index for at, index in indexes if at < moment][-1]

    def recorded_before(moment: float) -> float:
        # The sum of the hour that ends at `moment`.
        return sums[moment - 3600]

    day_start, day_end = figures["day_start"], figures["day_end"]
    step = day_end - day_start if figures["level"] == "daily" else 3600.0
    boundaries = [day_start + n * step for n in range(round((day_end - day_start) / step) + 1)]
    periods = equal = worst = 0
    for start, end in itertools.pairwise(boundaries):
        recorded = round((recorded_before(end) - recorded_before(start)) * 1000)  # kWh in the statistics
        meter = meter_before(end) - meter_before(start)
        periods += 1
        equal += recorded == meter
        worst = max(worst, abs(recorded - meter))
    return periods, equal, worst


def statistics_rows(database: str, table: str, start: float, end: float) -> dict[str, int]:
    """Return the rows of a statistics table each entity got between two moments."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            f"SELECT statistics_meta.statistic_id, COUNT(*) FROM {table}"  # noqa: S608 - one of two table names
            f" JOIN statistics_meta ON {table}.metadata_id = statistics_meta.id"
            f" WHERE {table}.start_ts >= ? AND {table}.start_ts < ? GROUP BY statistics_meta.statistic_id",
            (start, end),
        ).fetchall()
    return dict(rows)


RECORDER_KEEP_DAYS = 10  # the recorder's default purge_keep_days
AFTER_DAYS = 30
RETENTIONS = {"1 day": 1, "7 days": 7, "as the recorder": RECORDER_KEEP_DAYS}


def rows_after(figures: dict[str, Any], hours: float) -> dict[tuple[str, bool], int]:
    """Return the rows held after AFTER_DAYS days for each retention and power-statistics choice, from a level's run."""
    database, start, end = figures["database"], figures["day_start"], figures["day_end"]
    per_day = 24.0 / hours
    states = state_rows(database, start, end)
    hourly = statistics_rows(database, "statistics", start, end)
    short_term = statistics_rows(database, "statistics_short_term", start, end)
    fine = set(figures["fine_entities"])
    held: dict[tuple[str, bool], int] = {}
    for name, days in RETENTIONS.items():
        for power_statistics in (True, False):
            total = 0.0
            for entity_id, count in states.items():
                kept = min(days, AFTER_DAYS) if entity_id in fine else min(RECORDER_KEEP_DAYS, AFTER_DAYS)
                total += count * per_day * kept
            for entity_id in hourly.keys() | short_term.keys():
                if entity_id in fine and not power_statistics:
                    continue
                total += hourly.get(entity_id, 0) * per_day * AFTER_DAYS
                total += short_term.get(entity_id, 0) * per_day * min(RECORDER_KEEP_DAYS, AFTER_DAYS)
            held[name, power_statistics] = round(total)
    return held


def print_retention(results: dict[str, dict[str, Any]], hours: float) -> None:
    """Print the rows held after 30 days for each retention choice, at the levels that offer one."""
    print()
    print(
        f"Rows held after {AFTER_DAYS} days (states, 5-minute and hourly statistics), from the {hours:g} hours measured:"
    )
    print()
    print("| Level | Fine states kept | Hourly statistics of power | Rows after 30 days |")
    print("| --- | --- | --- | ---: |")
    for level in ("live", "minute"):
        for (name, power_statistics), rows in rows_after(results[level], hours).items():
            kept = "kept" if power_statistics else "none"
            print(f"| {level} | {name} | {kept} | {rows} |")


def short(entity_id: str) -> str:
    """Return an entity id without the meter's prefix."""
    return entity_id.replace(PREFIX, "")


def ratio(rows: int, baseline: int) -> str:
    """Say how a level's rows compare with a baseline's: "1/6.0" (six times fewer) or "x7.0" (seven times more)."""
    if rows >= baseline:
        return f"x{rows / max(baseline, 1):.1f}"
    return f"1/{baseline / max(rows, 1):.1f}"


def print_tables(results: dict[str, dict[str, Any]]) -> bool:
    """Print the rows per level and per entity, the sizes, the ratios and the energy check; tell if energy is exact."""
    live = results["live"]
    day_start, day_end = live["day_start"], live["day_end"]
    rows = {level: state_rows(figures["database"], day_start, day_end) for level, figures in results.items()}
    baselines = live["baselines"]
    columns = [*results, "every_10_s", "every_frame"]
    counts = {**rows, **baselines}
    totals = {column: sum(counts[column].values()) for column in columns}
    hours = (day_end - day_start) / 3600
    print(
        f"{hours:g} simulated hours from {live['day']} (Europe/Paris), standard three-phase Tempo meter, "
        f"{live['frames']} frames at the meter's pace; state rows written in those hours:"
    )
    print()
    print("| Entity | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    entities = sorted(set().union(*(counts[column] for column in columns)))
    for entity_id in entities:
        print(
            f"| {short(entity_id)} | " + " | ".join(str(counts[column].get(entity_id, 0)) for column in columns) + " |"
        )
    print("| **total** | " + " | ".join(f"**{totals[column]}**" for column in columns) + " |")
    print()
    print("| Level | State rows per day | Database size | vs every 10 s | vs every frame | Energy check | Run |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    exact = True
    for level, figures in results.items():
        if level == "daily" and hours < DAY_HOURS:
            check = "no day ends in the hours measured"
        else:
            periods, equal, worst = energy_check(figures)
            unit = "days" if level == "daily" else "hours"
            check = f"{equal}/{periods} {unit} equal to the Wh (worst gap {worst} Wh)"
            exact = exact and equal == periods
        print(
            f"| {level} | {totals[level]} | {database_bytes(figures['database']) / 1024:.0f} KiB | "
            f"{ratio(totals[level], totals['every_10_s'])} | {ratio(totals[level], totals['every_frame'])} "
            f"| {check} | {figures['wall_seconds']:.0f} s |"
        )
    for baseline in ("every_10_s", "every_frame"):
        print(f"| {baseline} (computed) | {totals[baseline]} | | | | | |")
    minute = totals["minute"]
    print()
    for baseline, target in TARGETS.items():
        fewer = totals[baseline] / max(minute, 1)
        verdict = "met" if fewer >= target else "NOT met"
        print(f"default level (minute) vs {baseline}: 1/{fewer:.1f} of its rows, target 1/{target}: {verdict}")
    return exact


def main() -> None:
    """Run every level and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="length of the day measured (24: a local day)")
    parser.add_argument("--jobs", type=int, default=2, help="levels run at the same time")
    parser.add_argument("--keep", type=Path, help="keep the databases and reports in this folder")
    parser.add_argument("--short", action="store_true", help="CI's short mode: one hour (and the margins)")
    args = parser.parse_args()
    if args.short:
        args.hours = 1.0
    with tempfile.TemporaryDirectory() as temporary, ThreadPoolExecutor(args.jobs) as pool:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        # The slowest first: live writes a dozen rows a second.
        futures = {level: pool.submit(run_level, level, args.hours, folder) for level in LEVELS}
        results = {level: future.result() for level, future in futures.items()}
        exact = print_tables(results)
        print_retention(results, args.hours)
        if not exact:
            raise SystemExit("the recorded energy differs from the meter's")


if __name__ == "__main__":
    main()
