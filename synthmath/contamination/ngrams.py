"""Exact and n-gram matching over math-aware normalised question text.

Normalisation lower-cases, drops Asymptote diagram code (``[asy]...[/asy]``: its boilerplate is shared
by unrelated problems), drops LaTeX spacing and sizing commands, spells commands as words
(``\\frac`` -> ``frac``), unifies numbers (``1,000`` -> ``1000``, ``2.50`` -> ``2.5``, ``twelve`` ->
``12``) and keeps only words and numbers, so that markup, whitespace and number spelling do not hide a
copy.

Tokens become integer ids of the benchmark vocabulary, and n-grams are polynomial hashes of id windows
computed with NumPy for a whole batch of texts at once; lookups are a binary search in the sorted
array of indexed n-grams. N-grams that occur in more than ``max_df`` benchmark items (diagram
boilerplate, stock phrases) are not indexed: sharing one says nothing about a particular item.
"""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from ..mathtext import _SCALES, _TENS, _UNITS, drop_diagrams, spell_number_words
from .benchmarks import Benchmark, BenchmarkItem

__all__ = ["NGramIndex", "drop_diagrams", "normalize_tokens"]

_DROP = re.compile(r"\\(?:left|right|displaystyle|textstyle|quad|qquad|[!,;: ])")
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?!\d))")  # starts with the comma: a fast literal scan
_COMMAND = re.compile(r"\\([a-zA-Z]+)")
_LATEX_THOUSANDS = re.compile(r"(?<=\d)(?:,\\!|\{,\})(?=\d{3}(?!\d))")
_FRAC_DIGITS = re.compile(r"\\frac\s*(\d)\s*(\d)")  # \frac34 is \frac{3}{4}
_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|\.\d+")  # ".5" is a number too

# words that stand for numbers in word problems; fractions keep the digits "1/2" would have
_ALIASES = {"dozen": ["12"], "twice": ["2"], "double": ["2"], "thrice": ["3"], "triple": ["3"]}
_ALIASES |= {"half": ["1", "2"], "quarter": ["1", "4"], "percent": []}
# powers and ordinals: "x squared" is x^2, "the fourth power" ^4, "two thirds" 2/3, "three quarters" 3/4
_ALIASES |= {"squared": ["2"], "cubed": ["3"], "halves": ["2"], "quarters": ["4"]}
_ORDINALS = "third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()  # noqa: SIM905
_ALIASES |= {w + "s": [str(i)] for i, w in enumerate(_ORDINALS, 3)} | {"hundredths": ["100"]}
# a singular ordinal is a number in "one third" and "the fourth power", not in "the third day"
_ORDINAL = {w: str(i) for i, w in enumerate(_ORDINALS, 3)} | {"hundredth": "100", "thousandth": "1000"}
# "the square root of" is \sqrt, "the cube root of" \sqrt[3]
_ROOTS = {"square": ["sqrt"], "cube": ["sqrt", "3"]}
_NUMBER_WORDS = frozenset([*_UNITS, *_TENS, *_SCALES, *_ALIASES, *_ORDINAL, "root", "roots"])
# numbers _number rewrites: a trailing zero after the point, or no digit before it ("2.50", ".5"), and
# a leading zero ("007"); each pattern starts with a literal, which the regex engine scans for quickly
_ODD_FRACTION = re.compile(r"\.(?:\d*0\b|(?<![\d.]\.)\d)")
_LEADING_ZERO = re.compile(r"0(?<!\w0)\d")

log = logging.getLogger("synthmath")
_P = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial hash (arithmetic mod 2**64)
_UNKNOWN = 0  # id of every token no benchmark item uses


def _number(tok: str) -> str:
    whole, _, fraction = tok.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def normalize_tokens(text: str) -> list[str]:
    """The words and numbers of ``text``, normalised for matching (number words become digits)."""
    s = drop_diagrams(text)
    if "\\!" in s or "{,}" in s:  # LaTeX thousands: 10,\!000 and 1{,}000
        s = _LATEX_THOUSANDS.sub("", s)
    s = _DROP.sub(" ", s)
    s = _FRAC_DIGITS.sub(r"\\frac{\1}{\2}", s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac"))
    s = _THOUSANDS.sub("", s)
    s = _COMMAND.sub(r" \1 ", s).lower()
    tokens = _TOKEN.findall(s)
    if _ODD_FRACTION.search(s) or _LEADING_ZERO.search(s):
        tokens = [_number(t) if t[0].isdigit() or t[0] == "." else t for t in tokens]
    words = [i for i, t in enumerate(tokens) if t in _NUMBER_WORDS]
    return _spell_numbers(tokens, words) if words else tokens


def _spell_numbers(tokens: list[str], where: list[int]) -> list[str]:
    """Number words as digits, with the ordinals and roots that matching math text needs."""
    return spell_number_words(tokens, where, _ALIASES, _ORDINAL, _ROOTS)


def gram_hashes(texts: Sequence[Sequence[int]], n: int) -> tuple[Any, Any]:
    """Distinct n-gram hashes of each id sequence, as (owner, hash) arrays sorted by owner then hash.

    A sequence shorter than ``n`` counts as one gram when it has at least ``min(n, 6)`` tokens, so that
    short items can still be matched. N-grams holding an unknown token are dropped: they match nothing.

    The hash of the window ``t[i:i+w]`` is ``sum((t[k] + 1) * P**(i+w-1-k))`` mod 2**64. With the
    prefix sums ``C[j] = sum((t[k] + 1) * P**-k for k < j)`` (P is odd, so it has an inverse mod
    2**64) it is ``P**(i+w-1) * (C[i+w] - C[i])``: a few array operations, whatever ``n`` is.
    """
    with np.errstate(over="ignore"):
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        flat = np.fromiter(chain.from_iterable(texts), dtype=np.uint64, count=int(lengths.sum()))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        window = np.minimum(lengths, n)  # a short text is one window of its own length
        count = np.where(lengths >= n, lengths - n + 1, (lengths >= min(n, 6)).astype(np.int64))
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), count)
        first = np.repeat(starts, count) + (
            np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        )
        last = first + window[owner]  # one past the window's end
        powers, inverse = _powers(len(flat) + 1)
        prefix = np.zeros(len(flat) + 1, dtype=np.uint64)
        np.cumsum((flat + np.uint64(1)) * inverse[: len(flat)], out=prefix[1:])
        h = powers[last - 1] * (prefix[last] - prefix[first])
        unknown = np.zeros(len(flat) + 1, dtype=np.int64)
        np.cumsum(flat == _UNKNOWN, out=unknown[1:])
        known = unknown[last] == unknown[first]
        owner, h = owner[known], h[known]
        order = np.lexsort((h, owner))
        owner, h = owner[order], h[order]
        distinct = np.ones(len(h), dtype=bool)
        distinct[1:] = (owner[1:] != owner[:-1]) | (h[1:] != h[:-1])
    return owner[distinct], h[distinct]


_POWERS: list[Any] = [np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64)]


def _powers(size: int) -> tuple[Any, Any]:
    """``P**k`` and ``P**-k`` mod 2**64 for k < size (grown and kept between calls)."""
    if len(_POWERS[0]) < size:
        grown = max(size, 2 * len(_POWERS[0]))
        with np.errstate(over="ignore"):
            for i, base in enumerate((_P, np.uint64(pow(int(_P), -1, 2**64)))):
                steps = np.full(grown, base, dtype=np.uint64)
                steps[0] = 1
                _POWERS[i] = np.cumprod(steps, dtype=np.uint64)
    return _POWERS[0], _POWERS[1]


class NGramIndex:
    """Exact-match and n-gram lookups of texts against benchmark items."""

    def __init__(
        self, benchmarks: Sequence[Benchmark], sizes: Sequence[int] = (13, 8), max_df: int = 3
    ) -> None:
        self.items: list[BenchmarkItem] = [it for b in benchmarks for it in b.items]
        self.sizes = tuple(sizes)
        self.max_df = max_df
        self.vocab: dict[str, int] = {}
        ids = [
            [self.vocab.setdefault(t, len(self.vocab) + 1) for t in normalize_tokens(it.text)]
            for it in self.items
        ]
        self.exact: dict[int, list[int]] = {}
        for idx, seq in enumerate(ids):
            self.exact.setdefault(hash(tuple(seq)), []).append(idx)
        # per size: sorted distinct gram hashes, and for each the items holding it (CSR layout)
        self.tables: dict[int, tuple[Any, Any, Any]] = {}
        for n in self.sizes:
            owner, h = gram_hashes(ids, n)
            order = np.argsort(h, kind="stable")
            h, owner = h[order], owner[order]
            keys, first, df = np.unique(h, return_index=True, return_counts=True)
            keep = df <= max_df
            keys, first, df = keys[keep], first[keep], df[keep]
            offsets = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
            members = (
                np.concatenate([owner[f : f + c] for f, c in zip(first, df, strict=True)])
                if len(keys)
                else owner[:0]
            )
            self.tables[n] = (keys, offsets, members)

    @classmethod
    def cached(
        cls, benchmarks: Sequence[Benchmark], sizes: Sequence[int], cache_dir: Path | None, max_df: int = 3
    ) -> NGramIndex:
        """The index, read from ``cache_dir`` when one was built for the same content and settings."""
        from .cache import build_once, load_pickle

        key = "-".join(b.content_hash for b in benchmarks) + f"-{tuple(sizes)}-{max_df}-v7"
        path = cache_dir / f"ngrams-{xxhash.xxh64_hexdigest(key.encode())}.pkl" if cache_dir else None

        def load(p: Path) -> NGramIndex:
            index: NGramIndex = load_pickle(p)
            return index

        def save(index: NGramIndex, p: Path) -> None:
            with p.open("wb") as f:
                pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)

        if path is not None and not path.is_file():
            items = sum(len(b.items) for b in benchmarks)
            log.warning(f"contamination index: n-grams of {items:,} benchmark items (once for these; cached)")
        index: NGramIndex = build_once(path, load, lambda: cls(benchmarks, sizes, max_df), save)
        return index

    def ids(self, tokens: Sequence[str]) -> list[int]:
        """Token ids in the benchmark vocabulary (0 for a token no item uses)."""
        get = self.vocab.get
        return [get(t, _UNKNOWN) for t in tokens]

    def exact_rows(self, ids: Sequence[int]) -> list[int]:
        """Rows of the items with the same normalised tokens (none for a text without words or numbers)."""
        if not ids:
            return []
        return list(self.exact.get(hash(tuple(ids)), ()))

    def exact_matches(self, ids: Sequence[int]) -> list[BenchmarkItem]:
        """Items with the same normalised tokens (none for a text without words or numbers)."""
        return [self.items[i] for i in self.exact_rows(ids)]

    def overlaps(self, texts: Sequence[Sequence[int]], n: int, top: int = 5) -> list[list[tuple[int, float]]]:
        """For each id sequence, the items (by index) sharing n-grams with it, with the share of the
        text's distinct n-grams each holds; best first, at most ``top``."""
        out: list[list[tuple[int, float]]] = [[] for _ in texts]
        owner, h = gram_hashes(texts, n)
        if not len(h):
            return out
        total = np.bincount(owner, minlength=len(texts))
        keys, offsets, members = self.tables[n]
        pos = np.searchsorted(keys, h)
        pos[pos == len(keys)] = 0
        hit = keys[pos] == h if len(keys) else np.zeros(len(h), bool)
        if not hit.any():
            return out
        owner, pos = owner[hit], pos[hit]
        sizes = offsets[pos + 1] - offsets[pos]
        who = np.repeat(owner, sizes)
        start = np.repeat(offsets[pos], sizes) + (
            np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        )
        pairs, counts = np.unique(who * len(self.items) + members[start], return_counts=True)
        for pair, c in zip(pairs.tolist(), counts.tolist(), strict=True):
            t, item = divmod(pair, len(self.items))
            out[t].append((item, c / int(total[t])))
        for row in out:
            if len(row) > 1:
                row.sort(key=lambda x: -x[1])
                del row[top:]
        return out
