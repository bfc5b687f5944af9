"""The states' types hold the very words the tables, the store and summary.json use."""

from __future__ import annotations

import json
from importlib import resources

from poolwatch.analyze.runs import KILLED, OUTCOMES, PATH_DTYPE
from poolwatch.history.bounds import VERDICTS
from poolwatch.states import ExecutorPath, FlagColor, Grade, Outcome, Verdict

SCHEMA = json.loads(
    resources.files("poolwatch").joinpath("data", "summary.schema.json").read_text()
)


def test_grades_and_verdicts_are_summary_json_s() -> None:
    assert [g.value for g in Grade] == SCHEMA["$defs"]["grade"]["enum"]
    assert [v.value for v in Verdict] == SCHEMA["$defs"]["verdict"]["enum"]
    assert list(VERDICTS) == [v.value for v in Verdict]


def test_paths_and_outcomes_are_the_runs_table_s_categories() -> None:
    assert list(PATH_DTYPE.categories) == [p.value for p in ExecutorPath]
    assert list(OUTCOMES) == [o.value for o in Outcome]
    assert set(KILLED) == {Outcome.TIMED_OUT, Outcome.HUNG}
    # Plain strings in the tables, not enum members: Parquet and CSV hold the words.
    assert all(type(p) is str for p in PATH_DTYPE.categories)


def test_a_state_is_its_word_wherever_it_is_written() -> None:
    assert Grade("critical") is Grade.CRITICAL and f"{Verdict.WARNING}" == "warning"
    assert json.dumps({FlagColor.RED: [Verdict.CRITICAL]}) == '{"red": ["critical"]}'
