"""A small corpus of conversations and paraphrased questions for relevance checks.

Each session discusses one topic in its own words; each question asks for one session
in other words (few or none of its words occur in the session), as a person who no
longer remembers the wording would.
"""

from __future__ import annotations

from memory import EventDraft, MemoryBackend
from memory.search_records import SearchHit
from runtime import payloads

#: session id -> (title, user message, assistant reply)
SESSIONS: dict[str, tuple[str, str, str]] = {
    "uploads": (
        "S3 sync",
        "retrying the upload must not create duplicate files in the bucket",
        "Give every upload a client-generated key and make the server ignore repeats.",
    ),
    "markdown": (
        "Archive",
        "write a chat history out as a .md document",
        "Walk the messages in order and emit a heading per speaker, then the text.",
    ),
    "flaky": (
        "CI",
        "the integration job fails one run in five with a timeout on the socket",
        "Wait for the port to accept connections before starting the client under test.",
    ),
    "leak": (
        "Worker",
        "resident memory of the worker keeps growing for hours until the OOM killer hits",
        "A cache holds every parsed response; bound it with an LRU of 1000 entries.",
    ),
    "tz": (
        "Scheduling",
        "meetings show up one hour off after the clocks changed in March",
        "Store UTC instants and convert with the attendee's zone database at display.",
    ),
    "auth": (
        "Login",
        "users are logged out after a few minutes although they tick remember me",
        "The refresh token cookie lacked a max-age, so the browser dropped it on close.",
    ),
    "pagination": (
        "API",
        "the list endpoint returns the same items twice when someone inserts rows meanwhile",
        "Switch from offset paging to a cursor on (created_at, id).",
    ),
    "docker": (
        "Images",
        "our container image is 2 GB and takes ages to push",
        "Use a multi-stage build and a slim base so only the runtime files are copied.",
    ),
    "sqlinj": (
        "Security",
        "a search box lets people type quotes that end up inside the SQL string",
        "Bind the value as a parameter instead of formatting it into the statement.",
    ),
    "i18n": (
        "Translations",
        "the app shows English text to German speakers on some screens",
        "Those screens build strings before the locale loads; look them up at render time.",
    ),
    "perf": (
        "Slow page",
        "the dashboard takes eight seconds because it runs a query per row",
        "Fetch the related rows in one joined query instead of N separate ones.",
    ),
    "backup": (
        "Ops",
        "we lost a day of data when the disk died and nobody had a copy",
        "Schedule nightly snapshots to another region and test restoring them monthly.",
    ),
}

#: (question, the session it is about)
QUESTIONS: list[tuple[str, str]] = [
    ("make uploads idempotent", "uploads"),
    ("export conversations to markdown", "markdown"),
    ("flaky test that sometimes times out", "flaky"),
    ("process RAM usage increases over time", "leak"),
    ("daylight saving time bug in calendar", "tz"),
    ("session expires too early despite persistent login", "auth"),
    ("duplicate results when paging through a list", "pagination"),
    ("reduce the size of the docker image", "docker"),
    ("prevent SQL injection", "sqlinj"),
    ("wrong language shown to users", "i18n"),
    ("N+1 queries make the page slow", "perf"),
    ("disaster recovery for the database", "backup"),
]

FILLER = [
    "thanks, that works",
    "can you also add a test for it",
    "here is the stack trace from this morning",
    "let me check and get back to you",
]


async def seed(memory: MemoryBackend) -> None:
    """Store every session (a user message, a reply and some filler)."""
    for sid, (title, question, answer) in SESSIONS.items():
        await memory.create_session(sid, title=title)
        await memory.store(
            sid,
            [
                EventDraft("user", payloads.user(question)),
                EventDraft("assistant", payloads.assistant(answer)),
                EventDraft("user", payloads.user(FILLER[len(sid) % len(FILLER)])),
            ],
        )


def recall_at(hits: list[SearchHit], expected: str, k: int = 5) -> bool:
    """The expected session is among the first ``k`` hits' sessions."""
    return expected in [h.session_id for h in hits[:k]]


#: Events :func:`seed` stores that the indexer embeds (all are user/assistant).
EMBEDDABLE = 3 * len(SESSIONS)
