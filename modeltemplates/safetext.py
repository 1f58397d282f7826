"""Text from a package, made safe to echo on a terminal line.

File names, messages quoting file content and error text from other tools can hold newlines (a
forged report line), carriage returns (overwriting what a line said), ANSI escape sequences (colours,
cursor moves, window titles) and bidirectional overrides (text that reads differently than it is).
:func:`shown` escapes all of them and bounds the length; every text renderer passes echoed values
through it. JSON output needs none of this: its encoder escapes control characters exactly.
"""

from __future__ import annotations

import re

#: The most characters of one echoed value (a path, a message) a text line shows.
MAX_SHOWN = 2000

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: C0 controls, DEL, C1 controls (U+0080-U+009F: 8-bit CSI is U+009B), line and paragraph
#: separators, and the bidirectional embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a character :func:`shown` would escape."""
    return _UNSAFE.search(text) is not None


def escape_controls(text: str) -> str:
    """``text`` with every control, separator and bidi-override character written as an escape
    (``\\n``, ``\\r``, ``\\t``, ``\\x1b``, ``\\u202e``); everything else unchanged."""
    return _UNSAFE.sub(_escape, text)


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` for one terminal line: escaped, and cut after ``limit`` characters with a note
    saying how many were left out."""
    if len(text) <= limit:
        return escape_controls(text)
    return f"{escape_controls(text[:limit])}... ({len(text) - limit} more characters)"
