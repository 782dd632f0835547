"""A process that opens (and so migrates) the database the settings select, at a signal.

Usage: python -m tests.support.opener [--go FILE] [--migrations DIR]

Prints ``{"ready": true}`` once imported, waits until FILE exists (so several processes
start migrating at the same moment), opens the database as the app does
(``open_memory``) and prints ``{"applied": [...], "notes": [...]}``, or
``{"error": TYPE, "message": TEXT}`` and exits 1. ``--migrations`` opens with that
migrations directory instead of the project's (a test-only slow migration).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from memory import MemoryLayerError, open_embedded, open_remote
from runtime.settings import load_settings
from runtime.store import open_memory


async def open_once(migrations: Path | None) -> Any:
    settings = load_settings()
    if migrations is None:
        return await open_memory(settings)
    db = settings.db
    if db.url:
        token = db.auth_token.get_secret_value() if db.auth_token else None
        return await open_remote(
            db.url, auth_token=token, timeout=db.timeout, migrations_dir=migrations
        )
    return await open_embedded(db.resolved_path(), migrations_dir=migrations)


async def main(go: Path | None, migrations: Path | None) -> int:
    print(json.dumps({"ready": True}), flush=True)
    if go is not None:
        deadline = time.monotonic() + 120
        while not go.exists():
            if time.monotonic() > deadline:
                print(json.dumps({"error": "timeout", "message": "no go file"}), flush=True)
                return 1
            await asyncio.sleep(0.001)
    try:
        memory = await open_once(migrations)
    except MemoryLayerError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}), flush=True)
        return 1
    try:
        outcome = memory.migration_outcome
        print(
            json.dumps({"applied": list(outcome.applied), "notes": list(outcome.notes)}),
            flush=True,
        )
    finally:
        await memory.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="opener")
    parser.add_argument("--go", type=Path)
    parser.add_argument("--migrations", type=Path)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.go, args.migrations)))
