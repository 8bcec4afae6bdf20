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
from .prometheus_api import PrometheusAPI
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


def _query(api: PrometheusAPI, expr: str) -> dict[tuple[str, ...], Decimal]:
    """{group label values: value} of an instant query; NaN and infinite samples are left out."""
    values = {}
    for sample in api.query(expr):
        value = float(sample["value"][1])
        if math.isfinite(value):
            values[tuple(sorted(sample["metric"].items()))] = Decimal(sample["value"][1])
    return values


def measure(api: PrometheusAPI, slo: plan.SLOPlan) -> Measurement | None:
    """The worst group's performance over the SLO's period; None where the SLI has no traffic."""
    errors_expr, total_expr, _ = prometheus.base_rates(slo, slo.period_text)
    totals = _query(api, total_expr)
    errors = _query(api, errors_expr)
    # An error counter without series means no errors, as in the recording rules.
    ratios = {group: errors.get(group, Decimal(0)) / total for group, total in totals.items() if total > 0}
    if not ratios:
        return None
    group = max(ratios, key=lambda g: (ratios[g], g))
    ratio = max(ratios[group], Decimal(0))
    performance = ((1 - ratio) * 100).quantize(PLACES, rounding=ROUND_DOWN).normalize()
    labels = ", ".join(str(promql.Matcher(k, "=", v)) for k, v in group)
    return Measurement(f"{slo.service}/{slo.name}", labels, performance, slo.objective_percent, slo.period_text,
                       plan.budget_spent(slo.period, ratio, slo.budget, slo.period))


def changed(api: PrometheusAPI, new: plan.Plan, changes: Changes) -> dict[str, Measurement]:
    """{service/slo: measurement} of every added or changed SLO whose SLI has traffic."""
    found = {}
    for change in changes.slos:
        slo = new.slo(change.service, change.name) if change.new else None
        measurement = slo and measure(api, slo)
        if measurement:
            found[change.id] = measurement
    return found
