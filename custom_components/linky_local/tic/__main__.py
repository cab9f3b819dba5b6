"""Run the TIC command line: `python -m custom_components.linky_local.tic --help`."""

import sys

from .cli import main

sys.exit(main())
