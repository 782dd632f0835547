"""The project's migrations, in order, written out once for every test that expects them.

A literal on purpose: a test that reads the ids from ``migrations/`` could not notice a
migration that went missing or was renamed. Add each new migration here.
"""

from __future__ import annotations

__all__ = ["ALL_MIGRATIONS"]

ALL_MIGRATIONS: tuple[str, ...] = (
    "0001.initial-schema",
    "0002.save-points",
    "0003.event-keys",
    "0004.search",
    "0005.organize",
    "0006.vectors",
    "0007.event-navigation",
    "0008.counts",
    "0009.session-tags-recent",
    "0010.search-words",
    "0011.token-totals",
    "0012.home-list-order",
    "0013.search-tidy",
    "0014.search-long-events",
    "0015.search-pending",
)
