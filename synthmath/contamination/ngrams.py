"""Exact and n-gram matching over math-aware normalised question text.

Normalisation lower-cases, drops LaTeX spacing and sizing commands, spells commands as words
(``\\frac`` -> ``frac``), unifies numbers (``1,000`` -> ``1000``, ``2.50`` -> ``2.5``) and keeps only
words and numbers, so that markup and whitespace differences do not hide a copy.
"""

from __future__ import annotations

import pickle
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import xxhash

from .benchmarks import Benchmark, BenchmarkItem

__all__ = ["NGramIndex", "normalize_tokens"]

_DROP = re.compile(r"\\(?:left|right|displaystyle|textstyle|quad|qquad|[!,;: ])")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_COMMAND = re.compile(r"\\([a-zA-Z]+)")
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?")


def _number(tok: str) -> str:
    if "." in tok:
        tok = tok.rstrip("0").rstrip(".")
    return tok.lstrip("0") or "0"


def normalize_tokens(text: str) -> list[str]:
    """The words and numbers of ``text``, normalised for matching."""
    s = _DROP.sub(" ", text)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _THOUSANDS.sub("", s)
    s = _COMMAND.sub(r" \1 ", s).lower()
    return [_number(t) if t[0].isdigit() else t for t in _TOKEN.findall(s)]


def _h(text: str) -> int:
    return xxhash.xxh64_intdigest(text.encode())


def _grams(tokens: Sequence[str], n: int) -> list[int]:
    if len(tokens) < n:
        # a text shorter than n is one gram, if it is long enough to mean something
        return [_h(" ".join(tokens))] if len(tokens) >= min(n, 6) else []
    return [_h(" ".join(tokens[i : i + n])) for i in range(len(tokens) - n + 1)]


class NGramIndex:
    """Exact-match and n-gram lookups of texts against benchmark items."""

    def __init__(self, benchmarks: Sequence[Benchmark], sizes: Sequence[int] = (13, 8)) -> None:
        self.items: list[BenchmarkItem] = [it for b in benchmarks for it in b.items]
        self.sizes = tuple(sizes)
        self.exact: dict[int, list[int]] = {}
        self.grams: dict[int, dict[int, list[int]]] = {n: {} for n in self.sizes}
        for idx, item in enumerate(self.items):
            tokens = normalize_tokens(item.text)
            self.exact.setdefault(_h(" ".join(tokens)), []).append(idx)
            for n in self.sizes:
                table = self.grams[n]
                for g in set(_grams(tokens, n)):
                    table.setdefault(g, []).append(idx)

    @classmethod
    def cached(
        cls, benchmarks: Sequence[Benchmark], sizes: Sequence[int], cache_dir: Path | None
    ) -> NGramIndex:
        """The index, read from ``cache_dir`` when one was built for the same content and sizes."""
        if cache_dir is None:
            return cls(benchmarks, sizes)
        key = "-".join(b.content_hash for b in benchmarks) + "-" + "_".join(map(str, sizes))
        path = cache_dir / f"ngrams-{xxhash.xxh64_hexdigest(key.encode())}.pkl"
        if path.is_file():
            with path.open("rb") as f:
                index: NGramIndex = pickle.load(f)
            return index
        index = cls(benchmarks, sizes)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".partial")
        with tmp.open("wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return index

    def exact_matches(self, tokens: Sequence[str]) -> list[BenchmarkItem]:
        return [self.items[i] for i in self.exact.get(_h(" ".join(tokens)), [])]

    def overlaps(self, tokens: Sequence[str], n: int) -> list[tuple[BenchmarkItem, float]]:
        """Items sharing n-grams with ``tokens``, each with the share of the text's n-grams it holds."""
        grams = _grams(tokens, n)
        if not grams:
            return []
        table = self.grams[n]
        hits: Counter[int] = Counter()
        for g in set(grams):
            for idx in table.get(g, ()):
                hits[idx] += 1
        total = len(set(grams))
        return [(self.items[i], c / total) for i, c in hits.most_common(5)]
