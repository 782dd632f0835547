"""Snapshot tests of each screen on seeded data with a frozen clock.

Regenerate after an intended change with
``.venv/bin/pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the
report; ``scripts/screenshots.py`` draws the same scenes into ``screenshots/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.tui.scenes import SCENES, SIZE


@pytest.fixture
def scene_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The scenes point HOME and XDG_* into this directory; monkeypatch restores them.
    home = tmp_path / "home"
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(name, str(home))
    return home


@pytest.mark.parametrize("name", list(SCENES))
def test_snapshot(name: str, scene_home: Path, snap_compare: Callable[..., bool]) -> None:
    scene = SCENES[name](scene_home)
    run_before: Any = scene.run_before
    assert snap_compare(scene.app, terminal_size=SIZE, run_before=run_before)
