"""Token usage of each answer: the provider's report, or an estimate marked as one, and
the session totals the save point's transaction keeps (issue 16)."""

from __future__ import annotations

from memory import MemoryBackend
from runtime import Conversation, PersistenceWorker, payloads
from runtime.providers.base import StreamEnd
from runtime.providers.scripted import ScriptedProvider, parse_script
from tests.conftest import FrozenClock
from tests.runtime.conftest import make_settings
from tests.runtime.history import collect


class ReportingProvider(ScriptedProvider):
    """The scripted provider, ending each answer with a usage report like a real server."""

    async def stream(self, request):  # type: ignore[no-untyped-def,override]
        async for chunk in super().stream(request):
            if isinstance(chunk, StreamEnd):
                chunk = StreamEnd(
                    chunk.finish_reason,
                    {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127},
                )
            yield chunk


async def _turns(
    memory: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock, provider: ScriptedProvider
) -> str:
    settings = make_settings(provider="scripted")
    conversation = await Conversation.open(
        memory, worker, settings, provider_instance=provider, clock=clock
    )
    await collect(conversation.send("first"))
    await collect(conversation.send("second"))
    assert await worker.flush(timeout=10)
    return conversation.session_id


async def test_estimated_usage_is_marked_and_totalled(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    script = parse_script({"turns": [[{"text": "one two three"}], [{"text": "four"}]]})
    session_id = await _turns(embedded, worker, clock, ScriptedProvider(script))
    answers = [e for e in await embedded.recall(session_id) if e.kind == "assistant"]
    used = [payloads.usage(e.payload) for e in answers]
    assert all(u.estimated and u.prompt > 0 and u.completion > 0 for u in used)
    assert answers[0].payload["usage"]["total_tokens"] == used[0].total
    info = await embedded.get_session(session_id)
    assert info.prompt_tokens == sum(u.prompt for u in used)
    assert info.completion_tokens == sum(u.completion for u in used)
    assert info.tokens_estimated


async def test_reported_usage_is_kept_as_reported(
    embedded: MemoryBackend, worker: PersistenceWorker, clock: FrozenClock
) -> None:
    script = parse_script({"turns": [[{"text": "one"}], [{"text": "two"}]]})
    session_id = await _turns(embedded, worker, clock, ReportingProvider(script))
    answers = [e for e in await embedded.recall(session_id) if e.kind == "assistant"]
    assert [e.payload["usage"] for e in answers] == [
        {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127}
    ] * 2
    info = await embedded.get_session(session_id)
    assert (info.prompt_tokens, info.completion_tokens, info.tokens_estimated) == (240, 14, False)


def test_cached_input_is_kept_from_an_openai_usage_report() -> None:
    """OpenAI-compatible servers report the prompt tokens read from their cache under
    ``prompt_tokens_details.cached_tokens``; the answer's usage keeps them as
    ``cached_tokens`` (priced with ``cached_prompt`` by ``turnkeep usage``)."""
    from runtime.providers.base import ChunkAssembler

    assembler = ChunkAssembler()
    list(assembler.feed({"choices": [{"index": 0, "delta": {"content": "hi"}}]}))
    report = {
        "prompt_tokens": 1200,
        "completion_tokens": 9,
        "total_tokens": 1209,
        "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    }
    list(assembler.feed({"choices": [], "usage": report}))
    (end,) = [c for c in assembler.finish() if isinstance(c, StreamEnd)]
    assert end.usage == {
        "prompt_tokens": 1200,
        "completion_tokens": 9,
        "total_tokens": 1209,
        "cached_tokens": 1024,
    }
    used = payloads.usage({"usage": end.usage})
    assert (used.prompt, used.completion, used.cached) == (1200, 9, 1024)
    # A report without the detail, or a cache count past the prompt, stays sane.
    assert payloads.usage({"usage": {"prompt_tokens": 5, "cached_tokens": 50}}).cached == 5
    assert payloads.usage({"usage": {"prompt_tokens": 5}}).cached == 0
