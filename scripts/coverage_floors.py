"""Fail when the integration's test coverage is under its floors ([tool.linky_local.coverage] in pyproject.toml).

scripts/test measures coverage over tests_protocol/ and tests/ on the Home Assistant 2026.10 leg, then runs this:
    .venv/bin/python scripts/coverage_floors.py [DATA_FILE]   (default: .coverage)
Floors: the whole package, every module, and the modules named with their own floor (config_flow.py at 100 %).
A percentage is coverage's own (statements and branches), compared unrounded.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
import tempfile
import tomllib
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "custom_components/linky_local/"


class Floors(NamedTuple):
    """The floors, in percent."""

    total: float
    module: float
    modules: dict[str, float]  # path from the repository's root: its own floor


def floors(pyproject: Path = ROOT / "pyproject.toml") -> Floors:
    """Read the floors from pyproject.toml."""
    table = tomllib.loads(pyproject.read_text())["tool"]["linky_local"]["coverage"]
    return Floors(float(table["total"]), float(table["module"]), {k: float(v) for k, v in table["modules"].items()})


def shortfalls(report: dict[str, Any], limits: Floors) -> list[str]:
    """Return what is under its floor in a `coverage json` report, one line each; empty when every floor holds."""
    files = {path[path.index(PACKAGE) :]: data for path, data in report["files"].items() if PACKAGE in path}
    found = [f"{named}: not measured" for named in limits.modules if named not in files]
    for path, data in sorted(files.items()):
        percent = data["summary"]["percent_covered"]
        floor = limits.modules.get(path, limits.module)
        if percent < floor:
            found.append(f"{path}: {percent:.2f} % < {floor:g} %")
    total = report["totals"]["percent_covered"]
    if total < limits.total:
        found.append(f"total: {total:.2f} % < {limits.total:g} %")
    return found


def main() -> int:
    """Check the data file given (or .coverage) against the floors; print what is under."""
    import coverage  # only where coverage is installed: the test legs

    data_file = sys.argv[1] if len(sys.argv) > 1 else ".coverage"
    measured = coverage.Coverage(data_file=data_file)
    measured.load()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "coverage.json"
        measured.json_report(outfile=str(out))
        report = json.loads(out.read_text())
    limits = floors()
    if problems := shortfalls(report, limits):
        print("Coverage under its floors:", *problems, sep="\n  ")
        return 1
    print(
        f"Coverage floors hold: total {report['totals']['percent_covered']:.2f} % (floor {limits.total:g} %), "
        f"every module ≥ {limits.module:g} %, "
        + ", ".join(f"{Path(path).name} ≥ {floor:g} %" for path, floor in limits.modules.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
