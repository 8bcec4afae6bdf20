"""One Grafana dashboard per service: a row per SLO, every query on the recorded series.

Each row shows the SLO's objective, its SLI over the period, the error budget left (as a share and
as time of full outage), its burn-down over the whole period, the burn rate of every alert window
against the tiers' thresholds with the SLO's alerts drawn where they fired, the request and error
rates, and the SLO's active alerts, next to its description, owner and runbooks. A variable per
`group_by` label narrows the rows of the SLOs grouped by it; the stats show the worst group selected.
"""

from decimal import Decimal

from grafanalib import core as g

from .. import durations, markdown, names, plan as planning, promql
from ..plan import Plan, ServicePlan, SLOPlan, number
from . import panels, prometheus
from .panels import BAD, GOOD, WARN, at, query, steps

ROW_HEIGHT = 23  # grid units of one SLO's block, its row panel included
TIER_COLOUR = {names.TICKET: WARN, names.PAGE: BAD}
# Offsets of an SLO's panels in its block of ids (names.panel_id); alerts link to the burn rate.
TEXT, OBJECTIVE, SLI, BUDGET, BURN_NOW, BUDGET_TREND, RATES, ALERTS, BUDGET_TIME = 1, 2, 3, 4, 6, 7, 8, 9, 10
BURN_RATE = names.BURN_RATE_PANEL


def selector(slo: SLOPlan) -> promql.Selector:
    """The SLO's recorded series, narrowed by the dashboard's variable of each group label."""
    return prometheus.selector(slo).with_matcher(*(promql.Matcher(g, "=~", f"${g}") for g in slo.group_by))


def legend(slo: SLOPlan, prefix: str = "") -> str:
    labels = " ".join(f"{g}={{{{{g}}}}}" for g in slo.group_by)
    return " ".join(part for part in (prefix, labels) if part) or slo.name


def alert_windows(slo: SLOPlan) -> list[str]:
    return [durations.to_text(w) for w in sorted({w for p in slo.pairs for w in (p.long, p.short)})]


def tier_thresholds(slo: SLOPlan) -> list[dict]:
    """A step at each pair's burn rate, coloured by its tier; page wins where both share a rate."""
    rates = {}
    for pair in sorted(slo.pairs, key=lambda p: p.tier, reverse=True):
        rates[pair.burn_rate] = TIER_COLOUR[pair.tier]
    return steps(GOOD, *((colour, float(rate)) for rate, colour in sorted(rates.items())))


def worst(slo: SLOPlan, aggregation: str, expr: str | promql.Selector) -> str | promql.Selector:
    """`expr` reduced to its worst group where the SLO is grouped, for a stat of one value."""
    return f"{aggregation}({expr})" if slo.group_by else expr


def runbook_links(slo: SLOPlan) -> list[dict]:
    """Links to the SLO's runbooks; none without runbook_base_url, which the About text names instead."""
    return [panels.link(f"Runbook: {slo.alert} ({tier})", slo.route(tier).runbook_url) for tier in slo.tiers
            if slo.route(tier).runbook_url]


def runbook_lines(slo: SLOPlan) -> list[str]:
    return [f"- [Runbook: {slo.alert} ({tier})]({route.runbook_url})" if route.runbook_url else
            f"- Runbook ({tier}): `{route.runbook}` in the SLO repository" for tier in slo.tiers
            for route in [slo.route(tier)]]


def about(slo: SLOPlan) -> str:
    """The row's text panel: what the SLO promises, who owns it, how it is measured."""
    budget = durations.human(planning.budget_time(slo.budget, slo.period))
    calendar = f" per {slo.period_text}" if slo.calendar else ""
    errors, total, _ = prometheus.base_rates(slo)
    lines = [markdown.inline(slo.description) or f"{slo.service}/{slo.name}", "",
             f"- **Owner:** {markdown.inline(slo.owner) or 'not set'}",
             f"- **Objective:** {number(slo.objective_percent)}% of events good over {slo.period_name}; error "
             f"budget {number(slo.budget * 100)}% ({budget} of full outage{calendar})",
             f"- **SLI** ({slo.sli.kind}), over {slo.base_text}:", "", "```promql", f"# errors\n{errors}",
             f"# total\n{total}", "```", ""]
    return "\n".join(lines + runbook_lines(slo)) + "\n"


def slo_row(slo: SLOPlan, y: int) -> list:
    def pid(offset: int) -> int:
        return names.panel_id(slo.position, offset)

    def series(expr: str | promql.Selector, ref: str, legend_format: str):
        # At the rule interval: the recorded series have nothing finer, and nothing coarser hides a spike.
        return query(expr, ref, legend_format, interval=durations.to_text(slo.rule_interval))

    sel, budget = selector(slo), number(slo.budget)
    objective = float(slo.objective)
    decimals = max(0, -slo.objective_percent.as_tuple().exponent)  # of the objective in percent: 99.9 has 1
    budget_seconds = number(Decimal(slo.budget_time) / 1000)
    runbooks = runbook_links(slo)
    burn_targets = [series(prometheus.burn_rate(slo, w, sel), chr(ord("A") + i), legend(slo, w))
                    for i, w in enumerate(alert_windows(slo))]
    pairs_text = "; ".join(f"{p.tier}: {p.long_text} and {p.short_text} above {number(p.burn_rate)}"
                           for p in slo.pairs) or "no alert tiers"
    of_worst = f" (worst {', '.join(slo.group_by)})" if slo.group_by else ""
    title = f"{slo.name}: {number(slo.objective_percent)}% over {slo.period_name}"
    return [
        panels.row(pid(0), title, y),
        panels.text(pid(TEXT), "About", at(0, y + 1, 8, 16), about(slo)),
        panels.stat(pid(OBJECTIVE), "Objective", at(8, y + 1, 3, 4),
                    [query(prometheus.series(slo, names.OBJECTIVE), "A", instant=True)],
                    "percentunit", steps(GOOD), decimals),
        panels.stat(pid(SLI), f"SLI {slo.this_period}{of_worst}", at(11, y + 1, 3, 4),
                    [query(worst(slo, "min", f"1 - {sel.with_metric(slo.period_ratio)}"), "A",
                           instant=True)],
                    "percentunit", steps(BAD, (GOOD, objective)), decimals + 1),
        panels.stat(pid(BUDGET), f"Error budget left{' ' + slo.this_period if slo.calendar else ''}{of_worst}",
                    at(14, y + 1, 3, 4),
                    [query(worst(slo, "min", sel.with_metric(names.BUDGET_REMAINING)), "A", instant=True)],
                    "percentunit", panels.budget_steps(), 1),
        panels.stat(pid(BUDGET_TIME), f"Budget left as full outage{of_worst}", at(17, y + 1, 4, 4),
                    [query(worst(slo, "min", f"clamp_min({sel.with_metric(names.BUDGET_REMAINING)}, 0) * "
                                             f"{budget_seconds}"), "A", instant=True)],
                    "dtdurations", steps(BAD, (WARN, 0.0), (GOOD, float(budget_seconds) / 4)), None, [],
                    f"How long a full outage may last before the budget {slo.this_period} is spent "
                    f"(of {durations.human(slo.budget_time)} in all)."),
        panels.stat(pid(BURN_NOW), f"Burn rate over {slo.base_text}{of_worst}", at(21, y + 1, 3, 4),
                    [query(worst(slo, "max", sel.with_metric(names.CURRENT_BURN_RATE)), "A", instant=True)],
                    panels.TIMES, tier_thresholds(slo), 2, runbooks),
        panels.timeseries(pid(BUDGET_TREND), f"Error budget burn-down {slo.this_period}",
                          at(8, y + 5, 16, 4),
                          [series(sel.with_metric(names.BUDGET_REMAINING), "A", legend(slo))], "percentunit",
                          panels.budget_steps(), time_from=slo.period_text, soft_range=(0, 1),
                          description=f"The share of the error budget left, over the whole SLO period "
                                      f"({slo.period_text}) whatever the dashboard's time range."),
        panels.timeseries(pid(BURN_RATE), "Burn rate per alert window", at(8, y + 9, 16, 8), burn_targets,
                          panels.TIMES, tier_thresholds(slo), runbooks,
                          f"Error ratio over each window divided by the error budget ({budget}). An alert "
                          f"fires when both windows of a pair exceed its burn rate: {pairs_text}. The SLO's "
                          f"firing alerts are drawn as red regions."),
        panels.timeseries(pid(RATES), f"Events and errors (rate over {slo.base_text})", at(0, y + 17, 12, 6),
                          [series(sel.with_metric(names.total_rate(slo.base_text)), "A", legend(slo, "total")),
                           series(sel.with_metric(names.errors_rate(slo.base_text)), "B", legend(slo, "errors"))],
                          slo.sli_kind.rate_unit),
        panels.table(pid(ALERTS), "Active alerts (pending and firing)", at(12, y + 17, 12, 6),
                     [query(sel.with_metric("ALERTS"), "A", table=True)],  # burn-rate and missing-data alerts
                     [{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True,
                                                                       "__name__": True}}}]),
    ]


def alerts_annotation(slo: SLOPlan) -> dict:
    """The SLO's firing alerts, drawn on its burn-rate panel from firing to resolved."""
    firing = promql.equal("ALERTS", [("alertstate", "firing")]).with_matcher(*selector(slo).matchers)
    return panels.alerts_annotation(f"{slo.name} alerts", firing, [names.panel_id(slo.position, BURN_RATE)])


def variables(service: ServicePlan, datasource: str) -> list[g.Template]:
    groups = sorted({g for slo in service.slos for g in slo.group_by})
    values_of = str(promql.equal(names.BUDGET_REMAINING, [(names.SERVICE, service.name)]))
    return [panels.datasource_variable(datasource)] + [panels.label_variable(g, values_of) for g in groups]


def render_service(service: ServicePlan, plan: Plan) -> bytes:
    rows = [panel for slo in service.slos for panel in slo_row(slo, slo.position * ROW_HEIGHT)]
    description = " · ".join(part for part in (service.description, f"owner: {service.owner}" if service.owner
                                               else "") if part)
    overview = g.DashboardLink(title="All SLOs", type="link", uri=f"/d/{names.OVERVIEW_UID}", icon="dashboard",
                               includeVars=True, keepTime=True)  # the same data source and time range
    return panels.dashboard(names.dashboard_uid(service.name), f"SLOs / {service.name}", description, rows,
                            variables(service, plan.settings.grafana_datasource), [service.name], [overview],
                            [alerts_annotation(slo) for slo in service.slos])


def render(plan: Plan) -> dict[str, tuple[bytes, str]]:
    return {names.dashboard_path(s.name): (render_service(s, plan), s.source) for s in plan.services}
