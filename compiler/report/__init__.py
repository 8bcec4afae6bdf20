"""`slo report`: did each SLO meet its objective over a period, from what a Prometheus server holds.

Measured (`fetch`, the I/O edge) per SLO, from the raw series through the SLI kind's own errors and
total expressions, as `slo diff --prometheus` measures them:
- the attained SLI: one instant query of each over the whole period, at its end (or now, to date);
- the data: both over each hour of the period (a quarter hour where the timezone's midnights are
  not on whole hours), for the budget left at the end of each day and how much of the period has data;
- the alerts: `ALERTS{alertstate="firing"}` of the SLO at every rule evaluation of the period.

The figures (here, pure) are never better than measured: the SLI is rounded down to the digits
shown, the budget used and the minutes of full outage up.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .. import durations, plan
from ..backtest import Values
from ..measure import group_text, rounded_down
from ..prometheus_api import Group
from .period import Period, calendar, label

VERSION = 1  # of the JSON report
WORST_GROUPS = 3  # listed per SLO; the JSON holds as many
TENTH = Decimal("0.1")
MINUTE = durations.UNITS["m"]
# Verdicts
MET, MISSED, ON_TRACK, OFF_TRACK, NO_DATA, NOT_STARTED = ("met", "missed", "on track", "off track", "no data",
                                                          "not started")
MONTH = "calendar-month"  # the period a report covers by default, unless every SLO has another calendar period
# States of the period
COMPLETE, TO_DATE, FUTURE = "complete", "to date", "future"
# Where the alerts come from: the server's ALERTS series, or the compiled rules replayed over the raw series
FROM_ALERTS, FROM_BACKTEST = "ALERTS", "backtest"


@dataclass(frozen=True)
class Worst:
    group: str  # `route="/pay"`
    attained: Decimal  # percent, rounded down
    met: bool


@dataclass(frozen=True)
class Alert:
    alert: str  # alertname
    severity: str
    fired: int  # times it started firing in the period (firing at the start counts once)
    first: str  # first evaluation at which it was firing
    last: str  # last one
    minutes: int  # minutes firing


@dataclass(frozen=True)
class SLOReport:
    service: str
    slo: str
    description: str
    objective: Decimal  # percent
    window: str  # the SLO's own period: `30d`, or `calendar month (Europe/Berlin)`
    verdict: str  # met | missed | on track | off track | no data | not started
    attained: Decimal | None  # percent of good events over the period (the worst group's), rounded down
    budget_used: Decimal | None  # percent of the period's error budget, rounded up
    outage_minutes: Decimal | None  # the errors as minutes of full outage, rounded up
    budget_minutes: Decimal  # the period's error budget as minutes of full outage, rounded down
    data_from: str | None  # the first and last hour with data (the worst group's)
    data_to: str | None
    data_minutes: int  # minutes of the period with data
    groups: int  # groups with traffic (1 without group_by)
    groups_missed: int
    worst: tuple[Worst, ...]  # with group_by: the groups by error ratio, worst first
    alerts: tuple[Alert, ...]
    budget_left: tuple[Decimal | None, ...]  # percent of the period's budget left at the end of each day
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    version: int
    period: str
    start: str
    end: str
    timezone: str
    state: str  # complete | to date | future
    measured_to: str  # the end, or the last whole step before now
    slos: tuple[SLOReport, ...]
    alerts_from: str = FROM_ALERTS  # ALERTS | backtest


@dataclass(frozen=True)
class Measured:
    """What `fetch` read of one SLO: error ratios over the period by group, each group's errors and
    total over every step of the period (step i ends at `first + i * step`), and each firing alert's
    (name, severity) at every rule evaluation (evaluation i at `alerts_first + i * interval`)."""

    ratios: dict[Group, Decimal]
    errors: dict[Group, Values]
    total: dict[Group, Values]
    first: int
    step: int
    steps: int
    alerts: dict[tuple[str, str], Values]
    alerts_first: int
    interval: int


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def state(period: Period, now: int) -> tuple[str, int]:
    """(complete | to date | future, the end of what can be measured: the period's end, or the last
    whole step before `now`), times in ms."""
    if now < period.start_ms + period.step:
        return FUTURE, period.start_ms
    if now < period.end_ms:
        return TO_DATE, now // period.step * period.step
    return COMPLETE, period.end_ms


def places(objective: Decimal) -> Decimal:
    """The digits the attained SLI is shown with: three decimals, one more than the objective's."""
    return Decimal(1).scaleb(-max(3, -objective.normalize().as_tuple().exponent + 1))


def _up(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_CEILING).normalize()


def _down(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_FLOOR).normalize()


def _alerts(found: dict[tuple[str, str], Values], first: int, interval: int) -> tuple[Alert, ...]:
    out = []
    for (name, severity), values in sorted(found.items()):
        at = [i for i, v in enumerate(values) if v is not None]
        if at:
            starts = sum(1 for j, i in enumerate(at) if j == 0 or at[j - 1] != i - 1)
            out.append(Alert(name, severity, starts, iso(first + at[0] * interval), iso(first + at[-1] * interval),
                             len(at) * interval // MINUTE))
    return tuple(out)


def _budget_left(slo: plan.SLOPlan, period: Period, errors: Values, total: Values, first: int,
                 step: int) -> tuple[Decimal | None, ...]:
    """Percent of the period's budget left at the end of each day, from the errors and total of each step
    so far as minutes of full outage: their ratio times the time with data (rounded down)."""
    ends = [at for at in period.midnights if at < first + len(total) * step]
    ends.append(first + (len(total) - 1) * step)
    out, e, t, steps, i = [], 0.0, 0.0, 0, 0
    for end in sorted(set(ends)):
        while i < len(total) and first + i * step <= end:
            if total[i] is not None:
                e, t, steps = e + (errors[i] or 0.0), t + total[i], steps + 1
            i += 1
        spent = plan.budget_spent(steps * step, Decimal(e / t), slo.budget, period.end_ms - period.start_ms) \
            if t > 0 else None
        out.append(None if spent is None else _down(100 - spent * 100))
    return tuple(out)


def default_window(slos: list[plan.SLOPlan]) -> str:
    """The kind of calendar period a report covers without `--period`: the SLOs' own when they all have
    the same, else a month."""
    windows = {slo.calendar.window if slo.calendar else MONTH for slo in slos}
    return windows.pop() if len(windows) == 1 else MONTH


def _calendar_note(slo: plan.SLOPlan, period: Period) -> list[str]:
    """For a calendar SLO, when the report's period is not one of its periods: which one is."""
    if slo.calendar is None:
        return []
    own = calendar(label(slo.calendar.window, period.start.date()), period.timezone)
    if (own.start, own.end) == (period.start, period.end):
        return []
    return [f"its objective holds per calendar {slo.calendar.noun} ({slo.calendar.timezone}), and {period.label} is "
            f"not one: --period {own.label} reports the {slo.calendar.noun} it starts in"]


def slo_report(slo: plan.SLOPlan, period: Period, now_state: str, measured: Measured | None) -> SLOReport:
    """The figures of one SLO over the period from what was measured (None: the period has not started)."""
    length = period.end_ms - period.start_ms
    budget_minutes = _down(slo.budget * length / MINUTE)
    base = dict(service=slo.service, slo=slo.name, description=slo.description, objective=slo.objective_percent,
                window=slo.period_name, budget_minutes=budget_minutes)
    notes = _calendar_note(slo, period)
    empty = dict(attained=None, budget_used=None, outage_minutes=None, data_from=None, data_to=None, data_minutes=0,
                 groups=0, groups_missed=0, worst=(), budget_left=())
    if measured is None:
        return SLOReport(**base, **empty, verdict=NOT_STARTED, alerts=(), notes=tuple(notes))
    alerts = _alerts(measured.alerts, measured.alerts_first, measured.interval)
    if not measured.ratios:
        notes.append("no data: the SLI's total has no samples, or counts no events, in the period")
        return SLOReport(**base, **empty, verdict=NO_DATA, alerts=alerts, notes=tuple(notes))
    ranked = sorted(measured.ratios.items(), key=lambda item: (-item[1], item[0]))
    group, ratio = ranked[0]
    step = measured.step
    total = measured.total.get(group, [None] * measured.steps)
    errors = measured.errors.get(group, [None] * measured.steps)
    present = [i for i, v in enumerate(total) if v is not None]
    covered = len(present) * step
    spent = plan.budget_spent(covered, ratio, slo.budget, length)
    met = ratio <= slo.budget
    verdict = (MET if met else MISSED) if now_state == COMPLETE else (ON_TRACK if met else OFF_TRACK)
    shown = places(slo.objective_percent)
    elapsed = measured.steps * step
    # The step before the first one with data is where the data starts.
    data_from, data_to = (iso(measured.first + (present[0] - 1) * step), iso(measured.first + present[-1] * step)) \
        if present else (None, None)
    if present and covered < elapsed:
        notes.append(f"data for {durations.human(covered)} of the {durations.human(elapsed)} measured ({data_from} to "
                     f"{data_to}): the figures are over that part")
    return SLOReport(
        **base, verdict=verdict, attained=rounded_down(ratio, shown), budget_used=_up(spent * 100),
        outage_minutes=_up(ratio * covered / MINUTE), data_from=data_from, data_to=data_to,
        data_minutes=covered // MINUTE,
        groups=len(ranked), groups_missed=sum(1 for _, r in ranked if r > slo.budget),
        worst=tuple(Worst(group_text(g), rounded_down(r, shown), r <= slo.budget) for g, r in ranked)
        if slo.group_by else (),
        alerts=alerts, budget_left=_budget_left(slo, period, errors, total, measured.first, step), notes=tuple(notes))


def report(period: Period, now: int, slos: list[tuple[plan.SLOPlan, Measured | None]],
           alerts_from: str = FROM_ALERTS) -> Report:
    now_state, measured_to = state(period, now)
    return Report(VERSION, period.label, period.start.isoformat(), period.end.isoformat(), period.timezone,
                  now_state, iso(measured_to), tuple(slo_report(s, period, now_state, m) for s, m in slos),
                  alerts_from)
