"""Tests of the Linky Local integration.

One protocol library in a test process: `linky_tic` (what the tools import) is made the integration's vendored copy
before anything imports the tools; otherwise the simulator's `Mode` or `Group` would not be the integration's.
"""

from __future__ import annotations

from importlib.util import find_spec
import sys

# The browser tests (tests/e2e) run from a virtualenv without Home Assistant, which imports no integration module.
if find_spec("homeassistant") is not None:
    import custom_components.linky_local.linky_tic as vendored

    for name, module in list(sys.modules.items()):
        if name == vendored.__name__ or name.startswith(f"{vendored.__name__}."):
            sys.modules.setdefault("linky_tic" + name.removeprefix(vendored.__name__), module)
