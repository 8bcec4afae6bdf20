"""`slo explain`: what each alert tier of one SLO does, from the same formulas the tests assert."""

import datetime
from decimal import Decimal

from . import durations, periods, plan

HEADER = ("tier", "long", "short", "burn rate", "for", "fires at {rate}", "budget spent", "fires at 10x",
          "budget spent", "resets after")


def _fires(slo: plan.SLOPlan, pair: plan.Pair, ratio: Decimal, interval: int, scrape: int) -> tuple[str, str]:
    """(time to fire, share of the period's budget spent by then) at a constant error ratio."""
    fire = plan.time_to_fire(slo, pair, ratio, interval, scrape)
    if fire is None:
        return "never", "-"
    return durations.human(fire), f"{plan.budget_spent(fire, ratio, slo.budget, slo.period) * 100:.2f}%"


def _period(slo: plan.SLOPlan, now: datetime.datetime) -> list[str]:
    """For a calendar period: when it resets next, in its time zone and in UTC."""
    if slo.calendar is None:
        return []
    reset = periods.start(slo.calendar, now)
    local = reset.astimezone(periods.zone(slo.calendar.timezone))
    return [f"period: this calendar {slo.calendar.noun} in {slo.calendar.timezone}, which resets next at "
            f"{local:%Y-%m-%d %H:%M %Z} ({reset:%Y-%m-%d %H:%M} UTC); the alert windows are rolling, sized as "
            f"for {slo.period_text}"]


def explain(slo: plan.SLOPlan, error_percent: Decimal, interval: int, scrape: int,
            now: datetime.datetime | None = None) -> str:
    """Per tier: windows, burn rate, time to fire and budget spent at `error_percent` and at 10x
    the budget, and how long after such errors stop the alert stops, with rules evaluated every
    `interval` over series scraped every `scrape`."""
    ratio = error_percent / 100
    tenfold = min(10 * slo.budget, Decimal(1))
    budget_time = slo.budget_time
    lines = [f"{slo.service}/{slo.name}: {plan.number(slo.objective_percent)}% over {slo.period_name}, "
             f"error budget {plan.number(slo.budget * 100)}% ({durations.human(budget_time)} of full outage"
             f"{' per ' + slo.period_text if slo.calendar else ''})",
             *_period(slo, now or datetime.datetime.now(datetime.timezone.utc)),
             f"SLI: {slo.sli.kind}; {_reads(slo)}",
             *([f"low-traffic guard: a pair fires only when its long window counted at least {slo.min_events} "
                f"events (the mean recorded {slo.base_text} rate times the window)"] if slo.min_events else []),
             f"at {plan.number(error_percent)}% errors (burn rate {plan.number(ratio / slo.budget)}), the budget "
             f"is gone in {durations.human(int(budget_time / ratio))}",
             *([f"engine: vmalert, whose rules read a series recorded at the same evaluation one evaluation "
                f"later: the times include that"] if slo.read_delay else []),
             f"times count from the start of errors after a clean long window, `for` included, with rules "
             f"evaluated every {durations.to_text(interval)} on scrapes every {durations.to_text(scrape)}; resets count from the end of errors at "
             f"{plan.number(error_percent)}%", ""]
    if not slo.pairs:
        return "\n".join(lines + ["no alert tiers are enabled"]) + "\n"
    rows = [tuple(h.format(rate=f"{plan.number(error_percent)}%") for h in HEADER)]
    for pair in slo.pairs:
        reset = plan.reset_time(slo, pair, ratio, interval, scrape)
        rows.append((pair.tier, pair.long_text, pair.short_text, plan.number(pair.burn_rate),
                     pair.for_text if pair.for_ else "-", *_fires(slo, pair, ratio, interval, scrape),
                     *_fires(slo, pair, tenfold, interval, scrape),
                     "-" if reset is None else durations.human(reset)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def _reads(slo: plan.SLOPlan) -> str:
    raw = ", ".join(durations.to_text(w) for w in slo.windows if slo.reads_raw(w))
    derived = f"windows counted from the recorded {slo.base_text} rates"
    reads = f"raw series over {raw}, the other {derived}" if raw else f"all {derived}"
    counted = [durations.to_text(w) for w in slo.windows if slo.counts_window(w)]
    if slo.counts_hours(slo.period):
        windows = f"the {' and '.join(counted)} windows and " if counted else ""
        reads += f", {windows}the {slo.period_text} period from hourly counts of them"
    return reads
