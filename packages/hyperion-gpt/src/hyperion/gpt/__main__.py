"""``python -m hyperion.gpt`` runs the ``hyperion-gpt`` command line."""

import sys

from hyperion.gpt.cli import main

if __name__ == "__main__":
    sys.exit(main())
