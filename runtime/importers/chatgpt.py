"""ChatGPT data exports: ``conversations.json``, or the export ``.zip`` that holds it.

The file is one JSON array of conversations: ``title``, ``create_time``/``update_time``
(seconds since the epoch), ``conversation_id``, ``default_model_slug`` and a ``mapping``
of node id to ``{"id", "message", "parent", "children"}``, a tree because editing or
regenerating a message starts a branch; ``current_node`` is the leaf of the branch the
user last saw. A message has ``author.role`` (``system``/``user``/``assistant``/``tool``
with ``author.name``), ``create_time``, ``recipient`` (``all``, or a tool such as
``python``/``browser``/``dalle.text2im`` for a tool call), ``metadata.model_slug`` and
``content`` by ``content_type``: ``text``/``multimodal_text`` (``parts``: strings or
asset pointers such as images), ``code`` (``text``, ``language``), ``execution_output``,
``thoughts`` (``thoughts`` with ``summary``/``content``), ``reasoning_recap``,
``tether_browsing_display``, ``tether_quote``, ``system_error``, ``user_editable_context``.

The branch ending at ``current_node`` becomes the session. Every other branch (each
other leaf of the tree) becomes a fork of it (:class:`Branch`): a session holding the
messages from the root to that leaf, with ``forked_from`` the conversation's session and
``forked_at_seq`` the last event the two share, as ``turnkeep sessions fork`` records
it. The other branches' messages are also listed in the session's metadata under
``branches`` (node id, parent, role, text). If the current branch changes after an
import (a message edited or regenerated in ChatGPT), the session keeps the branch it
has and the now-current one arrives as a fork.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Final

from runtime.importers.base import (
    Chunk,
    EventBuilder,
    Existing,
    SourceFormatError,
    placeholder,
    scrub,
    session_id_for,
    text_of,
    to_ts,
)
from runtime.importers.json_stream import iter_array
from runtime.importers.units import ImportReport, Unit

__all__ = ["ChatGPTReader"]

TOOL: Final = "chatgpt"
_MEMBER: Final = re.compile(r"(^|/)conversations(-\d+)?\.json$")


def _part_text(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        kind = str(part.get("content_type", "part"))
        if "text" in part and isinstance(part["text"], str):
            return part["text"]
        what = kind.replace("_asset_pointer", "")
        pointer = part.get("asset_pointer")
        size = part.get("size_bytes")
        label = f"{what} {pointer}" if pointer else what
        return placeholder(label, size if isinstance(size, int) else None)
    return text_of(part)


def content_text(content: Any) -> str:
    """The readable text of a message's ``content``, whatever its ``content_type``."""
    if not isinstance(content, dict):
        return text_of(content) if content is not None else ""
    kind = content.get("content_type")
    if "parts" in content and isinstance(content["parts"], list):
        return "\n".join(t for t in (_part_text(p) for p in content["parts"]) if t)
    if kind == "thoughts":
        chunks = []
        for thought in content.get("thoughts") or []:
            if isinstance(thought, dict):
                summary, body = thought.get("summary"), thought.get("content")
                chunks.append("\n".join(str(x) for x in (summary, body) if x))
        return "\n\n".join(chunks)
    if kind == "tether_browsing_display":
        return "\n".join(str(content[k]) for k in ("summary", "result") if content.get(k))
    if kind == "tether_quote":
        return "\n".join(str(content[k]) for k in ("title", "url", "text") if content.get(k))
    if kind == "user_editable_context":
        return "\n".join(
            str(content[k]) for k in ("user_profile", "user_instructions") if content.get(k)
        )
    for key in ("text", "result", "content"):
        if isinstance(content.get(key), str):
            return str(content[key])
    return placeholder(f"{kind} content")


def current_branch(mapping: dict[str, Any], current: Any) -> list[str]:
    """Node ids from the root to ``current`` (or, without it, along the last children)."""
    if isinstance(current, str) and current in mapping:
        branch: list[str] = []
        seen: set[str] = set()
        node: Any = current
        while isinstance(node, str) and node in mapping and node not in seen:
            seen.add(node)
            branch.append(node)
            node = mapping[node].get("parent")
        return branch[::-1]
    roots = [k for k, v in mapping.items() if v.get("parent") not in mapping]
    branch = []
    node = roots[0] if roots else None
    while isinstance(node, str) and node in mapping and node not in branch:
        branch.append(node)
        children = mapping[node].get("children") or []
        node = children[-1] if children else None
    return branch


class Conversation:
    """One conversation of the export."""

    def __init__(self, value: dict[str, Any], file: str, line: int) -> None:
        self.value = value
        self.file = file
        self.line = line
        self.original_id = str(value.get("conversation_id") or value.get("id"))
        self.session_id = session_id_for(TOOL, self.original_id)
        #: The nodes of the branch the session holds, once :meth:`chunks` has run
        #: (``None`` if it did not: the session is left alone).
        self.held: list[str] | None = None

    def branches(self) -> list[Branch]:
        """A unit for each leaf of the tree; those off the held branch become forks."""
        mapping: dict[str, Any] = self.value["mapping"]
        return [
            Branch(self, node_id)
            for node_id, node in mapping.items()
            if isinstance(node, dict) and not any(c in mapping for c in node.get("children") or [])
        ]

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        conv = self.value
        mapping: dict[str, Any] = conv["mapping"]
        branch = current_branch(mapping, conv.get("current_node"))
        self.held = branch
        start = 0
        if existing is not None:
            done = int(existing.source.get("records", 0))
            last = existing.source.get("last_node")
            if done > len(branch) or (done and branch[done - 1] != last):
                self.held = current_branch(mapping, last) if last in mapping else []
                yield self._chunk(
                    existing,
                    branch,
                    [],
                    status="rewritten",
                    note=(
                        "the conversation's current branch changed (a message was edited or "
                        "regenerated) since it was imported; the session keeps its branch "
                        "and the current one is imported as a fork"
                    ),
                )
                return
            if done == len(branch):
                # Same branch; a regenerated alternative only updates the metadata.
                chunk = self._chunk(existing, branch, [], status="grown")
                if chunk.extra.get("branches") == existing.metadata.get("branches"):
                    chunk.status = "unchanged"
                yield chunk
                return
            start = done
        builder = EventBuilder(
            turn=existing.turns if existing is not None else 0,
            last_time=existing.updated_at
            if existing is not None
            else to_ts(conv.get("create_time")),
        )
        last_call: dict[str, str] = {}
        self.read(branch[start:], builder, last_call, report)
        yield self._chunk(
            existing,
            branch,
            builder.take(),
            status="new" if existing is None else "grown",
            builder=builder,
        )

    def _chunk(
        self,
        existing: Existing | None,
        branch: list[str],
        events: list[Any],
        *,
        status: str,
        note: str | None = None,
        builder: EventBuilder | None = None,
    ) -> Chunk:
        conv = self.value
        on_branch = set(branch)
        alternatives = [
            _alternative(node_id, node)
            for node_id, node in conv["mapping"].items()
            if node_id not in on_branch
            and isinstance(node, dict)
            and isinstance(node.get("message"), dict)
        ]
        source = {
            "tool": TOOL,
            "id": self.original_id,
            "file": self.file,
            "records": len(branch),
            "last_node": branch[-1] if branch else None,
            "current_node": conv.get("current_node"),
        }
        for key in ("default_model_slug", "gizmo_id", "is_archived", "conversation_template_id"):
            if conv.get(key) is not None:
                source[key] = conv[key]
        created = to_ts(conv.get("create_time")) or (events[0].created_at if events else None)
        updated = to_ts(conv.get("update_time")) or (builder.last_time if builder else None)
        stamp = "1970-01-01T00:00:00.000000Z"
        return Chunk(
            session_id=self.session_id,
            title=conv.get("title") if isinstance(conv.get("title"), str) else None,
            model=conv.get("default_model_slug")
            if isinstance(conv.get("default_model_slug"), str)
            else None,
            created_at=created or updated or stamp,
            updated_at=updated or created or stamp,
            source=source
            if existing is None or status in ("new", "grown")
            else dict(existing.source),
            events=events,
            extra={"branches": alternatives} if alternatives else {},
            status=status,
            note=note,
        )

    def read(
        self,
        nodes: list[str],
        builder: EventBuilder,
        last_call: dict[str, str],
        report: ImportReport,
    ) -> None:
        """Add the events of the messages of ``nodes`` (in order) to ``builder``."""
        mapping: dict[str, Any] = self.value["mapping"]
        for node_id in nodes:
            builder.where = f"{self.file}:{self.line} (message {node_id})"
            message = mapping[node_id].get("message")
            if isinstance(message, dict):
                self._message(message, builder, last_call, report)

    def _message(
        self,
        message: dict[str, Any],
        builder: EventBuilder,
        last_call: dict[str, str],
        report: ImportReport,
    ) -> None:
        author = message.get("author") or {}
        role = author.get("role")
        content = message.get("content") or {}
        kind = content.get("content_type") if isinstance(content, dict) else None
        text = content_text(content)
        at = message.get("create_time")
        recipient = message.get("recipient") or "all"
        meta = message.get("metadata") or {}
        rest = {k: v for k, v in message.items() if k not in ("author", "content", "create_time")}
        rest["author"] = author
        rest["content"] = (
            {k: v for k, v in content.items() if k not in ("parts", "text")}
            if isinstance(content, dict)
            else content
        )
        if isinstance(content, dict) and isinstance(content.get("parts"), list):
            rich = [p for p in content["parts"] if not isinstance(p, str)]
            if rich:
                rest["parts"] = rich
        if role == "assistant" and recipient != "all":
            call_id = str(message.get("id", ""))
            last_call[str(recipient)] = call_id
            arguments: dict[str, Any] = {"input": text}
            if kind == "code" and content.get("language"):
                arguments["language"] = content["language"]
            builder.call(call_id, str(recipient), arguments, at, source=rest)
        elif role == "tool":
            name = str(author.get("name") or "")
            call_id = last_call.pop(name, "") or str(message.get("id", ""))
            if kind == "system_error":
                builder.result(call_id, None, at, error=text, name=name, source=rest)
            else:
                builder.result(call_id, text, at, name=name, source=rest)
        elif kind in ("thoughts", "reasoning_recap"):
            builder.add("reasoning", {"content": text}, at, source=rest)
        elif role == "assistant":
            if kind == "code":
                text = f"```{content.get('language') or ''}\n{text}\n```"
            payload: dict[str, Any] = {"role": "assistant", "content": text}
            if isinstance(meta, dict) and isinstance(meta.get("model_slug"), str):
                payload["model"] = meta["model_slug"]
            builder.add("assistant", payload, at, source=rest)
        elif role == "user" and kind != "user_editable_context":
            builder.add("user", {"role": "user", "content": text}, at, source=rest, new_turn=True)
        elif role in ("system", "user"):
            if not text.strip():
                report.ignored["empty system message"] += 1
                return
            builder.add("system", {"role": "system", "content": text}, at, source=rest)
        else:
            report.unknown[f"role:{role}"] += 1
            builder.add("unknown", {"type": f"role:{role}", "content": text}, at, source=rest)


class Branch:
    """A branch of a conversation other than the one its session holds, as a fork.

    Its session holds the messages from the root to its leaf. The events of the part it
    shares with the held branch are made as the session's own were (the same messages
    in the same order give the same events), so ``forked_at_seq`` is their count, and
    its first events equal the session's. It is read after the conversation's own unit,
    which tells it the held branch; a leaf on that branch makes nothing.
    """

    def __init__(self, conversation: Conversation, leaf: str) -> None:
        self.conversation = conversation
        self.leaf = leaf
        self.session_id = session_id_for(TOOL, f"{conversation.original_id}~{leaf}")

    def chunks(self, existing: Existing | None, report: ImportReport) -> Iterator[Chunk]:
        conv = self.conversation
        held = conv.held
        if held is None or self.leaf in held:
            return
        if existing is not None:
            # Its leaf names it: the same branch, already imported (a branch continued
            # in ChatGPT ends at a new leaf, and arrives as a fork of its own).
            yield Chunk.left(self.session_id, existing, "unchanged")
            return
        mapping: dict[str, Any] = conv.value["mapping"]
        path = current_branch(mapping, self.leaf)
        shared = 0
        while shared < min(len(path), len(held)) and path[shared] == held[shared]:
            shared += 1
        builder = EventBuilder(turn=0, last_time=to_ts(conv.value.get("create_time")))
        last_call: dict[str, str] = {}
        conv.read(path[:shared], builder, last_call, report)
        at_seq = len(builder.events)
        conv.read(path[shared:], builder, last_call, report)
        events = builder.take()
        if len(events) == at_seq:
            return  # nothing of its own (an empty or hidden message)
        own = events[at_seq]
        title = conv.value.get("title")
        source = {
            "tool": TOOL,
            "id": conv.original_id,
            "file": conv.file,
            "records": len(path),
            "last_node": self.leaf,
            "branch_of": conv.session_id,
            "branch_node": path[shared] if shared < len(path) else None,
        }
        model = conv.value.get("default_model_slug")
        yield Chunk(
            session_id=self.session_id,
            title=f"Fork of {title}" if isinstance(title, str) and title else None,
            model=model if isinstance(model, str) else None,
            created_at=own.created_at,
            updated_at=builder.last_time or own.created_at,
            source=source,
            events=events,
            status="new",
            forked_from=conv.session_id,
            forked_at_seq=at_seq,
        )


def _alternative(node_id: str, node: dict[str, Any]) -> dict[str, Any]:
    message = node["message"]
    author = message.get("author") or {}
    alternative: dict[str, Any] = scrub(
        {
            "node": node_id,
            "parent": node.get("parent"),
            "role": author.get("role"),
            "content": content_text(message.get("content")),
            "created_at": to_ts(message.get("create_time")),
        }
    )
    return alternative


class ChatGPTReader:
    """The conversations of an export file (``conversations.json`` or the ``.zip``).

    Raises:
        SourceFormatError: the file does not exist, is a zip without
            ``conversations.json``, or is not a JSON array.
    """

    tool = TOOL
    unit_name = "bytes"

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser().absolute()
        if not self.path.is_file():
            raise SourceFormatError(f"{self.path} does not exist or is not a file")
        self.members: list[str] = []
        if zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as archive:
                infos = [i for i in archive.infolist() if _MEMBER.search(i.filename)]
                if not infos:
                    raise SourceFormatError(
                        f"{self.path} is a zip without conversations.json (not a ChatGPT export)"
                    )
                self.members = [i.filename for i in infos]
                self.total = sum(i.file_size for i in infos)
        else:
            self.total = self.path.stat().st_size
            with self.path.open("rb") as handle:
                head = handle.read(4096).lstrip()
            if not head.startswith(b"["):
                raise SourceFormatError(
                    f"{self.path} is not a ChatGPT export (conversations.json holds a JSON array)"
                )

    def _streams(self, stack: ExitStack) -> Iterator[tuple[str, IO[bytes]]]:
        if not self.members:
            yield str(self.path), stack.enter_context(self.path.open("rb"))
            return
        archive = stack.enter_context(zipfile.ZipFile(self.path))
        for member in self.members:
            yield f"{self.path}!{member}", stack.enter_context(archive.open(member))

    def close(self) -> None:
        """Nothing to release (files are opened per unit)."""

    def units(self, report: ImportReport) -> Iterator[Unit]:
        with ExitStack() as stack:
            for name, stream in self._streams(stack):
                for item in iter_array(stream, name, report.advance):
                    value = item.value
                    if item.error is not None:
                        report.bad(name, item.line, item.error)
                    elif not isinstance(value, dict) or not isinstance(value.get("mapping"), dict):
                        report.bad(name, item.line, f"conversation {item.index} has no mapping")
                    elif not (value.get("conversation_id") or value.get("id")):
                        report.bad(name, item.line, f"conversation {item.index} has no id")
                    else:
                        conversation = Conversation(value, name, item.line)
                        yield conversation
                        yield from conversation.branches()
