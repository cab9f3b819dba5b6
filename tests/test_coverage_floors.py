"""scripts/test holds coverage to the floors quality_scale.yaml states: the check, and that the two agree."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FLOW = "custom_components/linky_local/config_flow.py"
SENSOR = "custom_components/linky_local/sensor.py"


@pytest.fixture(name="floors_script", scope="module")
def floors_script_fixture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coverage_floors", ROOT / "scripts" / "coverage_floors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(total: float, **modules: float) -> dict[str, Any]:
    """A `coverage json` report, files named as coverage names them (absolute paths)."""
    files = {f"/src/linky/{path}": {"summary": {"percent_covered": percent}} for path, percent in modules.items()}
    return {"files": files, "totals": {"percent_covered": total}}


def test_the_floors_are_those_claimed(floors_script: ModuleType) -> None:
    floors = floors_script.floors()
    assert floors.modules == {CONFIG_FLOW: 100.0}
    assert (floors.module, floors.total) == (95.0, 99.0)


def test_the_quality_scale_states_the_floors_enforced(floors_script: ModuleType) -> None:
    floors = floors_script.floors()
    rules = load_yaml_dict(ROOT / "custom_components" / "linky_local" / "quality_scale.yaml")["rules"]
    config_flow = rules["config-flow-test-coverage"]["comment"]
    assert f"config_flow.py at {floors.modules[CONFIG_FLOW]:g} %" in config_flow
    assert "scripts/test fails under it" in config_flow
    every = rules["test-coverage"]["comment"]
    assert f"Every module at {floors.module:g} % or more and {floors.total:g} % in all" in every
    assert "scripts/test fails under these floors" in every


@pytest.mark.parametrize(
    ("report", "shortfalls"),
    [
        (_report(99.2, **{CONFIG_FLOW: 100.0, SENSOR: 95.0}), []),
        (_report(99.2, **{CONFIG_FLOW: 99.99, SENSOR: 100.0}), [f"{CONFIG_FLOW}: 99.99 % < 100 %"]),
        (_report(99.2, **{CONFIG_FLOW: 100.0, SENSOR: 94.9}), [f"{SENSOR}: 94.90 % < 95 %"]),
        (_report(98.9, **{CONFIG_FLOW: 100.0}), ["total: 98.90 % < 99 %"]),
        (_report(99.5, **{SENSOR: 100.0}), [f"{CONFIG_FLOW}: not measured"]),
    ],
    ids=["held", "config_flow", "module", "total", "config_flow_missing"],
)
def test_what_falls_under_a_floor_is_said(
    floors_script: ModuleType, report: dict[str, Any], shortfalls: list[str]
) -> None:
    assert floors_script.shortfalls(report, floors_script.floors()) == shortfalls


def test_scripts_test_measures_and_checks() -> None:
    """Coverage is on for the 2026.10 leg's two suites, and the floors checked after them."""
    script = (ROOT / "scripts" / "test").read_text()
    assert '[ "$leg" = ha-2026.10 ] && coverage=(--cov --cov-append --cov-report=)' in script
    assert script.count('"${coverage[@]}"') == 2
    assert "scripts/coverage_floors.py" in script
