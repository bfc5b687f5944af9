"""poolwatch's own templates, stylesheet and schema, read as every small file is: only
from a regular file and never more than a bound (a file swapped for a device or a huge
one in an installation is refused, not read until memory runs out). The jinja2 loader
built on it is in formats.py."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from poolwatch.smallfile import MIB, read_small

#: The largest template, stylesheet or schema read (the largest shipped is about 20 kB).
LIMIT = 4 * MIB


def folder() -> Path:
    """The folder of the templates and the stylesheet."""
    return Path(str(resources.files("poolwatch.templates")))


def text(path: Path) -> str:
    """The UTF-8 text of one shipped file, read bounded."""
    return read_small(path, LIMIT).decode("utf-8")


def within(path: Path) -> bool:
    """Whether ``path`` is a regular file inside the templates' folder and within the
    bound: one the PDF renderer may be given."""
    resolved = path.resolve()
    if not resolved.is_relative_to(folder().resolve()) or not resolved.is_file():
        return False
    return resolved.stat().st_size <= LIMIT
