"""Decode the same frames with our decoder and with pyteleinfo (HA core's `teleinfo` dependency), in one process.

Run from the repository root: `.venv/bin/python -m benchmarks.parser [--frames N]` (seconds; `--short`, what CI
runs: 200 frames of each mode). pyteleinfo 0.4.0 is a benchmark-only dependency, not one of the integration's: on
first use it is installed with uv (else pip) into its own folder, BENCH_SITE, never into the test virtualenv, which
stays exactly what its lock file says. That folder comes last on sys.path, so packages the virtualenv already has keep
their locked versions. Each decoder gets one whole frame per call, the best of five rounds is kept, and the figures
are printed: frames/s for each, the ratio, and bytes/s so that historic and standard throughput compare per byte.
pyteleinfo 0.4.0 decodes no standard frame: its count of frames decoded shows it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
import importlib
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time
from types import ModuleType

from linky_tic import Decoder
from linky_tools.simulator import Profile, SimulatedMeter

PYTELEINFO = "pyteleinfo==0.4.0"
UV = Path.home() / ".cache/linky-local/tools/bin/uv"
BENCH_SITE = Path.home() / ".cache/linky-local/bench-site"
START = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
ROUNDS = 5
HISTORIC = (Profile.HISTORIC_BASE, Profile.HISTORIC_HC, Profile.HISTORIC_TEMPO, Profile.HISTORIC_TRI)
STANDARD = (Profile.STANDARD_MONO, Profile.STANDARD_TRI, Profile.STANDARD_TRI_PRODUCER)


def pyteleinfo() -> ModuleType:
    """Import pyteleinfo from BENCH_SITE, installing it there first if it is missing."""
    return bench_import(PYTELEINFO, "teleinfo", BENCH_SITE)


def bench_import(requirement: str, module: str, site: Path, *, deps: bool = True) -> ModuleType:
    """Import a benchmark-only package from its own folder (last on sys.path), installing it there if missing."""
    if str(site) not in sys.path:
        sys.path.append(str(site))
    try:
        return importlib.import_module(module)
    except ImportError:
        uv = str(UV) if UV.exists() else shutil.which("uv")
        if uv:
            command = [uv, "pip", "install", "--python", sys.executable, "--target", str(site)]
        else:
            command = [sys.executable, "-m", "pip", "install", "--target", str(site)]
        if not deps:
            command.append("--no-deps")
        print(f"installing {requirement} for the benchmark: {' '.join(command)}", flush=True)
        subprocess.run([*command, requirement], check=True)  # noqa: S603
        importlib.invalidate_caches()
        return importlib.import_module(module)


def frames_of(profiles: tuple[Profile, ...], count: int) -> list[bytes]:
    """Return `count` frames from the profiles' simulated meters, a few minutes apart so that values vary."""
    meters = [SimulatedMeter(profile, start=START, seed=n) for n, profile in enumerate(profiles)]
    return [meters[n % len(meters)].next_frame(elapsed=37.0) for n in range(count)]


def ours(frames: list[bytes]) -> int:
    """Decode with our streaming decoder; return the frames decoded."""
    decoder = Decoder()
    return sum(len(decoder.feed(frame)) for frame in frames)


def theirs(decode: Callable[[bytes], dict[str, str]]) -> Callable[[list[bytes]], int]:
    """Wrap pyteleinfo's `decode`, which raises on any frame it does not accept."""

    def run(frames: list[bytes]) -> int:
        decoded = 0
        for frame in frames:
            try:
                decode(frame)
            except Exception:  # noqa: BLE001, S112 - pyteleinfo raises a variety of errors; a refusal is counted
                continue
            decoded += 1
        return decoded

    return run


def best_time(run: Callable[[list[bytes]], int], frames: list[bytes]) -> tuple[float, int]:
    """Return the best time of ROUNDS runs and the frames the run decoded."""
    best, decoded = float("inf"), 0
    for _ in range(ROUNDS):
        began = time.perf_counter()
        decoded = run(frames)
        best = min(best, time.perf_counter() - began)
    return best, decoded


def report(name: str, frames: list[bytes], decode: Callable[[bytes], dict[str, str]]) -> float:
    """Print the figures of one set of frames; return our bytes/s."""
    size = sum(map(len, frames))
    our_time, our_frames = best_time(ours, frames)
    their_time, their_frames = best_time(theirs(decode), frames)
    print(f"{name}: {len(frames)} frames, {size / len(frames):.0f} bytes each")
    print(
        f"  linky_local  {len(frames) / our_time:>10,.0f} frames/s  {size / our_time / 1e6:6.2f} MB/s  ({our_frames} decoded)"
    )
    print(
        f"  pyteleinfo   {len(frames) / their_time:>10,.0f} frames/s  {size / their_time / 1e6:6.2f} MB/s  ({their_frames} decoded)"
    )
    if their_frames:
        print(f"  ratio        {their_time / our_time:>10.1f}x")
    else:
        print("  ratio        none: pyteleinfo refused every frame")
    return size / our_time


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--frames", type=int, default=2000, help="frames of each mode (default 2000)")
    parser.add_argument("--short", action="store_true", help="CI's short mode: 200 frames of each mode")
    args = parser.parse_args()
    if args.short:
        args.frames = min(args.frames, 200)
    decode = pyteleinfo().decode
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {ROUNDS} rounds")
    historic = report("historic", frames_of(HISTORIC, args.frames), decode)
    standard = report("standard", frames_of(STANDARD, args.frames), decode)
    print(f"standard/historic throughput per byte (ours): {standard / historic:.2f}")


if __name__ == "__main__":
    main()
