"""promtool tests of how the alerts behave over time, as the SRE Workbook (chapter 5) describes them.

Per SLO, on synthetic traffic built from the SLI's own selectors:

- recall and detection time: after a clean long window, at about 1.1x its burn rate, each tier fires
  within one evaluation interval of `plan.time_to_fire` (the same figure `slo explain` prints);
- a full outage pages within minutes, and each page tier stops within one evaluation interval of
  `plan.reset_time` after the outage ends;
- precision: at half the lowest burn rate nothing is even pending for three days or more; at a burn
  rate of 2 after three clean days a ticket opens between the ticket tiers' detection times, and
  nothing pages;
- no NaN or Inf in any `slo:*` series once traffic stops, and a ticket when the SLI's series vanish.

Scenarios that last days go to one file per SLO evaluated at a coarser interval (1h for three days
of history): promtool evaluates every rule group at every step, and days at one minute would take
minutes to run. The plan's model follows any interval, so the checks stay exact to the evaluation.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from decimal import Decimal

from .. import durations, names, promql
from ..plan import HOUR, Pair, Plan, SLOPlan, model_interval, number, reset_time, time_to_fire
from . import prometheus, promtool_tests
from .promtool_tests import GONE, QUIET, phased

QUIET_BURN = Decimal("0.5")  # the SRE Workbook's example of a burn rate that must never alert
TICKET_BURN = Decimal(2)
PRECISION_HISTORY = durations.parse("3d")
# Tiers with a long window this long or longer are checked at the coarser interval of the days files.
DETAILED_WINDOW = durations.parse("6h")
DAYS_STEPS = 72  # evaluations per 3 days (or longest alert window) in the days files


@dataclass(frozen=True)
class Clock:
    interval: int  # rule evaluations
    scrape: int  # input samples

    def fire(self, slo: SLOPlan, pair: Pair, ratio: Decimal) -> int | None:
        return time_to_fire(slo, pair, ratio, self.interval, self.scrape)

    def earliest(self, slo: SLOPlan, pair: Pair, ratio: Decimal) -> int | None:
        """When the pair may fire first: earlier than `fire` only where a window lands exactly on
        its threshold, which the engine's rounding decides."""
        return time_to_fire(slo, pair, ratio, self.interval, self.scrape, ties=True)

    def reset(self, slo: SLOPlan, pair: Pair, ratio: Decimal) -> int | None:
        return reset_time(slo, pair, ratio, self.interval, self.scrape)

    def aligned(self, ms: int) -> int:
        """`ms` rounded up to a whole evaluation, where the scenarios change traffic."""
        return -(-ms // self.interval) * self.interval

    def scrapes(self, ms: int) -> int:
        return -(-ms // self.scrape)


def _alerts(slo: SLOPlan, labels: dict[str, str] | None = None) -> str:
    return str(promql.equal("ALERTS", {"alertname": slo.alert, **(labels or {})}.items()))


def _firing(slo: SLOPlan, pair: Pair) -> str:
    return _alerts(slo, {"alertstate": "firing", names.LONG_WINDOW: pair.long_text, names.SHORT_WINDOW: pair.short_text})


def _sample(slo: SLOPlan, pair: Pair, groups: dict[str, str]) -> dict:
    """The ALERTS sample of a firing pair, every label included."""
    labels = {**dict(slo.labels), **dict(slo.identity), **groups, **prometheus.alert(slo, pair)["labels"],
              "__name__": "ALERTS", "alertname": slo.alert, "alertstate": "firing"}
    return {"labels": promtool_tests._series_text(labels), "value": 1}


def _expect(expr: str, at: int, samples: list[dict]) -> dict:
    return {"expr": expr, "eval_time": durations.to_text(at), "exp_samples": samples}


def _test(slo: SLOPlan, title: str, clock: Clock, series: list[dict], checks: list[dict],
          alert_checks: list[dict] = ()) -> dict:
    test = {"name": f"{slo.service}/{slo.name}: {title}", "interval": durations.to_text(clock.scrape),
            "input_series": series}
    if checks:
        test["promql_expr_test"] = checks
    if alert_checks:
        test["alert_rule_test"] = list(alert_checks)
    return test


def _timely(slo: SLOPlan, pair: Pair, groups: dict, at: int, interval: int, firing: bool,
            since: int | None = None) -> list[dict]:
    """The pair's state changes at `at` exactly: as the plan computes it, to the evaluation (from
    `since` on, where a window at its threshold leaves the evaluation to the engine's rounding)."""
    sample = [_sample(slo, pair, groups)]
    return [_expect(_firing(slo, pair), (since or at) - interval, [] if firing else sample),
            _expect(_firing(slo, pair), at, sample if firing else [])]


def detection(slo: SLOPlan, pair: Pair, clock: Clock) -> dict | None:
    """After a clean long window, at about 1.1x its burn rate, the pair fires when the plan says."""
    burn = promtool_tests._test_burn(pair.burn_rate, slo.budget)
    if burn is None:
        return None
    ratio = burn * slo.budget
    fire = clock.fire(slo, pair, ratio)
    onset = clock.aligned(pair.long)
    series, groups = phased(slo, [(Decimal(0), clock.scrapes(onset)), (ratio, clock.scrapes(fire + clock.interval))])
    return _test(slo, f"after a clean {pair.long_text}, at {number(burn)}x the budget the {pair.tier} tier "
                      f"{pair.long_text}/{pair.short_text} fires after {durations.human(fire)}", clock, series,
                 _timely(slo, pair, groups, onset + fire, clock.interval, firing=True,
                         since=onset + clock.earliest(slo, pair, ratio)))


def outage(slo: SLOPlan, clock: Clock) -> list[dict]:
    """A full outage after a clean hour pages when the plan says; once it ends, each page tier stops
    when the plan says."""
    pages = [p for p in slo.pairs if p.tier == names.PAGE and p.error_ratio < 1]
    if not pages:
        return []
    first = pages[0]  # the shortest windows; a longer tier's detection is checked by `detection`
    onset = clock.aligned(first.long)
    fire = clock.fire(slo, first, Decimal(1))
    resets = {p: clock.reset(slo, p, Decimal(1)) for p in pages}
    # Long enough for every page to fire and for the short windows to fill, as reset_time assumes.
    end = onset + clock.aligned(max(fire, *(p.short + slo.base for p in pages)) + clock.interval)
    series, groups = phased(slo, [(Decimal(0), clock.scrapes(onset)), (Decimal(1), clock.scrapes(end - onset)),
                                  (Decimal(0), clock.scrapes(max(resets.values()) + clock.interval))])
    checks = _timely(slo, first, groups, onset + fire, clock.interval, firing=True)
    for pair in pages:
        checks += _timely(slo, pair, groups, end + resets[pair], clock.interval, firing=False)
    return [_test(slo, f"a full outage pages after {durations.human(fire)}; once it ends each page tier stops "
                       f"when the plan says", clock, series, checks)]


def traffic_stops(slo: SLOPlan, clock: Clock) -> list[dict]:
    """With no traffic, windows without events have no ratio: never NaN or Inf in any slo:* series."""
    busy, quiet = clock.aligned(durations.parse("10m")), clock.aligned(durations.parse("1h") + 2 * clock.interval)
    series, _ = phased(slo, [(slo.budget, clock.scrapes(busy)), (QUIET, clock.scrapes(quiet))])
    ours = promql.Selector("", (promql.Matcher("__name__", "=~", "slo:.+"), *prometheus.selector(slo).matchers))
    # NaN and Inf fail both comparisons, so they would make the second count smaller.
    checks = [_expect(f"count({ours}) - count({ours} > -Inf < +Inf)", busy + quiet,
                      [{"labels": "{}", "value": 0}])]
    return [_test(slo, "once traffic stops, no slo:* series is NaN or Inf", clock, series, checks)]


def missing(slo: SLOPlan, clock: Clock) -> list[dict]:
    """Once the SLI's series vanish, a ticket fires after `missing_data_for`, not before."""
    if slo.missing_data is None:
        return []
    vanish, wait = clock.aligned(slo.base + 2 * clock.interval), slo.missing_data.for_
    # The base window still holds samples for up to one window after the last one.
    fires = vanish + clock.aligned(slo.base + wait) + 2 * clock.interval
    series, _ = phased(slo, [(Decimal(0), clock.scrapes(vanish)), (GONE, clock.scrapes(fires - vanish))])
    rule = prometheus.missing_data(slo)
    labels = dict(sorted({**dict(slo.identity), **rule["labels"]}.items()))
    expected = {"exp_labels": labels,
                "exp_annotations": {k: promtool_tests._expand(v, 1.0, labels) for k, v in rule["annotations"].items()}}
    return [_test(slo, f"when its series vanish, {rule['alert']} fires after {slo.missing_data.for_text}", clock,
                  series, [], [{"eval_time": durations.to_text(vanish + wait), "alertname": rule["alert"],
                                "exp_alerts": []},
                               {"eval_time": durations.to_text(fires), "alertname": rule["alert"],
                                "exp_alerts": [expected]}])]


def quiet(slo: SLOPlan, clock: Clock) -> list[dict]:
    """Below every tier (a burn rate of 0.5 for the default tiers) nothing is pending for 3+ days."""
    if not slo.pairs:
        return []
    burn = min(QUIET_BURN, min(p.burn_rate for p in slo.pairs) / 2)
    span = clock.aligned(max(PRECISION_HISTORY, *(p.long for p in slo.pairs)) + max(p.for_ for p in slo.pairs))
    series, _ = phased(slo, [(burn * slo.budget, clock.scrapes(span))])
    return [_test(slo, f"at {number(burn)}x the budget for {durations.human(span)} nothing fires", clock, series,
                  [_expect(f"count_over_time({_alerts(slo)}[{durations.to_text(span)}])", span, [])])]


def slow_burn(slo: SLOPlan, clock: Clock) -> list[dict]:
    """At a burn rate of 2 after 3 clean days, a ticket opens between the ticket tiers' detection
    times, and no page fires."""
    tickets = [p for p in slo.pairs if p.tier == names.TICKET and p.burn_rate < TICKET_BURN]
    if not tickets or TICKET_BURN * slo.budget >= 1:
        return []
    ratio = TICKET_BURN * slo.budget
    onset = clock.aligned(max(PRECISION_HISTORY, *(p.long for p in slo.pairs)))
    fires = [clock.fire(slo, p, ratio) for p in tickets]
    first, end = onset + min(clock.earliest(slo, p, ratio) for p in tickets) - clock.interval, onset + max(fires)
    series, groups = phased(slo, [(Decimal(0), clock.scrapes(onset)), (ratio, clock.scrapes(end - onset))])
    ticket = _alerts(slo, {"alertstate": "firing", names.TIER: names.TICKET})
    checks = [_expect(f"count_over_time({ticket}[{durations.to_text(first)}])", first, []),
              _expect(ticket, end, sorted((_sample(slo, p, groups) for p in tickets), key=lambda s: s["labels"]))]
    if all(p.burn_rate > TICKET_BURN for p in slo.pairs if p.tier == names.PAGE):
        checks.append(_expect(f"count_over_time({_alerts(slo, {names.TIER: names.PAGE})}[{durations.to_text(end)}])",
                              end, []))
    return [_test(slo, f"at {number(TICKET_BURN)}x the budget after {durations.human(onset)} clean, a ticket "
                       f"opens after {durations.human(min(fires))} to {durations.human(max(fires))} and nothing pages",
                  clock, series, checks)]


def days_interval(slo: SLOPlan, plan: Plan) -> int:
    """A 72nd of the days the scenarios span (1h for 3 days), in whole scrapes. A window shorter than
    that reads the latest recorded base rate alone, as PromQL does and the plan's model follows.
    Windows counted from the hourly counts are followed at an hour, where each evaluation is an hour
    of its own (see `SLOPlan.counts_window`)."""
    if any(slo.counts_window(w) for w in slo.windows):
        return model_interval(HOUR, plan.settings.scrape_interval)
    longest = max([PRECISION_HISTORY, *(p.long for p in slo.pairs)])
    return model_interval(max(plan.settings.rule_interval, longest // DAYS_STEPS), plan.settings.scrape_interval)


def _tests(slo: SLOPlan, clock: Clock, builders) -> list[dict]:
    return [test for build in builders for test in build(slo, clock) if test is not None]


def _short_detections(slo: SLOPlan, clock: Clock) -> list[dict]:
    return [detection(slo, p, clock) for p in slo.pairs if p.long < DETAILED_WINDOW]


def _long_detections(slo: SLOPlan, clock: Clock) -> list[dict]:
    return [detection(slo, p, clock) for p in slo.pairs if p.long >= DETAILED_WINDOW]


def suites(slo: SLOPlan, plan: Plan) -> dict[str, tuple[int, Callable[[], list[dict]]]]:
    """{suite: (evaluation interval, builder of its tests)} of the scenarios over time."""
    scrape = plan.settings.scrape_interval
    timing = Clock(model_interval(plan.settings.rule_interval, scrape), scrape)
    days = Clock(days_interval(slo, plan), scrape)
    return {"timing": (timing.interval, partial(_tests, slo, timing, (_short_detections, outage, traffic_stops, missing))),
            "days": (days.interval, partial(_tests, slo, days, (_long_detections, quiet, slow_burn)))}
