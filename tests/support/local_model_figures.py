"""Figures of the local provider on the default model: load, first token, tokens/s.

Run ``.venv/bin/python -m tests.support.local_model_figures`` (not a test: it prints
measurements, medians of a few runs, for the issue notes and the README).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from runtime.providers.base import ChatRequest, StreamEnd, TextChunk
from runtime.providers.local import LocalProvider

RUNS = 5
COUNTRIES = ("France", "Italy", "Spain", "Japan", "Peru", "Kenya", "Chile")


async def one_answer(provider: LocalProvider, prompt: str, max_tokens: int) -> tuple[float, float]:
    """(seconds to the first token, tokens per second after it) for one answer."""
    request = ChatRequest(
        messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0
    )
    started = time.perf_counter()
    first = 0.0
    tokens = 0
    async for chunk in provider.stream(request):
        if isinstance(chunk, TextChunk) and not first:
            first = time.perf_counter()
        elif isinstance(chunk, StreamEnd):
            tokens = chunk.usage.get("completion_tokens", 0)
    ended = time.perf_counter()
    rate = (tokens - 1) / (ended - first) if tokens > 1 and ended > first else 0.0
    return first - started, rate


async def main() -> None:
    loads = []
    for _ in range(RUNS):
        provider = LocalProvider()
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(provider._executor, provider._load)
        loads.append(time.perf_counter() - started)
        await provider.close()
    provider = LocalProvider()
    first_tokens, rates, cold = [], [], 0.0
    try:
        started = time.perf_counter()
        await one_answer(provider, "Hi", 1)
        cold = time.perf_counter() - started
        for country in COUNTRIES[:RUNS]:  # a new prompt each time: no prompt cache
            first, _ = await one_answer(provider, f"What is the capital of {country}?", 32)
            first_tokens.append(first)
            _, rate = await one_answer(provider, "Count from 1 to 500, one per line.", 200)
            rates.append(rate)
    finally:
        await provider.close()
    print(f"model: {provider.model_path}")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"load (xllamacpp.Server):          median {statistics.median(loads):.3f} s")
    print(f"cold first answer (load + 1 tok): {cold:.3f} s")
    print(f"first token (warm, short prompt): median {statistics.median(first_tokens):.3f} s")
    print(f"generation (200 tokens):          median {statistics.median(rates):.1f} tokens/s")


if __name__ == "__main__":
    asyncio.run(main())
