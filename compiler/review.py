"""The review of an SLO change, as Markdown for a pull-request comment or as JSON for tools.

Pure: it prints what `changes` found and `measure` measured; the only arithmetic here is the
difference between an old and a new figure, for the reader.
"""

import dataclasses
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby

from .backtest import Backtest, Firing
from .changes import Caution, Changes, Objective, SLOChange, TierChange, Value
from .measure import Measurement
from .plan import number

_TABLE_UNSAFE = re.compile(r"[|\n\r]")
ONE_PLACE = Decimal("0.1")
# GitHub refuses comment bodies longer than 65536 characters.
COMMENT_LIMIT = 65536


# Firings listed per side under a backtest's table; all of them are in the JSON.
FIRST_FIRINGS = 5


def cautions(changes: Changes, measured: dict[str, Measurement],
             backtests: dict[str, Backtest] | None = None) -> list[Caution]:
    """The warnings of the change, with those of the measured performance and of the backtests."""
    found = list(changes.warnings)
    for slo, b in (backtests or {}).items():
        old, new = b.old, b.new
        if old is not None and new.pages > 2 * old.pages:
            found.append(Caution(slo, "backtest-pages", f"over the last {b.span} the new spec would have paged "
                                                        f"{_times(new.pages)} instead of {_times(old.pages)}"))
        if new.exhausted_at:
            found.append(Caution(slo, "backtest-exhausted", f"over the last {b.span} the new spec would have "
                                                            f"exhausted its error budget at {_when(new.exhausted_at)} "
                                                            f"(left at the end: {_left(new.budget_left)})"))
    for m in measured.values():
        if m.exhausted:
            where = f" (worst: {m.group})" if m.group else ""
            found.append(Caution(m.slo, "breached", f"measured {number(m.performance)}% over {m.period}{where}, new "
                                                    f"objective {number(m.objective)}%: the budget would be "
                                                    f"exhausted now"))
    return sorted(found, key=lambda c: (c.slo, c.kind, c.message))


def _fence(text: str, shortest: int) -> str:
    """A run of backticks longer than any in `text`, so that the text cannot close it."""
    return "`" * max(shortest, max((len(run) for run in re.findall("`+", text)), default=0) + 1)


def code(text: str) -> str:
    """Inline code that survives backticks and table pipes in user text (PromQL, label values)."""
    text = _TABLE_UNSAFE.sub(lambda m: "\\|" if m.group() == "|" else " ", text)
    fence = _fence(text, 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _signed(value: Decimal, unit: str) -> str:
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{number(abs(value))}{unit}"


def _from_to(old: str, new: str) -> str:
    return old if old == new else f"{old} → {new}"


def _objective(o: Objective) -> str:
    return f"{number(o.percent)}% over {o.period}"


def _budget(old: Objective | None, new: Objective) -> str:
    if old is None:
        return (f"error budget {number(new.budget_minutes)} min of full outage per {new.period}; "
                f"{number(new.allowed_errors)}% of events may fail")
    minutes = _signed(new.budget_minutes - old.budget_minutes, " min")
    relative = ((new.allowed_errors / old.allowed_errors - 1) * 100).quantize(ONE_PLACE, ROUND_HALF_UP)
    errors = _from_to(f"{number(old.allowed_errors)}%", f"{number(new.allowed_errors)}%")
    return (f"error budget {number(old.budget_minutes)} → {number(new.budget_minutes)} min of full outage per "
            f"period ({minutes}); allowed errors {errors} of events"
            + (f" ({_signed(relative, '%')})" if relative else ""))


def _tier_rows(tiers: tuple[TierChange, ...]) -> list[str]:
    rows = ["| tier | windows (long/short) | burn rate | fires above | for |", "|---|---|---|---|---|"]
    for t in tiers:
        a, b = t.old, t.new
        if a and b:
            cells = [t.tier, _from_to(a.windows, b.windows), _from_to(number(a.burn_rate), number(b.burn_rate)),
                     _from_to(f"{number(a.fires_above)}%", f"{number(b.fires_above)}%") + " errors",
                     _from_to(a.for_, b.for_)]
        else:
            x = a or b
            cells = [f"{t.tier} ({'removed' if b is None else 'added'})", x.windows, number(x.burn_rate),
                     f"{number(x.fires_above)}% errors", x.for_]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _sli(change: SLOChange) -> list[str]:
    body = []
    for value in change.sli:
        body += [f"- {value.key}: {value.old}"] if value.old is not None else []
        body += [f"+ {value.key}: {value.new}"] if value.new is not None else []
    fence = _fence("\n".join(body), 3)
    return ["SLI:", "", f"{fence}diff", *body, fence, ""]


def _slo(change: SLOChange, measured: Measurement | None, backtest: Backtest | None) -> list[str]:
    title = f"{change.status.capitalize()} {code(change.name)}"
    if change.renamed_from:
        title = f"Renamed {code(change.renamed_from)} → {code(change.id)}"
    lines = [f"#### {title}", ""]
    old, new = change.old, change.new
    if new is None:
        lines.append(f"- was {_objective(old)}, error budget {number(old.budget_minutes)} min of full outage "
                     f"per period")
    elif old is None or old != new:
        lines.append(f"- objective: {_from_to(_objective(old), _objective(new)) if old else _objective(new)}")
        lines.append(f"- {_budget(old, new)}")
    if measured:
        lines.append(_measured(measured))
    for what, tiers in (("on", change.tiers_on), ("off", change.tiers_off)):
        lines += [f"- the {tier} tier is turned {what}" for tier in tiers]
    if change.missing_data:
        lines.append(_missing_data(change.missing_data))
    if change.alert:
        lines.append(f"- alert name: {code(change.alert.old)} → {code(change.alert.new)}")
    if change.severity:
        lines.append("- severity: " + ", ".join(f"{tier} alerts {code(value)}" for tier, value in change.severity))
    for value in change.routing:
        tier, label = value.key.split(": ", 1)
        old_value = code(value.old) if value.old is not None else "(none)"
        new_value = code(value.new) if value.new is not None else "(none)"
        lines.append(f"- {tier} alerts, label {code(label)}: {old_value} → {new_value}")
    lines.append("")
    if change.sli and new is not None:
        lines += _sli(change)
    if change.tiers and new is not None:
        lines += ["Alert tiers:", "", *_tier_rows(change.tiers), ""]
    if backtest:
        lines += _backtest(backtest)
    return lines


def _missing_data(value: Value) -> str:
    if value.new is None:
        return "- the missing-data ticket is turned off"
    if value.old is None:
        return f"- the missing-data ticket is turned on: it fires after {value.new} without data"
    return f"- the missing-data ticket fires after {value.old} → {value.new} without data"


def _measured(m: Measurement) -> str:
    where = f", worst {m.group}" if m.group else ""
    spent = (m.spent * 100).quantize(ONE_PLACE, ROUND_HALF_UP)
    return (f"- measured {number(m.performance)}% over {m.period}{where}: {number(spent)}% of the "
            f"{number(m.objective)}% objective's error budget spent")


def _times(n: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def _when(stamp: str | None) -> str:
    return stamp.replace("T", " ").removesuffix(":00Z") + " UTC" if stamp else "never"


def _left(value: float | None) -> str:
    return "no traffic" if value is None else f"{'−' if value < 0 else ''}{number(Decimal(repr(abs(value))))}%"


_ROWS = (("pages", lambda o: str(o.pages)), ("tickets", lambda o: str(o.tickets)),
         ("minutes firing", lambda o: str(o.firing_minutes)),
         ("budget left at the end", lambda o: _left(o.budget_left)),
         ("lowest budget left", lambda o: _left(o.budget_min)),
         ("budget exhausted", lambda o: _when(o.exhausted_at)))


def _backtest(b: Backtest) -> list[str]:
    sides = [("old", b.old), ("new", b.new)] if b.old is not None else [("new", b.new)]
    lines = [f"Backtest over the last {b.span} ({_when(b.start)} → {_when(b.end)}):", ""]
    if b.note:
        lines += [f"- {b.note}", ""]
    lines += ["| | " + " | ".join(name for name, _ in sides) + " |", "|---" * (len(sides) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(cell(o) for _, o in sides) + " |" for label, cell in _ROWS]
    lines.append("")
    for name, outcome in sides:
        if outcome.firings:
            lines += [f"First firings ({name}):", ""] + [_firing(f) for f in outcome.firings[:FIRST_FIRINGS]]
            more = len(outcome.firings) - FIRST_FIRINGS
            lines += [f"- … and {more} more (`--format json` lists them all)"] if more > 0 else []
            lines.append("")
    return lines


def _firing(f: Firing) -> str:
    where = f" ({f.group})" if f.group else ""
    end = _when(f.end) if f.end else "still firing"
    what = f"{f.long_window}/{f.short_window}" if f.long_window else f"{code(f.alert)} (no SLI data)"
    return f"- {_when(f.start)} → {end}: {f.tier} {what}{where}"


def _names(paths: tuple[str, ...]) -> str:
    return ", ".join(code(p) for p in paths)


def _artifacts(changes: Changes) -> list[str]:
    a = changes.artifacts
    lines = ["### Generated artifacts", "",
             f"- recording rules: {_from_to(str(a.records[0]), str(a.records[1]))}; "
             f"alert rules: {_from_to(str(a.alerts[0]), str(a.alerts[1]))}"]
    for label, items in (("rule groups added", a.groups_added), ("rule groups removed", a.groups_removed),
                         ("alert rules added", a.alerts_added), ("alert rules removed", a.alerts_removed)):
        if items:
            lines.append(f"- {label}: {_names(items)}")
    for files in a.files:
        parts = [f"{what} {_names(paths)}" for what, paths in
                 (("added", files.added), ("changed", files.changed), ("removed", files.removed)) if paths]
        lines.append(f"- {files.kind}: {'; '.join(parts)}")
    return lines + [""]


def markdown(changes: Changes, base: str, measured: dict[str, Measurement],
             backtests: dict[str, Backtest] | None = None) -> str:
    if changes.empty:
        return f"No SLO changes against {code(base)}.\n"
    lines = [f"## SLO changes against {code(base)}", ""]
    found = cautions(changes, measured, backtests)
    if found:
        lines += ["**Warnings**", ""] + [f"- ⚠️ {code(c.slo)}: {c.message}" for c in found] + [""]
    for service, slos in groupby(changes.slos, key=lambda c: c.service):
        note = " (new service)" if service in changes.services_added else (
            " (removed service)" if service in changes.services_removed else "")
        lines += [f"### {code(service)}{note}", ""]
        for change in slos:
            lines += _slo(change, measured.get(change.id), (backtests or {}).get(change.id))
    if not changes.slos and not changes.settings:
        lines += ["No change to objectives, SLIs, alert tiers or routing; only generated text differs "
                  "(descriptions, owners or annotations).", ""]
    if changes.settings:
        lines += ["### Settings", "", f"Changed: {_names(changes.settings)} (their effect on each SLO is "
                                      f"listed above).", ""]
    lines += _artifacts(changes)
    text = "\n".join(lines)
    while "\n\n\n" in text:  # blocks end with a blank line; a block with no bullets leaves two
        text = text.replace("\n\n\n", "\n\n")
    return fit(text.rstrip("\n") + "\n", base)


def fit(text: str, base: str, limit: int = COMMENT_LIMIT) -> str:
    """The text, cut at a line with a note when it is longer than a pull-request comment may be.

    Warnings come first, so a cut keeps them.
    """
    if len(text) <= limit:
        return text
    note = (f"\n… cut here: the full review is longer than a pull-request comment allows; run "
            f"`slo diff {base}` or `slo diff {base} --format json` to see all of it.\n")
    return text[:text.rindex("\n", 0, limit - len(note)) + 1] + note


def plain(value: object) -> object:
    """JSON of a Decimal: its text, exactly as shown."""
    if isinstance(value, Decimal):
        return number(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_json(changes: Changes, base: str, commit: str, measured: dict[str, Measurement],
            backtests: dict[str, Backtest] | None = None) -> str:
    data = {"base": {"ref": base, "commit": commit}, **dataclasses.asdict(changes),
            "warnings": [dataclasses.asdict(c) for c in cautions(changes, measured, backtests)],
            "backtest": {slo: dataclasses.asdict(b) for slo, b in sorted((backtests or {}).items())},
            "measured": [dataclasses.asdict(m) for _, m in sorted(measured.items())], "empty": changes.empty}
    return json.dumps(data, indent=2, sort_keys=True, default=plain, ensure_ascii=False) + "\n"
