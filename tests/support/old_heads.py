"""A migrations folder as of an older head, for "migrates a database with data" tests.

Every save point writes the word index of ``0010.search-words`` and the pending rows of
``0015.search-pending``; a database at an older head is therefore built with those two
migrations too (their dependencies pointed at the old head), so the old head can store
turns the way today's code writes them.
"""

from __future__ import annotations

import re
from pathlib import Path

from memory.schema.migrate import migrations_dir

__all__ = ["old_head"]

WORD_INDEX = "0010.search-words"
#: The migrations whose tables a save point writes beyond the old head's own.
SAVE_POINT_TABLES = (WORD_INDEX, "0015.search-pending")


def old_head(target: Path, upto: int) -> Path:
    """Copy migrations ``0001`` .. ``upto`` (and the word index and its pending rows)
    into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    last = ""
    for path in sorted(migrations_dir().glob("*.sql")):
        number = int(path.name[:4])
        if number <= upto:
            (target / path.name).write_text(path.read_text())
            if not path.name.endswith(".rollback.sql"):
                last = path.name.removesuffix(".sql")
    for name in SAVE_POINT_TABLES:
        if int(name[:4]) <= upto:
            continue
        for suffix in (".sql", ".rollback.sql"):
            text = (migrations_dir() / f"{name}{suffix}").read_text()
            if suffix == ".sql":
                text = re.sub(r"^-- depends: .*$", f"-- depends: {last}", text, count=1, flags=re.M)
            (target / f"{name}{suffix}").write_text(text)
        last = name
    return target
