"""``python -m hyperion.physics ...``: the same CLI as ``hyperion-physics``."""

import sys

from hyperion.physics.cli import main

sys.exit(main())
