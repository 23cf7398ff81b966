"""`python -m viggle_watch.container [COMMAND…]`: the image's entry point (after its init)."""

import sys

from viggle_watch.container.entry import main

sys.exit(main(sys.argv[1:]))
