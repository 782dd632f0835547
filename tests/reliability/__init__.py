"""The reliability campaign (issue 8): turnkeep under crashes, contention and hostile input.

Each scenario module exposes ``run(scale, workdir) -> Outcome``; :mod:`.campaign` runs
them all and prints the summary table (``python -m tests.reliability.campaign``), and
``test_campaign.py`` runs the reduced form (``Scale.quick()``) in the test suite. Every
scenario uses real components only: real ``turnkeep`` processes killed with SIGKILL,
real SQLite files, a real sqld on loopback, real file-size limits.
"""
