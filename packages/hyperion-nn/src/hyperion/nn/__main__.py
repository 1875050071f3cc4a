"""``python -m hyperion.nn mnist ...``: the same CLI as ``hyperion-nn``."""

import sys

from hyperion.nn.cli import main

sys.exit(main())
