"""``python -m tui`` runs the ``turnkeep`` command."""

import sys

from tui.start import main

sys.exit(main())
