"""A migrations folder as of an older head, for "migrates a database with data" tests.

Every save point writes the word index of ``0010.search-words``; a database at an older
head is therefore built with that one migration too (its dependency pointed at the old
head), so the old head can store turns the way today's code writes them.
"""

from __future__ import annotations

import re
from pathlib import Path

from memory.schema.migrate import migrations_dir

__all__ = ["old_head"]

WORD_INDEX = "0010.search-words"


def old_head(target: Path, upto: int) -> Path:
    """Copy migrations ``0001`` .. ``upto`` (and the word index) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    last = ""
    for path in sorted(migrations_dir().glob("*.sql")):
        number = int(path.name[:4])
        if number <= upto:
            (target / path.name).write_text(path.read_text())
            if not path.name.endswith(".rollback.sql"):
                last = path.name.removesuffix(".sql")
    for suffix in (".sql", ".rollback.sql"):
        text = (migrations_dir() / f"{WORD_INDEX}{suffix}").read_text()
        if suffix == ".sql":
            text = re.sub(r"^-- depends: .*$", f"-- depends: {last}", text, count=1, flags=re.M)
        (target / f"{WORD_INDEX}{suffix}").write_text(text)
    return target
