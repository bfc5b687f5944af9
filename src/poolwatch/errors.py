"""One error family for everything a user can cause, and one way to show a name safely.

Every error a user can fix (a path, an option, a config, the store, mail) is a
:class:`PoolwatchError`: the CLI prints its message as one line and exits with its
code; ``check`` turns any failure into UNKNOWN. Names and text from the user's
files pass through :func:`shown` before they reach a terminal, so that a file name
cannot move the cursor, set the title, write the clipboard or forge a second line.
"""

from __future__ import annotations

import re


class PoolwatchError(Exception):
    """Something the user gave cannot be used; the message names it and says why."""

    #: The exit code of the command that fails with it.
    exit_code = 1


class UsageError(PoolwatchError):
    """An argument or option that cannot be used as given (exit 2, as usage errors do)."""

    exit_code = 2


class NoUsableInputError(PoolwatchError):
    """None of the inputs could be read as a log; the message names the first and why."""


#: Characters that must not reach a terminal raw: C0 and C1 controls, DEL, the
#: directional formatting controls (a name that reads backwards), and the lone
#: surrogates that stand for undecodable bytes of a file name.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``,
    ``\\u202e``), and undecodable file-name bytes as ``\\xNN``: one line, printable."""
    return _UNSAFE.sub(_escape, text)


#: The directional controls alone: reports keep line breaks but not these.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi(text: str) -> str:
    """``text`` with its directional formatting controls made visible (``\\u202e``), so
    that a log line or a name cannot display in an order other than its own."""
    return _BIDI.sub(_escape, text)
