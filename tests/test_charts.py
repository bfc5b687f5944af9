"""The report's charts: well-formed, deterministic, inlinable SVG with escaped text."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import graphviz
import pytest

from conftest import made_up
from poolwatch.analyze.decide import TREE, labels
from poolwatch.findings import (
    ExecutorMix,
    InstanceRow,
    MetricRow,
    RunTime,
    Step,
    ThreadPoint,
    TimePoint,
    TreeNode,
    TrendDay,
)
from poolwatch.render import charts
from poolwatch.render.charts.style import PALETTE
from poolwatch.render.charts.tree import _label as node_label
from poolwatch.render.html import stylesheet
from poolwatch.states import ExecutorPath, Grade, Verdict

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script> & "quoted" ✅ ⚠️ ❌'


def tree(nodes: tuple[TreeNode, ...], path: tuple[Step, ...]) -> str:
    """The drawn decision tree (Graphviz is installed wherever the tests run)."""
    svg = charts.decision_tree(nodes, path)
    assert svg is not None
    return svg


def at(minutes: float) -> datetime:
    """A UTC time this many minutes into the sample window."""
    return START + timedelta(minutes=minutes)


THREADS = tuple(
    ThreadPoint(f"card{i}", run, at(10 * run + i), 40 + (7 * i + 11 * run) % 55)
    for i in range(1, 4)
    for run in range(1, 6)
)
ROWS = (
    InstanceRow("card1", 20, 20, ExecutorMix(70, 20, 10, 0), 2, 1, 3, 0, 62, Verdict.WARNING),
    InstanceRow("card2", 20, 18, ExecutorMix(40, 30, 25, 5), 6, 4, 9, 1, 91, Verdict.CRITICAL),
    InstanceRow("card3", 3, 0, ExecutorMix(0, 0, 0, 0), 0, 0, 0, 0, None, Verdict.UNKNOWN),
)
METRICS = (
    MetricRow(
        "thread_count",
        91,
        "threads",
        Grade.CRITICAL,
        "run logs",
        "Reduce",
        50,
        80,
        title="Thread count",
    ),
    MetricRow(
        "processpool_fallback_rate",
        22.0,
        "%",
        Grade.WARNING,
        "run logs",
        "Add",
        10,
        30,
        title="ProcessPool fallback",
    ),
    MetricRow(
        "threadpool_fallback_rate",
        None,
        "%",
        Grade.UNKNOWN,
        "run logs",
        "Reduce",
        5,
        15,
        title="ThreadPool fallback",
    ),
)
RUNNING = tuple(TimePoint(at(5 * k), float(min(k, 8))) for k in range(12))
RUNS = (
    RunTime("card1", 1, 3.0, 2.0, 4.0, ExecutorPath.PROCESS),
    RunTime("card1", 2, 9.5, 3.0, 8.0, ExecutorPath.THREAD),
    RunTime("card2", 1, 75.0, 30.0, 60.0, ExecutorPath.SEQUENTIAL),
    RunTime("card2", 2, 14.0, 10.0, 20.0, ExecutorPath.PROCESS),
)
HOST = tuple(TimePoint(at(k), 900.0 + (k * 37) % 200) for k in range(30))
WALK = (
    Step("Is script completing successfully?", "NO", "3 of 20 finished runs were killed", "no"),
    Step("Script hanging or timing out?", "Hanging", "3 runs hung", "hanging"),
    Step("Check thread count", ">80 threads", "up to 95 threads per process", "many-threads"),
)
TAKEN = {"root", "no", "hanging", "many-threads"}
WORDS = labels(made_up([{}]))
NODES = tuple(TreeNode(node, parent, WORDS[node], node in TAKEN) for node, parent in TREE)


def every_chart() -> dict[str, str | None]:
    """One sample of each chart, by name."""
    return {
        "threads": charts.thread_counts(THREADS, 50, 80),
        "mix": charts.executor_mix(ROWS),
        "fallbacks": charts.fallback_rates(METRICS),
        "running": charts.running(RUNNING, 8),
        "durations": charts.durations(RUNS),
        "host": charts.host_threads(HOST),
        "tree": charts.decision_tree(NODES, WALK),
    }


@pytest.fixture(scope="module")
def drawn() -> dict[str, str]:
    """Every chart drawn once, none of them missing."""
    svgs = every_chart()
    assert all(svg is not None for svg in svgs.values())
    return {name: svg for name, svg in svgs.items() if svg is not None}


def parse(svg: str) -> ET.Element:
    """The SVG's root element, after checking it is a bare, scalable ``<svg>``."""
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert len(root.get("viewBox", "").split()) == 4
    assert root.get("width") in (None, "100%")
    assert root.get("height") is None
    return root


def texts(root: ET.Element) -> str:
    """All the text the SVG shows, one string."""
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_every_chart_is_bare_scalable_svg(drawn: dict[str, str]) -> None:
    for name, svg in drawn.items():
        root = parse(svg)
        assert "<?xml" not in svg, name
        assert "<!DOCTYPE" not in svg, name
        assert "<!--" not in svg, name
        assert root.get("aria-label"), name
        assert texts(root).strip(), name


def test_charts_are_deterministic(drawn: dict[str, str]) -> None:
    assert every_chart() == drawn


DIGEST = """
import hashlib, sys
sys.path.insert(0, {tests!r})
from test_charts import every_chart
text = "".join(svg or "" for svg in every_chart().values())
print(hashlib.sha256(text.encode()).hexdigest())
"""


def test_charts_are_the_same_in_another_process(drawn: dict[str, str]) -> None:
    script = DIGEST.format(tests=str(Path(__file__).parent))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    here = hashlib.sha256("".join(drawn.values()).encode()).hexdigest()
    assert done.stdout.strip() == here


def test_ids_are_unique_across_charts_and_references_resolve(drawn: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for name, svg in drawn.items():
        root = parse(svg)
        ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
        for ident in ids:
            assert ident is not None
            assert ident.startswith(f"pw-{name}-"), ident
            assert ident not in seen, f"{ident} in {name} and {seen.get(ident)}"
            seen[ident] = name
        mine = set(ids)
        referenced = re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', svg)
        for ref in (a or b for a, b in referenced):
            assert ref in mine, f"{name} refers to a missing #{ref}"
    page = "<div>" + "".join(drawn.values()) + "</div>"
    ids = [e.get("id") for e in ET.fromstring(page).iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_text_is_real_text_in_dejavu_sans(drawn: dict[str, str]) -> None:
    for name, svg in drawn.items():
        assert "DejaVu Sans" in svg, name
        assert "DejaVuSans-" not in svg, f"{name} draws glyphs as paths"
    fallbacks = texts(parse(drawn["fallbacks"]))
    assert "ProcessPool fallback" in fallbacks
    assert "unknown" in fallbacks


def test_no_matplotlib_stylesheet_leaks_into_the_page(drawn: dict[str, str]) -> None:
    for svg in drawn.values():
        assert "<style" not in svg
        assert "<script" not in svg


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.thread_counts((), 50, 80),
        lambda: charts.executor_mix(()),
        lambda: charts.fallback_rates(()),
        lambda: charts.fallback_rates((METRICS[0],)),
        lambda: charts.running((), 8),
        lambda: charts.durations(()),
        lambda: charts.host_threads(()),
    ],
)
def test_no_data_draws_nothing(draw: Callable[[], str | None]) -> None:
    assert draw() is None


def test_a_single_point_still_draws() -> None:
    one = (TimePoint(START, 3.0),)
    for svg in (
        charts.thread_counts((ThreadPoint("card1", 4, START, 62),), 50, 80),
        charts.thread_counts((ThreadPoint("card1", 4, None, 62),), 50, 80),
        charts.executor_mix(ROWS[:1]),
        charts.fallback_rates(METRICS[1:2]),
        charts.running(one, 8),
        charts.durations(RUNS[:1]),
        charts.host_threads(one),
        charts.decision_tree(NODES[:1], ()),
    ):
        assert svg is not None
        parse(svg)


def test_an_empty_tree_still_says_so() -> None:
    shown = texts(parse(tree((), ())))
    assert "No decision tree" in shown


def test_charts_drawn_in_threads_match(drawn: dict[str, str]) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        again = list(pool.map(lambda _: every_chart(), range(4)))
    assert all(charts_ == drawn for charts_ in again)


def test_thread_counts_use_time_when_every_point_has_one() -> None:
    timed = charts.thread_counts(THREADS, 50, 80)
    assert timed is not None
    shown = texts(parse(timed))
    assert "time (UTC)" in shown
    assert "2025-Mar-14" in shown
    assert "threads per process" in shown
    assert all(band in shown for band in ("healthy", "warning", "critical"))


def test_thread_counts_without_a_time_are_left_out_and_said_so() -> None:
    mixed = (*THREADS, ThreadPoint("card9", 7, None, 55))
    drawn = charts.thread_counts(mixed, 50, 80)
    assert drawn is not None
    shown = texts(parse(drawn))
    assert "time (UTC)" in shown
    assert "1 counts without a time left out" in shown
    assert "card9" not in shown


def test_with_no_time_at_all_each_instance_has_a_column() -> None:
    """Run logs carry no date: one column per instance, never every point at x = 1."""
    untimed = tuple(ThreadPoint(f"tmp_batt_{i}", 1, None, 80 + i) for i in range(3))
    drawn = charts.thread_counts((*untimed, ThreadPoint("tmp_batt_0", 1, None, 90)), 50, 80)
    assert drawn is not None
    shown = texts(parse(drawn))
    assert "time (UTC)" not in shown
    assert "no time axis, the logs carry no dates" in shown
    assert all(f"tmp_batt_{i}" in shown for i in range(3))


def test_bands_follow_the_thresholds_given() -> None:
    svg = charts.thread_counts(THREADS, 30, 60)
    assert svg is not None
    assert "30-60" in texts(parse(svg))


def test_grades_and_paths_keep_their_colours(drawn: dict[str, str]) -> None:
    assert charts.WARNING in drawn["fallbacks"]  # ProcessPool at 22 %: a warning
    for color in charts.PATH_COLORS.values():
        assert color in drawn["mix"]
    assert "fleet: 8" in texts(parse(drawn["running"]))
    assert "host" in texts(parse(drawn["host"]))


def test_tree_escapes_hostile_labels() -> None:
    nodes = (
        TreeNode("root", None, "Is script completing successfully?", True),
        TreeNode("x", "root", HOSTILE, True),
        TreeNode("y", "root", "back\\slash \\n and \\l stay literal", False),
    )
    path = (
        Step("q1", "YES", f"evidence {HOSTILE}", "x"),
        Step("q2", f"off the tree {HOSTILE}", "more <b>numbers</b> & more"),
    )
    svg = tree(nodes, path)
    assert "<script" not in svg
    root = parse(svg)
    assert not list(root.iter("script")) and not list(root.iter(f"{SVG}script"))
    shown = "".join(texts(root).split())
    for piece in ("<script>alert(1)</script>", "&", '"quoted"', "✅", "❌", "<b>numbers</b>"):
        assert "".join(piece.split()) in shown, piece
    assert "back\\slash\\nand\\lstayliteral" in shown


def test_a_label_with_no_words_is_a_blank_box() -> None:
    """Graphviz refuses an empty HTML-like label (``<>``): an empty text is drawn blank."""
    dot = graphviz.Digraph()
    dot.node("a", node_label(""))
    assert "<svg" in dot.pipe(format="svg", encoding="utf-8")


def classes(root: ET.Element, kind: str) -> dict[str, set[str]]:
    """Each graphviz node or edge group's classes, by id."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        names = set(group.get("class", "").split())
        if kind in names:
            found[group.get("id", "")] = names
    return found


def test_tree_marks_the_taken_path(drawn: dict[str, str]) -> None:
    root = parse(drawn["tree"])
    nodes = classes(root, "node")
    assert len(nodes) == len(NODES)
    taken = {ident for ident, names in nodes.items() if "taken" in names}
    expected = {f"pw-tree-node{i}" for i, node in enumerate(NODES) if node.taken}
    assert taken == expected
    edges = classes(root, "edge")
    assert sum("taken" in names for names in edges.values()) == len(TAKEN) - 1
    for group in root.iter(f"{SVG}g"):
        if "taken" in group.get("class", "").split():
            shape = group.find(f"{SVG}path")
            assert shape is not None
            assert shape.get("stroke") == charts.LINE


def test_tree_shows_each_steps_evidence(drawn: dict[str, str]) -> None:
    shown = " ".join(texts(parse(drawn["tree"])).split())
    for step in WALK:
        assert step.evidence in shown


def test_tree_hangs_off_tree_answers_on_the_last_taken_node() -> None:
    path = (
        WALK[0],
        WALK[1],
        Step("Check thread count", "65 threads: no branch", "up to 65 threads", None),
    )
    nodes = tuple(
        TreeNode(node, parent, WORDS[node], node in {"root", "no", "hanging"})
        for node, parent in TREE
    )
    root = parse(tree(nodes, path))
    notes = classes(root, "off-tree")
    assert set(notes) == {"pw-tree-offtree0", "pw-tree-offedge0"}
    shown = " ".join(texts(root).split())
    assert "65 threads: no branch" in shown
    assert "up to 65 threads" in shown
    edge = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "pw-tree-offedge0")
    line = edge.find(f"{SVG}path")
    assert line is not None
    assert line.get("stroke") == charts.WARNING
    _, off = charts.tree._evidence(nodes, path)
    assert [(anchor, step.answer) for anchor, step in off] == [("hanging", path[2].answer)]


def test_trend_dots_take_the_metric_s_grade_not_the_day_s_verdict() -> None:
    """A critical day whose timeout rate is 0 % draws that dot healthy."""
    days = tuple(
        TrendDay(date(2025, 10, 10 + i), Verdict.CRITICAL, 90.0, 0.0, 0.0, 40.0,
                 grades=(("processpool_fallback_rate", Grade.CRITICAL),
                         ("threadpool_fallback_rate", Grade.HEALTHY),
                         ("timeout_rate", Grade.HEALTHY), ("thread_count", Grade.HEALTHY)))
        for i in range(3)
    )  # fmt: skip
    limits = (("processpool_fallback_rate", 10.0, 30.0), ("threadpool_fallback_rate", 5.0, 15.0),
              ("timeout_rate", 0.0, 5.0), ("thread_count", 50.0, 80.0))  # fmt: skip
    svg = charts.trends(days, limits)
    assert svg is not None
    fills = re.findall(r"fill: ?(#[0-9a-f]{6})", svg)
    dots = [c for c in fills if c in {charts.HEALTHY, charts.CRITICAL}]
    assert dots.count(charts.HEALTHY) == 9  # three metrics healthy on three days
    assert dots.count(charts.CRITICAL) == 3  # the ProcessPool fallback, on each day


def test_the_page_and_the_charts_share_one_palette() -> None:
    css = str(stylesheet())
    for name, color in PALETTE.items():
        assert css.count(f"--{name}:") == 1 and f"--{name}: {color}" in css
    assert PALETTE["healthy"] == charts.HEALTHY and PALETTE["critical"] == charts.CRITICAL
