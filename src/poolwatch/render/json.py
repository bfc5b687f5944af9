"""summary.json: the Findings as a stable, versioned JSON document.

The contract is ``data/summary.schema.json`` (shipped in the package) and the
README's "summary.json" section. Keys keep their order; numbers are rounded so that
the same inputs give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from poolwatch.findings import Baseline, Findings, Flag, History, PatternMatch, Ref
from poolwatch.render import assets
from poolwatch.states import FlagColor

SCHEMA_VERSION = 1
SCHEMA_FILE = "summary.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema of summary.json."""
    text = assets.text(Path(str(resources.files("poolwatch"))) / "data" / SCHEMA_FILE)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def document(findings: Findings) -> dict[str, Any]:
    """The summary as plain JSON data, in the contract's key order."""
    f = findings
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _time(f.generated_at),
        "window": {"start": _time(f.window[0]), "end": _time(f.window[1])},
        "inputs": {
            "files": f.inputs.files,
            "bytes": f.inputs.bytes,
            "lines": f.inputs.lines,
            "unparsed_lines": f.inputs.unparsed_lines,
            "duplicates": f.inputs.duplicates,
            "skipped": [{"path": p, "reason": r} for p, r in f.inputs.skipped],
            "collected": _time(f.inputs.collected),
            "times_note": f.inputs.times_note,
        },
        "instances": f.instances,
        "concurrency": f.concurrency,
        "runs": asdict(f.runs),
        "executor_mix": {k: _pct(v) for k, v in asdict(f.executor_mix).items()},
        "counts": asdict(f.counts),
        "monitor": None
        if f.monitor is None
        else {
            **asdict(f.monitor),
            "host_threads": None
            if f.monitor.host_threads is None
            else dict(zip(("min", "max"), f.monitor.host_threads, strict=True)),
        },
        "metrics": {
            m.name: {
                "value": _num(m.value),
                "unit": m.unit,
                "grade": m.grade,
                "source": m.source,
                "action": m.action,
                "warning": _num(m.warning),
                "critical": _num(m.critical),
                "title": m.title,
                "ranges": dict(zip(("healthy", "warning", "critical"), m.ranges, strict=True)),
                "measured_by": m.measured_by or None,
            }
            for m in f.metrics
        },
        "limits": {
            limit.name: {"value": _num(limit.value), "unit": limit.unit, "source": limit.source}
            for limit in f.limits
        },
        "verdict": f.verdict,
        "summary": f.summary,
        "flags": {color: [_flag(x) for x in f.flags if x.color == color] for color in FlagColor},
        "scenarios": [
            {
                "id": s.id,
                "title": s.title,
                "diagnosis": s.diagnosis,
                "evidence": s.evidence,
                "solutions": list(s.solutions),
                "refs": _refs(s.refs),
            }
            for s in f.scenarios
        ],
        "decision_path": [asdict(step) for step in f.decision_path],
        "actions": [
            {
                "id": a.id,
                "text": a.text,
                "reason": a.reason,
                "evidence": a.evidence,
                "refs": _refs(a.refs),
                "values": {k: list(v) if isinstance(v, tuple) else v for k, v in a.values},
            }
            for a in f.actions
        ],
        "pattern": None if f.pattern is None else _pattern(f.pattern),
        "performance": None
        if f.performance is None
        else {**asdict(f.performance), "worst_ratio": _num(f.performance.worst_ratio)},
        "baseline": None if f.baseline is None else _baseline(f.baseline),
        "history": None if f.history is None else _history(f.history),
        "sampling": None
        if f.sampling is None
        else {
            **asdict(f.sampling),
            "first": _time(f.sampling.first),
            "last": _time(f.sampling.last),
            "measured": list(f.sampling.measured),
        },
    }


def _pattern(p: PatternMatch) -> dict[str, Any]:
    """The fleet beside the guide's Expected Production Patterns."""
    return {
        "classification": p.classification,
        "text": p.text,
        "instances": [asdict(line) for line in p.lines],
        "aspects": [asdict(aspect) for aspect in p.aspects],
    }


def _baseline(b: Baseline) -> dict[str, Any]:
    """The before/after block, keyed like ``metrics``."""
    return {
        "source": b.source,
        "metrics": {
            r.key: {
                "before": _num(r.before),
                "after": _num(r.after),
                "change": None if r.before is None or r.after is None else _num(r.after - r.before),
                "before_grade": None if r.before_grade == "-" else r.before_grade,
                "after_grade": None if r.after_grade == "-" else r.after_grade,
                "crossed": r.crossed,
            }
            for r in b.rows
        },
        "executor_mix": {
            "before": {k: _pct(v) for k, v in asdict(b.mix_before).items()},
            "after": {k: _pct(v) for k, v in asdict(b.mix_after).items()},
        },
        "conclusion": b.conclusion,
    }


def _history(h: History) -> dict[str, Any]:
    """The daily summary's changes, by metric."""
    return {
        "day": h.day.isoformat(),
        "changes": {
            c.name: {
                "value": _num(c.value),
                "vs_yesterday": _num(c.vs_yesterday),
                "vs_median": _num(c.vs_median),
                "text": c.text,
            }
            for c in h.changes
        },
    }


def render(findings: Findings) -> str:
    """summary.json's text."""
    return json.dumps(document(findings), indent=2, ensure_ascii=False) + "\n"


def _time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, to the second."""
    return None if value is None else value.replace(microsecond=0).isoformat()


def _num(value: float | None) -> float | None:
    """A number rounded to 2 decimals (integers stay integral)."""
    if value is None:
        return None
    return float(round(value, 2))


def _pct(value: float) -> float:
    """A percentage to one decimal."""
    return float(round(value, 1))


def _flag(flag: Flag) -> dict[str, Any]:
    return {
        "id": flag.id,
        "text": flag.text,
        "holds": flag.holds,
        "evidence": flag.evidence,
        "refs": _refs(flag.refs),
        "reading": flag.reading,
        "share": _pct(flag.share),
    }


def _refs(refs: tuple[Ref, ...]) -> list[dict[str, Any]]:
    return [{"file": r.file, "line": r.line, "text": r.text} for r in refs]
