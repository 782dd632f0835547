"""What a process listens on, read from /proc, and whether a listener answers a model
request that carries no API key (for the "no open door" tests)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

__all__ = ["listening_tcp", "listening_unix", "own_socket_inodes", "unauthenticated_status"]

UNAUTHENTICATED = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
)


def own_socket_inodes() -> set[str]:
    """Inodes of every socket this process has open (from /proc/self/fd)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listening_tcp(inodes: set[str]) -> list[tuple[int, str, int]]:
    """(family, host, port) of every TCP socket in LISTEN state among ``inodes``."""
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:
                continue
            host_hex, port_hex = address.split(":")
            raw = bytes.fromhex(host_hex)
            # /proc prints the address as native-endian 32-bit words.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            host = socket.inet_ntop(family, words)
            if host in ("0.0.0.0", "::"):
                host = "127.0.0.1" if family == socket.AF_INET else "::1"
            found.append((family, host, int(port_hex, 16)))
    return found


def listening_unix(inodes: set[str]) -> list[str]:
    """Paths of every listening Unix stream socket among ``inodes``."""
    found = []
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        flags, kind, inode = fields[3], fields[4], fields[6]
        path = fields[7] if len(fields) > 7 else ""
        if inode in inodes and int(flags, 16) & 0x10000 and kind == "0001" and path:
            found.append(path)
    return found


def unauthenticated_status(sock: socket.socket) -> str:
    """Send a chat completion request without a key; the status line (or "")."""
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
    sock.settimeout(60)
    sock.sendall(UNAUTHENTICATED % (len(body), body.encode()))
    answer = b""
    while b"\r\n" not in answer:
        data = sock.recv(4096)
        if not data:
            break
        answer += data
    return answer.split(b"\r\n", 1)[0].decode(errors="replace")
