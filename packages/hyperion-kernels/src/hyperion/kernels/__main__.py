"""``python -m hyperion.kernels``: the ``hyperion-kernels`` command line."""

import sys

from hyperion.kernels.cli import main

sys.exit(main())
