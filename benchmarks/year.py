"""A household's year through Home Assistant's real recorder and statistics: the energy dashboard against the meter.

Run from the repository root: `.venv/bin/python -m benchmarks.year [--gap 300]` (the calendar year 2026; `--short`,
what CI runs: a month, 15 October to 15 November, with the same events). It runs benchmarks/year_bench.py under pytest
(Home Assistant from the test harness, its recorder on a SQLite file, statistics every five minutes and the nightly
purge after 10 days; the entry at the default level, per minute, on the test suite's in-memory line; frozen clocks
moved on by the suite's `Clock`) for one household in Europe/Paris: a standard single-phase meter on HP/HC, then on
Tempo (red days only from November to March, white and blue days, tomorrow's colour announced, mobile peaks on red
days), a restart of Home Assistant every week (the entry unloaded, the states dumped and loaded back from storage,
the entry set up again), two changes of privacy level in the options flow (each reloads the entry), two power cuts
(the meter silent 2 h, then restarting), a week with the dongle unplugged, both daylight-saving changes, and the meter
replaced once (the household answering the repair: only on a branch that has the replacement's repair flow).
Between events a frame comes every `--gap` seconds of the meter's clock; around each event, at the meter's pace.

It prints, each as "check: met" or "NOT met" with its figures: every hour's energy per tariff period (and the total
index) in the long-term statistics against the meter's Wh in that hour; the year's total per period against the
meter's index difference; no negative hour; the replacement's checks (or "NOT RUN"); memory (RSS, tracemalloc) and
open files per month.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import subprocess
import tempfile
import time
from typing import Any
from zoneinfo import ZoneInfo

from .harness import pytest_command

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
# Growth allowed from the second memory sample to the last: what "flat" means here.
FLAT_RSS_KIB = 16 * 1024
FLAT_TRACED_KIB = 2 * 1024
NOT_RUN = "NOT RUN (meter replacement not on this branch)"


def at(text: str) -> datetime:
    """Return a local moment in France."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def events(start: datetime, end: datetime, *, short: bool) -> list[tuple[datetime, str]]:
    """Return the household's events between start and end: weekly restarts, month samples and the year's events."""
    if short:
        once = [
            ("2026-10-16T12:00", "contract_tempo"),
            ("2026-10-19T18:00", "power_cut"),
            ("2026-10-20T12:00", "privacy_half_hourly"),
            ("2026-10-23T12:00", "privacy_minute"),
            ("2026-10-25T02:30", "daylight_saving"),
            ("2026-10-26T10:00", "replaced"),
            ("2026-11-04T09:00", "unplugged"),
            ("2026-11-12T07:30", "power_cut"),
        ]
        samples = [start + timedelta(days=days) for days in range(7, 31, 7)]
    else:
        once = [
            ("2026-02-10T18:00", "power_cut"),
            ("2026-03-29T02:30", "daylight_saving"),
            ("2026-05-04T12:00", "privacy_half_hourly"),
            ("2026-05-18T12:00", "privacy_minute"),
            ("2026-06-16T10:00", "replaced"),
            ("2026-08-03T09:00", "unplugged"),
            ("2026-09-01T00:00", "contract_tempo"),
            ("2026-10-25T02:30", "daylight_saving"),
            ("2026-11-20T07:30", "power_cut"),
        ]
        samples = []
        month = start.astimezone(PARIS)
        while True:
            month = (month.replace(day=28) + timedelta(days=7)).replace(day=1, hour=0, minute=0)
            if month >= end:
                break
            samples.append(month)
    # A restart every week, a day after the start and in the evening, away from the other events.
    restarts = []
    moment = start + timedelta(days=1, hours=21)
    while moment < end - timedelta(hours=1):
        restarts.append(moment)
        moment += timedelta(days=7)
    planned = [(at(text), event) for text, event in once]
    planned += [(moment, "restart") for moment in restarts] + [(moment, "sample") for moment in samples]
    return sorted(planned)


def run(args: argparse.Namespace, start: datetime, end: datetime, folder: Path) -> dict[str, Any]:
    """Run the household's period under pytest; return its report."""
    report = folder / "year.json"
    planned = [(moment.isoformat(), event) for moment, event in events(start, end, short=args.short)]
    env = {
        **os.environ,
        "YEAR_REPORT": str(report),
        "YEAR_DB": str(folder / "year.db"),
        "YEAR_START": start.isoformat(),
        "YEAR_END": end.isoformat(),
        "YEAR_GAP": str(args.gap),
        "YEAR_EVENTS": json.dumps(planned),
        "YEAR_TRACEMALLOC": "1" if args.tracemalloc else "0",
    }
    began = time.perf_counter()
    command = pytest_command("year_bench.py")
    result = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)  # noqa: S603
    if result.returncode or not report.exists():
        print(result.stdout[-8000:], result.stderr[-5000:], sep="\n")
        raise SystemExit("the year's run failed")
    figures: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    figures["process_wall_s"] = time.perf_counter() - began
    return figures


def verdict(met: bool) -> str:
    """Return how a check is printed."""
    return "met" if met else "NOT met"


def print_report(figures: dict[str, Any], *, hold_memory: bool = True) -> bool:
    """Print the run and every check; tell whether every check run was met.

    `hold_memory` False (the month): the memory check is printed, not held. A month holds the one-time growth of its
    first weeks (the recorder's caches, the repairs set up at the replacement) beside a leak's, which only the year's
    run (month 1 to month 12) tells apart.
    """
    print(
        f"{figures['start']} to {figures['end']} (Europe/Paris), a frame every {figures['gap_s']:g} s between events: "
        f"{figures['frames_sent']} frames sent, {figures['frames_read']} read in the period; "
        f"{figures['restarts']} restarts, {figures['reloads']} reloads after options changes; "
        f"{figures['process_wall_s']:.0f} s ({figures['cpu_s']:.0f} s of CPU)"
    )
    print("events: " + "; ".join(event for event in figures["events"] if not event.endswith("restart")))
    checks = figures["checks"]
    all_met = True
    print()
    print("| Index | Entity | Hours | Equal to the Wh | Worst gap | Negative hours | Meter Wh | Statistics Wh |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for check in checks:
        print(
            f"| {check['label']} | {check['entity_id'] or 'none (no enabled entity)'} | {check['hours']} | "
            f"{check['equal']} | {check['worst_wh']} Wh | {check['negative']} | {check['meter_wh']} | "
            f"{check['recorded_wh']} |"
        )
    print()
    counted = [check for check in checks if check["meter_wh"] or check["recorded_wh"] or check["hours"]]
    hours_met = (
        bool(counted)
        and all(check["equal"] == check["hours"] for check in counted)
        and all(check["entity_id"] for check in checks if check["meter_wh"])
    )
    unequal = sum(check["hours"] - check["equal"] for check in counted)
    grown = [check["label"] for check in checks if check["meter_wh"] and not check["entity_id"]]
    print(
        f"check: every hour's energy per tariff period equal to the meter's Wh: {verdict(hours_met)} "
        f"({sum(check['equal'] for check in counted)}/{sum(check['hours'] for check in counted)} index-hours equal, "
        f"{unequal} not, worst {max((check['worst_wh'] for check in counted), default=0)} Wh"
        + (f"; indexes that grew with no statistics: {', '.join(grown)}" if grown else "")
        + ")"
    )
    for check in counted:
        for hour, meter, recorded in check["unequal"]:
            print(f"    {check['label']}: hour {hour:.0f} of the period: meter {meter} Wh, statistics {recorded} Wh")
    totals_met = all(check["meter_wh"] == check["recorded_wh"] for check in checks) and not grown
    replaced = figures["replacement"]
    across = "" if replaced["run"] else f"; across the replacement: {NOT_RUN}"
    print(
        f"check: the period's total per tariff period equal to the meter's index difference: {verdict(totals_met)} ("
        + ", ".join(f"{check['label']} {check['recorded_wh']}/{check['meter_wh']} Wh" for check in checks)
        + across
        + ")"
    )
    negative = sum(check["negative"] for check in checks)
    print(f"check: no negative hour: {verdict(negative == 0)} ({negative} negative index-hours)")
    replacement_met = True
    if replaced["run"]:
        answered = replaced["issue_raised"] and replaced["result"] == "create_entry"
        print(
            f"check: the meter replaced: the repair raised, its menu {replaced['menu']}, answered 'replaced': "
            f"{verdict(answered)} (flow result {replaced['result']}, entry on the new meter: "
            f"{replaced['entry_unique_id_is_new_meter']})"
        )
        swap, answer = replaced["swap_row"], replaced["answer_row"]
        around = range(swap, answer + 2)  # from the swap's hour to the hour after the answer's
        wrong = sorted({row for check in checks for row in check.get("unequal_rows", []) if row in around})
        print(
            f"check: no hour counting the new meter's starting index, no statistics for the other meter before the "
            f"household answered: {verdict(not wrong)} (hours {swap} to {answer + 1} of the period, from the swap to "
            f"the hour after the answer: {len(around) * len(checks)} index-hours, unequal: {wrong or 'none'})"
        )
        replacement_met = answered and not wrong
    else:
        print(f"check: no hour counting the new meter's starting index: {NOT_RUN}")
        print(f"check: no statistics for the other meter before the household answered: {NOT_RUN}")
    oldest = figures["oldest_state_days_before_end"]
    purged = oldest is not None and oldest < 12  # keep_days 10, the nightly purge, the tail
    print(f"check: the recorder purged states older than 10 days: {verdict(purged)} (oldest kept {oldest:.1f} days)")
    samples = figures["samples"]
    print()
    print("| At | RSS | tracemalloc | Python objects | open fds | tasks | frames sent | CPU | wall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for sample in samples:
        traced = f"{sample['traced_kib'] / 1024:.2f} MiB" if "traced_kib" in sample else "-"
        print(
            f"| {sample['at'][:10]} | {sample['rss_kib'] / 1024:.1f} MiB | {traced} | {sample['objects']} | "
            f"{sample['fds']} | {sample['tasks']} | {sample['frames_sent']} | {sample['cpu_s']:.0f} s | "
            f"{sample['wall_s']:.0f} s |"
        )
    second, last = samples[1], samples[-1]
    rss_growth = last["rss_kib"] - second["rss_kib"]
    traced = [sample["traced_kib"] for sample in samples if "traced_kib" in sample]
    traced_growth = traced[-1] - traced[0] if traced else 0
    fds = {sample["fds"] for sample in samples[1:]}
    flat = rss_growth <= FLAT_RSS_KIB and traced_growth <= FLAT_TRACED_KIB and len(fds) == 1
    print()
    print(
        f"check: memory and open files flat from the first month to the last: {verdict(flat)} (RSS "
        f"{rss_growth / 1024:+.1f} MiB, allowed {FLAT_RSS_KIB // 1024} MiB; tracemalloc {traced_growth / 1024:+.2f} MiB, "
        f"allowed {FLAT_TRACED_KIB // 1024} MiB; open fds {sorted(fds)})"
    )
    grown = {
        name: last.get("types", {}).get(name, 0) - second.get("types", {}).get(name, 0)
        for name in set(second.get("types", {})) | set(last.get("types", {}))
    }
    top = sorted(grown.items(), key=lambda item: -item[1])[:8]
    print(
        "  Python objects that grew most from the second sample to the last: "
        + ", ".join(f"{name} {count:+}" for name, count in top)
    )
    print(f"repair issues at the end: {figures['issues_at_end']}; unexpected errors: {figures['unexpected_errors']}")
    if not hold_memory:
        print("  (a month: the memory check above is printed, not held; the year's run holds it)")
    all_met = hours_met and totals_met and negative == 0 and purged and (flat or not hold_memory)
    return all_met and replacement_met


def main() -> None:
    """Run the household's year (or month) and print the checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gap", type=float, default=300.0, help="seconds of the meter's clock between sparse frames")
    parser.add_argument("--short", action="store_true", help="CI's short mode: a month with the same events")
    parser.add_argument("--keep", type=Path, help="keep the database and the report in this folder")
    parser.add_argument("--tracemalloc", action="store_true", help="trace allocations too (about four times slower)")
    parser.add_argument("--report", type=Path, help="print the checks of a run kept with --keep (its year.json)")
    args = parser.parse_args()
    if args.report:
        figures = json.loads(args.report.read_text(encoding="utf-8"))
        figures.setdefault("process_wall_s", figures["wall_s"])
        if not print_report(figures):
            raise SystemExit("a check is not met")
        return
    start, end = (
        (at("2026-10-15T00:00"), at("2026-11-15T00:00"))
        if args.short
        else (at("2026-01-01T00:00"), at("2027-01-01T00:00"))
    )
    # The database in memory when the system has a tmpfs: SQLite's commits on a disk are the run's slowest part.
    memory = Path("/dev/shm")  # noqa: S108 - a private folder is made inside it
    with tempfile.TemporaryDirectory(dir=memory if memory.is_dir() else None) as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        figures = run(args, start, end, folder)
    if not print_report(figures, hold_memory=not args.short):
        raise SystemExit("a check is not met")


if __name__ == "__main__":
    main()
