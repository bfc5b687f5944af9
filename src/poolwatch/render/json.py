"""summary.json: the Findings as a stable, versioned JSON document.

The contract is the model in ``summary.py``: summary.json is its dump, and its JSON
Schema, generated from it, ships as ``data/summary.schema.json`` (``make schema`` writes
it again). Keys keep the model's order; numbers are rounded so that the same inputs give
the same bytes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from poolwatch.findings import Findings
from poolwatch.render import assets
from poolwatch.render.summary import SCHEMA_VERSION, from_findings

__all__ = ["SCHEMA_FILE", "SCHEMA_VERSION", "document", "render", "schema"]

SCHEMA_FILE = "summary.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema of summary.json, as the package ships it."""
    text = assets.text(Path(str(resources.files("poolwatch"))) / "data" / SCHEMA_FILE)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def document(findings: Findings) -> dict[str, Any]:
    """The summary as plain JSON data, in the contract's key order."""
    return from_findings(findings).model_dump(mode="json")


def render(findings: Findings) -> str:
    """summary.json's text."""
    return json.dumps(document(findings), indent=2, ensure_ascii=False) + "\n"
