"""Shared plumbing of the data commands: opening the store, usage errors, safe file output."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TextIO

from memory.errors import BundleFormatError
from runtime.errors import RuntimeLayerError, SettingsError
from runtime.sessions import Sessions
from runtime.settings import Settings
from tui.format import human_size

__all__ = [
    "MAX_IMPORT_BYTES",
    "OutputError",
    "UsageError",
    "atomic_text",
    "check_output_path",
    "opened",
    "read_input",
    "utf8_stdout",
]


#: The largest input ``read_input`` accepts (1 GiB): an export of that size is far past
#: anything turnkeep writes in practice, and reading stops there instead of exhausting
#: memory on an endless stream (``/dev/zero``, a FIFO that never closes).
MAX_IMPORT_BYTES = 1 << 30
#: Bytes read per chunk.
_CHUNK = 1 << 20


class UsageError(SettingsError):
    """The command was given something it cannot use (exit code 2, like a usage error)."""

    title = "usage error"  # lower case, like argparse's own "turnkeep: usage error: ..."
    default_hint = "See the command's --help."


class OutputError(RuntimeLayerError):
    """A file could not be written (disk full, permissions); nothing was left behind."""

    title = "Cannot write the file"
    default_hint = "Choose a writable location with enough free space."


@contextlib.asynccontextmanager
async def opened(
    settings: Settings, *, migrate: bool = True, verify: bool = True
) -> AsyncIterator[Sessions]:
    """Open the store the settings select, as the runtime's sessions facade, and close
    it afterwards.

    Raises:
        memory.MemoryLayerError: the store cannot be opened (typed, no fallback).
    """
    sessions = await Sessions.open(settings, migrate=migrate, verify=verify)
    try:
        yield sessions
    finally:
        await sessions.close()


def utf8_stdout() -> TextIO:
    """``sys.stdout``, switched to UTF-8 when the locale chose something else."""
    stream = sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if encoding != "utf8" and reconfigure is not None:
        reconfigure(encoding="utf-8")
    return stream


def check_output_path(path: Path, *, force: bool, database: Path | None = None) -> Path:
    """Check that ``path`` can receive a new file.

    Args:
        database: the embedded database file, which ``path`` must not be (nor its
            ``-wal``, ``-shm`` or ``-journal`` file), even with ``force``.

    Raises:
        UsageError: the directory does not exist, the path is a directory, the file
            exists and ``force`` is false, or the path is the database.
    """
    path = path.expanduser()
    if database is not None:
        own = database.expanduser().resolve()
        if path.resolve() in {own, *(Path(f"{own}{end}") for end in ("-wal", "-shm", "-journal"))}:
            raise UsageError(f"{path} is the database itself", hint="Give the file another name.")
    if not path.parent.is_dir():
        raise UsageError(f"the directory {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"{path} is a directory; give a file name")
    if path.exists() and not force:
        raise UsageError(f"{path} already exists", hint="Pass --force to replace it.")
    return path


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write a UTF-8 text file all at once: a private temporary file, renamed on success.

    The file is owner-only (0600): it holds conversations. On any error the temporary
    file is removed and ``path`` is left as it was.

    Raises:
        OutputError: the file cannot be created or written.
    """
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot create a file in {path.parent}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot sync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_input(name: str) -> bytes:
    """Read a whole export file, or standard input for ``-``, bounded in size.

    Reads in chunks, so a FIFO, a pipe or a device is handled like a file: what cannot
    be the start of a JSON document (``/dev/zero``'s NUL bytes, random data) is refused
    at the first chunk, and nothing past :data:`MAX_IMPORT_BYTES` is ever held.

    Raises:
        UsageError: the file does not exist or cannot be read, or is larger than
            :data:`MAX_IMPORT_BYTES`.
        BundleFormatError: it does not start like a JSON document.
    """
    path = None if name == "-" else Path(name).expanduser()
    shown = "standard input" if path is None else str(path)
    try:
        handle = sys.stdin.buffer if path is None else open(path, "rb")  # noqa: SIM115
    except FileNotFoundError as exc:
        raise UsageError(f"{shown} does not exist") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{shown} is a directory") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror}") from exc
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            chunk = handle.read(_CHUNK)
            if not chunk:
                break
            if not chunks:
                _check_start(chunk, shown)
            total += len(chunk)
            if total > MAX_IMPORT_BYTES:
                raise UsageError(
                    f"{shown} is larger than the import limit of {human_size(MAX_IMPORT_BYTES)}",
                    hint="Export and import fewer sessions at a time.",
                )
            chunks.append(chunk)
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror or exc}") from exc
    finally:
        if path is not None:
            handle.close()
    return b"".join(chunks)


def _check_start(chunk: bytes, shown: str) -> None:
    """Refuse input whose first bytes cannot begin a JSON export (after a BOM/whitespace).

    Raises:
        BundleFormatError: naming the line and column, like any other malformed file.
    """
    body = chunk.removeprefix(b"\xef\xbb\xbf")
    head = body.lstrip(b" \t\r\n")
    if not head or head[:1] == b"{":
        return
    skipped = body[: len(body) - len(head)]
    line = skipped.count(b"\n") + 1
    column = len(skipped) - (skipped.rfind(b"\n") + 1) + 1
    where = f"line {line} column {column}"
    raise BundleFormatError(
        f"{where}: {shown} is not a turnkeep export: it starts with byte 0x{head[0]:02x}, "
        "not a JSON object",
        where=where,
    )
