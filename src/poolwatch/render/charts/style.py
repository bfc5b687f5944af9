"""The report's palette and the charts' matplotlib style: grade, executor-path and
instance colours, sizes and fonts. ``PALETTE`` is also the stylesheet's: the page gets
its colours from here (``render.html.stylesheet``), so a chart and the table beside it
cannot drift apart."""

from __future__ import annotations

import threading
from typing import Any

from matplotlib.typing import RcKeyType

from poolwatch.states import Grade

#: Text, secondary text and the grade colours, the same in every chart and table of the
#: report (report.css's ``--ink``, ``--muted``, ``--healthy`` ... variables).
PALETTE = {
    "ink": "#1f2328",
    "muted": "#59636e",
    "healthy": "#1a7f37",
    "warning": "#9a6700",
    "critical": "#cf222e",
    "unknown": "#6e7781",
}
INK, MUTED = PALETTE["ink"], PALETTE["muted"]
HEALTHY, WARNING = PALETTE["healthy"], PALETTE["warning"]
CRITICAL, UNKNOWN = PALETTE["critical"], PALETTE["unknown"]
GRADE_COLORS = {Grade.HEALTHY: HEALTHY, Grade.WARNING: WARNING, Grade.CRITICAL: CRITICAL,
                Grade.UNKNOWN: UNKNOWN}  # fmt: skip

#: Executor paths (Paul Tol's colour-blind-safe "vibrant" scheme).
PATH_COLORS = {
    "process": "#0077bb",
    "thread": "#009988",
    "sequential": "#ee7733",
    "timeout": "#cc3311",
}
#: The executor paths' names. "Fallback" is kept for the guide's two fallback rates (a
#: pool that failed), which ``FALLBACKS`` names, so that no word means two things.
PATH_LABELS = {
    "process": "ProcessPool",
    "thread": "ThreadPool (1 worker)",
    "sequential": "sequential",
    "timeout": "timeout",
}
PATH_MARKERS = {"process": "o", "thread": "s", "sequential": "^", "timeout": "X"}
#: Text drawn on a bar of each path's colour.
PATH_TEXT = {
    "process": "#ffffff",
    "thread": "#ffffff",
    "sequential": "#000000",
    "timeout": "#ffffff",
}

#: One colour per instance (Okabe-Ito, olive for its pale yellow), and markers on another cycle.
INSTANCE_COLORS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#000000",
    "#999933",
)
INSTANCE_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: At most about this many markers per instance; the line joins every point.
MARKS = 80

LINE = "#0969da"
BAND_ALPHA = 0.12

#: The tree: taken nodes and edges in LINE, untaken ones muted.
TREE_FONT = "DejaVu Sans"
TREE_WRAP = 20
EVIDENCE_WRAP = 24
TAKEN_FILL = "#ddf4ff"
UNTAKEN_FILL = "#f6f8fa"
UNTAKEN_LINE = "#afb8c1"
NOTE_FILL = "#fff8c5"

#: A chart is drawn 17 cm wide (A4 less margins): one SVG unit is one point there.
WIDTH = 17 / 2.54
PREFIX = "pw-"

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 9.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "text.parse_math": False,
    "timezone": "UTC",
}

#: rc_context changes matplotlib's process-wide settings while a chart is drawn: one at a time.
RC_LOCK = threading.Lock()
