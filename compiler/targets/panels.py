"""The few grafanalib building blocks every SLO dashboard is made of: modern panel types only.

Grafana 11 disables Angular panels (`graph`, `singlestat`), so only TimeSeries, Stat, Table, Text
and RowPanel are used. Dashboards are written in the form Grafana 11.4 saves them (schema version
40, every panel with its plugin version), so Grafana migrates nothing on load. grafanalib builds
them; `grafana_11` then drops what grafanalib writes for older Grafanas, in one place.
"""

import json
import re

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from .. import names, promql, serialize

SCHEMA_VERSION = 40
PLUGIN_VERSION = "11.4.0"  # of every core panel: equal to the Grafana version, so no panel migration runs
WIDTH = 24
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
# Grafana sends "$label" as this regular expression when "All" is selected.
ALL = ".*"
_VARIABLE = re.compile(r'=~"\$[A-Za-z_][A-Za-z0-9_]*"')
# Prometheus answers at most 11,000 points per series, and Grafana raises the step to stay below:
# with this cap the step is the query's own interval wherever the range allows it.
MAX_POINTS = 11000

GOOD, WARN, BAD = "green", "orange", "red"
TIMES = "suffix:x"  # unit of burn rates: how many times the budget allows
# Grafana reads the first threshold step as the base from -Infinity, whatever value it holds
# (JSON has no -Infinity); the schema wants a number, so the base holds the lowest double.
BASE = -1.7976931348623157e308

# What Grafana 11.4's schema (its JSON Schemas, per kind) lets each object hold. grafanalib also
# writes keys of older Grafanas (`rows`, `style`, `span`, `height`, targets' `step`, `metric`,
# `target`, ...), which Grafana ignores; they are dropped, as is every null.
KEYS = {
    "dashboard": {"annotations", "description", "editable", "graphTooltip", "links", "panels", "refresh",
                  "schemaVersion", "tags", "templating", "time", "timepicker", "timezone", "title", "uid",
                  "version"},
    "panel": {"datasource", "description", "fieldConfig", "gridPos", "hideTimeOverride", "id", "interval", "links",
              "maxDataPoints", "options", "pluginVersion", "targets", "timeFrom", "title", "transformations",
              "transparent", "type"},
    "row": {"collapsed", "gridPos", "id", "panels", "title", "type"},
    "target": {"datasource", "expr", "format", "instant", "interval", "intervalFactor", "legendFormat", "range",
               "refId"},
    "variable": {"allValue", "current", "datasource", "hide", "includeAll", "label", "multi", "name", "options",
                 "query", "refresh", "regex", "sort", "type"},
    "option": {"selected", "text", "value"},
}
# Field options the schema still lists though Grafana replaced them (`custom.cellOptions`).
DEPRECATED_CUSTOM = {"displayMode"}


def steps(base: str, *thresholds: tuple[str, float]) -> list[dict]:
    """Threshold steps as Grafana reads them: a base colour, then (colour, from value) ascending."""
    return [{"color": base, "value": BASE}] + [{"color": c, "value": v} for c, v in thresholds]


def budget_steps() -> list[dict]:
    """Colours of the budget left: red once spent, orange in its last quarter."""
    return steps(BAD, (WARN, 0.0), (GOOD, 0.25))


def query(expr: str | promql.Selector, ref: str, legend: str = "", instant: bool = False, table: bool = False,
          interval: str = "") -> g.Target:
    """A Prometheus query; `table` ones are instant and keep every label as a column. `interval`
    is the shortest step: a series recorded at the rule interval has nothing finer to show."""
    expr = str(expr)
    promql.check(with_all(expr))  # every query we write parses, or compiling fails loudly
    return g.Target(expr=expr, refId=ref, legendFormat=legend, instant=instant or table, datasource=DATASOURCE,
                    format="table" if table else "time_series", interval=interval, intervalFactor=1)


def with_all(expr: str) -> str:
    """A panel query as Grafana sends it with every variable at All (variables only stand as
    regular-expression matcher values, `label=~"$label"`)."""
    return _VARIABLE.sub(f'=~"{ALL}"', expr)


def at(x: int, y: int, w: int, h: int) -> g.GridPos:
    return g.GridPos(h=h, w=w, x=x, y=y)


def stat(pid: int, title: str, pos: g.GridPos, targets: list[g.Target], unit: str, thresholds: list[dict],
         decimals: int | None = None, links: list[dict] | None = None, description: str = "") -> g.Stat:
    return g.Stat(id=pid, title=title, gridPos=pos, targets=targets, dataSource=DATASOURCE, format=unit,
                  decimals=decimals, thresholds=thresholds, reduceCalc="lastNotNull", graphMode="none",
                  colorMode="value", links=links or [], description=description or None, noValue=None,
                  maxDataPoints=None, extraJson={"options": {
                      "wideLayout": True, "showPercentChange": False, "percentChangeColorMode": "standard"}})


def timeseries(pid: int, title: str, pos: g.GridPos, targets: list[g.Target], unit: str,
               thresholds: list[dict] | None = None, links: list[dict] | None = None,
               description: str = "", time_from: str | None = None,
               soft_range: tuple[float, float] | tuple[None, None] = (None, None)) -> g.TimeSeries:
    """A time series over the dashboard's range, or over the last `time_from` whatever it is."""
    return g.TimeSeries(id=pid, title=title, gridPos=pos, targets=targets, dataSource=DATASOURCE, unit=unit,
                        thresholds=thresholds or steps(GOOD), links=links or [],
                        thresholdsStyleMode="dashed" if thresholds else "off", legendDisplayMode="table",
                        legendCalcs=["lastNotNull", "max"], tooltipMode="multi",
                        description=description or None, maxDataPoints=MAX_POINTS, timeFrom=time_from,
                        axisSoftMin=soft_range[0], axisSoftMax=soft_range[1], stacking={"mode": "none"},
                        extraJson={"options": {"legend": {"showLegend": True}}})


def table(pid: int, title: str, pos: g.GridPos, targets: list[g.Target], transformations: list[dict],
          overrides: list[dict] | None = None, sort_by: str = "", description: str = "") -> g.Table:
    return g.Table(id=pid, title=title, gridPos=pos, targets=targets, dataSource=DATASOURCE, thresholds=steps(GOOD),
                   transformations=transformations, overrides=overrides or [], unit="none", maxDataPoints=None,
                   sortBy=[g.TableSortByField(displayName=sort_by)] if sort_by else [],
                   description=description or None,
                   extraJson={"options": {"frameIndex": 0}, "fieldConfig": {"defaults": {"custom": {
                       "inspect": False}}}})


def text(pid: int, title: str, pos: g.GridPos, markdown: str) -> g.Text:
    return g.Text(id=pid, title=title, gridPos=pos, content=markdown, maxDataPoints=None)


def row(pid: int, title: str, y: int) -> g.RowPanel:
    return g.RowPanel(id=pid, title=title, gridPos=at(0, y, WIDTH, 1))


def is_link(url: str) -> bool:
    """Whether `url` opens the same page wherever it is shown: absolute, or rooted at Grafana's
    own address (`/d/...`). A bare path resolves against the page that shows it."""
    return url.startswith("/") or "://" in url


def link(title: str, url: str, new_tab: bool = True) -> dict:
    """A panel or field link (Grafana's DashboardLink, every field the schema requires)."""
    assert is_link(url), url  # a relative link would open a page of Grafana's choosing
    return {"title": title, "type": "link", "url": url, "icon": "external link", "tooltip": "", "tags": [],
            "asDropdown": False, "targetBlank": new_tab, "includeVars": False, "keepTime": False}


def datasource_variable(current: str) -> g.Template:
    return g.Template(name=DATASOURCE_VARIABLE, label="Data source", type="datasource", query="prometheus",
                      default=current or None)


def label_variable(label: str, values_of: str) -> g.Template:
    """A multi-value variable over the values of a `group_by` label, All by default."""
    return g.Template(name=label, label=label, query=f"label_values({values_of}, {label})", dataSource=DATASOURCE,
                      includeAll=True, multi=True, allValue=ALL, default="$__all", refresh=2)


def alerts_annotation(name: str, expr: str | promql.Selector, panel_ids: list[int]) -> dict:
    """Firing alerts drawn on the given panels, a region from firing to resolved."""
    expr = str(expr)
    promql.check(with_all(expr))
    return {"name": name, "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": BAD,
            "expr": expr, "filter": {"exclude": False, "ids": panel_ids}}


def dashboard(uid: str, title: str, description: str, panels: list, variables: list[g.Template],
              tags: list[str], links: list[g.DashboardLink] | None = None,
              annotations: list[dict] | None = None) -> bytes:
    model = g.Dashboard(uid=uid, title=title, description=description, panels=panels,
                        templating=g.Templating(list=variables), tags=[names.MANAGED_BY, *tags],
                        annotations=g.Annotations(list=annotations or []),
                        links=links or [], schemaVersion=SCHEMA_VERSION, timezone="browser", refresh="1m",
                        time=g.Time("now-7d", "now"), graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR)
    # Through grafanalib's own encoder, then our sorted, deterministic JSON.
    return serialize.to_json(grafana_11(json.loads(json.dumps(model.to_json_data(), cls=DashboardEncoder))))


def grafana_11(model: dict) -> dict:
    """grafanalib's dashboard JSON as Grafana 11.4 reads it: only the keys its schema has, no nulls,
    no deprecated field options, and the plugin version on every panel."""
    model = _only(_without_nulls(model), "dashboard")
    model["panels"] = [_panel(p) for p in model["panels"]]
    model["templating"]["list"] = [_variable(v) for v in model["templating"]["list"]]
    return model


def _panel(panel: dict) -> dict:
    if panel["type"] == "row":
        return _only(panel, "row") | {"panels": [_panel(p) for p in panel["panels"]]}
    panel = _only(panel, "panel") | {"pluginVersion": PLUGIN_VERSION}
    panel["fieldConfig"] = {"defaults": {}, "overrides": [], **panel.get("fieldConfig", {})}
    panel["targets"] = [_only(t, "target") for t in panel.get("targets", [])]
    custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
    for key in DEPRECATED_CUSTOM & set(custom or ()):
        del custom[key]
    return panel


def _variable(variable: dict) -> dict:
    variable = _only(variable, "variable")
    current = _only(variable.get("current", {}), "option")
    if "value" in current:
        variable["current"] = current
    else:
        variable.pop("current", None)  # nothing preselected: Grafana picks its default
    return variable


def _only(data: dict, kind: str) -> dict:
    return {k: v for k, v in data.items() if k in KEYS[kind]}


def _without_nulls(data):
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_nulls(v) for v in data]
    return data
