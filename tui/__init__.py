"""turnkeep's user interfaces: the Textual TUI and the command line.

Importing this package does not import Textual: ``turnkeep db status`` and the other
commands start without it; only the TUI entry point loads it.
"""
