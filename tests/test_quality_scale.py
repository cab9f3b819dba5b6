"""quality_scale.yaml holds every rule of Home Assistant's Integration Quality Scale, each done or exempt, with why.

The rules, and their tiers, are those of hassfest's script/hassfest/quality_scale.py (ALL_RULES) in
home-assistant/core at commit 008538e822535b1d6155c91f6642127afa184ed1, the rule set of Home Assistant 2026.10.4:
every quality_scale.yaml that 2026.10.4 ships lists exactly these 54 rules, which the last test checks on the
installed version. Some claims are also checked here against the code, as hassfest's validators check them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
from typing import Any

import homeassistant
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION, Platform, __version__
from homeassistant.util.yaml import load_yaml
import pytest

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / "linky_local"
TIERS = ("bronze", "silver", "gold", "platinum")
RULES_FROM = "Home Assistant 2026.10.4 (hassfest ALL_RULES at core commit 008538e8)"
RULES: dict[str, str] = {
    # Bronze
    "action-setup": "bronze",
    "appropriate-polling": "bronze",
    "brands": "bronze",
    "common-modules": "bronze",
    "config-flow": "bronze",
    "config-flow-test-coverage": "bronze",
    "dependency-transparency": "bronze",
    "docs-actions": "bronze",
    "docs-conditions": "bronze",
    "docs-high-level-description": "bronze",
    "docs-installation-instructions": "bronze",
    "docs-removal-instructions": "bronze",
    "docs-triggers": "bronze",
    "entity-event-setup": "bronze",
    "entity-unique-id": "bronze",
    "has-entity-name": "bronze",
    "runtime-data": "bronze",
    "test-before-configure": "bronze",
    "test-before-setup": "bronze",
    "unique-config-entry": "bronze",
    # Silver
    "action-exceptions": "silver",
    "config-entry-unloading": "silver",
    "docs-configuration-parameters": "silver",
    "docs-installation-parameters": "silver",
    "entity-unavailable": "silver",
    "integration-owner": "silver",
    "log-when-unavailable": "silver",
    "parallel-updates": "silver",
    "reauthentication-flow": "silver",
    "test-coverage": "silver",
    # Gold
    "devices": "gold",
    "diagnostics": "gold",
    "discovery": "gold",
    "discovery-update-info": "gold",
    "docs-data-update": "gold",
    "docs-examples": "gold",
    "docs-known-limitations": "gold",
    "docs-supported-devices": "gold",
    "docs-supported-functions": "gold",
    "docs-troubleshooting": "gold",
    "docs-use-cases": "gold",
    "dynamic-devices": "gold",
    "entity-category": "gold",
    "entity-device-class": "gold",
    "entity-disabled-by-default": "gold",
    "entity-translations": "gold",
    "exception-translations": "gold",
    "icon-translations": "gold",
    "reconfiguration-flow": "gold",
    "repair-issues": "gold",
    "stale-devices": "gold",
    # Platinum
    "async-dependency": "platinum",
    "inject-websession": "platinum",
    "strict-typing": "platinum",
}
# Rules exempt because the integration has nothing they apply to; the modules that would make them apply.
ABSENT = {
    "action-setup": ("services.yaml",),
    "docs-actions": ("services.yaml",),
    "action-exceptions": ("services.yaml",),
    "docs-conditions": ("condition.py", "conditions.yaml", "device_condition.py"),
    "docs-triggers": ("trigger.py", "triggers.yaml", "device_trigger.py"),
}


# Documentation rules done: the sections that hold them, in English and in French (file, heading). The README
# (README.fr.md in French) holds what a household needs to start; docs/guide.md (docs/guide.fr.md) the rest, and
# the README links to it.
README = ("README.md", "README.fr.md")
DOCUMENTED: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "docs-high-level-description": (("README.md", "## What it does"), ("README.fr.md", "## Ce que fait l'intégration")),
    "docs-installation-instructions": (("README.md", "## Install"), ("README.fr.md", "## Installer")),
    "docs-removal-instructions": (("docs/guide.md", "## Removal"), ("docs/guide.fr.md", "## Suppression")),
    "docs-configuration-parameters": (("docs/privacy.md", "## The levels"), ("docs/guide.fr.md", "## Vie privée")),
    "docs-installation-parameters": (
        ("docs/guide.md", "## Configuration in detail"),
        ("docs/guide.fr.md", "## Configuration"),
    ),
    "docs-data-update": (("docs/privacy.md", "## The levels"), ("docs/guide.fr.md", "## Vie privée")),
    "docs-examples": (
        ("docs/automations.md", "# Automations: the five blueprints"),
        ("docs/guide.fr.md", "## Automatisations"),
    ),
    "docs-known-limitations": (("docs/guide.md", "## Known limitations"), ("docs/guide.fr.md", "## Limites connues")),
    "docs-supported-devices": (("docs/hardware.md", "## Supported hardware"), ("docs/guide.fr.md", "## Matériel")),
    "docs-supported-functions": (("docs/guide.md", "## Entities"), ("docs/guide.fr.md", "## Entités")),
    "docs-troubleshooting": (("docs/troubleshooting.md", "# Troubleshooting"), ("docs/guide.fr.md", "## Dépannage")),
    "docs-use-cases": (("docs/guide.md", "## Use cases"), ("docs/guide.fr.md", "## Cas d'usage")),
}
ROOT = INTEGRATION.parent.parent
DOCS_URL = "https://github.com/linky-local/linky_local/blob/main/"


@pytest.fixture(name="scale", scope="module")
def scale_fixture() -> dict[str, Any]:
    data = load_yaml(INTEGRATION / "quality_scale.yaml")
    assert isinstance(data, dict)
    assert set(data) == {"rules"}
    rules: dict[str, Any] = data["rules"]
    return rules


def _claimed_tier() -> str:
    match = re.search(r"^# Tier claimed: (\w+)$", (INTEGRATION / "quality_scale.yaml").read_text(), re.MULTILINE)
    assert match is not None, "quality_scale.yaml does not say which tier it claims"
    return match[1]


def test_every_rule_is_recorded_and_no_other(scale: dict[str, Any]) -> None:
    assert sorted(set(RULES) - set(scale)) == [], f"rules of {RULES_FROM} missing"
    assert sorted(set(scale) - set(RULES)) == [], f"rules not in {RULES_FROM}"


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_is_done_or_exempt_with_why(scale: dict[str, Any], rule: str) -> None:
    value = scale[rule]
    assert isinstance(value, dict), f"{rule}: give its status and a comment saying why it holds"
    assert set(value) == {"status", "comment"}
    assert value["status"] in {"done", "exempt"}, f"{rule} is {value['status']}"
    assert isinstance(value["comment"], str)
    assert len(value["comment"].split()) >= 5, f"{rule}: the comment does not say why"


def test_the_claimed_tier_is_the_one_reached(scale: dict[str, Any]) -> None:
    """The tier reached is the highest whose rules, and all rules below it, are done or exempt."""
    reached = None
    for tier in TIERS:
        if any(scale[rule]["status"] not in {"done", "exempt"} for rule, of in RULES.items() if of == tier):
            break
        reached = tier
    assert reached == _claimed_tier() == "platinum"


@pytest.mark.parametrize("rule", sorted(ABSENT))
def test_exempt_for_want_of_what_it_is_about(scale: dict[str, Any], rule: str) -> None:
    assert scale[rule]["status"] == "exempt"
    for name in ABSENT[rule]:
        assert not (INTEGRATION / name).exists(), f"{rule} is exempt, but {name} exists"


def _section(text: str, heading: str) -> str:
    """The text of a section, up to the next heading of its level or above."""
    start = text.index(f"{heading}\n") + len(heading) + 1
    level = heading.split(" ", 1)[0]
    ends = [text.find(f"\n{'#' * n} ", start) for n in range(1, len(level) + 1)]
    return text[start : min((end for end in ends if end != -1), default=len(text))]


@pytest.mark.parametrize("rule", sorted(DOCUMENTED))
def test_documentation_rule_has_its_sections(scale: dict[str, Any], rule: str) -> None:
    """A documentation rule is done only where the household reads it, in English and in French, from the README."""
    assert scale[rule]["status"] == "done"
    for (path, heading), readme in zip(DOCUMENTED[rule], README, strict=True):
        text = (ROOT / path).read_text()
        assert text.startswith(f"{heading}\n") or f"\n{heading}\n" in text, f"{rule}: no {heading!r} in {path}"
        assert len(_section(text, heading).split()) >= 40, f"{rule}: {path} {heading!r} is too short to document it"
        if path not in README:
            assert f"({DOCS_URL}{path})" in (ROOT / readme).read_text(), f"{readme} does not link {path}"


def test_the_known_limitations_are_substantive() -> None:
    (path, heading), _ = DOCUMENTED["docs-known-limitations"]
    items = [line for line in _section((ROOT / path).read_text(), heading).splitlines() if line.startswith("- **")]
    assert len(items) >= 6


def test_no_http_request_and_no_polling() -> None:
    """inject-websession and appropriate-polling are exempt: no HTTP client, no update interval."""
    for path in INTEGRATION.rglob("*.py"):
        source = path.read_text()
        assert "aiohttp" not in source, path
        assert "httpx" not in source, path
        assert "update_interval=" not in source, path


def _annotation(function: ast.FunctionDef | ast.AsyncFunctionDef, position: int) -> str | None:
    argument = function.args.args[position - 1]
    return argument.annotation.id if isinstance(argument.annotation, ast.Name) else None


def test_runtime_data_is_set_and_typed() -> None:
    """As hassfest checks runtime-data when strict-typing is done: every entry taken is the typed alias."""
    typed = re.compile(r"^[A-Za-z]+ConfigEntry$")
    entry_functions = {
        "__init__": ("async_setup_entry", "async_unload_entry", "async_migrate_entry", "async_remove_entry"),
        "diagnostics": ("async_get_config_entry_diagnostics", "async_get_device_diagnostics"),
        **{platform.value: ("async_setup_entry",) for platform in Platform},
    }
    checked = []
    for module, names in entry_functions.items():
        if not (path := INTEGRATION / f"{module}.py").exists():
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef) and node.name in names:
                assert (annotation := _annotation(node, 2)) and typed.match(annotation), f"{module}.{node.name}"
                checked.append(f"{module}.{node.name}")
            if module == "__init__" and isinstance(node, ast.AsyncFunctionDef) and node.name == "async_setup_entry":
                entry = node.args.args[1].arg
                assert any(
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == entry
                    and sub.attr == "runtime_data"
                    and isinstance(sub.ctx, ast.Store)
                    for sub in ast.walk(node)
                ), "async_setup_entry does not set entry.runtime_data"
    flow = ast.parse((INTEGRATION / "config_flow.py").read_text())
    for cls in (node for node in flow.body if isinstance(node, ast.ClassDef)):
        for function in cls.body:
            if isinstance(function, ast.FunctionDef) and function.name == "async_get_options_flow":
                assert (annotation := _annotation(function, 1)) and typed.match(annotation), annotation
                checked.append("config_flow.async_get_options_flow")
    assert {"__init__.async_setup_entry", "sensor.async_setup_entry", "config_flow.async_get_options_flow"} <= set(
        checked
    )


def test_what_hassfest_validates_of_the_other_rules() -> None:
    """config-flow, discovery, reconfiguration-flow, test-before-setup, unique-config-entry: hassfest's checks."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    assert manifest["config_flow"] is True
    assert "usb" in manifest
    flow = ast.parse((INTEGRATION / "config_flow.py").read_text())
    steps = {node.name for node in ast.walk(flow) if isinstance(node, ast.AsyncFunctionDef)}
    assert {"async_step_user", "async_step_usb", "async_step_reconfigure"} <= steps
    calls = {
        node.func.attr for node in ast.walk(flow) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert {"async_set_unique_id", "_abort_if_unique_id_configured"} <= calls
    raised = {
        node.exc.func.id
        for path in INTEGRATION.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
    }
    assert "ConfigEntryNotReady" in raised


def test_the_installed_home_assistant_has_the_same_rules() -> None:
    """Every core integration's quality_scale.yaml lists every rule: their union is the installed version's rules.

    On 2026.10 and later they are the rules above, until Home Assistant adds one; the older legs know fewer
    (2026.5 has neither docs-conditions nor docs-triggers), none that is not above.
    """
    components = Path(homeassistant.__file__).parent / "components"
    seen: set[str] = set()
    for path in components.glob("*/quality_scale.yaml"):
        data = load_yaml(path)
        if isinstance(data, dict) and isinstance(rules := data.get("rules"), dict):
            seen |= set(rules)
    assert seen, "no quality_scale.yaml in the installed Home Assistant"
    assert sorted(seen - set(RULES)) == [], f"Home Assistant {__version__} has rules {RULES_FROM} lacks"
    if (MAJOR_VERSION, MINOR_VERSION) >= (2026, 10):
        assert sorted(set(RULES) - seen) == [], f"Home Assistant {__version__} dropped rules of {RULES_FROM}"
