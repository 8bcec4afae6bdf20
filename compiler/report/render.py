"""The report as Markdown (the tables of `slo diff`) and as JSON (stable, see docs/report.md). Pure."""

import dataclasses
import json
from datetime import datetime

from .. import markdown
from ..promql import number
from ..review import code, plain
from . import COMPLETE, FROM_BACKTEST, FUTURE, MET, MISSED, NOT_STARTED, OFF_TRACK, WORST_GROUPS, Report, SLOReport

VERDICTS = {MET: "✅ met", MISSED: "❌ missed", OFF_TRACK: "⚠️ off track"}  # the others as they are


def verdict(slo: SLOReport) -> str:
    return VERDICTS.get(slo.verdict, slo.verdict)


def when(text: str) -> str:
    """`2026-11-01T00:00:00+01:00` or `...Z` as `2026-11-01 00:00`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")


def percent(value) -> str:
    return "–" if value is None else f"{number(value)}%"


def outage(slo: SLOReport) -> str:
    used = "–" if slo.outage_minutes is None else number(slo.outage_minutes)
    return f"{used} of {number(slo.budget_minutes)} min"


def fired(slo: SLOReport) -> int:
    return sum(a.fired for a in slo.alerts)


def heading(report: Report) -> list[str]:
    """The title and the period's line, the same in every format."""
    span = f"{when(report.start)} to {when(report.end)} ({report.timezone})"
    if report.state == COMPLETE:
        status = "complete"
    elif report.state == FUTURE:
        status = "not started yet: nothing to measure"
    else:
        status = f"under way: measured to {when(report.measured_to)} UTC, the verdicts are not final"
    replayed = (" Alerts are replayed from the raw series through the compiled rules, not read from ALERTS."
                if report.alerts_from == FROM_BACKTEST else "")
    return [f"SLO report {report.period}",
            f"{span}, {status}. Attained SLIs are rounded down and budget used up: never better than measured."
            f"{replayed}"]


def facts(slo: SLOReport) -> list[str]:
    """The lines of an SLO's section, in every format."""
    found = [f"objective {number(slo.objective)}% (its own period: {slo.window}); attained {percent(slo.attained)}: "
             f"{verdict(slo)}"]
    if slo.budget_used is not None:
        found.append(f"error budget used: {percent(slo.budget_used)}, the errors of {number(slo.outage_minutes)} "
                     f"minutes of full outage of the {number(slo.budget_minutes)} the period allows")
    return found + list(slo.notes)


def worst_title(slo: SLOReport) -> str:
    return (f"Worst groups ({min(WORST_GROUPS, len(slo.worst))} of {slo.groups}, {slo.groups_missed} below the "
            "objective):")


def no_alerts(slo: SLOReport) -> str:
    """What the section says without alerts; empty where nothing was measured."""
    return "" if slo.verdict == NOT_STARTED else "No alert of this SLO fired in the period."


def markdown_report(report: Report) -> str:
    title, line = heading(report)
    out = [f"# {title}", "", line, "",
           "| SLO | objective | attained | verdict | budget used | errors as full outage | alerts fired |",
           "|---|---:|---:|---|---:|---:|---:|"]
    out += [f"| {code(f'{s.service}/{s.slo}')} | {number(s.objective)}% | {percent(s.attained)} | {verdict(s)} | "
            f"{percent(s.budget_used)} | {outage(s)} | {fired(s)} |" for s in report.slos]
    for s in report.slos:
        out += ["", f"## {s.service}/{s.slo}", ""]
        if s.description:
            out += [markdown.inline(s.description), ""]
        out += [f"- {line}" for line in facts(s)]
        if s.worst:
            out += ["", worst_title(s), "", "| group | attained | |", "|---|---:|---|"]
            out += [f"| {code(w.group)} | {number(w.attained)}% | {'met' if w.met else 'below'} |"
                    for w in s.worst[:WORST_GROUPS]]
        if s.alerts:
            out += ["", "Alerts that fired:", "", "| alert | severity | fired | first (UTC) | last (UTC) | minutes firing |",
                    "|---|---|---:|---|---|---:|"]
            out += [f"| {code(a.alert)} | {code(a.severity) if a.severity else '–'} | {a.fired} | {when(a.first)} | "
                    f"{when(a.last)} | {a.minutes} |" for a in s.alerts]
        elif no_alerts(s):
            out += ["", no_alerts(s)]
    return "\n".join(out) + "\n"


def json_report(report: Report) -> str:
    return json.dumps(dataclasses.asdict(report), indent=2, sort_keys=True, default=plain, ensure_ascii=False) + "\n"
