"""linky-tic as a library: its public API, its README's examples, and its command line (`python -m`, the script).

Run against the source tree by scripts/test, and against the installed wheel by scripts/test-library.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
from typing import Any
from unittest.mock import patch

import pytest

import linky_tic
from linky_tools.serve import serve_pty
from linky_tools.simulator import Profile, SimulatedMeter

from .waiting import GUARD

README = Path(linky_tic.__file__).with_name("README.md")


def test_public_api_is_complete() -> None:
    """Every name of `__all__` exists (those imported on first use too), and nothing else public is exported."""
    assert all(hasattr(linky_tic, name) for name in linky_tic.__all__)
    public = {name for name, value in vars(linky_tic).items() if not name.startswith("_") and not _is_module(value)}
    assert public - {"annotations", "TYPE_CHECKING", "Any", "import_module"} == set(linky_tic.__all__)
    assert dir(linky_tic) == sorted(linky_tic.__all__)


def test_decoding_imports_no_line_code() -> None:
    """Decoding needs neither asyncio nor serialx: a fresh interpreter importing the library loads neither."""
    code = "import sys, linky_tic; linky_tic.Decoder().feed(b''); print('serialx' in sys.modules, 'asyncio' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=GUARD, text=True)  # noqa: S603
    assert done.stdout.split() == ["False", "False"]


def _is_module(value: object) -> bool:
    return type(value) is type(linky_tic)


@pytest.mark.parametrize(
    "example", re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL), ids=str
)
async def test_readme_example_runs(example: str) -> None:
    """Each Python example of the library's README runs as written; `probe` reads a simulated meter on a pty."""
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(example, str(README), "exec"), namespace)  # noqa: S102
    if (probe := namespace.get("probe")) is not None:
        meter = SimulatedMeter(Profile.HISTORIC_BASE)
        # A talking meter ends detection's wait: its window is only a guard against a hang, on a loaded machine too.
        async with await serve_pty(meter, speed=20) as server:
            with patch.dict(linky_tic.DETECT_TIMEOUT, dict.fromkeys(linky_tic.Mode, GUARD)):
                found = await probe(server.url)
        assert (found.mode, found.baudrate, found.frame.value("ADCO")) == ("historic", 1200, meter.serial)


def _capture(tmp_path: Path) -> Path:
    meter = SimulatedMeter(Profile.HISTORIC_BASE)
    path = tmp_path / "capture.tic"
    path.write_bytes(b"".join(meter.next_frame() for _ in range(5)))
    return path


def _decoded(command: list[str], capture: Path) -> list[str]:
    done = subprocess.run([*command, "decode", str(capture)], capture_output=True, check=True, timeout=GUARD)  # noqa: S603
    return done.stdout.decode().splitlines()


def test_python_m_decodes(tmp_path: Path) -> None:
    """`python -m linky_tic decode` writes a JSON line a frame."""
    assert len(_decoded([sys.executable, "-m", "linky_tic"], _capture(tmp_path))) == 5


def test_console_script_decodes(tmp_path: Path) -> None:
    """The `linky-tic` script (installed with the wheel) decodes as `python -m` does."""
    script = shutil.which("linky-tic", path=str(Path(sys.executable).parent)) or shutil.which("linky-tic")
    if script is None:
        pytest.skip("the linky-tic script is installed with the wheel: scripts/test-library runs this test there")
    capture = _capture(tmp_path)
    assert _decoded([script], capture) == _decoded([sys.executable, "-m", "linky_tic"], capture)


def test_wheel_under_test_is_installed() -> None:
    """Under scripts/test-library, the library comes from the installed wheel, not from the source tree."""
    if not os.environ.get("LINKY_TIC_FROM_WHEEL"):
        pytest.skip("only under scripts/test-library")
    assert "site-packages" in Path(linky_tic.__file__).parts


def test_integration_imports_only_the_public_api() -> None:
    """The integration imports `from .linky_tic import ...` only: no submodule, so the PyPI switch is one import path."""
    integration = Path(__file__).resolve().parents[1] / "custom_components" / "linky_local"
    if not integration.is_dir():
        pytest.skip("the integration is not beside these tests (the wheel's run)")
    submodule_imports = [
        f"{path.name}: {line.strip()}"
        for path in sorted(integration.glob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(from|import)\s+\.linky_tic\.", line)
    ]
    assert submodule_imports == []
