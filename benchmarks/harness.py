"""Running a benchmark's measuring part under pytest, with the test suite's fixtures, for as long as it takes."""

from __future__ import annotations

import sys


def pytest_command(bench_file: str) -> list[str]:
    """Return the command that runs `benchmarks/<bench_file>` under pytest, quietly and without the tests' timeout."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-o",
        f"python_files={bench_file}",
        "-o",
        "log_level=WARNING",
        "-o",
        "timeout=0",  # the test suite's per-test timeout: a day or a week takes minutes
        "-o",
        "faulthandler_timeout=3600",
        "--show-capture=no",
        f"benchmarks/{bench_file}",
    ]
