"""What `slo report` reads from a Prometheus server (the I/O edge; see the package's docs)."""

from .. import backtest, durations, names, plan, promql
from ..backtest import Fetcher, Values
from ..measure import error_ratios
from ..targets import prometheus
from . import Measured
from .period import Period

INSTANT_QUERIES = 2  # per SLO, besides the fetcher's range queries


def alerts_query(slo: plan.SLOPlan) -> str:
    """Whether each of the SLO's alerts (by name and severity) was firing at the latest evaluation."""
    firing = prometheus.selector(slo).with_metric(names.ALERTS).with_matcher(
        promql.Matcher(names.ALERT_STATE, "=", names.FIRING))
    # The latest sample within one evaluation interval, not the instant one: a resolved alert's series
    # is otherwise seen for the lookback after it where the server wrote no stale marker (backfilled
    # history); 1 ms less, so that the range holds one evaluation whether its ends are closed or not.
    return (f"max by ({names.ALERT_NAME}, {names.SEVERITY}) "
            f"(last_over_time({firing}[{durations.to_text(slo.rule_interval - 1)}]))")


def replayed(fetcher: Fetcher, slo: plan.SLOPlan, first: int, end: int) -> dict[tuple[str, str], Values]:
    """The alerts the compiled rules would have fired from `first` to `end` (ms, on the rule interval), replayed
    from the raw series as `slo diff --backtest` replays them, as the ALERTS query reads them: per (alert,
    severity) whether it was firing at each evaluation. Only firings that start in the period are replayed."""
    step = slo.rule_interval
    evaluations = (end - first) // step + 1
    found: dict[tuple[str, str], Values] = {}
    for f in backtest.evaluate(slo, fetcher.history(slo, first, end), first, end).firings:
        values = found.setdefault((f.alert, dict(slo.route(f.tier).labels).get(names.SEVERITY, "")),
                                  [None] * evaluations)
        a = (backtest.ms(f.start) - first) // step
        b = evaluations if f.end is None else (backtest.ms(f.end) - first) // step
        values[a:b] = [1.0] * (b - a)
    return found


def measure(fetcher: Fetcher, slo: plan.SLOPlan, period: Period, end: int, replay: bool = False) -> Measured:
    """One SLO over the period up to `end` (ms, on the period's steps); with `replay` its alerts replayed
    from the raw series instead of read from ALERTS."""
    step = period.step
    ratios = error_ratios(fetcher.api, slo, durations.to_text(end - period.start_ms), end / 1000)
    errors_expr, total_expr, _ = prometheus.base_rates(slo, durations.to_text(step))
    first = period.start_ms + step
    errors, total = (fetcher.series(e, first, end, step) for e in (errors_expr, total_expr))
    interval = slo.rule_interval
    alerts_first = -(-(period.start_ms + 1) // interval) * interval  # the first evaluation after the start
    last = end // interval * interval
    if replay:
        alerts = replayed(fetcher, slo, alerts_first, last)
    else:
        found = fetcher.series(alerts_query(slo), alerts_first, last, interval)
        alerts = {(dict(g).get(names.ALERT_NAME, ""), dict(g).get(names.SEVERITY, "")): v for g, v in found.items()}
    return Measured(ratios, errors, total, first, step, (end - period.start_ms) // step, alerts, alerts_first,
                    interval)
