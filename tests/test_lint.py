"""`slo lint`: each check finds what it is for, at its place, with severity, code and fix."""

import pytest

from conftest import SETTINGS, SLOS, shared, write_spec

HEAD = "service: shop\nslos:\n"


def ratio(name: str, objective: str, errors: str, total: str, extra: str = "") -> str:
    return (f"  - name: {name}\n    objective: {objective}\n    sli:\n      ratio:\n"
            f"        errors: '{errors}'\n        total: '{total}'\n{extra}")


# Where runbooks and Grafana live: without them lint warns about the settings (see the last test).
URLS = "runbook_base_url: https://git.example.com/slos/blob/main/output\ngrafana_url: https://grafana.example.com\n"
GOOD = ratio("good", "99.9", 'http_requests_total{job="shop", code=~"5.."}', 'http_requests_total{job="shop"}')


@pytest.fixture
def lint(tmp_path, slo, monkeypatch):
    """Lint one spec (and optional settings) in the current folder; returns the result and its findings
    as (place, code)."""
    monkeypatch.chdir(tmp_path)

    def run(spec: str, settings: str = "", *args: str):
        write_spec(tmp_path / "slos", "shop.yaml", spec)
        write_spec(tmp_path, "slo-settings.yaml", URLS + settings)
        result = slo("lint", "--slos", "slos", "--settings", "slo-settings.yaml", *args)
        found = {(line.split(": ")[0] + ": " + line.split(": ")[1], line.split(": ")[2].split()[1])
                 for line in result.lines}
        return result, found
    return run


def test_a_sound_spec_has_no_findings(lint):
    result, found = lint(HEAD + GOOD)
    assert (result.code, result.err, found) == (0, "", set())


def test_the_test_specs_have_no_findings(slo):
    # The test settings name no runbook or Grafana address: the two settings warnings alone.
    result = slo("lint", "--slos", SLOS, "--settings", SETTINGS)
    assert result.code == 0 and [line.split(": ")[2].split()[:2] for line in result.lines] == [
        ["warning", "no-grafana-url"], ["warning", "no-runbook-url"]], result.err


def test_the_shared_examples_have_no_errors(slo, tmp_path):
    result = slo("lint", "--slos", shared("examples"), "--settings", tmp_path / "none.yaml")
    assert result.code == 0 and all(" warning " in line for line in result.lines), result.err


def test_a_finding_is_one_line_with_place_severity_code_message_and_fix(lint):
    spec = HEAD + ratio("gauge", "99", 'queue_depth{job="q", state="failed"}', 'queue_depth{job="q"}')
    result, _ = lint(spec)
    assert result.lines[0] == (
        "slos/shop.yaml:7:17: slos[0].sli.ratio.errors: warning rate-of-non-counter: rate() of queue_depth, whose "
        "name is not a counter's (_total, _count, _bucket, _sum): the rate of a gauge means nothing; fix: use a "
        "counter, or the bool SLI for a 0/1 gauge")
    assert len(result.lines) == 2 and result.lines[1].startswith("slos/shop.yaml:8:16: slos[0].sli.ratio.total:")


def test_ranges_shorter_than_four_scrapes_are_errors(lint):
    spec = HEAD + ("  - name: custom\n    objective: 99\n    sli:\n      events:\n"
                   "        errors: sum(rate(app_errors_total{job=\"a\"}[$window])) or sum(rate(x_total{job=\"a\"}[2m]))\n"
                   "        total: sum(rate(app_requests_total{job=\"a\"}[$window]))\n")
    result, found = lint(spec)
    assert result.code == 1
    assert found == {("slos/shop.yaml:7:17: slos[0].sli.events.errors", "range-too-short")}
    assert "a [2m] range holds fewer than 4 scrapes at the 1m scrape interval" in result.err
    # At a 30s scrape interval the same 2m range holds four scrapes.
    assert lint(spec, "scrape_interval: 30s\n")[1] == set()


def test_selectors_matched_by_regular_expressions_alone_are_errors(lint):
    spec = HEAD + ratio("regex", "99", '{__name__=~"http_.*", code=~"5.."}', '{__name__=~"http_.*"}')
    result, found = lint(spec)
    assert result.code == 1
    assert found == {("slos/shop.yaml:7:17: slos[0].sli.ratio.errors", "selector-without-equality"),
                     ("slos/shop.yaml:8:16: slos[0].sli.ratio.total", "selector-without-equality")}


def test_a_bool_sli_over_a_counter_is_a_warning(lint):
    spec = HEAD + "  - name: probe\n    objective: 99\n    sli:\n      bool:\n        metric: probes_total\n"
    result, found = lint(spec)
    assert (result.code, found) == (0, {("slos/shop.yaml:7:17: slos[0].sli.bool.metric", "bool-of-counter")})
    assert lint(spec, "", "--strict")[0].code == 1


def test_a_latency_threshold_off_the_default_buckets_is_a_warning(lint):
    spec = HEAD + ("  - name: latency\n    objective: 99\n    sli:\n      latency:\n"
                   "        histogram: http_request_duration_seconds{job=\"shop\"}\n        threshold: {t}\n")
    assert lint(spec.replace("{t}", "250ms"))[1] == set()
    result, found = lint(spec.replace("{t}", "300ms"))
    assert found == {("slos/shop.yaml:8:20: slos[0].sli.latency.threshold", "threshold-not-default-bucket")}
    assert 'le="0.3"' in result.err and result.code == 0


def test_at_90_percent_the_page_tier_can_never_fire(lint):
    # SRE Workbook: at a 90% SLO a full outage spends only 1.4% of a 30d budget in an hour, so the
    # 1h page tier (2% in an hour, burn rate 14.4) cannot fire; the 6h tier (burn rate 6) can.
    result, found = lint(HEAD + GOOD.replace("99.9", "90"))
    assert result.code == 1
    assert found == {("slos/shop.yaml:4:16: slos[0].objective", "tier-never-fires")}
    assert "page tier 1h/5m waits for a burn rate of 14.4" in result.err and "1.39% of the budget in 1h" in result.err


def test_turning_the_tier_off_silences_it(lint):
    assert lint(HEAD + GOOD.replace("99.9", "90") + "    alerting:\n      page: false\n")[1] == set()


def test_a_budget_of_seconds_is_spent_before_the_page_fires(lint):
    result, found = lint(HEAD + GOOD.replace("99.9", "99.999"))
    assert result.code == 1
    assert found == {("slos/shop.yaml:4:16: slos[0].objective", "budget-too-small"),
                     ("slos/shop.yaml:4:16: slos[0].objective", "page-after-budget")}
    assert "leaves 25s of full outage" in result.err
    # 99.99% leaves 4m 19s: small, but the page comes before it is gone.
    assert lint(HEAD + GOOD.replace("99.9", "99.99"))[1] == {
        ("slos/shop.yaml:4:16: slos[0].objective", "budget-too-small")}


def test_labels_that_collide_with_external_labels(lint):
    spec = ("service: shop\nlabels: {cluster: a}\nslos:\n"
            + GOOD.replace("total: 'http_requests_total{job=\"shop\"}'",
                           "total: 'http_requests_total{job=\"shop\"}'\n        group_by: [zone, route]")
            + "    alerting:\n      labels: {region: b}\n      ticket: {labels: {cluster: c}}\n")
    assert lint(spec)[1] == set()
    result, found = lint(spec, "external_labels: {cluster: eu1, region: west, zone: a}\n")
    assert result.code == 1
    assert found == {("slos/shop.yaml:2:10: labels.cluster", "external-label-conflict"),
                     ("slos/shop.yaml:10:20: slos[0].sli.ratio.group_by[0]", "group-by-external-label"),
                     ("slos/shop.yaml:12:16: slos[0].alerting.labels.region", "external-label-conflict"),
                     ("slos/shop.yaml:13:25: slos[0].alerting.ticket.labels.cluster", "external-label-conflict")}


def test_lint_refuses_an_invalid_spec_like_compile(lint):
    result, _ = lint(HEAD + GOOD.replace("99.9", "100"))
    assert result.code == 1 and result.lines == [
        "slos/shop.yaml:4:16: slos[0].objective: must be above 0 and below 100, got 100"]


def test_slo_check_runs_lint_and_fails_on_its_errors(tmp_path, slo, promtool):
    write_spec(tmp_path / "slos", "shop.yaml", HEAD + GOOD.replace("99.9", "90"))
    settings = write_spec(tmp_path, "slo-settings.yaml", URLS)
    args = ("--slos", tmp_path / "slos", "--settings", settings, "--out", tmp_path / "out")
    assert slo("compile", *args).code == 0
    result = slo("check", *args)
    assert result.code == 1 and "error tier-never-fires" in result.err
    (tmp_path / "slos" / "shop.yaml").write_text(HEAD + GOOD.replace("99.9", "90") + "    alerting:\n      page: false\n")
    assert slo("compile", *args).code == 0
    result = slo("check", *args)
    assert result.code == 0 and result.lines[-1].startswith("slo check: 1 SLOs checked, 0 without synthetic "
                                                            "traffic; all passed in ")


def test_grouping_by_the_label_that_tells_errors_apart_is_an_error(lint):
    spec = HEAD + ratio("by-code", "99", 'http_requests_total{job="shop", code=~"5.."}',
                        'http_requests_total{job="shop"}', "        group_by: [route, code]\n")
    result, found = lint(spec)
    assert result.code == 1
    assert found == {("slos/shop.yaml:9:27: slos[0].sli.ratio.group_by[1]", "group-by-error-label")}


def test_slo_labels_and_sloths_labels_that_collide_with_external_labels(lint):
    spec = HEAD + GOOD + "    labels: {region: b}\n"
    assert lint(spec, "sloth_labels: true\n")[1] == set()
    external = "external_labels: {region: west, sloth_service: a, sloth_window: b}\n"
    result, found = lint(spec, external)
    assert result.code == 1
    assert found == {("slos/shop.yaml:9:14: slos[0].labels.region", "external-label-conflict")}
    result, found = lint(spec, "sloth_labels: true\n" + external)
    assert found == {("slos/shop.yaml:9:14: slos[0].labels.region", "external-label-conflict"),
                     ("slos/shop.yaml:1:10: service", "external-label-conflict")}
    assert sum("sloth_service is an external label" in line for line in result.lines) == 1
    assert sum("sloth_window is an external label" in line for line in result.lines) == 1


@pytest.mark.parametrize("settings, warned", [
    ("", {"grafana_url": "no-grafana-url", "runbook_base_url": "no-runbook-url"}),
    ("grafana_url: https://grafana.example.com\n", {"runbook_base_url": "no-runbook-url"}),
    ("runbook_base_url: https://git.example.com/slos/blob/main/output\n", {"grafana_url": "no-grafana-url"}),
    (URLS, {}),
])
def test_empty_link_settings_are_warnings_that_name_the_setting(tmp_path, slo, settings, warned):
    write_spec(tmp_path / "slos", "shop.yaml", HEAD + GOOD)
    path = write_spec(tmp_path, "my-settings.yaml", settings)
    result = slo("lint", "--slos", tmp_path / "slos", "--settings", path)
    found = {line.split(": ")[1]: line.split(": ")[2].split()[1] for line in result.lines}
    assert result.code == 0 and found == warned, result.err
    assert all(line.startswith("my-settings.yaml:1:1: ") for line in result.lines)
    assert slo("lint", "--slos", tmp_path / "slos", "--settings", path, "--strict").code == (1 if warned else 0)


def test_a_team_that_owns_no_service_is_named_with_the_owner_meant(tmp_path, slo):
    write_spec(tmp_path / "slos", "shop.yaml", "service: shop\nowner: team-shop\nslos:\n" + GOOD)
    teams = "alertmanager:\n  teams:\n    team-shop: {page: shop-pager}\n    team-shpo: {page: other}\n"
    path = write_spec(tmp_path, "slo-settings.yaml", URLS + teams)
    result = slo("lint", "--slos", tmp_path / "slos", "--settings", path)
    assert result.code == 0 and [line.split(": ", 2)[1:] for line in result.lines] == [[
        "alertmanager.teams.team-shpo", "warning team-without-service: no service has the owner 'team-shpo', so this "
        "team's receivers get no alert (did you mean 'team-shop'?); fix: name an owner of a service, or set team_label "
        "to route by an alert label"]], result.err
    path.write_text(URLS + "alertmanager:\n  team_label: team\n  teams:\n    team-shpo: {page: other}\n")
    assert slo("lint", "--slos", tmp_path / "slos", "--settings", path).lines == []
