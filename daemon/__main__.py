"""`python -m daemon` is `viggle-watch`."""

import sys

from daemon.cli import main

sys.exit(main())
