"""Development tools for Linky Local: simulated meters, the frame encoder, serving a line, and the TIC command line.

They live beside the integration, not in the folder HACS installs, and they never import Home Assistant: the protocol
package (`custom_components/linky_local/tic`) is imported without running the integration's own `__init__`, which
imports Home Assistant. In a process that already imported the integration (the tests), the same modules are used.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path
import sys

_INTEGRATION = "custom_components.linky_local"


def _protocol_without_home_assistant() -> None:
    """Make `custom_components.linky_local.tic` importable without importing the integration (and Home Assistant)."""
    if _INTEGRATION in sys.modules:
        return
    folder = Path(__file__).resolve().parents[1] / "custom_components" / "linky_local"
    spec = importlib.machinery.ModuleSpec(_INTEGRATION, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[_INTEGRATION] = package


_protocol_without_home_assistant()
