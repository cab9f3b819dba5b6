"""manifest.json holds to hassfest's manifest rules that apply to a custom integration, and HACS' required keys.

hassfest (home-assistant/core script/hassfest/manifest.py and requirements.py) is not shipped in the homeassistant
wheel: its rules for custom integrations are restated here, each as its own check, and each check is shown to fail
on a manifest that breaks it.
"""

from __future__ import annotations

from importlib.metadata import version
import json
from pathlib import Path
import re
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
from packaging.requirements import Requirement
from packaging.version import Version
import pytest

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "linky_local"
# hassfest's CUSTOM_INTEGRATION_MANIFEST_SCHEMA requires these; HACS adds version and issue_tracker.
REQUIRED = ("domain", "name", "codeowners", "documentation", "issue_tracker", "version")
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
IOT_CLASSES = {"assumed_state", "calculated", "cloud_polling", "cloud_push", "local_polling", "local_push"}
VERSION_STRATEGIES = (
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
)
# hassfest's PACKAGE_REGEX: a name, an optional comparison, the rest.
PACKAGE = re.compile(r"^(?:--.+\s)?([-_,\.\w\d\[\]]+)(==|>=|<=|~=|!=|<|>|===)*(.*)$")
# The serialx versions the test legs run (requirements/*.lock): Home Assistant 2026.5.4 and 2026.10.4 pin them.
SERIALX_TRIED = {"1.7.3", "1.11.0"}


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((INTEGRATION / "manifest.json").read_text())
    return manifest


def _sort_key(key: str) -> str:
    return {"domain": ".domain", "name": ".name"}.get(key, key)


def errors(manifest: dict[str, Any], folder: str = "linky_local") -> list[str]:
    """What hassfest would report for this manifest of a custom integration in custom_components/<folder>."""
    found = [f"missing {key}" for key in REQUIRED if key not in manifest]
    if list(manifest) != sorted(manifest, key=_sort_key):
        found.append("keys not sorted: domain, name, then alphabetical order")
    if manifest.get("domain") != folder:
        found.append("domain does not match the folder's name")
    if (documentation := urlparse(str(manifest.get("documentation", "")))).scheme != "https":
        found.append("documentation is not an https URL")
    if documentation.netloc == "www.home-assistant.io":
        found.append("a custom integration's documentation is not on www.home-assistant.io")
    if urlparse(str(manifest.get("issue_tracker", ""))).scheme not in {"http", "https"}:
        found.append("issue_tracker is not a URL")
    if not all(isinstance(owner, str) for owner in manifest.get("codeowners", [None])):
        found.append("codeowners is not a list of strings")
    if manifest.get("integration_type", "hub") not in INTEGRATION_TYPES:
        found.append("unknown integration_type")
    if manifest.get("iot_class") not in IOT_CLASSES:
        found.append("iot_class missing or unknown")
    try:
        AwesomeVersion(str(manifest.get("version")), ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException:
        found.append("version is not a valid version")
    found += [
        f"requirement {requirement!r} is malformed"
        for requirement in manifest.get("requirements", [])
        if " " in requirement or not PACKAGE.match(requirement)
    ]
    for matcher in manifest.get("usb", []):
        found += [
            f"usb {key} is not uppercase"
            for key in ("vid", "pid")
            if matcher.get(key, "").upper() != matcher.get(key, "")
        ]
        found += [
            f"usb {key} is not lowercase"
            for key in ("serial_number", "manufacturer", "description")
            if matcher.get(key, "").lower() != matcher.get(key, "")
        ]
    found += [
        f"{key} is not a list"
        for key in ("after_dependencies", "dependencies", "loggers", "requirements")
        if not isinstance(manifest.get(key, []), list)
    ]
    return found


def test_the_manifest_passes() -> None:
    assert errors(_manifest()) == []


def _moved_to_end(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    return {**{k: v for k, v in manifest.items() if k != key}, key: manifest[key]}


@pytest.mark.parametrize(
    ("break_it", "error"),
    [
        # The defect issue 25 found: after_dependencies after codeowners.
        (lambda m: _moved_to_end(m, "after_dependencies"), "keys not sorted: domain, name, then alphabetical order"),
        (lambda m: {"name": m["name"], **{k: v for k, v in m.items() if k != "name"}}, "keys not sorted"),
        (lambda m: {k: v for k, v in m.items() if k != "version"}, "missing version"),
        (lambda m: {**m, "version": "not a version"}, "version is not a valid version"),
        (lambda m: {k: v for k, v in m.items() if k != "codeowners"}, "missing codeowners"),
        (lambda m: {**m, "requirements": ["serialx >= 1.7.3"]}, "requirement 'serialx >= 1.7.3' is malformed"),
        (lambda m: {**m, "documentation": "http://example.org"}, "documentation is not an https URL"),
        (lambda m: {**m, "iot_class": "local_pull"}, "iot_class missing or unknown"),
        (lambda m: {**m, "usb": [{"vid": "0403", "pid": "60af"}]}, "usb pid is not uppercase"),
        (lambda m: {**m, "usb": [{"serial_number": "TINFO-*"}]}, "usb serial_number is not lowercase"),
    ],
    ids=["after_dependencies", "name", "version", "bad-version", "codeowners", "space", "http", "iot", "pid", "sn"],
)
def test_a_broken_manifest_fails(break_it: Any, error: str) -> None:
    found = errors(break_it(_manifest()))
    assert any(message.startswith(error) for message in found), found


def test_the_domain_must_be_the_folder() -> None:
    assert errors(_manifest(), folder="linky") == ["domain does not match the folder's name"]


def test_serialx_admits_the_versions_home_assistant_pins() -> None:
    """No upper bound: Home Assistant pins one serialx for every integration, and a cap breaks on its next major.

    The lower bound is the oldest serialx tried (the 2026.5 leg's); the installed one is this leg's, and both legs'
    locks pin one of SERIALX_TRIED.
    """
    (requirement,) = (Requirement(text) for text in _manifest()["requirements"] if text.startswith("serialx"))
    assert requirement.name == "serialx"
    assert all(spec.operator in {">=", ">"} for spec in requirement.specifier), f"{requirement} caps serialx"
    assert {spec.version for spec in requirement.specifier} == {min(SERIALX_TRIED, key=Version)}
    assert requirement.specifier.contains(version("serialx"))
    assert version("serialx") in SERIALX_TRIED
    pinned = {
        match[1]
        for lock in (ROOT / "requirements").glob("ha-*.lock")
        for match in re.finditer(r"^serialx==(\S+)$", lock.read_text(), re.MULTILINE)
    }
    assert pinned == SERIALX_TRIED
    assert all(requirement.specifier.contains(tried) for tried in SERIALX_TRIED)
    assert requirement.specifier.contains("2.0.0")
