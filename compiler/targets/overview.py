"""The overview dashboard: every SLO in one table, the least budget left first.

One instant query per column, each reduced to one row per SLO (the worst group where an SLO has
`group_by`), merged on the SLO's labels. Two hidden labels say where each row links to: `dashboard`,
the uid of its service dashboard, and `panel`, the id of its SLO's burn-rate panel there.

Grafana colours a table cell by thresholds of its column, the same for every row, while each SLO
has an objective of its own: the SLI is therefore judged in a column of SLI minus objective, whose
threshold is zero for every SLO.
"""

from .. import names
from ..plan import Plan, SLOPlan
from . import panels
from .panels import BAD, GOOD, WARN, at, query, steps

BY = f"({names.SERVICE}, {names.SLO})"
DASHBOARD_LABEL = "dashboard"
PANEL_LABEL = "panel"
BUDGET_COLUMN = "Budget remaining"
MARGIN_COLUMN = "SLI − objective"
# Cells coloured by their column's thresholds ("color-text" has no schema of its own in Grafana 11.4's
# table options, which cannot tell it from "auto").
CELL_COLOUR = {"type": "color-background", "mode": "basic", "applyToRow": False}
# (column, query, unit, threshold steps): the order of the table.
COLUMNS = (
    ("Objective", f"max by {BY} ({names.OBJECTIVE})", "percentunit", steps(GOOD)),
    ("SLI over the period",
     f"min by {BY} (1 - {names.PERIOD_BURN_RATE} * on {BY} group_left {names.ERROR_BUDGET})", "percentunit",
     None),  # each SLO has its own objective: the next column says whether the SLI meets it
    # SLI - objective = budget x (1 - period burn rate), in percentage points: of the budget left's
    # sign, so an SLI exactly at its objective is met, with no float noise around zero.
    (MARGIN_COLUMN, f"100 * min by {BY} ({names.BUDGET_REMAINING} * on {BY} group_left {names.ERROR_BUDGET})",
     "suffix: pp", steps(BAD, (GOOD, 0.0))),
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


def with_panel(expr: str, slos: list[SLOPlan]) -> str:
    """`expr` with the id of each row's SLO panel in its service dashboard as a label.

    An SLO's panel ids follow its position among its service's SLOs, so one rule per position
    names the SLOs at it (names are letters, digits and dashes: nothing to escape in a regular
    expression). A row of an SLO compiled elsewhere gets no panel: its link opens the whole dashboard.
    """
    keys: dict[int, list[str]] = {}
    for slo in slos:
        keys.setdefault(names.panel_id(slo.position, names.BURN_RATE_PANEL), []).append(f"{slo.service}/{slo.name}")
    out = f'label_join({expr}, "{PANEL_LABEL}", "/", "{names.SERVICE}", "{names.SLO}")'
    for panel, slo_keys in sorted(keys.items()):
        out = f'label_replace({out}, "{PANEL_LABEL}", "{panel}", "{PANEL_LABEL}", "{"|".join(sorted(slo_keys))}")'
    return f'label_replace({out}, "{PANEL_LABEL}", "", "{PANEL_LABEL}", ".*/.*")'


def _override(field: str, props: list[dict]) -> dict:
    return {"matcher": {"id": "byName", "options": field}, "properties": props}


def render_overview(plan: Plan) -> bytes:
    services = [s.name for s in plan.services]
    slos = [slo for service in plan.services for slo in service.slos]
    refs = [chr(ord("A") + i) for i in range(len(COLUMNS))]
    targets = [query(with_panel(with_dashboard(expr, services), slos), ref, table=True)
               for ref, (_, expr, _, _) in zip(refs, COLUMNS)]
    # Links keep the time range and the data source (Grafana's data link variables).
    keep = f"${{__url_time_range}}&${{{panels.DATASOURCE_VARIABLE}:queryparam}}"
    uid = f"${{__data.fields.{DASHBOARD_LABEL}}}"
    links = {"Service": panels.link("Service dashboard", f"/d/{uid}?{keep}", new_tab=False),
             "SLO": panels.link("This SLO on its service dashboard",
                                f"{names.panel_url('', uid, f'${{__data.fields.{PANEL_LABEL}}}')}&{keep}",
                                new_tab=False)}
    renames = {names.SERVICE: "Service", names.SLO: "SLO",
               **{f"Value #{ref}": column for ref, (column, *_) in zip(refs, COLUMNS)}}
    order = {name: i for i, name in enumerate([names.SERVICE, names.SLO, *(f"Value #{r}" for r in refs)])}
    overrides = [_override(column, [{"id": "unit", "value": unit}] + ([{"id": "thresholds", "value": {
        "mode": "absolute", "steps": thresholds}}, {"id": "custom.cellOptions", "value": CELL_COLOUR}]
        if thresholds else [])) for column, _, unit, thresholds in COLUMNS]
    overrides += [_override(column, [{"id": "links", "value": [link]}]) for column, link in links.items()]
    overrides += [_override(label, [{"id": "custom.hidden", "value": True}]) for label in (DASHBOARD_LABEL, PANEL_LABEL)]
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": order,
                                       "renameByName": renames}},
    ]
    table = panels.table(1, "Every SLO, least error budget left first", at(0, 0, panels.WIDTH, 20), targets,
                         transformations, overrides, BUDGET_COLUMN,
                         f"One row per SLO; where an SLO is grouped, the worst group. {MARGIN_COLUMN} is "
                         "green where the SLI over the period meets the SLO's own objective, red where it is "
                         "below (in percentage points). Click a service for its dashboard, an SLO for its "
                         "burn-rate panel there.")
    return panels.dashboard(names.OVERVIEW_UID, "SLOs / overview", "Every SLO compiled from the specs.", [table],
                            [panels.datasource_variable(plan.settings.grafana_datasource)], ["overview"])


def render(plan: Plan, source: str) -> dict[str, tuple[bytes, str]]:
    return {names.dashboard_path(names.OVERVIEW): (render_overview(plan), source)}
