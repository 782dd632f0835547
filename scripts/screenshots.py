"""Regenerate the SVG screenshots in ``screenshots/`` from seeded data.

The same scenes as the snapshot tests (``tests/tui/scenes.py``): a real database per
scene under a temporary home directory, the scripted provider, and a frozen clock, so
the pictures only change when the UI does.

Usage::

    .venv/bin/python scripts/screenshots.py            # every scene
    .venv/bin/python scripts/screenshots.py home health
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from tests.tui.scenes import SCENES, SIZE  # noqa: E402


def screenshot(scene: Any) -> str:
    """Run the scene's app headless, drive it, and export the screen as SVG."""

    async def auto_pilot(pilot: Pilot[Any]) -> None:
        await scene.run_before(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        pilot.app.exit(pilot.app.export_screenshot(title="turnkeep"))

    svg = scene.app.run(headless=True, size=SIZE, auto_pilot=auto_pilot)
    if not isinstance(svg, str):
        raise RuntimeError(f"the {scene.name} scene ended without a picture")
    return svg


def main(argv: list[str]) -> int:

    names = argv or list(SCENES)
    unknown = [name for name in names if name not in SCENES]
    if unknown:
        print(f"unknown scene(s): {', '.join(unknown)}; known: {', '.join(SCENES)}")
        return 2
    for prefix in ("TURNKEEP_", "TURSO_", "OPENAI_"):
        for key in [k for k in os.environ if k.startswith(prefix)]:
            del os.environ[key]
    out = ROOT / "screenshots"
    out.mkdir(exist_ok=True)
    saved_env = dict(os.environ)
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"turnkeep-{name}-") as tmp:
            os.chdir(tmp)
            scene = SCENES[name](Path(tmp) / "home")
            svg = screenshot(scene)
            os.chdir(ROOT)
            os.environ.clear()
            os.environ.update(saved_env)
        target = out / f"{name}.svg"
        target.write_text(svg, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
