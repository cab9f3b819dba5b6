"""Tests of the Linky Local integration.

One protocol library in a test process: `linky_tic` (what the tools import) is made the integration's vendored copy
before anything imports the tools; otherwise the simulator's `Mode` or `Group` would not be the integration's.
"""

from __future__ import annotations

import sys

import custom_components.linky_local.linky_tic as vendored

for name, module in list(sys.modules.items()):
    if name == vendored.__name__ or name.startswith(f"{vendored.__name__}."):
        sys.modules.setdefault("linky_tic" + name.removeprefix(vendored.__name__), module)
