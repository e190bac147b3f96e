"""The key/value cache of the transformers engine's batch: layers written in place, grown in chunks.

transformers' own cache layer concatenates the whole cache with every new token: on a CPU, with 16 rows
of 1,200 tokens, that copying cost about as much as the attention that reads the cache. Here each
layer writes into a buffer with spare columns and copies only when the buffer is full.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["make_cache"]

_SPARE = 64  # free columns a cache buffer gets each time it is (re)allocated


def make_cache(
    first: list[tuple[Any, Any]], second: list[tuple[Any, Any]] | None = None, *, spare: int = _SPARE
) -> Any:
    """A cache of growing layers holding ``first``'s rows, then ``second``'s, each layer's tensors
    right-aligned (left-padded with zeros) to the longer of the two."""
    from transformers.cache_utils import Cache

    return Cache(
        layers=[
            _growing_layer().of(k, v, *(second[i] if second is not None else (None, None)), spare=spare)
            for i, (k, v) in enumerate(first)
        ]
    )


@functools.cache
def _growing_layer() -> Any:
    """The layer class, made on first use: transformers is imported only in the engine's thread."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):  # type: ignore[no-untyped-call,misc,unused-ignore]
        """A key/value cache layer written in place into a buffer with spare columns.

        ``keys`` and ``values`` are views of the first ``length`` columns; a new token is written after
        them, and only a full buffer is copied, into one with ``_SPARE`` more free columns (or a
        quarter again as many, whichever is more). Rows are fixed: the decoder builds a new layer when the
        batch's rows change.
        """

        _k: Any
        _v: Any
        keys: Any
        values: Any

        @classmethod
        def of(cls, k0: Any, v0: Any, k1: Any = None, v1: Any = None, *, spare: int = _SPARE) -> Any:
            layer = cls()
            rows = k0.shape[0] + (k1.shape[0] if k1 is not None else 0)
            width = max(k0.shape[2], k1.shape[2] if k1 is not None else 0)
            shape = (rows, k0.shape[1], width + spare, k0.shape[3])
            # uninitialised: only the left padding is read (masked, but 0 * NaN would still be NaN)
            layer._k, layer._v = k0.new_empty(shape), v0.new_empty(shape)
            top = 0
            for k, v in ((k0, v0), (k1, v1)):
                if k is not None:
                    n, pad = k.shape[0], width - k.shape[2]
                    for buffer, part in ((layer._k, k), (layer._v, v)):
                        buffer[top : top + n, :, :pad] = 0
                        buffer[top : top + n, :, pad:width] = part
                    top += n
            layer._set(width)
            layer.device, layer.is_initialized = k0.device, True
            return layer

        def _set(self, length: int) -> None:
            self.keys, self.values = self._k[:, :, :length], self._v[:, :, :length]

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> Any:
            length, new = self.keys.shape[2], key_states.shape[2]
            if length + new > self._k.shape[2]:
                shape = list(self._k.shape)
                shape[2] = max(length + new + _SPARE, shape[2] * 5 // 4)
                for name in ("_k", "_v"):
                    old, buffer = getattr(self, name), getattr(self, name).new_empty(shape)
                    buffer[:, :, :length] = old[:, :, :length]
                    setattr(self, name, buffer)
            self._k[:, :, length : length + new] = key_states
            self._v[:, :, length : length + new] = value_states
            self._set(length + new)
            return self.keys, self.values

    return GrowingLayer
