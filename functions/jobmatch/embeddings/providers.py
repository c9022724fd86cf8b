"""Text embeddings: Bedrock Titan Text Embeddings V2 in AWS, a deterministic offline
provider everywhere else. Both give L2-normalised vectors of the dimension they
are built with (the vector columns' `EMBEDDING_DIM`), so the pgvector columns, the
HNSW indexes and cosine similarity mean the same thing whichever provider wrote a row.

What is embedded (the text of each entity) is `embeddings.texts`.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import struct
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from jobmatch.ai.bedrock import bedrock_runtime_client
from jobmatch.ai.embedder import EmbeddingProvider, EmbeddingUnavailableError
from jobmatch.deadline import Deadline
from jobmatch.settings import Settings

TITAN_V2_DIMENSIONS = (256, 512, 1024)
# Titan v2 takes up to 8,192 tokens / 50,000 characters; job ads rarely need more
# than the first part, and a shorter input is cheaper and faster.
MAX_INPUT_CHARS = 8_000


class DeadlineBoundEmbeddings:
    """`embedder` with every batch bound by one step's deadline: a step hands this
    to the code that embeds (stores, profiles) without threading the deadline
    through each of its calls."""

    def __init__(self, embedder: EmbeddingProvider, deadline: Deadline) -> None:
        self.embedder = embedder
        self.deadline = deadline

    @property
    def dimension(self) -> int:
        """The wrapped embedder's dimension."""
        return self.embedder.dimension

    @property
    def model_id(self) -> str:
        """The wrapped embedder's model."""
        return self.embedder.model_id

    def embed(self, texts: list[str], *, deadline: Deadline | None = None) -> list[list[float]]:
        """Embed by the sooner of `deadline` and the step's."""
        soonest = min(deadline or self.deadline, self.deadline, key=lambda d: d.ends_at)
        return self.embedder.embed(texts, deadline=soonest)


class BedrockTitanEmbeddings:
    """Titan Text Embeddings V2 through `invoke_model`, one text per call (the model
    has no batch call), a bounded thread pool for throughput, hard client timeouts
    and one deadline for the batch (the step's, or two timeouts per round of calls
    when called outside a step) so a batch cannot outlive its step's budget."""

    def __init__(
        self,
        model_id: str,
        region: str,
        dimension: int,
        timeout_seconds: float,
        concurrency: int = 8,
        client: Any = None,
    ) -> None:
        if dimension not in TITAN_V2_DIMENSIONS:
            raise ValueError(f"Titan v2 supports dimensions {TITAN_V2_DIMENSIONS}, not {dimension}")
        self.model_id = model_id
        self.dimension = dimension
        self.timeout_seconds = timeout_seconds
        self.concurrency = max(1, concurrency)
        self.client = client or bedrock_runtime_client(
            region, timeout_seconds, max_attempts=2, pool_size=self.concurrency
        )

    def _embed_one(self, text: str) -> list[float]:
        body = {
            "inputText": text[:MAX_INPUT_CHARS] or " ",
            "dimensions": self.dimension,
            "normalize": True,
        }
        response = self.client.invoke_model(
            modelId=self.model_id,
            body=json.dumps(body),
            contentType="application/json",
            accept="application/json",
        )
        vector = json.loads(response["body"].read())["embedding"]
        if len(vector) != self.dimension:
            raise EmbeddingUnavailableError(f"expected {self.dimension} dimensions")
        return [float(x) for x in vector]

    def embed(self, texts: list[str], *, deadline: Deadline | None = None) -> list[list[float]]:
        """Embed concurrently; any failure or the deadline raises EmbeddingUnavailableError
        (calls not started by then are cancelled)."""
        if not texts:
            return []
        if deadline is None:
            rounds = math.ceil(len(texts) / self.concurrency)
            deadline = Deadline.after(self.timeout_seconds * 2 * rounds)
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(texts)))
        try:
            futures = [pool.submit(self._embed_one, t) for t in texts]
            done, pending = wait(futures, timeout=deadline.remaining(), return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                exc = failed.exception()
                raise EmbeddingUnavailableError(
                    f"bedrock embedding failed: {type(exc).__name__}"
                ) from exc
            if pending:
                raise EmbeddingUnavailableError(
                    f"{len(pending)} of {len(texts)} embeddings not done by the step's deadline"
                )
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


# The offline model: WordLlama's "l2_supercat" static token embeddings (32,000 tokens
# of the Llama-2 vocabulary x 256 dimensions, fp16) and its tokenizer, both shipped
# inside the `wordllama` wheel. Only its two data files are read: importing the
# package would pull numpy, and `WordLlama.load()` fetches a tokenizer config from
# the network when its cache lacks it.
WORDLLAMA_TABLE = "weights/l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
WORDLLAMA_DIM = 256
# Mean pooling is pure Python (~8k titles/s); past the first part of a long ad the
# mean barely moves, so longer texts are cut to keep a step's embedding time small.
MAX_OFFLINE_CHARS = 2_000


class _StaticTable:
    """The token table and tokenizer, read once per process (~16 MB, 0.1-0.2 s)."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer  # Rust; only the offline provider needs it

        spec = importlib.util.find_spec("wordllama")  # locates it without running it
        if spec is None or spec.origin is None:
            raise EmbeddingUnavailableError("the wordllama data package is not installed")
        package = Path(spec.origin).parent
        self.tokenizer = Tokenizer.from_file(str(package / WORDLLAMA_TOKENIZER))
        raw = (package / WORDLLAMA_TABLE).read_bytes()
        header_len = int.from_bytes(raw[:8], "little")
        meta = json.loads(raw[8 : 8 + header_len])["embedding.weight"]
        if meta["dtype"] != "F16" or meta["shape"][1] != WORDLLAMA_DIM:
            raise EmbeddingUnavailableError(f"unexpected table {meta['dtype']} {meta['shape']}")
        begin, end = meta["data_offsets"]
        self.table = memoryview(raw)[8 + header_len + begin : 8 + header_len + end]
        self.vocab = int(meta["shape"][0])
        self.row = struct.Struct(f"<{WORDLLAMA_DIM}e")


@functools.cache
def _static_table() -> _StaticTable:
    return _StaticTable()


class OfflineEmbeddings:
    """Meaningful embeddings with no service and no network: the mean of a static
    model's token vectors, L2-normalised (what wordllama's own `embed` computes,
    without numpy). The model is read on first use, once per process; a smaller
    `dimension` keeps the leading components (the model is trained matryoshka-style,
    so a prefix is itself an embedding)."""

    model_id = "wordllama-l2_supercat-256"

    def __init__(self, dimension: int) -> None:
        if not 0 < dimension <= WORDLLAMA_DIM:
            raise ValueError(f"the offline model has at most {WORDLLAMA_DIM} dimensions")
        self.dimension = dimension

    def embed(self, texts: list[str], *, deadline: Deadline | None = None) -> list[list[float]]:
        """One unit vector per text, in order; a text with no tokens gets a fixed one
        (local arithmetic: no deadline can be missed)."""
        model = _static_table()
        dim, row, table = self.dimension, model.row, model.table
        out: list[list[float]] = []
        encoded = model.tokenizer.encode_batch(
            [t[:MAX_OFFLINE_CHARS] for t in texts], add_special_tokens=False
        )
        for enc in encoded:
            ids = [i for i in enc.ids if 0 <= i < model.vocab]
            if not ids:
                out.append([1.0] + [0.0] * (dim - 1))
                continue
            rows = [row.unpack_from(table, i * row.size) for i in ids]
            summed = [sum(col) for col in zip(*rows, strict=True)][:dim]
            norm = math.sqrt(sum(x * x for x in summed)) or 1.0
            out.append([x / norm for x in summed])  # the mean's 1/n cancels in the norm
        return out


def build_embedder(settings: Settings, dimension: int) -> EmbeddingProvider:
    """Bedrock Titan v2 when AI is on (in AWS), the offline provider otherwise
    (`Dependencies` builds it once per container)."""
    if settings.ai_enabled:
        return BedrockTitanEmbeddings(
            settings.bedrock_embedding_model_id,
            settings.bedrock_region_name,
            dimension,
            settings.ai_timeout_seconds,
            settings.embedding_concurrency,
        )
    return OfflineEmbeddings(dimension)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (unit vectors: their dot product)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
