"""A ``poolwatch.toml`` read safely: a regular file of a bounded size, UTF-8 as TOML
requires, with short lines, and nesting that the parser survives.

tomllib keeps every prefix of a dotted key (``a.a.a...``), so its memory grows with the
square of the key's depth (20,000 parts on one 40 kB line take 2 GB); a poolwatch.toml
has a few short lines, so a long line is refused before parsing.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from poolwatch.smallfile import KIB, read_small

#: The largest poolwatch.toml read (the guide's every number fits in 2 KiB).
LIMIT = 256 * KIB
#: The longest line read, in characters.
LINE_LIMIT = 1000


class TomlError(ValueError):
    """Why a file is not a usable TOML document (the message does not name the file)."""


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML document at ``path``; SmallFileError, OSError or TomlError otherwise."""
    return parse(read_small(path, LIMIT))


def parse(data: bytes) -> dict[str, Any]:
    """The TOML document in ``data``, checked as the module's docstring says."""
    text = _decoded(data)
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > LINE_LIMIT:
            raise TomlError(f"line {number} is longer than {LINE_LIMIT} characters")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TomlError(f"not valid TOML: {err}") from err
    except RecursionError as err:
        raise TomlError("not valid TOML: nested too deeply") from err


def _decoded(data: bytes) -> str:
    """``data`` as UTF-8, or where it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise TomlError(
            f"not UTF-8 (byte 0x{data[err.start]:02x} on line {line}); TOML files are UTF-8"
        ) from err
