"""The README documents what the code does."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from poolwatch.ingest.grammar import KINDS
from poolwatch.ingest.tables import describe

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_table_reference_is_the_code_s() -> None:
    assert describe() in README


def test_readme_names_every_event_kind() -> None:
    for kind in KINDS:
        assert f"`{kind}`" in README


def test_templates_and_schema_ship_as_package_data() -> None:
    assert resources.files("poolwatch.templates").joinpath("ticket.md.j2").is_file()
    assert resources.files("poolwatch").joinpath("data", "summary.schema.json").is_file()
