"""Soak the integration: a simulated week of frames with faults, through Home Assistant's test harness; print figures.

Run from the repository root: `.venv/bin/python -m benchmarks.soak [--days 7] [--frame-seconds 10]`. It runs
benchmarks/soak_bench.py under pytest (the fixtures of tests/conftest.py: Home Assistant, a real pty, the simulated
meter), which writes its figures to a JSON file, then prints them: frames sent, accepted and dropped, the index guard's
rejections, tracemalloc's final and peak memory and the RSS at start, after warm-up and per simulated day (to show
memory flat after warm-up), asyncio tasks and open file descriptors at start and end (leaks), and the CPU time per
frame of the whole integration (decoder, values, guard, line monitor, publisher, entities, Home Assistant's state
machine; the frames' making excluded) beside the decoder's alone on the same kind of frames.

A meter sends a standard three-phase producer frame every 1.5 s, about 400,000 a week: too many for a few minutes on
two cores. Each frame here moves the simulated meter's clock on by `--frame-seconds` (10 s: 60,480 frames a week), so
that its indexes, tariff periods, Tempo days and horodates go through the week; Home Assistant's clocks move on by a
real frame period per frame (the reader must not take one lost frame for a lost meter). The CPU time per frame is
measured twice: on the soak's frozen clocks (freezegun's cost included) and on real clocks, frames back to back.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile

ROOT = Path(__file__).resolve().parent.parent


def run(days: float, frame_seconds: float) -> dict[str, object]:
    """Run the soak under pytest and return its figures."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "soak.json"
        env = {
            **os.environ,
            "SOAK_DAYS": str(days),
            "SOAK_FRAME_SECONDS": str(frame_seconds),
            "SOAK_REPORT": str(report),
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            "python_files=soak_bench.py",
            "-o",
            "log_level=WARNING",
            "-o",
            "faulthandler_timeout=3600",
            "--show-capture=no",
            "benchmarks/soak_bench.py",
        ]
        result = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)  # noqa: S603
        if result.returncode or not report.exists():
            print(result.stdout[-5000:], result.stderr[-5000:], sep="\n")
            raise SystemExit("the soak run failed")
        figures: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
        return figures


def main() -> None:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--frame-seconds", type=float, default=10.0)
    args = parser.parse_args()
    figures = run(args.days, args.frame_seconds)
    decoder = figures["decoder"]
    guard = figures["guard"]
    assert isinstance(decoder, dict)
    assert isinstance(guard, dict)
    sent = figures["frames_sent"]
    print(
        f"simulated: {figures['days']} days, {figures['frame_seconds']} s of the meter's week and "
        f"{figures['line_seconds']} s of Home Assistant's clocks per frame"
    )
    print(f"frames sent {sent}, accepted {decoder['frames']}, dropped {int(str(sent)) - decoder['frames']}")
    dropped = ("interrupted_frames", "empty_frames", "oversized_frames", "unterminated_frames")
    print(
        "  decoder: " + ", ".join(f"{key} {decoder[key]}" for key in (*dropped, "checksum_errors", "bytes_discarded"))
    )
    print(
        f"  index guard: {guard['accepted']} values published, rejected {guard['rejected_backwards']} backwards, "
        f"{guard['rejected_jump']} jumps, {guard['rejected_malformed']} malformed "
        f"({figures['bogus_indexes_sent']} wrong indexes with a valid checksum sent)"
    )
    print(f"  reconnections {figures['reconnections']}, unexpected errors {figures['unexpected_errors']}")
    print(f"  repair issues raised {figures['issues_raised']}, still raised at the end {figures['issues_at_end']}")
    for moment in ("start", "after_warm_up", "end"):
        point = figures[moment]
        assert isinstance(point, dict)
        print(f"{moment:>14}: tasks {point['tasks']}, open fds {point['fds']}, RSS {point['rss_kib'] / 1024:.1f} MiB")
    print(f"RSS peak {int(str(figures['rss_peak_kib'])) / 1024:.1f} MiB")
    print(
        f"tracemalloc (from day 2): final {int(str(figures['traced_final_kib'])) / 1024:.2f} MiB, "
        f"peak {int(str(figures['traced_peak_kib'])) / 1024:.2f} MiB"
    )
    days = figures["days_done"]
    assert isinstance(days, list)
    for day in days:
        traced = f", traced {day['traced_kib'] / 1024:.2f} MiB" if "traced_kib" in day else ""
        print(
            f"  day {day['simulated_days']:>5}: RSS {day['rss_kib'] / 1024:.1f} MiB{traced}, "
            f"tasks {day['tasks']}, fds {day['fds']}"
        )
    growth = figures["memory_growth"]
    assert isinstance(growth, list)
    print("  where traced memory grew most from day 2 to the end:")
    for site in growth:
        print(
            f"    {site['kib']:+} KiB, {site['count']:+} blocks: {site['where'][-2].strip()}: {site['where'][-1].strip()}"
        )
    real = figures["real_clocks"]
    assert isinstance(real, dict)
    print(
        f"CPU per frame: {real['cpu_ms_per_frame']:.3f} ms on real clocks ({real['frames']} frames back to back), "
        f"{figures['cpu_ms_per_frame']:.3f} ms during the soak's first day (frozen clocks, faults, no tracemalloc; "
        f"wall {figures['wall_ms_per_frame']:.3f} ms); the decoder alone {figures['decoder_alone_ms_per_frame']:.3f} ms"
    )


if __name__ == "__main__":
    main()
