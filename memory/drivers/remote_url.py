"""Remote URL policy, decided before any connection: schemes, loopback, tokens, redaction.

``libsql://``, ``wss://`` and ``https://`` are accepted for any host; ``ws://`` and
``http://`` only for loopback hosts (a token is never sent in clear text over a
network); a non-loopback host needs a token; credentials never belong in the URL.
Violations are :class:`~memory.errors.StoreConfigError`.

``libsql://HOST:PORT?tls=0`` (the form the yoyo backend and the README use) means plain
``ws://`` and is accepted for loopback hosts only; ``?tls=1`` is the default (``wss://``).
A local sqld speaks no TLS, so a plain ``libsql://127.0.0.1:PORT`` (what sqld prints)
fails its TLS handshake: :meth:`RemoteTarget.explain` turns that failure into an error
naming the URLs that work.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import ssl
import urllib.parse
from dataclasses import dataclass

from memory.errors import StoreConfigError, StoreConnectionError

__all__ = [
    "RemoteTarget",
    "carries_credentials",
    "is_loopback",
    "parse_remote_url",
    "redact_url",
    "token_access",
]

_SECURE = {"libsql", "wss", "https"}
_PLAIN = {"ws", "http"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if host in ("localhost", "localhost.") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def carries_credentials(parts: urllib.parse.SplitResult) -> bool:
    """Whether a URL holds a secret of its own: ``user:password@`` or an ``authToken``.

    turnkeep refuses such URLs (the database's and the embeddings server's) rather than
    send what the URL carries: secrets belong in their own settings.
    """
    return bool(parts.username or parts.password or "authtoken" in parts.query.lower())


def redact_url(url: str) -> str:
    """Return ``url`` without user info, password or ``authToken`` query parameter."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    query = urllib.parse.urlencode(
        [
            (k, "***" if k.lower() in {"authtoken", "token", "auth_token"} else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def token_access(token: str | None) -> str | None:
    """The access claim (``"a"``: ``"rw"`` or ``"ro"``) of a libSQL JWT, if it has one.

    The claim is read without verifying the signature: the server verifies the token;
    this only tells a refused write by a read-only token from a lost connection.
    """
    if not token:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    access = claims.get("a") if isinstance(claims, dict) else None
    return access if isinstance(access, str) else None


@dataclass(frozen=True, slots=True)
class RemoteTarget:
    """A validated remote database target.

    Attributes:
        url: the URL handed to libsql-client (no credentials in it).
        ws_url: the WebSocket URL used for migrations (HTTP has no interactive
            transactions).
        http_url: the HTTP(S) base URL of the same server (its ``/version``).
        host: host name, for messages.
        display: the URL with credentials redacted.
        loopback: whether the host is on this machine.
        plain_alternative: for a loopback ``libsql://`` URL using TLS, the ``host:port``
            (and path) to suggest with ``ws://`` when the TLS handshake fails.
    """

    url: str
    ws_url: str
    http_url: str
    host: str
    display: str
    loopback: bool
    plain_alternative: str | None = None

    def explain(self, exc: BaseException) -> StoreConnectionError | None:
        """A clearer error for a failed TLS handshake with a local server, else ``None``.

        A local sqld speaks no TLS; ``libsql://`` means TLS, so the handshake fails with
        an SSL error that says nothing useful. This names the URLs that work.
        """
        if self.plain_alternative is None or not _tls_failure(exc):
            return None
        plain = self.plain_alternative
        return StoreConnectionError(
            f"cannot reach {self.display}: the server does not speak TLS",
            hint=f"For a local sqld use ws://{plain} or libsql://{plain}?tls=0.",
        )


def _tls_failure(exc: BaseException) -> bool:
    """Whether ``exc`` or any exception it was raised from is a TLS/SSL error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) or "SSL" in type(current).__name__:
            return True
        current = current.__cause__ or current.__context__
    return False


def _tls_setting(parts: urllib.parse.SplitResult, scheme: str, display: str) -> bool | None:
    """The ``?tls=0|1`` of a ``libsql://`` URL (``None`` when absent).

    Raises:
        StoreConfigError: any other parameter, a fragment, a repeated or invalid ``tls``,
            or ``tls`` on another scheme.
    """
    if parts.fragment:
        raise StoreConfigError(f"the database URL {display} has unsupported parameters")
    if not parts.query:
        return None
    try:
        params = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise StoreConfigError(f"the database URL {display} has unsupported parameters") from exc
    if [name for name, _ in params] != ["tls"]:
        raise StoreConfigError(
            f"the database URL {display} has unsupported parameters",
            hint="Only ?tls=0 (plain ws:// to a local server) or ?tls=1 is understood.",
        )
    if scheme != "libsql":
        raise StoreConfigError(
            f"?tls= in {display} is only for libsql:// URLs",
            hint="Use ws:// or wss:// (http:// or https://) to choose directly.",
        )
    value = params[0][1]
    if value not in ("0", "1"):
        raise StoreConfigError(f"the database URL {display} has tls={value!r}; use tls=0 or tls=1")
    return value == "1"


def parse_remote_url(url: str, *, has_token: bool) -> RemoteTarget:
    """Validate a remote URL against turnkeep's policy.

    ``libsql://``, ``wss://`` and ``https://`` are accepted for any host; ``ws://`` and
    ``http://`` (and ``libsql://…?tls=0``) only for loopback hosts. A token is required
    for non-loopback hosts.

    Raises:
        StoreConfigError: the URL is malformed, uses an unsupported or unencrypted scheme
            for a non-loopback host, embeds credentials, has parameters other than
            ``tls=0|1`` on ``libsql://``, or a token is missing.
    """
    display = redact_url(url)
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise StoreConfigError(f"invalid database URL {display}: {exc}") from exc
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not host:
        raise StoreConfigError(f"the database URL {display} has no host")
    if carries_credentials(parts):
        raise StoreConfigError(
            f"the database URL {display} carries credentials",
            hint="Put the token in TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN), not the URL.",
        )
    loopback = is_loopback(host)
    if scheme not in _SECURE | _PLAIN:
        raise StoreConfigError(
            f"unsupported database URL scheme {scheme!r} in {display}",
            hint="Use libsql://, wss:// or https:// (ws:// and http:// only on localhost).",
        )
    tls = _tls_setting(parts, scheme, display)
    if tls is False and not loopback:
        raise StoreConfigError(
            f"refusing tls=0 with {host}: the auth token would be sent in clear text",
            hint="Remove ?tls=0: plain connections are only for a server on this machine.",
        )
    if scheme in _PLAIN and not loopback:
        raise StoreConfigError(
            f"refusing to use unencrypted {scheme}:// with {host}: the auth token would be "
            "sent in clear text",
            hint=f"Use {'wss' if scheme == 'ws' else 'https'}:// (or libsql://).",
        )
    if not has_token and not loopback:
        raise StoreConfigError(
            f"an auth token is required for {host}",
            hint="Set TURNKEEP_DB__AUTH_TOKEN (or TURSO_AUTH_TOKEN).",
        )
    netloc, path = parts.netloc, parts.path
    secure = scheme in _SECURE and tls is not False
    client_scheme = ("wss" if secure else "ws") if scheme == "libsql" else scheme
    client_url = urllib.parse.urlunsplit((client_scheme, netloc, path, "", ""))
    ws_url = urllib.parse.urlunsplit(("wss" if secure else "ws", netloc, path, "", ""))
    http_url = urllib.parse.urlunsplit(("https" if secure else "http", netloc, path, "", ""))
    plain = netloc + path if scheme == "libsql" and secure and loopback else None
    return RemoteTarget(client_url, ws_url, http_url, host, redact_url(client_url), loopback, plain)
