"""A separate process that opens (and so migrates) a remote database.

Usage: python -m tests.remote.migrator URL TOKEN GO_FILE MIGRATIONS_DIR

Prints ``ready`` once imported, waits until GO_FILE exists (so several processes start
migrating at the same moment), then prints the ids it applied as one JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from memory import open_remote


async def main(url: str, token: str, go: Path, migrations: Path) -> None:
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the go file never appeared")
        await asyncio.sleep(0.001)
    memory = await open_remote(url, auth_token=token, migrations_dir=migrations)
    try:
        assert memory.migration_outcome is not None
        print(json.dumps(list(memory.migration_outcome.applied)), flush=True)
    finally:
        await memory.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])))
