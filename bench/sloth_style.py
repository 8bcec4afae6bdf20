"""Sloth-style rules for the same SLOs, the baseline of the evaluation benchmark.

Written from our plan in the shape Sloth generates (three groups per SLO): every alert window is a
raw `rate` over the user's series, and the period window averages the recorded 5m ratios. The
window set, burn rates and selectors are the plan's, so the two rule sets differ only in how they
compute the windows.
"""

from compiler import durations, names, promql
from compiler.plan import SLOPlan, number
from compiler.targets import prometheus

WINDOW = names.SLOTH_WINDOW


def _identity(slo: SLOPlan) -> dict[str, str]:
    return {names.SLOTH_ID: names.sloth_id(slo.service, slo.name), names.SLOTH_SERVICE: slo.service,
            names.SLOTH_SLO: slo.name}


def selector(slo: SLOPlan) -> promql.Selector:
    return promql.equal("", _identity(slo).items())


def _raw_ratio(slo: SLOPlan, window: str) -> str:
    errors, total, _ = prometheus.base_rates(slo, window)
    return f"({errors})\n/\n({total})"


def groups(slo: SLOPlan, interval: str) -> list[dict]:
    """The SLI, meta and alert groups of one SLO."""
    labels = {**dict(slo.labels), **_identity(slo)}
    sel, base = selector(slo), slo.base_text
    sli = []
    for window in slo.windows:
        w = durations.to_text(window)
        if window == slo.period:
            expr = (f"sum_over_time({names.error_ratio(base)}{sel}[{w}])\n/ ignoring ({WINDOW})\n"
                    f"count_over_time({names.error_ratio(base)}{sel}[{w}])")
        else:
            expr = _raw_ratio(slo, w)
        sli.append({"record": names.error_ratio(w), "expr": expr, "labels": {**labels, WINDOW: w}})
    on = f"/ on ({', '.join(_identity(slo))}) group_left\n{names.ERROR_BUDGET}{sel}"
    meta = [
        {"record": names.OBJECTIVE, "expr": f"vector({number(slo.objective)})", "labels": labels},
        {"record": names.ERROR_BUDGET, "expr": f"vector(1-{number(slo.objective)})", "labels": labels},
        {"record": "slo:time_period:days", "expr": f"vector({slo.period // durations.UNITS['d']})",
         "labels": labels},
        {"record": names.CURRENT_BURN_RATE, "expr": f"{names.error_ratio(base)}{sel}\n{on}", "labels": labels},
        {"record": names.PERIOD_BURN_RATE, "expr": f"{names.error_ratio(slo.period_text)}{sel}\n{on}",
         "labels": labels},
        {"record": names.BUDGET_REMAINING, "expr": f"1 - {names.PERIOD_BURN_RATE}{sel}", "labels": labels},
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": {**labels, "sloth_objective":
                                                                     number(slo.objective_percent)}},
    ]
    alerts = []
    for tier in ("page", "ticket"):
        pairs = [p for p in slo.pairs if p.tier == tier]
        if not pairs:
            continue
        either = "\nor\n".join(
            "(\n" + "\nand\n".join(
                f"max({names.error_ratio(w)}{sel} > ({number(p.burn_rate)} * {number(slo.budget)})) without ({WINDOW})"
                for w in (p.short_text, p.long_text)) + "\n)" for p in pairs)
        alerts.append({"alert": slo.alert, "expr": either,
                       "labels": {**dict(slo.route(tier).labels), "sloth_severity": tier}})
    ident = _identity(slo)["sloth_id"]
    return [{"name": f"sloth-slo-{kind}-{ident}", "interval": interval, "rules": rules}
            for kind, rules in (("sli-recordings", sli), ("meta-recordings", meta), ("alerts", alerts))]
