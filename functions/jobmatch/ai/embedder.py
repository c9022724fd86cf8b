"""What an embedder is: the seam between the code that embeds (stores, profiles,
the resolver, step bodies) and the providers that do it (`embeddings.providers`).

It sits at the bottom of the package, beside the other AI clients, so that the
step contract can name it without reaching up into the package that holds the
providers and the embedding steps.
"""

from __future__ import annotations

from typing import Protocol

from jobmatch.deadline import Deadline


class EmbeddingUnavailableError(Exception):
    """The provider could not embed the texts (the step fails and Inngest retries it)."""


class EmbeddingProvider(Protocol):
    """Anything that embeds texts into unit vectors of one fixed dimension."""

    @property
    def dimension(self) -> int:
        """The length of every vector."""
        ...

    @property
    def model_id(self) -> str:
        """Which model wrote a vector: vectors of two models are not comparable, so
        the database records the one its vectors come from (`embeddings.model_store`)."""
        ...

    def embed(self, texts: list[str], *, deadline: Deadline | None = None) -> list[list[float]]:
        """One unit vector per text, in order, by `deadline` (or raise
        EmbeddingUnavailableError)."""
        ...
