"""The overview's table: each SLO's SLI judged against its own objective, and a click on an SLO
opening that SLO's panel of its service dashboard, evaluated by promtool over hand-written series."""

from urllib.parse import parse_qs, urlsplit

from conftest import write_spec
from test_dashboards import dashboards, column_ref, follow, overview_links, panels
from test_dashboards_grafana import evaluate


def compile_specs(tmp_path, slo, specs: dict[str, list[tuple[str, str]]]) -> dict[str, dict]:
    """Dashboards of services {name: [(slo, objective)]}, each SLO on a bool SLI."""
    for service, slos in specs.items():
        write_spec(tmp_path / "slos", f"{service}.yaml", f"service: {service}\nslos:\n" + "".join(
            f"  - name: {name}\n    objective: {objective}\n    sli: {{bool: {{metric: up}}}}\n"
            for name, objective in slos))
    out = tmp_path / "out"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    return dashboards(out)


def colour(steps: list[dict], value: float) -> str:
    """The colour Grafana gives `value`: the first step is the base, then each step from its value on."""
    return [step["color"] for i, step in enumerate(steps) if i == 0 or value >= step["value"]][-1]


def column(table: dict, title: str) -> tuple[str, list[dict] | None]:
    """The query of a column of the overview and its threshold steps (None: not coloured)."""
    [expr] = [t["expr"] for t in table["targets"] if t["refId"] == column_ref(table, title)]
    [override] = [o for o in table["fieldConfig"]["overrides"] if o["matcher"]["options"] == title]
    steps = [p["value"]["steps"] for p in override["properties"] if p["id"] == "thresholds"]
    return expr, steps[0] if steps else None


def test_the_same_sli_is_red_or_green_by_each_slo_s_own_objective(tmp_path, slo, promtool):
    [table] = compile_specs(tmp_path, slo, {"shop": [("loose", "99"), ("exact", "99.5"), ("strict", "99.9")]})[
        "slo-overview"]["panels"]
    # Each SLO loses 0.5% of its events (SLI 99.5%): budgets of 1%, 0.5% and 0.1% burn at 0.5, 1 and 5
    # times the allowed pace, leaving 50%, 0% and -400% of the budget.
    series, sli, margins = {}, [], {}
    for name, budget, burn, left, margin, panel in (("loose", "0.01", "0.5", "0.5", 0.5, 205),
                                                    ("exact", "0.005", "1", "0", 0.0, 105),
                                                    ("strict", "0.001", "5", "-4", -0.4, 305)):
        identity = f'slo_service="shop", slo_name="{name}"'
        series |= {f"slo:error_budget:ratio{{{identity}}}": budget, f"slo:period_burn_rate:ratio{{{identity}}}": burn,
                   f"slo:period_error_budget_remaining:ratio{{{identity}}}": left}
        labels = f'{{dashboard="slo-shop", panel="{panel}", {identity}}}'
        sli.append((labels, 0.995))
        margins[name] = (labels, margin)
    sli_expr, sli_steps = column(table, "SLI over the period")
    evaluate(promtool, tmp_path, series, sli_expr, sli)
    # SLI minus objective in percentage points: 99.5 - 99, 99.5 - 99.5 and 99.5 - 99.9.
    margin_expr, steps = column(table, "SLI − objective")
    evaluate(promtool, tmp_path, series, margin_expr, list(margins.values()))
    assert {name: colour(steps, value) for name, (_, value) in margins.items()} == {
        "loose": "green", "exact": "green", "strict": "red"}
    # One SLI, three verdicts: no threshold of the SLI's own column could colour it.
    assert sli_steps is None


def test_a_click_on_an_slo_opens_its_own_panel_keeping_time_range_and_data_source(tmp_path, slo, promtool):
    # `web` is shop's second SLO by name and zoo's first: the same name has a different panel in each.
    found = compile_specs(tmp_path, slo, {"shop": [("web", "99"), ("api", "99.9")], "zoo": [("web", "99.5")]})
    [table] = found["slo-overview"]["panels"]
    expr, _ = column(table, "Objective")
    rows = {("shop", "api"): ("0.999", "105"), ("shop", "web"): ("0.99", "205"), ("zoo", "web"): ("0.995", "105"),
            ("other", "x"): ("0.9", None)}  # an SLO compiled elsewhere that writes to the same Prometheus
    series = {f'slo:objective:ratio{{slo_service="{s}", slo_name="{n}"}}': v for (s, n), (v, _) in rows.items()}
    panel_label = {p: f'panel="{p}", ' if p else "" for _, p in rows.values()}  # no panel: no label
    evaluate(promtool, tmp_path, series, expr, [
        (f'{{dashboard="slo-{s}", {panel_label[p]}slo_name="{n}", slo_service="{s}"}}', float(v))
        for (s, n), (v, p) in rows.items()])
    [link] = overview_links(table)["SLO"]
    for (service, name), (_, panel) in rows.items():
        fields = {"dashboard": f"slo-{service}", "slo_service": service, "slo_name": name} | (
            {"panel": panel} if panel else {})
        url = urlsplit(follow(link["url"], fields))
        query = parse_qs(url.query, keep_blank_values=True)
        assert (url.path, query["from"], query["to"], query["var-datasource"]) == (
            f"/d/slo-{service}", ["now-6h"], ["now"], ["prom"])
        if service == "other":
            assert query["viewPanel"] == [""]  # no panel known: the whole dashboard opens
            continue
        [opened] = [p for p in panels(found[service]) if str(p["id"]) == query["viewPanel"][0]]
        assert opened["title"] == "Burn rate per alert window"
        assert all(f'slo_service="{service}", slo_name="{name}"' in t["expr"] for t in opened["targets"])
