"""Reading text input: UTF-8, with or without a byte order mark, and a one-line error for anything else.

Every reader of user files (seeds, MATH directories, benchmark files, check-contamination input, prompt
files) goes through here, so a latin-1 or UTF-16 file gets the same message wherever it is read::

    seeds.jsonl:12: not UTF-8 text (byte 0xe9 at column 31) - convert the file to UTF-8
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from .errors import TextEncodingError

__all__ = ["decode_utf8", "iter_lines", "read_text"]

_BOM = codecs.BOM_UTF8


def _error(path: Path | str, data: bytes, offset: int, line_start: int, lineno: int) -> TextEncodingError:
    line = data[line_start:offset]
    try:  # the column in characters, counting only the line's valid text before the bad byte
        column = len(line.decode("utf-8")) + 1
    except UnicodeDecodeError:
        column = offset - line_start + 1
    return TextEncodingError(
        f"{path}:{lineno}: not UTF-8 text (byte 0x{data[offset]:02x} at column {column}) "
        "- convert the file to UTF-8"
    )


def decode_utf8(data: bytes, path: Path | str, *, first_line: int = 1) -> str:
    """``data`` as text: UTF-8 with an optional BOM, else :class:`TextEncodingError` naming ``path:line``.

    ``first_line`` is the line number of ``data``'s first line within the file (for chunked reads).
    """
    start = len(_BOM) if first_line == 1 and data.startswith(_BOM) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = start + e.start
    else:
        offset = len(data)
    # A NUL byte is valid UTF-8 but never text: UTF-16 without a BOM, or a binary file.
    nul = data.find(b"\0", start, offset)
    if nul >= 0:
        offset = nul
    elif offset == len(data):
        return text
    line_start = max(data.rfind(b"\n", 0, offset) + 1, start)
    raise _error(path, data, offset, line_start, first_line + data.count(b"\n", 0, offset))


def read_text(path: Path | str) -> str:
    """The whole file as text (see :func:`decode_utf8`). OSError propagates for the caller to word."""
    return decode_utf8(Path(path).read_bytes(), path)


def iter_lines(path: Path | str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for each line of a file, streamed, decoded as :func:`decode_utf8` does."""
    with Path(path).open("rb") as f:
        for lineno, raw in enumerate(f, 1):
            yield lineno, decode_utf8(raw, path, first_line=lineno)
