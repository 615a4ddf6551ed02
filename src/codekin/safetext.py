"""Text that can leave Python: valid UTF-8 for the tokenizer, SQLite and JSON.

Python strings may hold lone surrogates (``os.fsdecode`` of a non-UTF-8 file name, a JSON
``"\\udc80"`` in a request); tokenizers raise TypeError and SQLite raises UnicodeEncodeError on
them. Every text sent to an encoder or used as a query goes through ``valid_text``.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (unchanged when already valid)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT, text)
    return text
