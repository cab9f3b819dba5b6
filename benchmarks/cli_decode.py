"""The command line's `decode` end to end against pyteleinfo decoding the same frames in a loop, whole processes.

Run from the repository root: `.venv/bin/python -m benchmarks.cli_decode [--frames 20000] [--rounds 5]`. It writes
the frames of simulated historic meters (base, off-peak, Tempo, three-phase) to a file, then times, as whole
processes started the same way, rounds interleaved (A B A B...):

- A: `python -m linky_tools decode FILE`, its JSON lines written to /dev/null (start-up, reading, decoding, JSON);
- B: a Python process that reads the same file, cuts it into frames and calls pyteleinfo's `decode` on each (HA
  core's `teleinfo` parser; no output), pyteleinfo imported from the benchmarks' own folder; it also times its own
  loop alone (perf_counter around the loop: no start-up, no import, no reading).

It prints each side's median and minimum wall time, and two ratios of the medians: B's whole process over A's, and
B's loop alone over A's whole process (the harder one: A pays for its start-up and its output, B for neither).
`--short`: 2,000 frames, 3 rounds.
"""

from __future__ import annotations

import argparse
import compileall
from datetime import UTC, datetime
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

from linky_tools.simulator import Profile, SimulatedMeter

from .parser import BENCH_SITE, pyteleinfo

ROOT = Path(__file__).resolve().parent.parent
PROFILES = (Profile.HISTORIC_BASE, Profile.HISTORIC_HC, Profile.HISTORIC_TEMPO, Profile.HISTORIC_TRI)
START = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
PYTELEINFO_LOOP = """
import sys, time
from teleinfo import decode
data = open(sys.argv[1], "rb").read()
decoded = 0
start = time.perf_counter()
for part in data.split(b"\\x02")[1:]:
    try:
        decode(b"\\x02" + part)
        decoded += 1
    except Exception:
        pass
print(decoded, time.perf_counter() - start, file=sys.stderr)
"""


def write_frames(path: Path, count: int) -> None:
    """Write `count` historic frames, a few minutes apart so that values vary."""
    meters = [SimulatedMeter(profile, start=START, seed=n) for n, profile in enumerate(PROFILES)]
    path.write_bytes(b"".join(meters[n % len(meters)].next_frame(elapsed=37.0) for n in range(count)))


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run a command, its output to /dev/null; return its wall time and what it printed on stderr."""
    start = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, text=True
    )
    return time.perf_counter() - start, result.stderr.strip().splitlines()[-1]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--short", action="store_true", help="CI's short mode: 2,000 frames, 3 rounds")
    args = parser.parse_args()
    frames, rounds = (2_000, 3) if args.short else (args.frames, args.rounds)
    pyteleinfo()  # installed into BENCH_SITE on first use, byte-compiled as pip does
    # Byte-compiled as an installed wheel is (PYTHONDONTWRITEBYTECODE, set on some machines, would compile them anew
    # at every start).
    for package in (ROOT / "linky_tools", ROOT / "custom_components" / "linky_local" / "linky_tic"):
        compileall.compile_dir(package, quiet=1)
    ours_env = dict(os.environ)
    theirs_env = {**os.environ, "PYTHONPATH": str(BENCH_SITE)}
    with tempfile.TemporaryDirectory() as folder:
        capture = Path(folder) / "historic.tic"
        write_frames(capture, frames)
        ours_command = [sys.executable, "-m", "linky_tools", "decode", str(capture)]
        theirs_command = [sys.executable, "-c", PYTELEINFO_LOOP, str(capture)]
        ours, theirs, loops = [], [], []
        for _ in range(rounds):
            seconds, stats = timed(ours_command, ours_env)
            ours.append(seconds)
            seconds, printed = timed(theirs_command, theirs_env)
            decoded, loop = printed.split()
            theirs.append(seconds)
            loops.append(float(loop))
    print(f"{frames:,} historic frames ({capture.name}), {rounds} rounds interleaved, whole processes")
    print(f"  python -m linky_tools decode  median {statistics.median(ours):.3f} s, min {min(ours):.3f} s  {stats}")
    print(
        f"  pyteleinfo decode() loop      median {statistics.median(theirs):.3f} s, min {min(theirs):.3f} s"
        f"  ({decoded} frames decoded)"
    )
    print(f"  pyteleinfo's loop alone       median {statistics.median(loops):.3f} s, min {min(loops):.3f} s")
    print(f"  ratio (pyteleinfo process / ours, medians): {statistics.median(theirs) / statistics.median(ours):.2f}")
    print(f"  ratio (pyteleinfo loop alone / ours, medians): {statistics.median(loops) / statistics.median(ours):.2f}")


if __name__ == "__main__":
    main()
