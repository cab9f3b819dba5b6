"""Write the entity tables of docs/entities.md from the label catalogue and the English entity names.

.venv/bin/python scripts/readme_entities.py          rewrite the tables between the markers of docs/entities.md
.venv/bin/python scripts/readme_entities.py --check  exit 1 when they are out of date (tests/test_readme.py)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.linky_local.entity import translation_key  # noqa: E402

# The integration's own copy of the library: the policy compares the catalogue's enums by identity.
from custom_components.linky_local.linky_tic import CATALOGUE, LabelSpec, Mode, PrivacyClass, Quantity  # noqa: E402
from custom_components.linky_local.policy import diagnostic, enabled_by_default, supplier_rank  # noqa: E402

ENTITIES = ROOT / "docs" / "entities.md"
STRINGS = ROOT / "custom_components" / "linky_local" / "strings.json"
BEGIN = "<!-- BEGIN entity tables: scripts/readme_entities.py writes them from tic/catalogue.py; do not edit -->"
END = "<!-- END entity tables -->"

MODE_TITLES = {
    Mode.HISTORIC: "Historic mode (1200 baud, every meter's factory setting)",
    Mode.STANDARD: "Standard mode (9600 baud, on request to the supplier)",
}
PRIVACY = {
    PrivacyClass.IDENTIFIER: "identifier",
    PrivacyClass.CONSUMPTION: "consumption",
    PrivacyClass.CONTRACT: "contract",
    PrivacyClass.TECHNICAL: "technical",
    PrivacyClass.MESSAGE: "message",
}


def entity_names() -> dict[str, dict[str, str]]:
    """Return the English entity names by platform and translation key."""
    entities = json.loads(STRINGS.read_text())["entity"]
    return {platform: {key: value["name"] for key, value in keys.items()} for platform, keys in entities.items()}


def _entity(spec: LabelSpec, names: dict[str, dict[str, str]]) -> str:
    if spec.quantity is None:
        return "none: identifies the household" if spec.privacy is PrivacyClass.IDENTIFIER else "none of its own"
    platform = "binary_sensor" if spec.quantity is Quantity.PROBLEM else "sensor"
    name = names.get(platform, {}).get(translation_key(spec.label), "(unnamed)")
    return f"{name} ({platform.replace('_', ' ')})"


def _only_on(spec: LabelSpec) -> str:
    return ", ".join(what for what, only in (("three-phase", spec.three_phase), ("producer", spec.producer)) if only)


def _enabled(spec: LabelSpec) -> str:
    if spec.quantity is None:
        return ""
    if supplier_rank(spec) is not None:
        return "if the contract uses it"
    return ("yes" if enabled_by_default(spec) else "no") + (", diagnostic" if diagnostic(spec) else "")


def mode_table(mode: Mode, names: dict[str, dict[str, str]]) -> str:
    """Return one mode's labels as a Markdown table."""
    lines = [
        f"## {MODE_TITLES[mode]}",
        "",
        "| Label | Meaning | Entity | Unit | Enabled | Only on | Privacy |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for spec in CATALOGUE[mode].values():
        meaning = spec.meaning + (" (with its horodate)" if spec.horodate else "")
        cells = (
            f"`{spec.label}`",
            meaning,
            _entity(spec, names),
            spec.unit or "",
            _enabled(spec),
            _only_on(spec),
            PRIVACY[spec.privacy],
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def derived_table(names: dict[str, dict[str, str]]) -> str:
    """Return the entities that no single label makes (status register, the link's health) as a Markdown list."""
    label_keys = {translation_key(label) for specs in CATALOGUE.values() for label in specs}
    derived = sorted(
        f"{name} ({platform.replace('_', ' ')})"
        for platform, keys in names.items()
        for key, name in keys.items()
        if key not in label_keys
    )
    return (
        "## Other entities (decoded from the status register, the relays and the horodates, or about the link)\n\n"
        + (", ".join(derived) + ".")
    )


def render() -> str:
    """Return everything between the markers."""
    names = entity_names()
    parts = [mode_table(mode, names) for mode in (Mode.HISTORIC, Mode.STANDARD)]
    parts.append(derived_table(names))
    return "\n\n".join(parts)


def updated(page: str) -> str:
    """Return the page with freshly written tables between its markers."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"docs/entities.md lacks the markers:\n{BEGIN}\n{END}")
    return f"{page[: start + len(BEGIN)]}\n\n{render()}\n\n{page[end:]}"


def main() -> None:
    """Rewrite the tables, or check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/entities.md is up to date")
    args = parser.parse_args()
    page = ENTITIES.read_text()
    fresh = updated(page)
    if args.check:
        if fresh != page:
            print("docs/entities.md's tables are out of date: run .venv/bin/python scripts/readme_entities.py")
            raise SystemExit(1)
        return
    ENTITIES.write_text(fresh)
    print("docs/entities.md's tables written")


if __name__ == "__main__":
    main()
