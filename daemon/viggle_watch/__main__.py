"""`python -m viggle_watch` is `viggle-watch`."""

import sys

from viggle_watch.cli.main import main

sys.exit(main())
