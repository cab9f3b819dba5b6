"""`python -m linky_tic`: the library's command line (decode, read, simulate, replay), as the `linky-tic` script."""

from __future__ import annotations

from linky_tools.cli import main

raise SystemExit(main())
