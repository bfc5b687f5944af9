"""The guide's alert conditions, tested as its script meant them to be.

``monitor_week6b.sh`` alerts when ``System overloaded`` appears more than 5 times, or
``ThreadPoolExecutor also failed`` more than 3 times, "in last 100 lines" of all run logs
at once (a test that in fact never ran: see log-formats.md). Here each is an integer
test per instance over one sample window (the lines the instance's logs gained since
the previous sample): 6 overloads alert, 5 do not; 4 ThreadPool failures alert, 3 do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from poolwatch.config import MONITOR_OVERLOAD_ALERT, MONITOR_THREADPOOL_ALERT
from poolwatch.monitor.fallbacks import Fallbacks

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Rule:
    """One alert condition: more than ``threshold`` lines of ``kind`` in a window."""

    name: str
    kind: str
    threshold: int
    severity: Severity
    mark: str
    """The symbol the guide's script prints in front of the alert."""

    def message(self, instance: str, count: int, window: float | None) -> str:
        """The alert in the guide's words, with the instance and the window."""
        if window is None:  # the first sample reads each file from its latest run
            since = "in its latest run (first sample)"
        else:
            since = f"in the last {window:.0f} s" if window >= 10 else f"in the last {window:.1f} s"
        if self.name == "overload":
            return f"System overloaded detected {count} times in {instance} {since}"
        return f"ThreadPool failures {count} times in {instance} {since} (extreme load)"


RULES: tuple[Rule, ...] = (
    Rule("overload", "overload", MONITOR_OVERLOAD_ALERT, "warning", "\u26a0\ufe0f "),
    Rule("threadpool", "threadpool_failed", MONITOR_THREADPOOL_ALERT, "critical", "\u274c"),
)


@dataclass(frozen=True)
class Alert:
    """One alert: a rule, the instance it holds for, the count against the threshold."""

    rule: Rule
    instance: str
    count: int
    window: float | None

    @property
    def message(self) -> str:
        """The alert as a sentence (the JSON record's ``message``)."""
        return self.rule.message(self.instance, self.count, self.window)

    @property
    def line(self) -> str:
        """The alert as the guide's script prints it (``⚠️  ALERT: ...``)."""
        return f"{self.rule.mark} ALERT: {self.message}"


def check(fallbacks: Mapping[str, Fallbacks], window: float | None) -> list[Alert]:
    """The alerts of one sample: every rule against every instance's window counts."""
    return [
        Alert(rule, instance, counts.of(rule.kind), window)
        for instance, counts in sorted(fallbacks.items())
        for rule in RULES
        if counts.of(rule.kind) > rule.threshold
    ]
