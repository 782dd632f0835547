"""The resumable reading shared by the JSONL sources (Claude Code, Codex).

A transcript file only grows. What was imported is remembered in the session's
``metadata["source"]`` as a byte ``offset``, the number of ``lines`` before it and a
``tail`` digest of the bytes just before it. The next import checks the tail (a file
rewritten in place is reported, not re-imported) and reads only from the offset. A
last line still being written (no newline, not yet valid JSON) is reported and left for
the next import: the offset never moves past it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from runtime.importers.base import (
    Chunk,
    EventBuilder,
    Existing,
    SourceFormatError,
    read_jsonl,
    tail_digest,
    to_ts,
)
from runtime.importers.units import ImportReport

__all__ = ["CHUNK_BYTES", "JsonlSession", "first_record", "transcript_files"]

#: A session whose new records exceed this many bytes is written in several chunks.
CHUNK_BYTES: Final = 4 * 1024 * 1024
#: ... or this many events.
CHUNK_EVENTS: Final = 20_000


class JsonlSession:
    """One transcript file as a resumable unit; subclasses map records to events.

    Args:
        tool: the source tool name.
        path: the file.
        original_id: the source's session id.
        session_id: the turnkeep session id.
    """

    def __init__(self, tool: str, path: Path, original_id: str, session_id: str) -> None:
        self.tool = tool
        self.path = path
        self.original_id = original_id
        self.session_id = session_id
        self.title: str | None = None
        self.model: str | None = None
        self.info: dict[str, Any] = {}

    def record(
        self, value: dict[str, Any], line: int, builder: EventBuilder, report: ImportReport
    ) -> None:
        """Map one record to events (subclasses)."""
        raise NotImplementedError

    def check(self, value: Any) -> bool:
        """Whether a decoded line looks like a record of this format (subclasses)."""
        raise NotImplementedError

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        """Read what is new since ``existing`` and yield it in bounded chunks."""
        src = dict(existing.source) if existing is not None else {}
        offset = int(src.get("offset", 0))
        lines = int(src.get("lines", 0))
        records = int(src.get("records", 0))
        size = self.path.stat().st_size
        if existing is not None:
            self.title = None
            # What the file's earlier records said of the session (Codex's session_meta
            # line, Claude Code's cwd, version and branch) is not read again: keep it.
            for key, value in src.items():
                if key not in _BOOKKEEPING:
                    self.info.setdefault(key, value)
            if size < offset or tail_digest(self.path, offset) != src.get("tail"):
                report.advance(size)
                yield self._mark(
                    existing,
                    "rewritten",
                    "the source file changed in place since "
                    "it was imported (not only appended to); it was not updated",
                )
                return
            if size == offset:
                report.advance(size)
                yield self._mark(existing, "unchanged", None)
                return
            report.advance(offset)
        builder = EventBuilder(
            turn=existing.turns if existing is not None else 0,
            open_calls=src.get("open_calls") or {},
            last_time=existing.updated_at if existing is not None else None,
            fallback=to_ts(self.path.stat().st_mtime),
            usage_state=src.get("usage") if isinstance(src.get("usage"), dict) else None,
        )
        created = None
        pending = 0
        for ln in read_jsonl(self.path, offset=offset, line=lines):
            report.advance(ln.size)
            if ln.error is not None:
                report.bad(str(self.path), ln.number, ln.error)
                if not ln.complete:
                    break  # leave it for the next import
            elif ln.value is not None:
                if isinstance(ln.value, dict) and self.check(ln.value):
                    builder.where = f"{self.path}:{ln.number}"
                    builder.ascii = ln.ascii
                    self.record(ln.value, ln.number, builder, report)
                    records += 1
                else:
                    report.bad(str(self.path), ln.number, f"not a {self.tool} record")
            offset, lines = ln.end, ln.number
            pending += ln.size
            if pending >= CHUNK_BYTES or len(builder.events) >= CHUNK_EVENTS:
                chunk = self._chunk(builder, offset, lines, records, existing, created)
                created = chunk.created_at
                yield chunk
                pending = 0
        yield self._chunk(builder, offset, lines, records, existing, created)

    def _source(
        self,
        offset: int,
        lines: int,
        records: int,
        open_calls: dict[str, str],
        usage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        extra = {"usage": usage} if usage else {}
        return {
            "tool": self.tool,
            "id": self.original_id,
            "file": str(self.path),
            **self.info,
            "records": records,
            "offset": offset,
            "lines": lines,
            "tail": tail_digest(self.path, offset),
            "open_calls": open_calls,
            **extra,
        }

    def _chunk(
        self,
        builder: EventBuilder,
        offset: int,
        lines: int,
        records: int,
        existing: Existing | None,
        created: str | None,
    ) -> Chunk:
        events = builder.take()
        first = created or (events[0].created_at if events else None) or builder.last_time
        return Chunk(
            session_id=self.session_id,
            title=self.title,
            model=self.model,
            created_at=first or "1970-01-01T00:00:00.000000Z",
            updated_at=builder.last_time or first or "1970-01-01T00:00:00.000000Z",
            source=self._source(
                offset,
                lines,
                records,
                dict(builder.open_calls),
                json_copy(builder.usage_state),
            ),
            events=events,
            status="new" if existing is None else "grown",
        )

    def _mark(self, existing: Existing, status: str, note: str | None) -> Chunk:
        return Chunk.left(self.session_id, existing, status, note)


#: The keys of ``metadata["source"]`` that each import writes anew (where the reading
#: stopped, and what it carries over); the others describe the session.
_BOOKKEEPING: Final = frozenset(
    {"tool", "id", "file", "records", "offset", "lines", "tail", "open_calls", "usage", "seq"}
)


def json_copy(value: dict[str, Any]) -> dict[str, Any]:
    """A copy of a small JSON object (nested dicts copied too)."""
    return {k: json_copy(v) if isinstance(v, dict) else v for k, v in value.items()}


def first_record(path: Path, check: Callable[[Any], bool]) -> bool:
    """Whether the first non-blank, readable line of ``path`` passes ``check``."""
    for ln in read_jsonl(path):
        if ln.value is None:
            if ln.error is not None:
                return False
            continue
        return isinstance(ln.value, dict) and check(ln.value)
    return True  # an empty file is not evidence of another format


def transcript_files(
    path: Path, pattern: str, check: Callable[[Any], bool], *, one: str, many: str
) -> list[Path]:
    """The JSONL transcripts a source path names: the file itself, or those under it.

    Args:
        path: a file or a directory (``~`` expanded).
        pattern: the file names looked for under a directory (``rollout-*.jsonl``).
        check: whether a file's first record is of this tool (for a file given directly).
        one: what one file is called in messages ("Codex rollout").
        many: what several are called ("Codex rollouts").

    Raises:
        SourceFormatError: the path does not exist, holds no such file, or a file given
            directly is not one.
    """
    path = path.expanduser().absolute()
    if not path.exists():
        raise SourceFormatError(f"{path} does not exist")
    if path.is_file():
        if not first_record(path, check):
            raise SourceFormatError(f"{path} is not a {one} (JSONL)")
        return [path]
    files = sorted(p for p in path.rglob(pattern) if p.is_file())
    if not files:
        raise SourceFormatError(f"no {many} ({pattern}) under {path}")
    return files
