"""`python -m daemon` is `viggle-watch`."""

import sys

from viggle_watch.cli.main import main

sys.exit(main())
