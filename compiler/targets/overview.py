"""The overview dashboard: every SLO in one table, the least budget left first.

One instant query per column, each reduced to one row per SLO (the worst group where an SLO has
`group_by`), merged on the SLO's labels. A `dashboard` label carries the uid of the service
dashboard that each row links to.
"""

from .. import names
from ..plan import Plan
from . import panels
from .panels import BAD, GOOD, WARN, at, query, steps

BY = f"({names.SERVICE}, {names.SLO})"
DASHBOARD_LABEL = "dashboard"
BUDGET_COLUMN = "Budget remaining"
# Cells coloured by their column's thresholds ("color-text" has no schema of its own in Grafana 11.4's
# table options, which cannot tell it from "auto").
CELL_COLOUR = {"type": "color-background", "mode": "basic", "applyToRow": False}
# (column, query, unit, threshold steps): the order of the table.
COLUMNS = (
    ("Objective", f"max by {BY} ({names.OBJECTIVE})", "percentunit", steps(GOOD)),
    ("SLI over the period",
     f"min by {BY} (1 - {names.PERIOD_BURN_RATE} * on {BY} group_left {names.ERROR_BUDGET})", "percentunit",
     None),  # each SLO has its own objective; the budget column says whether the SLI meets it
    (BUDGET_COLUMN, f"min by {BY} ({names.BUDGET_REMAINING})", "percentunit", panels.budget_steps()),
    ("Burn rate now", f"max by {BY} ({names.CURRENT_BURN_RATE})", panels.TIMES, steps(GOOD, (WARN, 1.0))),
    ("Firing alerts", f'count by {BY} (ALERTS{{alertstate="firing", {names.SERVICE}!=""}})\n'
                      f"or 0 * max by {BY} ({names.OBJECTIVE})", "none", steps(GOOD, (BAD, 1.0))),
)


def with_dashboard(expr: str, services: list[str]) -> str:
    """`expr` with the uid of each row's service dashboard as a label.

    Most uids are the service name behind a prefix, which one rule maps; a long name's uid
    carries a digest and gets a rule of its own.
    """
    out = f'label_replace({expr}, "{DASHBOARD_LABEL}", "{names.DASHBOARD_UID_PREFIX}$1", "{names.SERVICE}", "(.*)")'
    for service in services:
        uid = names.dashboard_uid(service)
        if uid != names.DASHBOARD_UID_PREFIX + service:
            out = f'label_replace({out}, "{DASHBOARD_LABEL}", "{uid}", "{names.SERVICE}", "{service}")'
    return out


def _override(field: str, props: list[dict]) -> dict:
    return {"matcher": {"id": "byName", "options": field}, "properties": props}


def render_overview(plan: Plan) -> bytes:
    services = [s.name for s in plan.services]
    refs = [chr(ord("A") + i) for i in range(len(COLUMNS))]
    targets = [query(with_dashboard(expr, services), ref, table=True)
               for ref, (_, expr, _, _) in zip(refs, COLUMNS)]
    # The service's dashboard over the same time range, on the same data source.
    link = [panels.link("Service dashboard", f"/d/${{__data.fields.{DASHBOARD_LABEL}}}?${{__url_time_range}}"
                                             f"&${{{panels.DATASOURCE_VARIABLE}:queryparam}}", new_tab=False)]
    renames = {names.SERVICE: "Service", names.SLO: "SLO",
               **{f"Value #{ref}": column for ref, (column, *_) in zip(refs, COLUMNS)}}
    order = {name: i for i, name in enumerate([names.SERVICE, names.SLO, *(f"Value #{r}" for r in refs)])}
    overrides = [_override(column, [{"id": "unit", "value": unit}] + ([{"id": "thresholds", "value": {
        "mode": "absolute", "steps": thresholds}}, {"id": "custom.cellOptions", "value": CELL_COLOUR}]
        if thresholds else [])) for column, _, unit, thresholds in COLUMNS]
    overrides += [_override(column, [{"id": "links", "value": link}]) for column in ("Service", "SLO")]
    overrides.append(_override(DASHBOARD_LABEL, [{"id": "custom.hidden", "value": True}]))
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": order,
                                       "renameByName": renames}},
    ]
    table = panels.table(1, "Every SLO, least error budget left first", at(0, 0, panels.WIDTH, 20), targets,
                         transformations, overrides, BUDGET_COLUMN,
                         "One row per SLO; where an SLO is grouped, the worst group. Click a service or SLO "
                         "for its dashboard.")
    return panels.dashboard(names.OVERVIEW_UID, "SLOs / overview", "Every SLO compiled from the specs.", [table],
                            [panels.datasource_variable(plan.settings.grafana_datasource)], ["overview"])


def render(plan: Plan, source: str) -> dict[str, tuple[bytes, str]]:
    return {names.dashboard_path(names.OVERVIEW): (render_overview(plan), source)}
