"""``python -m tui`` runs the ``turnkeep`` command."""

import sys

from tui.cli import main

sys.exit(main())
