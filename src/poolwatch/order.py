"""The order names are listed in: ``host2`` before ``host10``."""

from __future__ import annotations

import re


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key comparing the digits in ``text`` as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)
    )
