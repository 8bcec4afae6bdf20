"""An SLI's measured performance over its period, from a Prometheus server's HTTP API.

For `slo diff --prometheus URL`: the new SLI is queried over the whole period from the raw series
(the recorded ones may not exist yet for a new or changed SLO), one instant query for errors and
one for all events, so a reviewer sees whether the new objective is already breached today.
"""

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from . import plan, promql
from .changes import Changes
from .prometheus_api import Group, PrometheusAPI
from .targets import prometheus

PLACES = Decimal("0.001")


@dataclass(frozen=True)
class Measurement:
    slo: str  # service/slo
    group: str  # the worst group's labels (`route="/pay"`), empty without group_by
    performance: Decimal  # percent of good events over the period, rounded down
    objective: Decimal  # percent
    period: str
    spent: Decimal  # share of the period's error budget spent; 1 or more: exhausted

    @property
    def exhausted(self) -> bool:
        return self.spent >= 1


def _query(api: PrometheusAPI, expr: str, at: float | None) -> dict[Group, Decimal]:
    """{group labels: value} of an instant query; NaN and infinite samples are left out."""
    values = {}
    for sample in api.query(expr, at):
        value = float(sample["value"][1])
        if math.isfinite(value):
            values[tuple(sorted(sample["metric"].items()))] = Decimal(sample["value"][1])
    return values


def error_ratios(api: PrometheusAPI, slo: plan.SLOPlan, window: str, at: float | None = None) -> dict[Group, Decimal]:
    """{group labels: error ratio} over `window` ending now (or at `at`, s), from the raw series through the
    SLI kind's own expressions; groups without traffic are left out."""
    errors_expr, total_expr, _ = prometheus.base_rates(slo, window)
    totals = _query(api, total_expr, at)
    errors = _query(api, errors_expr, at)
    # An error counter without series means no errors, as in the recording rules.
    return {group: max(errors.get(group, Decimal(0)) / total, Decimal(0))
            for group, total in totals.items() if total > 0}


def worst(ratios: dict[Group, Decimal]) -> Group:
    """The group with the highest error ratio (the last by labels among equals)."""
    return max(ratios, key=lambda g: (ratios[g], g))


def rounded_down(ratio: Decimal, places: Decimal = PLACES) -> Decimal:
    """Percent of good events at an error ratio, rounded down: never shown better than measured."""
    return ((1 - ratio) * 100).quantize(places, rounding=ROUND_DOWN).normalize()


def group_text(group: Group) -> str:
    """A group's labels as matchers, `route="/pay"`; empty without group_by."""
    return ", ".join(str(promql.Matcher(k, "=", v)) for k, v in group)


def measure(api: PrometheusAPI, slo: plan.SLOPlan) -> Measurement | None:
    """The worst group's performance over the SLO's period; None where the SLI has no traffic."""
    ratios = error_ratios(api, slo, slo.period_text)
    if not ratios:
        return None
    group = worst(ratios)
    ratio = ratios[group]
    return Measurement(f"{slo.service}/{slo.name}", group_text(group), rounded_down(ratio), slo.objective_percent,
                       slo.period_text, plan.budget_spent(slo.period, ratio, slo.budget, slo.period))


def changed(api: PrometheusAPI, new: plan.Plan, changes: Changes) -> dict[str, Measurement]:
    """{service/slo: measurement} of every added or changed SLO whose SLI has traffic."""
    found = {}
    for change in changes.slos:
        slo = new.slo(change.service, change.name) if change.new else None
        measurement = slo and measure(api, slo)
        if measurement:
            found[change.id] = measurement
    return found
