"""Which host each file comes from, told by its path (named escaped, as files are).

Teams ship several machines' logs to one place (``logs/<host>/...``), where the same
``tmp_batt_<id>`` and the same ``run_card_1.log`` can appear on two hosts: the host keeps
them apart. By default an input directory (or a glob, from the directory before its first
wildcard; or an ``s3://`` prefix) is split by host when it holds no file of its own and
at least two hosts below it: a file's host is then the first directory under the input
whose name is not a date (``2025-10-14``, ``20251014``, ``2025``, ``10``,
``dt=2025-10-14``). Anything else (a flat directory of one fleet, a single subdirectory,
an archive split by day only, a file or standard input given directly) has no host: ``""``.

``--host-from PATTERN`` says it instead: a glob with one ``{host}`` field, matched against
each file's path (absolute, or an object's URL): the whole of it when the pattern is
absolute (``/archive/{host}/batch/*.log``, ``s3://bucket/{host}/*``), else its end
(``logs/{host}/*``). ``*`` and ``?`` stay within a directory, ``**`` crosses any number.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from poolwatch.errors import UsageError, shown

#: The host of a file no rule names: one host's logs.
NO_HOST = ""
#: Directory names that are dates (an archive split by day, month or year), never hosts.
_DATE = re.compile(
    r"(?:[a-z_]+=)?(?:\d{4}(?:[-_.]?\d{2}){0,2}|\d{1,2}|\d{4}-W\d{2})",
    re.IGNORECASE,
)
_FIELD = re.compile(r"\{([^{}/]*)\}")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_date(name: str) -> bool:
    """Whether a directory's name is a date, an archive's division rather than a host."""
    return _DATE.fullmatch(name) is not None


def hosts_below(relatives: Sequence[Sequence[str]]) -> list[str]:
    """The host of each file found under one input, from its path below the input
    (its directories, then its name): the first directory that is not a date, when the
    input holds no file of its own and at least two hosts; else none."""
    own = any(len(parts) == 1 and not parts[0].startswith(".") for parts in relatives)
    if own:
        return [NO_HOST] * len(relatives)
    named = [_first_host(parts[:-1]) for parts in relatives]
    if len(set(named) - {NO_HOST}) < 2:
        return [NO_HOST] * len(relatives)
    return named


def _first_host(folders: Sequence[str]) -> str:
    """The first directory that is not a date (none: no host), named as tables name
    files (control characters and undecodable bytes escaped)."""
    return next((shown(name) for name in folders if not is_date(name)), NO_HOST)


@dataclass(frozen=True)
class HostPattern:
    """``--host-from``: where a file's path names its host."""

    text: str
    regex: re.Pattern[str]
    absolute: bool

    def host_of(self, path: str | None) -> str | None:
        """The host a file's path names (a local path is made absolute first; None for
        standard input), or None when the pattern does not match it."""
        if path is None:
            return None
        # Lexically absolute: links are not resolved, the path stays the one named.
        full = path if _URL.match(path) else os.path.abspath(path)  # noqa: PTH100
        found = self.regex.search(full) if not self.absolute else self.regex.fullmatch(full)
        return shown(found.group("host")) if found else None

    @property
    def outside(self) -> str:
        """Why a file the pattern does not match is skipped."""
        return f"not matched by --host-from {shown(self.text)}"


def host_pattern(text: str) -> HostPattern:
    """``--host-from``, checked: a glob with exactly one ``{host}`` field (a
    ``UsageError`` saying what is wrong otherwise)."""
    fields = _FIELD.findall(text)
    hint = "e.g. 'logs/{host}/*' or '/archive/{host}/batch/*.log'"
    if not fields:
        raise UsageError(f"--host-from {shown(text)!r}: no {{host}} field ({hint})")
    unknown = [name for name in fields if name != "host"]
    if unknown:
        raise UsageError(
            f"--host-from {shown(text)!r}: unknown field {{{shown(unknown[0])}}} "
            f"(the only field is {{host}}; {hint})"
        )
    if len(fields) > 1:
        raise UsageError(f"--host-from {shown(text)!r}: {{host}} given {len(fields)} times")
    absolute = text.startswith("/") or bool(_URL.match(text))
    body = _translate(text)
    try:
        regex = re.compile(body if absolute else f"(?:^|/){body}$")
    except re.error as err:  # a character class no regex can hold
        raise UsageError(f"--host-from {shown(text)!r}: {err}") from err
    return HostPattern(text, regex, absolute)


def _translate(pattern: str) -> str:
    """A glob with its ``{host}`` field as a regular expression."""
    out: list[str] = []
    at = 0
    while at < len(pattern):
        if pattern.startswith("{host}", at):
            out.append("(?P<host>[^/]+)")
            at += len("{host}")
        elif pattern.startswith("/**/", at):
            out.append("/(?:.*/)?")
            at += 4
        elif pattern.startswith("**/", at) and at == 0:
            out.append("(?:.*/)?")
            at += 3
        elif pattern.startswith("**", at):
            out.append(".*")
            at += 2
        elif pattern[at] == "*":
            out.append("[^/]*")
            at += 1
        elif pattern[at] == "?":
            out.append("[^/]")
            at += 1
        elif pattern[at] == "[":
            klass, at = _character_class(pattern, at)
            out.append(klass)
        else:
            out.append(re.escape(pattern[at]))
            at += 1
    return "".join(out)


def _character_class(pattern: str, at: int) -> tuple[str, int]:
    """A ``[...]`` class (``[!...]`` negated) at ``at``, and where it ends."""
    end = pattern.find("]", at + 2 if pattern[at + 1 : at + 2] in ("!", "^") else at + 1)
    if end < 0:
        raise UsageError(f"--host-from {shown(pattern)!r}: a [ without its ]")
    inside = pattern[at + 1 : end]
    if inside.startswith("!"):
        inside = "^" + inside[1:]
    return "[" + inside.replace("\\", "\\\\") + "]", end + 1
