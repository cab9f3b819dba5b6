"""Fuzz the TIC decoder with millions of inputs: never an exception, counters that add up, memory bounded.

Run from the repository root: `.venv/bin/python -m benchmarks.fuzz [--inputs N] [--hypothesis N] [--atheris S]`
(in full, minutes: 2,000,000 inputs at some 6,000 a second on two cores, then hypothesis and atheris; `--short`, what
CI runs: 20,000 inputs, 50 hypothesis examples per property, and 5 s of atheris only if it is already installed:
seconds).
The checks are those of tests_protocol/test_fuzz.py, over far more inputs:
- a random mutation loop: real frames of every simulated profile and the captures, whole or a slice of them, with
  line faults (flipped bits, inserted control bytes, parity in bit 7, CR turned into LF, lost ETX, noise,
  truncation), or plain random bytes; each decoded and its counters checked, every 8th also decoded in random
  chunks and each of its groups found in the input with a valid checksum. Every 4th input also goes, in its chunks,
  to one long-lived decoder watched by a LineMonitor and an IndexGuard, as a reader running for days; tracemalloc
  follows the run over a sample of inputs after warm-up: the memory it still holds must stay small;
- hypothesis, the test suite's properties with --hypothesis examples each (0 to skip);
- atheris, coverage-guided (libFuzzer), for --atheris seconds (0 to skip). It is a benchmark-only dependency,
  installed on first use with uv into BENCH_SITE, never into the locked test virtualenv.
Figures printed: inputs/s, total inputs, exceptions and invariant failures (both must be 0), memory.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import functools
import importlib
import importlib.util
import inspect
from pathlib import Path
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from typing import Any

from hypothesis import HealthCheck, given, settings

from linky_tic import Decoder, checksum as checksum_module, decoder as decoder_module, horodate as horodate_module
from linky_tic.diagnosis import LineMonitor
from linky_tic.guard import IndexGuard
from tests_protocol.test_fuzz import (
    MODES,
    OPERATIONS,
    PROPERTIES,
    SEVEN_BITS,
    check_counters,
    chunks,
    clean_frames,
    decode_checked,
    mutate,
)

from .parser import BENCH_SITE, bench_import

ATHERIS = "atheris==3.1.0"
CRASHES = BENCH_SITE.parent / "fuzz-crashes"
FULL_CHECK_EVERY = 8
STREAM_EVERY = 4
MEMORY_SAMPLE = 20_000  # inputs followed by tracemalloc at most, after as many of warm-up
SHORT_INPUTS, SHORT_EXAMPLES, SHORT_ATHERIS = 20_000, 50, 5


def random_input(rng: random.Random, corpus: tuple[bytes, ...]) -> tuple[bytes, list[int], Any]:
    """Draw one input: bytes, where to cut them, and the decoder's mode."""
    kind = rng.random()
    if kind < 0.1:
        data = rng.randbytes(rng.randrange(1, 1500))
    elif kind < 0.11:  # several frames run together without ETX: past MAX_FRAME_BYTES
        data = b"\x02" + b"".join(rng.choices(corpus, k=8)).replace(b"\x02", b"").replace(b"\x03", b"")
    else:
        data = b"".join(rng.choices(corpus, k=rng.randint(1, 3)))
        if kind < 0.7:  # a slice, as a reader joining mid-stream or a chunk of a live line sees it
            start = rng.randrange(len(data))
            data = data[start : start + rng.randrange(1, 400)]
        mutations = [
            (rng.choice(OPERATIONS), rng.randrange(1 << 16), rng.randrange(256)) for _ in range(rng.randint(0, 6))
        ]
        data = mutate(data, mutations)
    cuts = [rng.randrange(1 << 16) for _ in range(rng.randint(0, 8))]
    return data, cuts, rng.choice(MODES)


class Stream:
    """One decoder for the whole run, with its monitor and guard: what the integration keeps for days."""

    def __init__(self) -> None:
        """Start at time 0; each chunk comes a tenth of a second after the previous."""
        self.monitor = LineMonitor(Decoder(), 0.0)
        self.guard = IndexGuard()
        self.at = 0.0
        self.frames = 0
        self.indexes_checked = 0

    def feed(self, data: bytes, cuts: list[int]) -> None:
        """Feed an input in its chunks."""
        for chunk in chunks(data, cuts):
            self.at += 0.1
            frames = self.monitor.feed(chunk, self.at)
            self.frames += len(frames)
            for frame in frames:
                self.indexes_checked += len(self.guard.check_frame(frame, self.at))
        self.monitor.diagnose(self.at)

    def check(self) -> None:
        """Assert that the long-lived objects' counters add up."""
        assert self.monitor.decoder.stats.frames == self.frames
        assert sum(self.guard.stats.as_dict().values()) == self.indexes_checked


def mutation_loop(count: int, seed: int) -> tuple[int, int]:
    """Run the random mutation loop; print its figures; return exceptions and invariant failures."""
    rng, corpus, stream = random.Random(seed), clean_frames(), Stream()
    exceptions = failures = 0
    first: str | None = None
    memory: tuple[int, int] | None = None
    sample = min(MEMORY_SAMPLE, count // 4)  # a short run follows a quarter of its inputs
    began = time.perf_counter()
    for n in range(count):
        if n == sample:
            tracemalloc.start()
        elif n == 2 * sample:
            memory = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        data, cuts, mode = random_input(rng, corpus)
        try:
            if n % FULL_CHECK_EVERY == 0:
                decode_checked(data, cuts, mode)
            else:
                decoder = Decoder(mode)
                check_counters(decoder, decoder.feed(data), data.translate(SEVEN_BITS))
            if n % STREAM_EVERY == 0:
                stream.feed(data, cuts)
        except AssertionError:
            failures += 1
            first = first or f"invariant failed on {data!r} cut at {cuts} in mode {mode}"
        except Exception as err:  # noqa: BLE001 - every exception is a finding, counted and shown
            exceptions += 1
            first = first or f"{type(err).__name__}: {err} on {data!r} cut at {cuts} in mode {mode}"
    elapsed = time.perf_counter() - began
    stream.check()
    print(f"mutation loop: {count:,} inputs in {elapsed:.1f} s, {count / elapsed:,.0f} inputs/s (seed {seed})")
    print(f"  exceptions {exceptions}, invariant failures {failures}")
    if first:
        print(f"  first: {first[:600]}")
    stats = stream.monitor.decoder.stats
    print(
        f"  long-lived stream: {stream.monitor.received:,} bytes, {stats.frames:,} frames, {stats.groups:,} groups, "
        f"{stats.checksum_errors:,} checksum errors, {stats.oversized_frames:,} oversized frames; "
        f"guard: {stream.guard.stats.as_dict()}"
    )
    if memory is not None:
        kept, peak = memory
        print(
            f"  memory allocated over inputs {sample:,} to {2 * sample:,} (tracemalloc): "
            f"{kept:,} bytes still held at the end, peak {peak / 1024:,.0f} kB"
        )
    return exceptions, failures


def hypothesis_run(examples: int) -> tuple[int, int]:
    """Run the test suite's fuzz properties with `examples` examples each; return exceptions and failures."""
    exceptions = failures = 0
    for name, (check, strategies) in PROPERTIES.items():
        calls = [0]
        run = settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(
            given(*strategies)(_counting(check, calls))
        )
        began = time.perf_counter()
        try:
            run()
        except AssertionError:
            failures += 1
            traceback.print_exc(limit=-3)
        except Exception:  # noqa: BLE001 - every exception is a finding
            exceptions += 1
            traceback.print_exc(limit=-3)
        elapsed = time.perf_counter() - began
        print(f"hypothesis {name}: {calls[0]:,} examples in {elapsed:.1f} s, {calls[0] / elapsed:,.0f}/s")
    print(f"  exceptions {exceptions}, invariant failures {failures}")
    return exceptions, failures


def _counting(check: Callable[..., None], calls: list[int]) -> Callable[..., None]:
    """Wrap a property to count its calls; hypothesis reads the arguments from the property's signature."""

    @functools.wraps(check)
    def counted(*args: Any, **kwargs: Any) -> None:
        calls[0] += 1
        check(*args, **kwargs)

    return counted


def atheris_installed() -> bool:
    """Tell whether atheris is installed in BENCH_SITE (or importable already)."""
    return (BENCH_SITE / "atheris").is_dir() or importlib.util.find_spec("atheris") is not None


def atheris_module() -> Any:
    """Import atheris from BENCH_SITE, installing it there first if it is missing."""
    return bench_import(ATHERIS, "atheris", BENCH_SITE)


def atheris_worker(libfuzzer_args: list[str]) -> None:
    """Fuzz under libFuzzer until it stops: an exception or a failed invariant is a crash it reports."""
    atheris = atheris_module()
    # Coverage of the protocol code only: the rest (hypothesis, Home Assistant imported by the package) is noise.
    for module in (decoder_module, checksum_module, horodate_module):
        for value in vars(module).values():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            functions = vars(value).values() if inspect.isclass(value) else [value]
            for function in functions:
                if inspect.isfunction(function):
                    atheris.instrument_func(function)

    def one_input(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        mode = MODES[provider.ConsumeIntInRange(0, len(MODES) - 1)]
        cuts = [provider.ConsumeIntInRange(0, 1 << 16) for _ in range(provider.ConsumeIntInRange(0, 8))]
        payload = provider.ConsumeBytes(provider.remaining_bytes())
        decode_checked(payload, cuts, mode)

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def atheris_run(seconds: int) -> tuple[int, int]:
    """Run atheris in a child process for `seconds`, seeded with real frames; return crashes (as exceptions)."""
    atheris_module()
    with tempfile.TemporaryDirectory(prefix="tic-fuzz-") as work:
        corpus = Path(work, "corpus")
        corpus.mkdir()
        for n, frame in enumerate(clean_frames()):
            # The provider draws the mode, then the number of cuts, from the last bytes: zeros give auto, uncut.
            (corpus / f"frame{n}").write_bytes(frame + b"\x00\x00")
        args = [f"-max_total_time={seconds}", "-max_len=8192", f"-artifact_prefix={work}/", str(corpus)]
        began = time.perf_counter()
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "benchmarks.fuzz", "--atheris-worker", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - began
        output = result.stdout + result.stderr
        done = re.search(r"Done (\d+) runs in (\d+) second", output)
        coverage = re.findall(r"cov: (\d+) ft: (\d+)", output)
        runs = int(done.group(1)) if done else 0
        print(
            f"atheris: {runs:,} runs in {elapsed:.0f} s, {runs / elapsed:,.0f} runs/s, exit status {result.returncode}"
        )
        if coverage:
            print(f"  coverage at the end: {coverage[-1][0]} edges, {coverage[-1][1]} features")
        crashed = result.returncode != 0
        if crashed:
            print("  " + "\n  ".join(output.strip().splitlines()[-25:]))
            _keep_crashes(Path(work))
    return int(crashed), 0


def _keep_crashes(work: Path) -> None:
    """Copy libFuzzer's crash inputs out of the temporary folder, to replay them (`--atheris-worker FILE`)."""
    CRASHES.mkdir(parents=True, exist_ok=True)
    for crash in work.glob("crash-*"):
        kept = CRASHES / crash.name
        kept.write_bytes(crash.read_bytes())
        print(f"  kept {kept}; replay: python -m benchmarks.fuzz --atheris-worker {kept}")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the fuzzers and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=2_000_000, help="inputs of the mutation loop (default 2M)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hypothesis", type=int, default=5000, help="examples per property (default 5,000)")
    parser.add_argument("--atheris", type=int, default=60, help="seconds of atheris (default 60)")
    parser.add_argument("--short", action="store_true", help="CI's short mode: seconds, small figures")
    parser.add_argument("--atheris-worker", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.atheris_worker:
        atheris_worker(rest)
        return
    if args.short:
        # Atheris is not installed for a short run: installing it (a native build) would take longer than the run.
        args.inputs, args.hypothesis = min(args.inputs, SHORT_INPUTS), min(args.hypothesis, SHORT_EXAMPLES)
        args.atheris = min(args.atheris, SHORT_ATHERIS) if atheris_installed() else 0
    rss_start = _peak_rss_mb()
    print(f"Python {sys.version.split()[0]}; {len(clean_frames())} real frames as the seed corpus")
    totals = [mutation_loop(args.inputs, args.seed)]
    print(f"peak RSS after the mutation loop: {_peak_rss_mb():,.0f} MB")
    if args.hypothesis:
        totals.append(hypothesis_run(args.hypothesis))
    if args.atheris:
        totals.append(atheris_run(args.atheris))
    print(f"peak RSS of this process: {_peak_rss_mb():,.0f} MB (after imports: {rss_start:,.0f} MB)")
    exceptions, failures = (sum(column) for column in zip(*totals, strict=True))
    print(f"total: exceptions {exceptions}, invariant failures {failures}")
    sys.exit(1 if exceptions or failures else 0)


if __name__ == "__main__":
    main()
