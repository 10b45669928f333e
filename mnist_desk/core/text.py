"""Text from files and file names, made safe to show: a checkpoint's name or a path may
hold terminal escape sequences, bidirectional overrides or anything else; shown raw, they
could clear a terminal or disguise a message. Every such character is written as an
escape (\\x1b, \\u202e) instead, and very long text is cut."""

from __future__ import annotations

import re
import unicodedata

MAX_SHOWN = 300


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` with control and format characters escaped, at most `limit` characters."""
    out = "".join(
        _escaped(c) if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
    )
    return out if len(out) <= limit else out[: limit - 1] + "…"


def file_name(text: str) -> str:
    """A model's name as a file name: letters, digits, '-', '_' and '.' only."""
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in text)
    return re.sub(r"-{2,}", "-", keep).strip("-.") or "model"


def plural(n: int, word: str) -> str:
    """`n` and `word`, with an s unless n is 1: "1 run", "0 runs", "1,200 runs"."""
    return f"{n:,} {word}{'s' * (n != 1)}"
