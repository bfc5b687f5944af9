"""summary.json's JSON Schema is its model's, and both hold a document to the contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import pytest

from conftest import GUIDE, read
from poolwatch.analyze.diagnose import diagnose
from poolwatch.findings import Findings, SettingChange
from poolwatch.render import summary, summary_schema
from poolwatch.render.json import SCHEMA_FILE, render, schema
from poolwatch.simulate import simulate

SHIPPED = Path(summary.__file__).parent.parent / "data" / SCHEMA_FILE
#: The model's objects, each a definition of the schema (the document itself its root).
OBJECTS = [
    model
    for model in vars(summary).values()
    if isinstance(model, type)
    and issubclass(model, summary._Object)
    and model.__module__ == summary.__name__
    and model is not summary._Object
]
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    """An overloaded fleet's findings."""
    folder = tmp_path_factory.mktemp("overloaded")
    simulate("overloaded", folder, instances=3, runs=3, seed=4)
    return diagnose(read(folder), GUIDE, now=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def found(findings: Findings) -> dict[str, Any]:
    """Its summary.json, as JSON data."""
    data: dict[str, Any] = json.loads(render(findings))
    return data


def test_the_shipped_schema_is_the_model_s() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == summary_schema.text(), (
        f"{SHIPPED} is not the schema of summary.py's model: run `make schema`"
    )


def test_every_key_the_model_allows_is_in_the_schema() -> None:
    generated = summary_schema.schema()
    assert len(OBJECTS) > 20
    for model in OBJECTS:
        name = summary_schema.snake(model.__name__)
        defined = generated if model is summary.Summary else generated["$defs"][name]
        keys = [field.alias or key for key, field in model.model_fields.items()]
        assert list(defined["properties"]) == keys, name
        assert defined["additionalProperties"] is False, name
        assert defined["description"], name


def test_a_document_follows_the_schema_and_reads_back_into_the_model(
    found: dict[str, Any],
) -> None:
    jsonschema.validate(found, schema(), format_checker=jsonschema.FormatChecker())
    again = summary.Summary.model_validate_json(json.dumps(found))
    assert json.dumps(again.model_dump(mode="json")) == json.dumps(found)


def _at(path: str, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    *parents, last = path.split(".")
    for key in parents:
        data = data[key]
    return data, last


def _set(path: str, value: object) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        parent, key = _at(path, data)
        parent[key] = value

    return edit


def _drop(path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        parent, key = _at(path, data)
        del parent[key]

    return edit


BROKEN = {
    "a count as text": _set("instances", "3"),
    "a negative count": _set("inputs.files", -1),
    "a percentage over 100": _set("executor_mix.process", 100.5),
    "a grade the guide has not": _set("metrics.thread_count.grade", "purple"),
    "no verdict": _drop("verdict"),
    "a window without its end": _drop("window.end"),
    "a key the contract does not have": _set("runs.retried", 0),
    "an empty decision path": _set("decision_path", []),
    "a time that is not one": _set("generated_at", "yesterday"),
}


@pytest.mark.parametrize("breaking", list(BROKEN.values()), ids=list(BROKEN))
def test_a_document_that_breaks_the_contract_is_refused(
    found: dict[str, Any], breaking: Edit
) -> None:
    breaking(found)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(found, schema(), format_checker=jsonschema.FormatChecker())
    with pytest.raises(pydantic.ValidationError):
        summary.Summary.model_validate_json(json.dumps(found))


def test_a_graded_metric_missing_is_refused(found: dict[str, Any]) -> None:
    del found["metrics"]["thread_count"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(found, schema())


def test_keys_version_1_has_as_optional_stay_optional(found: dict[str, Any]) -> None:
    optional = ("concurrency", "limits", "summary", "pattern", "performance", "baseline",
                "history", "sampling")  # fmt: skip
    for key in optional:
        del found[key]
    del found["runs"]["exited"], found["inputs"]["collected"], found["inputs"]["times_note"]
    for action in found["actions"]:
        del action["id"], action["refs"], action["values"], action["change"]
    for metric in found["metrics"].values():
        for key in ("action", "warning", "critical", "title", "ranges", "measured_by"):
            del metric[key]
    for flag in (flag for flags in found["flags"].values() for flag in flags):
        del flag["refs"], flag["reading"], flag["share"]
    jsonschema.validate(found, schema())


def test_numbers_are_written_as_the_findings_have_them(findings: Findings) -> None:
    change = SettingChange("overload_threads", 50, 30.0, "threads")
    action = replace(findings.actions[0], change=change, details=(("at", 0.125),))
    metric = replace(findings.metrics[0], value=2.675, warning=50, critical=80)
    written = json.loads(render(replace(findings, actions=(action,), metrics=(metric,))))
    # An action's numbers as they are; a metric's to 2 decimals, always a float.
    assert json.dumps(written["actions"][0]["values"]) == '{"from": 50, "to": 30.0, "at": 0.125}'
    assert written["actions"][0]["change"] == {
        "setting": "overload_threads", "from": 50, "to": 30.0, "unit": "threads"
    }  # fmt: skip
    shown = written["metrics"][metric.name]
    assert json.dumps([shown["value"], shown["warning"], shown["critical"]]) == "[2.67, 50.0, 80.0]"
