"""What every embedding source offers, and the float32 bytes the index stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["TEXT_RECIPE", "Embedder", "to_blob"]

#: Version of what text is embedded (see runtime.vector_index.embedding_text); part of
#: every fingerprint, so changing the recipe re-embeds.
TEXT_RECIPE = "event-text-v1"


class Embedder(Protocol):
    """Turns texts into unit vectors of one space."""

    #: Model name, for people and the index's ``model`` column.
    model: str
    #: Where vectors come from (``local`` or the endpoint URL without credentials).
    source: str

    async def dimension(self) -> int:
        """The vector length (an endpoint is asked once, with a probe text)."""
        ...

    async def fingerprint(self) -> str:
        """Source, model, dimension and text recipe: equal fingerprints, one space."""
        ...

    async def embed(self, texts: Sequence[str], *, query: bool = False) -> npt.NDArray[np.float32]:
        """One unit vector per text (``query``: a search query rather than a passage).

        Raises:
            runtime.embeddings.errors.EmbeddingsError: the source failed.
        """
        ...

    async def close(self) -> None:
        """Release sessions and threads."""
        ...


def to_blob(vector: npt.NDArray[np.float32]) -> bytes:
    """A vector as little-endian float32 bytes (libSQL's ``vector32`` format)."""
    return vector.astype("<f4", copy=False).tobytes()
