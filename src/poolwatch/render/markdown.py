"""ticket.md: a short Markdown summary of the Findings for an incident ticket.

Log text is data: everything a finding quotes is escaped for Markdown (and the HTML
that Markdown allows), so a log line can neither format the ticket nor run or fetch
anything where it is rendered.
"""

from __future__ import annotations

import re

import jinja2

from poolwatch.findings import Findings
from poolwatch.render.formats import COMMAND, templates
from poolwatch.states import Verdict

_BADGES = {Verdict.HEALTHY: "🟢", Verdict.WARNING: "🟡", Verdict.CRITICAL: "🔴",
           Verdict.UNKNOWN: "⚪"}  # fmt: skip
#: Characters that give inline Markdown a meaning (emphasis, code, links, tables,
#: strike-through); with ``[`` escaped no link or image can form.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def environment() -> jinja2.Environment:
    """The templates' environment: strict, no autoescape (Markdown escapes by filter)."""
    env = templates(autoescape=False, keep_trailing_newline=True)
    env.filters.update(md=md, code=code, commands=commands)
    return env


def render(findings: Findings) -> str:
    """ticket.md's text."""
    template = environment().get_template("ticket.md.j2")
    text = template.render(f=findings, verdict_badge=_BADGES[findings.verdict])
    return re.sub(r"\n{3,}", "\n\n", text)


def md(text: object) -> str:
    """Text safe in Markdown: no HTML tag can open, Markdown's own characters backslashed."""
    return _escaped(" ".join(str(text).split()))


def _escaped(plain: str) -> str:
    return _MARKDOWN.sub(r"\\\1", plain.replace("&", "&amp;").replace("<", "&lt;"))


def commands(text: object) -> str:
    """Text safe in Markdown (outside tables), a backticked command of the guide's kept as
    a code span."""
    parts = COMMAND.split(" ".join(str(text).split()))
    return "".join(f"`{code(part)}`" if i % 2 else _escaped(part) for i, part in enumerate(parts))


def code(text: object) -> str:
    """Text safe inside a Markdown code span (no backtick can close it)."""
    return " ".join(str(text).split()).replace("`", "'")
