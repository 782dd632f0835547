"""``libsql_client.dbapi2`` over Hrana WebSockets, with the two pitfalls fixed (verified).

* dbapi2 tracks ``in_transaction`` from the first word of each statement, so yoyo's
  ``ROLLBACK TO SAVEPOINT`` makes it believe no transaction is open and a later
  ``commit()``/``rollback()`` would send nothing. :class:`HranaConnection` always sends
  ``COMMIT``/``ROLLBACK`` (tolerating "no transaction is active").
* dbapi2 bounds each request with ``timeout`` and raises the builtin ``TimeoutError``,
  which yoyo does not treat as a database error. :class:`HranaCursor` raises an
  ``OperationalError`` (:class:`~memory.drivers.hrana_errors.ServerTimeout`) instead and marks the
  connection broken: the server may still run the request, so nothing else is sent.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from libsql_client.dbapi2 import OperationalError
from libsql_client.dbapi2.hrana import ConnectionHrana, CursorHrana

from memory.drivers.hrana_errors import ServerTimeout

__all__ = ["HranaConnection", "HranaCursor", "as_database_error"]

_NO_TRANSACTION = "no transaction is active"


class HranaCursor(CursorHrana):  # type: ignore[misc]
    """A dbapi2 cursor whose timeouts are database errors and break the connection."""

    def _query_execute(
        self,
        sql: str,
        parameters: Any = ((),),
        *,
        multiple: bool = False,
        want_rows: bool = True,
    ) -> Any:
        conn: HranaConnection = self.connection
        if conn.broken is not None:
            raise ServerTimeout(
                "the connection is unusable after an earlier request got no answer"
            ) from conn.broken
        try:
            return super()._query_execute(sql, parameters, multiple=multiple, want_rows=want_rows)
        except TimeoutError as exc:
            conn.broken = exc
            raise ServerTimeout(f"the server did not answer within {conn.timeout:g}s") from exc


class HranaConnection(ConnectionHrana):  # type: ignore[misc]
    """dbapi2's Hrana connection with explicit COMMIT/ROLLBACK and bounded requests."""

    broken: BaseException | None = None
    _ready = False

    def _raw_init(self) -> None:
        super()._raw_init()
        self.cursor_factory = HranaCursor
        self._ready = True

    @property
    def timeout(self) -> float:
        """Seconds one request may take."""
        return float(self._timeout)

    def _end_transaction(self, verb: str) -> None:
        if not self._ready:  # dbapi2's __init__ commits before the stream exists
            return
        try:
            self.cursor()._query_execute(verb, want_rows=False)
        except sqlite3.OperationalError as exc:
            if _NO_TRANSACTION not in str(exc):
                raise

    def commit(self) -> None:
        """Send ``COMMIT`` whatever dbapi2 believes about the transaction state."""
        self._end_transaction("COMMIT")

    def rollback(self) -> None:
        """Send ``ROLLBACK`` whatever dbapi2 believes about the transaction state."""
        self._end_transaction("ROLLBACK")

    def close(self) -> None:
        """Close; a connection that broke or cannot be closed cleanly is just dropped."""
        try:
            super().close()
        except Exception:  # sqld rolls back whatever the dropped stream had open
            self._closed = True


def as_database_error(exc: BaseException) -> sqlite3.DatabaseError:
    """A connect-time failure as a DB-API error yoyo understands (code kept)."""
    error: sqlite3.DatabaseError
    if isinstance(exc, TimeoutError):
        return ServerTimeout("the server did not answer the connection in time")
    error = OperationalError(" ".join(str(exc).split()) or type(exc).__name__)
    error.sqlite_errorname = getattr(exc, "code", None) or "SQLITE_CANTOPEN"
    return error
