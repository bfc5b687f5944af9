"""The report's charts as inline SVG: matplotlib figures and the guide's decision tree.

Every chart is a self-contained ``<svg>`` element for an HTML page (and the PDF
WeasyPrint makes of it): no XML prolog, a viewBox and no fixed size so CSS scales it,
real text in DejaVu Sans, and ids prefixed with the chart's name (and ``scoped``, with
a host's) so that several charts can share one document. The same input always gives
the same bytes.
"""

from poolwatch.render.charts.figures import (
    durations,
    executor_mix,
    fallback_rates,
    host_threads,
    running,
    thread_counts,
    trends,
)
from poolwatch.render.charts.style import CRITICAL, HEALTHY, LINE, PATH_COLORS, WARNING
from poolwatch.render.charts.svg import scoped
from poolwatch.render.charts.tree import decision_tree, depths

__all__ = [
    "CRITICAL", "HEALTHY", "LINE", "PATH_COLORS", "WARNING", "decision_tree", "depths",
    "durations", "executor_mix", "fallback_rates", "host_threads", "running", "scoped",
    "thread_counts", "trends",
]  # fmt: skip
