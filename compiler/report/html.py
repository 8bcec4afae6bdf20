"""The report as one self-contained HTML file: inline CSS, an inline SVG sparkline of the budget left
per SLO, no script and no external asset, so that it reads the same as an email attachment. Pure."""

import re
from decimal import Decimal

import jinja2
from markupsafe import Markup

from ..promql import number
from . import MET, MISSED, OFF_TRACK, WORST_GROUPS, Report, SLOReport
from .render import facts, fired, heading, no_alerts, outage, percent, verdict, when, worst_title

WIDTH, HEIGHT, PAD = 120, 28, 2  # px of a sparkline
_CSS = {MET: "met", MISSED: "missed", OFF_TRACK: "off-track"}


def sparkline(values: tuple[Decimal | None, ...]) -> Markup:
    """Budget left (percent) at the end of each day as a line from the first day with data; a dashed
    line at 0% where it went below. Empty without data."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if not points:
        return Markup("")
    low, high = min(0.0, *(v for _, v in points)), max(100.0, *(v for _, v in points))
    x = lambda i: PAD + (WIDTH - 2 * PAD) * i / max(len(values) - 1, 1)  # noqa: E731
    y = lambda v: PAD + (HEIGHT - 2 * PAD) * (high - v) / (high - low)  # noqa: E731
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in points)
    zero = (f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{WIDTH - PAD}" y2="{y(0):.1f}" stroke="#cf222e" '
            f'stroke-dasharray="2,2" stroke-width="1"/>') if low < 0 else ""
    colour = "#cf222e" if points[-1][1] < 0 else "#1a7f37"
    title = f"budget left per day: {number(values[points[0][0]])}% to {number(values[points[-1][0]])}%"
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
                  f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img"><title>{title}</title>{zero}'
                  f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{line}"/></svg>')


def _slo(slo: SLOReport) -> dict:
    identity = f"{slo.service}/{slo.slo}"
    return {"id": identity, "anchor": re.sub(r"[^a-z0-9-]", "-", identity), "description": slo.description,
            "objective": f"{number(slo.objective)}%", "attained": percent(slo.attained), "verdict": verdict(slo),
            "css": _CSS.get(slo.verdict, ""), "budget_used": percent(slo.budget_used), "outage": outage(slo),
            "fired": fired(slo), "sparkline": sparkline(slo.budget_left), "facts": facts(slo),
            "worst": [{"group": w.group, "attained": percent(w.attained), "met": w.met} for w in slo.worst[:WORST_GROUPS]], "worst_title": worst_title(slo), "no_alerts": no_alerts(slo),
            "alerts": [{**a.__dict__, "first": when(a.first), "last": when(a.last)} for a in slo.alerts]}


_ENV = jinja2.Environment(loader=jinja2.PackageLoader("compiler", "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True)


def html_report(report: Report) -> str:
    title, line = heading(report)
    return _ENV.get_template("report.html.j2").render(title=title, line=line, slos=[_slo(s) for s in report.slos])
