"""The few grafanalib building blocks every SLO dashboard is made of: modern panel types only.

Grafana 11 disables Angular panels (`graph`, `singlestat`), so only TimeSeries, Stat, Table, Text
and RowPanel are used. Dashboards are written at schema version 40, the one Grafana 11.4 saves:
Grafana runs no migration on them, so every field is written in the form that version reads
(data source references as `{type, uid}` objects, threshold steps whose base value is null).
"""

import json
import re

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from .. import names, promql, serialize

SCHEMA_VERSION = 40
WIDTH = 24
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
# Grafana sends "$label" as this regular expression when "All" is selected.
ALL = ".*"
_VARIABLE = re.compile(r'=~"\$[A-Za-z_][A-Za-z0-9_]*"')

GOOD, WARN, BAD = "green", "orange", "red"
TIMES = "suffix:x"  # unit of burn rates: how many times the budget allows


def steps(base: str, *thresholds: tuple[str, float]) -> list[dict]:
    """Threshold steps as Grafana reads them: a base colour, then (colour, from value) ascending."""
    return [{"color": base, "value": None}] + [{"color": c, "value": v} for c, v in thresholds]


def budget_steps() -> list[dict]:
    """Colours of the budget left: red once spent, orange in its last quarter."""
    return steps(BAD, (WARN, 0.0), (GOOD, 0.25))


def query(expr: str | promql.Selector, ref: str, legend: str = "", instant: bool = False,
          table: bool = False) -> g.Target:
    """A Prometheus query; `table` ones are instant and keep every label as a column."""
    expr = str(expr)
    promql.check(with_all(expr))  # every query we write parses, or compiling fails loudly
    return g.Target(expr=expr, refId=ref, legendFormat=legend, instant=instant or table, datasource=DATASOURCE,
                    format="table" if table else "time_series")


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
                  colorMode="value", links=links or [], description=description or None)


def timeseries(pid: int, title: str, pos: g.GridPos, targets: list[g.Target], unit: str,
               thresholds: list[dict] | None = None, links: list[dict] | None = None,
               description: str = "") -> g.TimeSeries:
    return g.TimeSeries(id=pid, title=title, gridPos=pos, targets=targets, dataSource=DATASOURCE, unit=unit,
                        thresholds=thresholds or steps(GOOD), links=links or [],
                        thresholdsStyleMode="dashed" if thresholds else "off", legendDisplayMode="table",
                        legendCalcs=["lastNotNull", "max"], tooltipMode="multi",
                        description=description or None)


def table(pid: int, title: str, pos: g.GridPos, targets: list[g.Target], transformations: list[dict],
          overrides: list[dict] | None = None, sort_by: str = "", description: str = "") -> g.Table:
    return g.Table(id=pid, title=title, gridPos=pos, targets=targets, dataSource=DATASOURCE, thresholds=steps(GOOD),
                   transformations=transformations, overrides=overrides or [],
                   sortBy=[g.TableSortByField(displayName=sort_by)] if sort_by else [],
                   description=description or None)


def text(pid: int, title: str, pos: g.GridPos, markdown: str) -> g.Text:
    return g.Text(id=pid, title=title, gridPos=pos, content=markdown)


def row(pid: int, title: str, y: int) -> g.RowPanel:
    return g.RowPanel(id=pid, title=title, gridPos=at(0, y, WIDTH, 1))


def link(title: str, url: str) -> dict:
    return {"title": title, "url": url, "targetBlank": True}


def datasource_variable(current: str) -> g.Template:
    return g.Template(name=DATASOURCE_VARIABLE, label="Data source", type="datasource", query="prometheus",
                      default=current or None)


def label_variable(label: str, values_of: str) -> g.Template:
    """A multi-value variable over the values of a `group_by` label, All by default."""
    return g.Template(name=label, label=label, query=f"label_values({values_of}, {label})", dataSource=DATASOURCE,
                      includeAll=True, multi=True, allValue=ALL, default="$__all", refresh=2)


def dashboard(uid: str, title: str, description: str, panels: list, variables: list[g.Template],
              tags: list[str], links: list[g.DashboardLink] | None = None) -> bytes:
    model = g.Dashboard(uid=uid, title=title, description=description, panels=panels,
                        templating=g.Templating(list=variables), tags=[names.MANAGED_BY, *tags],
                        links=links or [], schemaVersion=SCHEMA_VERSION, timezone="browser", refresh="1m",
                        time=g.Time("now-7d", "now"), graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR)
    # Through grafanalib's own encoder, then our sorted, deterministic JSON.
    return serialize.to_json(json.loads(json.dumps(model.to_json_data(), cls=DashboardEncoder)))
