"""What an SLO's alerts would have done over past traffic, for `slo diff --backtest SPAN`.

Fetching (I/O at the edge): the rates the rules read from raw series, as range queries at the rule
interval, so each point is what a recording rule evaluated at that instant would have recorded: the
base window's error and total rates (`slo:sli_*:rate<B>`) from one period (or the longest window)
before the span, and those of every alert long window that reads raw series (the 1h page) over the
span. Each query asks for at most CHUNK points, under Prometheus' 11,000 points per series: per SLO
2 x ceil((period + span) / interval / CHUNK) + 2 x raw windows x ceil(span / interval / CHUNK)
queries (28 for a 30d SLO over 30d at 1m); two sides with the same SLI share them.

Evaluating (pure): every other window from those rates as the recording rules compute it (the
plan's ranges and lag correction), each alert pair's condition (with the low-traffic guard where the
SLO sets `alerting.min_events`) at every evaluation, its `for`, and
the period's budget as the sum of the recorded rates (which the hourly counts equal, except within
the period's oldest hour).
"""

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from . import durations, names, plan
from .changes import Changes
from .prometheus_api import Group, PrometheusAPI
from .targets import prometheus

CHUNK = 10_000  # points per series and query; Prometheus refuses more than 11,000

Values = list[float | None]  # one value per evaluation; None where the rule records nothing


@dataclass(frozen=True)
class History:
    """Fetched rates of one SLO at `start + i * step` (ms): {group: {window: (errors, total)}}, where
    the window is the base window or an alert long window read from raw series."""

    start: int
    step: int
    rates: dict[Group, dict[int, tuple[Values, Values]]]

    def first_data(self, base: int) -> int | None:
        """When the first base total rate was recorded (ms); None without traffic."""
        found = [next((i for i, v in enumerate(rates[base][1]) if v is not None), None)
                 for rates in self.rates.values()]
        found = [i for i in found if i is not None]
        return self.start + min(found) * self.step if found else None


@dataclass(frozen=True)
class Firing:
    tier: str
    alert: str  # the alert rule's name: the SLO's burn-rate alert, or its missing-data ticket
    long_window: str  # empty for the missing-data ticket
    short_window: str
    group: str  # `route="/pay"`; empty without group_by
    start: str  # when it fired, after its `for`
    end: str | None  # when it resolved; None: still firing at the end of the span


@dataclass(frozen=True)
class Outcome:
    """One side's alerts and budget over the span; budget figures are percent of the error budget left
    (of the worst group), None without traffic."""

    pages: int  # episodes during which a page pair fired, overlapping pairs counted once
    tickets: int
    firing_minutes: int  # minutes during which any pair fired
    budget_left: float | None  # at the end of the span
    budget_min: float | None
    exhausted_at: str | None  # the first evaluation with no budget left
    firings: tuple[Firing, ...]


@dataclass(frozen=True)
class Backtest:
    span: str  # the span evaluated; shorter than asked where the server holds less history
    start: str
    end: str
    old: Outcome | None  # None for an added SLO
    new: Outcome
    note: str  # why the span is shorter than asked; empty otherwise


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ms(stamp: str) -> int:
    """The time of an `iso` stamp, in ms."""
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()) * 1000


# --- evaluation (pure) ---

def _sums(values: Values) -> tuple[list[float], list[int]]:
    """Running sums and counts of the present values, for sums over any range in constant time."""
    sums, counts = [0.0], [0]
    for v in values:
        sums.append(sums[-1] + (v or 0.0))
        counts.append(counts[-1] + (v is not None))
    return sums, counts


def _ratio(errors: float | None, total: float | None) -> float | None:
    return errors / total if errors is not None and total is not None and total > 0 else None


def _or_zero(errors: Values, base_total: Values, may_be_absent: bool) -> Values:
    """An absent error rate counts as zero where the base total rate exists, as in the rules."""
    if not may_be_absent:
        return errors
    return [0.0 if e is None and t is not None else e for e, t in zip(errors, base_total)]


def _latest(values: Values, within: int) -> Values:
    """At each evaluation, the latest present value of the last `within` ones (`last_over_time`)."""
    out: Values = []
    at, latest = -within, None
    for i, v in enumerate(values):
        if v is not None:
            at, latest = i, v
        out.append(latest if i - at < within else None)
    return out


def _derived(slo: plan.SLOPlan, window: int, errors: Values, total: Values, step: int) -> Values:
    """A window counted from the recorded base rates (`prometheus.window_ratio`): the sum of the last
    samples of its range, or where it is corrected their mean over the window less the lag plus the
    latest rate over the lag."""
    samples = slo.derived_range(window) // step + 1
    corrected, covered, lag = slo.corrects(window), (window - slo.lag) / 1000, slo.lag / 1000
    (es, ec), (ts, tc) = _sums(errors), _sums(total)
    last_e, last_t = _latest(errors, slo.base // step), _latest(total, slo.base // step)
    out: Values = []
    for i in range(len(total)):
        lo = max(i + 1 - samples, 0)
        ne, nt = ec[i + 1] - ec[lo], tc[i + 1] - tc[lo]
        if not ne or not nt or corrected and (last_e[i] is None or last_t[i] is None):
            out.append(None)
            continue
        e, t = es[i + 1] - es[lo], ts[i + 1] - ts[lo]
        if corrected:
            e, t = e / ne * covered + lag * last_e[i], t / nt * covered + lag * last_t[i]
        out.append(e / t if t > 0 else None)
    return out


def window_ratios(slo: plan.SLOPlan, rates: dict[int, tuple[Values, Values]], step: int) -> dict[int, Values]:
    """The error ratio of every alert window at every evaluation, as its recording rule computes it."""
    may_be_absent = prometheus.base_rates(slo).errors_may_be_absent
    base_errors, base_total = rates[slo.base]
    base_errors = _or_zero(base_errors, base_total, may_be_absent)
    out = {}
    for window in sorted({w for p in slo.pairs for w in (p.long, p.short)}):
        if window == slo.base:
            out[window] = [_ratio(e, t) for e, t in zip(base_errors, base_total)]
        elif slo.reads_raw(window):
            errors, total = rates[window]
            if slo.sli_kind.gives_ratio:  # the user's ratio itself
                out[window] = errors
            else:
                out[window] = [_ratio(e, t) for e, t in zip(_or_zero(errors, base_total, may_be_absent), total)]
        else:
            out[window] = _derived(slo, window, base_errors, base_total, step)
    return out


def enough_events(slo: plan.SLOPlan, window: int, total: Values, step: int) -> list[bool]:
    """At each evaluation, whether the low-traffic guard (`prometheus.events_guard`) lets a pair with
    this long window fire: the mean recorded base total rate over the window, times the window, is at
    least `min_events`. True throughout without a guard."""
    if not slo.min_events:
        return [True] * len(total)
    samples = slo.mean_range(window) // step + 1
    sums, counts = _sums(total)
    out = []
    for i in range(len(total)):
        lo = max(i + 1 - samples, 0)
        n = counts[i + 1] - counts[lo]
        out.append(n > 0 and (sums[i + 1] - sums[lo]) / n * window / 1000 >= slo.min_events)
    return out


def _alert(pair: plan.Pair, long: Values, short: Values, enough: list[bool], budget: float,
           step: int) -> list[tuple[int, int | None]]:
    """(firing, resolved) evaluation indexes of one pair."""
    burn = float(pair.burn_rate)
    return _held([ok and lo is not None and sh is not None and lo / budget > burn and sh / budget > burn
                  for lo, sh, ok in zip(long, short, enough)], pair.for_, step)


def absent(slo: plan.SLOPlan, history: History, evaluations: int) -> list[bool]:
    """At each evaluation, whether the missing-data ticket's `absent()` holds: no group has a recorded base
    total rate. Prometheus marks a recorded series stale at the first evaluation that does not record
    it, so `absent()` in the same group sees the gap at once."""
    totals = [rates[slo.base][1] for rates in history.rates.values()]
    return [all(total[i] is None for total in totals) for i in range(evaluations)]


def _held(condition: list[bool], for_: int, step: int) -> list[tuple[int, int | None]]:
    """(firing, resolved) evaluation indexes of an alert whose condition holds at these evaluations, with
    Prometheus' `for`: pending from the first evaluation whose condition holds, firing once it has held
    `for`, resolved at the first that fails."""
    hold = -(-for_ // step)
    found, active, firing = [], None, None
    for i, holds in enumerate(condition):
        if holds:
            active = i if active is None else active
            if firing is None and i - active >= hold:
                firing = i
        else:
            if firing is not None:
                found.append((firing, i))
            active = firing = None
    if firing is not None:
        found.append((firing, None))
    return found


def _episodes(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching intervals merged."""
    merged: list[list[int]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _percent(value: float) -> float:
    return round(value * 100, 1)


def _budget(slo: plan.SLOPlan, errors: Values, total: Values, first: int, step: int) -> list[float | None]:
    """Share of the period's error budget left at each evaluation from `first`."""
    samples = slo.period // step
    (es, _), (ts, tc) = _sums(errors), _sums(total)
    out = []
    for i in range(first, len(total)):
        lo = max(i + 1 - samples, 0)
        ratio = _ratio(es[i + 1] - es[lo], ts[i + 1] - ts[lo]) if tc[i + 1] > tc[lo] else None
        out.append(None if ratio is None else 1 - ratio / float(slo.budget))
    return out


def evaluate(slo: plan.SLOPlan, history: History, start: int, end: int) -> Outcome:
    """What the SLO's alert rules would have done over [start, end] (ms, on the history's steps):
    firings that start within the span, and the budget at each evaluation of it."""
    step = history.step
    first, last = (start - history.start) // step, (end - history.start) // step
    firings, tiers, minutes, lows, ends, exhausted = [], {names.PAGE: [], names.TICKET: []}, 0, [], [], []
    budget = float(slo.budget)

    def fired(held: list[tuple[int, int | None]], tier: str, alert: str, windows: tuple[str, str], label: str,
              key: Group | None) -> list[tuple[int, int]]:
        """The firings of one alert series that start within the span, as (firing, resolved or last)."""
        spans = []
        for a, b in held:
            if a >= first:
                firings.append(Firing(tier, alert, *windows, label, iso(history.start + a * step),
                                      None if b is None else iso(history.start + b * step)))
                spans.append((a, last if b is None else b))
                tiers[tier].append((key, *spans[-1]))
        return spans
    for group, rates in sorted(history.rates.items()):
        label = ", ".join(f'{k}="{v}"' for k, v in group)
        ratios = window_ratios(slo, rates, step)
        spans = []
        for pair in slo.pairs:
            enough = enough_events(slo, pair.long, rates[slo.base][1], step)
            spans += fired(_alert(pair, ratios[pair.long][:last + 1], ratios[pair.short][:last + 1], enough, budget,
                                  step), pair.tier, slo.alert, (pair.long_text, pair.short_text), label, group)
        minutes += sum(b - a for a, b in _episodes(spans)) * step // plan.MINUTE
        errors, total = rates[slo.base]
        errors = _or_zero(errors, total, prometheus.base_rates(slo).errors_may_be_absent)
        left = _budget(slo, errors, total, first, step)[:last - first + 1]
        present = [v for v in left if v is not None]
        if present:
            lows.append(min(present))
            ends.append(next(v for v in reversed(left) if v is not None))
            gone = next((i for i, v in enumerate(left) if v is not None and v <= 0), None)
            if gone is not None:
                exhausted.append(history.start + (first + gone) * step)
    if slo.missing_data:  # one alert of the SLO, whatever its groups; its tickets are counted apart
        held = _held(absent(slo, history, last + 1), slo.missing_data.for_, step)
        minutes += sum(b - a for a, b in fired(held, names.TICKET, slo.missing_data.alert, ("", ""), "", None)) \
            * step // plan.MINUTE

    def count(tier: str) -> int:
        by_group: dict[Group | None, list] = {}
        for group, a, b in tiers[tier]:
            by_group.setdefault(group, []).append((a, b))
        return sum(len(_episodes(v)) for v in by_group.values())
    return Outcome(count(names.PAGE), count(names.TICKET), minutes, _percent(min(ends)) if ends else None,
                   _percent(min(lows)) if lows else None, iso(min(exhausted)) if exhausted else None,
                   tuple(sorted(firings, key=lambda f: (f.start, f.group, f.tier, f.long_window))))


# --- fetching (I/O) ---

def _grid(ms: int, step: int) -> int:
    return ms // step * step


def expressions(slo: plan.SLOPlan) -> dict[int, tuple[str, str]]:
    """{window: (errors, total)} of the rates the rules read from raw series."""
    found = {slo.base: prometheus.base_rates(slo)[:2]}
    for window in slo.windows:
        if slo.reads_raw(window) and window != slo.base:
            found[window] = prometheus.base_rates(slo, durations.to_text(window))[:2]
    return found


def _ranges(slo: plan.SLOPlan, start: int, end: int) -> dict[int, int]:
    """{window: first evaluation fetched}: the base rates from a period (or the longest window) before
    the span, so every window and the budget are whole at its start; raw windows from their pair's
    `for` before it, so an alert pending at the start keeps its time."""
    base_from = _grid(start - max(slo.windows), slo.rule_interval)
    lead = max((p.for_ for p in slo.pairs), default=0)
    return {w: base_from if w == slo.base else _grid(start - lead, slo.rule_interval) for w in expressions(slo)}


def query_count(slos: list[plan.SLOPlan], start: int, end: int) -> int:
    """Range queries the backtest of these SLOs asks, each distinct query once."""
    asked = {(expr, first, slo.rule_interval) for slo in slos for window, first in _ranges(slo, start, end).items()
             for expr in expressions(slo)[window]}
    return sum(-(-((end - first) // step + 1) // CHUNK) for _, first, step in asked)


class Fetcher:
    """Range queries at the rule interval, chunked, each asked once however many sides need it."""

    def __init__(self, api: PrometheusAPI):
        self.api, self.cache, self.queries = api, {}, 0

    def series(self, expr: str, start: int, end: int, step: int) -> dict[Group, Values]:
        key = (expr, start, end, step)
        if key in self.cache:
            return self.cache[key]
        length = (end - start) // step + 1
        out: dict[Group, Values] = {}
        for offset in range(0, length, CHUNK):
            a = start + offset * step
            b = min(a + (CHUNK - 1) * step, end)
            for series in self.api.query_range(expr, a / 1000, b / 1000, step / 1000):
                values = out.setdefault(tuple(sorted(series["metric"].items())), [None] * length)
                for ts, value in series["values"]:
                    v = float(value)
                    values[round((float(ts) * 1000 - start) / step)] = v if math.isfinite(v) else None
            self.queries += 1
        self.cache[key] = out
        return out

    def history(self, slo: plan.SLOPlan, start: int, end: int) -> History:
        step, ranges = slo.rule_interval, _ranges(slo, start, end)
        origin = min(ranges.values())
        length = (end - origin) // step + 1
        rates: dict[Group, dict[int, tuple[Values, Values]]] = {}
        for window, exprs in expressions(slo).items():
            pad = (ranges[window] - origin) // step
            fetched = [self.series(e, ranges[window], end, step) for e in exprs]
            for group in fetched[0].keys() | fetched[1].keys():
                rates.setdefault(group, {})[window] = tuple(
                    [None] * pad + part.get(group, [None] * (length - pad)) for part in fetched)
        for windows in rates.values():
            for window in expressions(slo):
                windows.setdefault(window, ([None] * length, [None] * length))
        return History(origin, step, rates)


def sides(old: plan.Plan, new: plan.Plan, changes: Changes) -> dict[str, tuple[plan.SLOPlan | None, plan.SLOPlan]]:
    """{service/slo: (old plan, new plan)} of every added, changed or renamed SLO; a removed one has
    no alerts left to backtest."""
    found = {}
    for change in changes.slos:
        if change.new is None:
            continue
        before = change.renamed_from or (change.id if change.old else None)
        found[change.id] = (old.slo(*before.split("/", 1)) if before else None, new.slo(change.service, change.name))
    return found


def run(api: PrometheusAPI, pairs: dict[str, tuple[plan.SLOPlan | None, plan.SLOPlan]], span: int,
        now: float, say) -> dict[str, Backtest]:
    """{service/slo: backtest} of (old, new) plans over the `span` (ms) that ends at `now` (s)."""
    found, fetcher = {}, Fetcher(api)
    for slo_id, (old, new) in sorted(pairs.items()):
        plans = [s for s in (old, new) if s is not None]
        step = max(s.rule_interval for s in plans)
        end = _grid(int(now * 1000), step)
        start = end - span
        say(f"backtest {slo_id}: {query_count(plans, start, end)} range queries over {durations.to_text(span)} "
            f"at {durations.to_text(step)}")
        began, asked = time.monotonic(), fetcher.queries
        histories = [fetcher.history(s, start, end) for s in plans]
        firsts = [h.first_data(s.base) for h, s in zip(histories, plans)]
        note = ""
        data_from = max((f for f in firsts if f is not None), default=None)
        if data_from is None:
            note = f"no data for the SLI over the {durations.to_text(span)} asked"
        elif data_from > start + max(s.base for s in plans):
            start = -(-data_from // step) * step
            note = (f"the server holds {durations.to_text(end - start)} of history for it (from {iso(start)}), "
                    f"not the {durations.to_text(span)} asked: backtested over that")
        if note:
            say(f"backtest {slo_id}: {note}")
        outcomes = [evaluate(s, h, start, end) for s, h in zip(plans, histories)]
        say(f"backtest {slo_id}: {fetcher.queries - asked} asked (the rest were shared) in "
            f"{time.monotonic() - began:.1f} s")
        found[slo_id] = Backtest(durations.to_text(end - start), iso(start), iso(end),
                                 outcomes[0] if old is not None else None, outcomes[-1], note)
    return found
