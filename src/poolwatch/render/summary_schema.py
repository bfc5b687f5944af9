"""summary.json's JSON Schema, generated from its model (summary.py).

The package ships it as ``data/summary.schema.json``; after a change to the model,
``make schema`` writes it again (``python -m poolwatch.render.summary_schema PATH``),
and a test fails while the shipped file is not the model's.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from poolwatch.render.summary import Summary

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID = "poolwatch/summary.schema.json"


def snake(name: str) -> str:
    """A model's name as its definition's (``ExecutorMix``: ``executor_mix``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class _Generator(GenerateJsonSchema):
    """pydantic's schema, said as summary.json is: definitions named in snake_case like
    its keys (``executor_mix``), no titles but the document's, and in the order pydantic
    writes each object (its type, its keys in the document's order, what it requires)."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        made = _worded(super().generate(schema, mode))
        defs = made.pop("$defs")
        for definition in defs.values():
            definition.pop("title", None)
        head = {"$schema": DIALECT, "$id": ID, "title": made.pop("title")}
        head["description"] = made.pop("description")
        return {**head, **made, "$defs": dict(sorted(defs.items()))}

    def normalize_name(self, name: str) -> str:
        return snake(super().normalize_name(name))

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def sort(self, value: JsonSchemaValue, parent_key: str | None = None) -> JsonSchemaValue:
        return value


def _worded(value: Any) -> Any:
    """``value`` with each description a line of Markdown: the docstring it comes from
    unwrapped, its ``code`` in single backticks."""
    if isinstance(value, list):
        return [_worded(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: " ".join(item.replace("``", "`").split())
        if key == "description" and isinstance(item, str)
        else _worded(item)
        for key, item in value.items()
    }


def schema() -> dict[str, Any]:
    """The JSON Schema of summary.json."""
    return Summary.model_json_schema(schema_generator=_Generator)


def text() -> str:
    """The schema as the package ships it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    """Write the schema to the path given, or print it."""
    if argv:
        Path(argv[0]).write_text(text(), encoding="utf-8")
    else:
        sys.stdout.write(text())


if __name__ == "__main__":
    main(sys.argv[1:])
