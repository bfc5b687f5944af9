"""The README documents what the code does."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from poolwatch.ingest.grammar import KINDS
from poolwatch.ingest.tables import describe

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
TABLES = (ROOT / "docs" / "tables.md").read_text()
USAGE = (ROOT / "docs" / "usage.md").read_text()


def test_the_table_reference_is_the_code_s() -> None:
    assert describe() in TABLES


def test_the_table_reference_names_every_event_kind() -> None:
    for kind in KINDS:
        assert f"`{kind}`" in TABLES


def test_every_reference_the_readme_links_exists() -> None:
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        assert (ROOT / link).is_file(), link


def test_templates_and_schema_ship_as_package_data() -> None:
    assert resources.files("poolwatch.templates").joinpath("ticket.md.j2").is_file()
    assert resources.files("poolwatch").joinpath("data", "summary.schema.json").is_file()
