"""Run the TIC command line: `python -m linky_tools --help`."""

import sys

from .cli import main

sys.exit(main())
