"""Soak the integration: a simulated week of frames with faults, through Home Assistant's test harness; print figures.

Run from the repository root: `.venv/bin/python -m benchmarks.soak [--days 7] [--frame-seconds 10]` (the week:
25 minutes on two busy cores; `--short`, what CI runs: five hours, faults every half hour, in half a minute). It runs
benchmarks/soak_bench.py under pytest (the fixtures of tests/conftest.py: Home Assistant, the in-memory line, the
simulated meter, the clock driver), which writes its figures to a JSON file, then prints them: frames sent, accepted
and dropped, the index guard's rejections, tracemalloc's final and peak memory and the RSS at start, after warm-up and
per simulated day (to show memory flat after warm-up), asyncio tasks and open file descriptors at start and end
(leaks), and the CPU time per frame of the whole integration (decoder, values, guard, line monitor, publisher,
entities, Home Assistant's state machine; the frames' making excluded) beside the decoder's alone on the same kind of
frames. No real port: the in-memory line makes the run deterministic; the port is the smoke tests' subject.

A meter sends a standard three-phase producer frame every 1.5 s, about 400,000 a week: too many for a few minutes on
two cores. Each frame here moves the simulated meter's clock on by `--frame-seconds` (10 s: 60,480 frames a week), so
that its indexes, tariff periods, Tempo days and horodates go through the week; Home Assistant's clocks move on by a
real frame period per frame (the reader must not take one lost frame for a lost meter). The CPU time per frame is
measured twice: on the soak's frozen clocks (freezegun's and the clock driver's cost included) and on real clocks,
frames back to back, one read each.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import subprocess
import tempfile

from .harness import pytest_command

ROOT = Path(__file__).resolve().parent.parent


def run(args: argparse.Namespace) -> dict[str, object]:
    """Run the soak under pytest and return its figures."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "soak.json"
        env = {
            **os.environ,
            "SOAK_DAYS": str(args.days),
            "SOAK_FRAME_SECONDS": str(args.frame_seconds),
            "SOAK_REAL_CLOCK_FRAMES": str(args.real_clock_frames),
            "SOAK_WARM_UP_HOURS": str(args.warm_up_hours),
            "SOAK_EPISODE_HOURS": str(args.episode_hours),
            "SOAK_SAMPLE_HOURS": str(args.sample_hours),
            "SOAK_REPORT": str(report),
        }
        command = pytest_command("soak_bench.py")
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
    parser.add_argument("--real-clock-frames", type=int, default=3000)
    parser.add_argument("--warm-up-hours", type=float, default=3.0)
    parser.add_argument("--episode-hours", type=float, default=6.0, help="hours between two fault episodes")
    parser.add_argument("--sample-hours", type=float, default=24.0, help="hours between two memory samples")
    parser.add_argument("--short", action="store_true", help="CI's short mode: five hours, faults every half hour")
    args = parser.parse_args()
    if args.short:
        # The meter's clock keeps its 10 s per frame: the index guard allows what a frame period can bring.
        args.days, args.warm_up_hours, args.episode_hours, args.sample_hours = 0.2, 0.5, 0.5, 1.5
        args.real_clock_frames = 300
    figures = run(args)
    decoder = figures["decoder"]
    guard = figures["guard"]
    assert isinstance(decoder, dict)
    assert isinstance(guard, dict)
    sent = figures["frames_sent"]
    print(
        f"simulated: {figures['days']:g} days, {figures['frame_seconds']} s of the meter's week and "
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
        f"tracemalloc (from the second sample): final {int(str(figures['traced_final_kib'])) / 1024:.2f} MiB, "
        f"peak {int(str(figures['traced_peak_kib'])) / 1024:.2f} MiB"
    )
    days = figures["days_done"]
    assert isinstance(days, list)
    for day in days:
        traced = f", traced {day['traced_kib'] / 1024:.2f} MiB" if "traced_kib" in day else ""
        print(
            f"  at {day['simulated_days']:>5} days: RSS {day['rss_kib'] / 1024:.1f} MiB{traced}, "
            f"tasks {day['tasks']}, fds {day['fds']}"
        )
    growth = figures["memory_growth"]
    assert isinstance(growth, list)
    print("  where traced memory grew most from the second sample to the end:")
    for site in growth:
        print(
            f"    {site['kib']:+} KiB, {site['count']:+} blocks: {site['where'][-2].strip()}: {site['where'][-1].strip()}"
        )
    real = figures["real_clocks"]
    assert isinstance(real, dict)
    print(
        f"CPU per frame: {real['cpu_ms_per_frame']:.3f} ms on real clocks ({real['frames']} frames back to back), "
        f"{figures['cpu_ms_per_frame']:.3f} ms during the soak's first sample (frozen clocks driven by the test "
        f"suite's Clock, faults, no tracemalloc; "
        f"wall {figures['wall_ms_per_frame']:.3f} ms); the decoder alone {figures['decoder_alone_ms_per_frame']:.3f} ms"
    )


if __name__ == "__main__":
    main()
