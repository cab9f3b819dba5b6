"""The entity tables (docs/entities.md, linked from the README) are written from the label catalogue, and kept in step."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from custom_components.linky_local.linky_tic import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
ENTITIES = ROOT / "docs" / "entities.md"


@pytest.fixture(name="readme_entities", scope="module")
def readme_entities_fixture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_entities", ROOT / "scripts" / "readme_entities.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tables_are_up_to_date(readme_entities: ModuleType) -> None:
    page = ENTITIES.read_text()
    assert readme_entities.updated(page) == page, (
        "docs/entities.md's tables are out of date: run .venv/bin/python scripts/readme_entities.py"
    )


def test_every_label_has_a_row(readme_entities: ModuleType) -> None:
    tables = readme_entities.render()
    for specs in CATALOGUE.values():
        for label, spec in specs.items():
            assert f"| `{label}` | {spec.meaning}" in tables
    assert "(unnamed)" not in tables, "a label's entity has no English name in strings.json"


def test_a_stale_table_is_rewritten(readme_entities: ModuleType) -> None:
    page = ENTITIES.read_text()
    stale = page.replace("| `EAIT` |", "| `EAIT_OLD` |")
    assert stale != page
    assert readme_entities.updated(stale) == page


def test_missing_markers_are_an_error(readme_entities: ModuleType) -> None:
    with pytest.raises(SystemExit, match="lacks the markers"):
        readme_entities.updated("# A page without tables\n")


def test_the_readme_links_to_the_tables() -> None:
    """The household's README says where every label's entity is listed, in English and in French."""
    readme = (ROOT / "README.md").read_text()
    english, french = readme.split("\n## En français\n")
    assert "(docs/entities.md)" in english
    assert "(docs/entities.md)" in french
