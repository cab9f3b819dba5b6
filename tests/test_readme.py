"""The household's README (and its French mirror) has the structure issue 25 asks for; docs/entities.md's tables are
written from the label catalogue, and kept in step."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
import re
from types import ModuleType
from urllib.parse import unquote

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
    for name in ("README.md", "README.fr.md"):
        assert f"({BLOB}docs/entities.md)" in (ROOT / name).read_text(), name


BLOB = "https://github.com/linky-local/linky_local/blob/main/"
RAW = "https://raw.githubusercontent.com/linky-local/linky_local/main/"
MAX_BYTES = 12_000  # "at most 12 kB", counted in bytes as HACS downloads it
# The household's order: what it does, what you need, install, set up, the energy dashboard, privacy, automations,
# reliability, troubleshooting; then the developers' two commands and the documentation.
HEADINGS = {
    "README.md": (
        "# Linky Local",
        "## What it does",
        "## What you need",
        "## Install",
        "## Set up",
        "## Energy dashboard",
        "## Privacy",
        "## Automations",
        "## Reliability",
        "## Troubleshooting",
        "## For developers",
        "## Documentation",
    ),
    "README.fr.md": (
        "# Linky Local",
        "## Ce que fait l'intégration",
        "## Ce qu'il faut",
        "## Installer",
        "## Configurer",
        "## Tableau de bord Énergie",
        "## Vie privée",
        "## Automatisations",
        "## Fiabilité",
        "## Dépannage",
        "## Développement",
        "## Pour aller plus loin",
    ),
}
LINK = re.compile(r"\]\(([^)\s]+)\)")
MY_HOME_ASSISTANT = "https://my.home-assistant.io/"
README_NAMES = sorted(HEADINGS)


def _readme(name: str) -> str:
    return (ROOT / name).read_text()


def _headings(text: str) -> list[str]:
    """The headings, outside fenced blocks."""
    headings, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            headings.append(line)
    return headings


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.parametrize("name", README_NAMES)
def test_the_headings_are_the_household_s_order(name: str) -> None:
    assert _headings(_readme(name)) == list(HEADINGS[name])


@pytest.mark.parametrize("name", README_NAMES)
def test_at_most_12_kb(name: str) -> None:
    size = len(_readme(name).encode())
    assert size <= MAX_BYTES, f"{name} is {size} bytes"


def test_each_links_to_the_other_at_the_top() -> None:
    for name, other in (("README.md", "README.fr.md"), ("README.fr.md", "README.md")):
        top = _readme(name).split("\n## ", 1)[0]
        assert f"({BLOB}{other})" in top, name


@pytest.mark.parametrize("name", README_NAMES)
def test_every_link_is_absolute_and_its_file_exists(name: str) -> None:
    """HACS shows the README as it is: a relative link or image does not resolve there."""
    links = LINK.findall(_readme(name))
    assert links
    for link in links:
        assert link.startswith("https://"), f"{name}: relative link {link}"
        for base in (BLOB, RAW):
            if link.startswith(base):
                assert (ROOT / link.removeprefix(base)).exists(), f"{name}: {link} names no file of the repository"


@pytest.mark.parametrize("name", README_NAMES)
def test_one_screenshot_from_the_main_branch(name: str) -> None:
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", _readme(name))
    screenshots = [image for image in images if image.startswith(f"{RAW}docs/screenshots/")]
    assert len(screenshots) == 1, screenshots
    assert [image for image in images if image not in screenshots] == [
        image
        for image in images
        if image.startswith(("https://img.shields.io/", "https://github.com/", MY_HOME_ASSISTANT))
    ]


@pytest.mark.parametrize("name", README_NAMES)
def test_the_badges(name: str) -> None:
    top = _readme(name).split("\n## ", 1)[0]
    assert "https://img.shields.io/badge/HACS-Custom" in top
    for workflow in ("hassfest", "ci"):
        badge = f"https://github.com/linky-local/linky_local/actions/workflows/{workflow}.yaml/badge.svg"
        assert badge in top, workflow
        assert (ROOT / ".github" / "workflows" / f"{workflow}.yaml").exists()


def test_the_documentation_url_is_the_links_base() -> None:
    manifest = json.loads((ROOT / "custom_components" / "linky_local" / "manifest.json").read_text())
    assert BLOB.startswith(f"{manifest['documentation']}/blob/main/")
    assert RAW.replace("raw.githubusercontent.com", "github.com").startswith(manifest["documentation"])


@pytest.mark.parametrize(("name", "install"), [("README.md", "## Install"), ("README.fr.md", "## Installer")])
def test_install_is_my_home_assistant_s_two_buttons(name: str, install: str) -> None:
    section = _section(_readme(name), install)
    hacs = section.index(
        f"{MY_HOME_ASSISTANT}redirect/hacs_repository/?owner=linky-local&repository=linky_local&category=integration"
    )
    flow = section.index(f"{MY_HOME_ASSISTANT}redirect/config_flow_start/?domain=linky_local")
    assert hacs < flow, "HACS first, then the integration"


@pytest.mark.parametrize(
    ("name", "automations"), [("README.md", "## Automations"), ("README.fr.md", "## Automatisations")]
)
def test_each_blueprint_has_its_import_button(name: str, automations: str) -> None:
    section = _section(_readme(name), automations)
    blueprints = sorted((ROOT / "blueprints" / "automation" / "linky_local").glob("*.yaml"))
    assert len(blueprints) == 5
    imports = [
        unquote(link.split("blueprint_url=", 1)[1])
        for link in LINK.findall(section)
        if link.startswith(f"{MY_HOME_ASSISTANT}redirect/blueprint_import/?blueprint_url=")
    ]
    assert sorted(imports) == sorted(f"{RAW}{path.relative_to(ROOT)}" for path in blueprints)
    assert "```yaml" not in _readme(name), "automations are imported, not copied by hand"


def test_the_developers_two_commands_in_one_block() -> None:
    """CI's .ci/run runs the README's test command: the two commands stay, after what a household reads."""
    readme = _readme("README.md")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert len(blocks) == 1
    commands = [line.split("#", 1)[0].strip() for line in blocks[0].splitlines()]
    assert commands == ["scripts/develop", "scripts/test"]
    assert readme.index("```sh") > readme.index("\n## Install\n")
    assert "\nscripts/test " in (ROOT / ".ci" / "run").read_text() + " "
    for command in commands:
        assert os.access(ROOT / command, os.X_OK), command


def test_the_french_mirror_is_line_for_line() -> None:
    """Same sections in the same order, each table as many rows, each list as many items, the same links' targets."""
    english, french = _readme("README.md"), _readme("README.fr.md")
    for heading, titre in zip(HEADINGS["README.md"][1:], HEADINGS["README.fr.md"][1:], strict=True):
        section, traduction = _section(english, heading), _section(french, titre)
        for start in ("| ", "- ", "1. ", "2. ", "3. "):
            lines = [line for line in section.splitlines() if line.startswith(start)]
            lignes = [line for line in traduction.splitlines() if line.startswith(start)]
            assert len(lines) == len(lignes), (heading, start)
        targets = {link for link in LINK.findall(section) if "docs/" not in link and "README" not in link}
        cibles = {link for link in LINK.findall(traduction) if "docs/" not in link and "README" not in link}
        assert targets == cibles, heading


@pytest.mark.parametrize(
    ("name", "heading", "rows"),
    [("README.md", "## Troubleshooting", 5), ("README.fr.md", "## Dépannage", 5)],
)
def test_troubleshooting_five_then_a_link(name: str, heading: str, rows: int) -> None:
    section = _section(_readme(name), heading)
    assert len([line for line in section.splitlines() if line.startswith("| ")]) == rows + 2  # the header, its rule
    assert section.rstrip().endswith(".md).")


def test_the_privacy_section_is_five_lines() -> None:
    for name, heading in (("README.md", "## Privacy"), ("README.fr.md", "## Vie privée")):
        assert len(_section(_readme(name), heading).strip().splitlines()) == 5, name


def test_every_docs_page_is_linked() -> None:
    readme = _readme("README.md")
    for page in sorted((ROOT / "docs").glob("*.md")):
        if not page.name.endswith(".fr.md"):
            assert f"({BLOB}docs/{page.name})" in readme, page.name
    assert f"({BLOB}docs/guide.fr.md)" in _readme("README.fr.md")


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces turned to hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in _headings(page.read_text())
    }


@pytest.mark.parametrize("page", sorted(path.name for path in (ROOT / "docs").glob("*.md")))
def test_the_docs_links_resolve(page: str) -> None:
    """What moved from the README to docs/ links to pages and headings that exist (GitHub renders docs/ itself)."""
    source = ROOT / "docs" / page
    for link in LINK.findall(source.read_text()):
        if link.startswith(("https://", "http://")):
            continue
        path, _, anchor = link.partition("#")
        target = (source.parent / path).resolve() if path else source
        assert target.exists(), f"{page}: {link}"
        if anchor:
            assert anchor in _anchors(target), f"{page}: {link} has no such heading"
