"""promtool tests that a calendar period restarts at its start, in its time zone.

On synthetic traffic built from the SLI's own selectors: errors at one ratio until half an hour before
the first period start (after the first hours of 1970, where promtool's time begins), then at another.
An hour before the start the period's error ratio is the first; once the period has started, the
second alone, the first period's events forgotten. The rules are evaluated hourly, as the days files
are, and only those the period's error ratio is built from, to reach the start in seconds.
"""

from decimal import Decimal

from .. import durations, names, periods
from ..plan import HOUR, Plan, SLOPlan, number
from . import prometheus, promtool_tests

SUITE = "calendar"
# The period's records carry across gaps of hours: the first start is chosen after this many.
HISTORY = 6 * HOUR
SWITCH = HOUR // 2  # the traffic changes this long before the start


def _ratios(slo: SLOPlan) -> tuple[Decimal, Decimal]:
    """Error ratios before and after the start: five and half times the budget (at most all events)."""
    return min(5 * slo.budget, Decimal(1)), slo.budget / 2


def cases(slo: SLOPlan, plan: Plan) -> list[dict]:
    scrape = plan.settings.scrape_interval
    start = periods.first_start(slo.calendar, HISTORY // 1000) * 1000
    # Each read of a record made earlier in the group trails by the engine's delay, an hour here.
    after = start + HOUR * (1 + slo.read_delay)
    before_ratio, after_ratio = _ratios(slo)
    series, groups = promtool_tests.phased(slo, [(before_ratio, (start - SWITCH) // scrape),
                                                 (after_ratio, (after - start + SWITCH) // scrape + 1)])
    labels = {**dict(slo.labels), **dict(slo.identity), **groups,
              **dict.fromkeys(slo.window_labels, slo.calendar.window)}
    ratio = prometheus.series(slo, names.PERIOD_ERROR_RATIO)
    checks = [(start - HOUR, before_ratio), (after, after_ratio)]
    when = f"{durations.to_text(start)} after 1970-01-01 00:00 UTC"
    return [{"name": f"{slo.service}/{slo.name}: the calendar {slo.calendar.noun} in {slo.calendar.timezone} restarts "
                     f"at its start, {when}",
             "interval": durations.to_text(scrape), "input_series": series,
             "promql_expr_test": [{"expr": f"abs({ratio} - {number(value)}) < bool 1e-9",
                                   "eval_time": durations.to_text(at),
                                   "exp_samples": [{"labels": promtool_tests._series_text(labels), "value": 1}]}
                                  for at, value in checks]}]


def records(slo: SLOPlan) -> frozenset[str]:
    """The period's error ratio and budget, and what they are built from: the rules of the suite's own rule
    file, without the alerts and the long windows, which the other suites test and which would make hours of
    evaluations slow."""
    counts = [count(hour) for count in (names.errors_count, names.total_count)
              for hour in (names.THIS_HOUR, names.LAST_HOUR, names.PERIOD_HOURS)]
    return frozenset({names.errors_rate(slo.base_text), names.total_rate(slo.base_text), *counts, names.UTC_OFFSET,
                      names.PERIOD_INDEX, names.PERIOD_ERROR_RATIO, names.PERIOD_BURN_RATE, names.BUDGET_REMAINING})


def suites(slo: SLOPlan, plan: Plan) -> dict:
    """The calendar suite of a calendar SLO, evaluated hourly; none for a rolling period."""
    return {SUITE: (HOUR, lambda: cases(slo, plan))} if slo.calendar else {}
