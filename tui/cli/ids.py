"""Session ids on the command line: a unique prefix works wherever an id is taken.

Each command resolves its id arguments right after opening the store, with the one
resolver of the runtime (:meth:`runtime.sessions.Sessions.resolve_id`): an exact id
wins, a prefix must match one session, an ambiguous prefix exits 2 listing a few
candidates, an unknown one exits 1 ("Session not found").
"""

from __future__ import annotations

import argparse
from importlib import metadata

from runtime.sessions import Sessions

__all__ = ["package_version", "resolve_ids"]


def package_version() -> str:
    """The installed version of turnkeep (``--version``)."""
    try:
        return metadata.version("turnkeep")
    except metadata.PackageNotFoundError:
        return "(not installed: run from a source tree without `pip install`)"


async def resolve_ids(sessions: Sessions, args: argparse.Namespace, *names: str) -> None:
    """Replace each id argument ``names`` of ``args`` (a string or a list) by the full id.

    Raises:
        AmbiguousSessionIdError: a prefix matches several sessions.
        NotFoundError: a prefix matches none.
    """
    for name in names:
        value = getattr(args, name, None)
        if isinstance(value, str):
            setattr(args, name, await sessions.resolve_id(value))
        elif isinstance(value, list):
            setattr(args, name, [await sessions.resolve_id(v) for v in value])
