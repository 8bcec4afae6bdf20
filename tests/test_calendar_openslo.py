"""OpenSLO calendar windows (`isRolling: false`, `calendar: {startTime, timeZone}`) become calendar periods."""

import json

import grafana_schema
import yaml

from conftest import write_spec

OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}-availability
spec:
  service: {name}
  indicator:
    metadata:
      name: {name}-errors
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{{job="{name}", code!~"5.."}}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{{job="{name}"}}
  timeWindow:
    - duration: {duration}
      isRolling: false
      calendar:
        startTime: 2022-01-01 12:00:00
        timeZone: {zone}
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
"""


def test_calendar_windows_are_imported_as_calendar_periods(slo, tmp_path):
    for duration, window in (("1M", "calendar-month"), ("1Q", "calendar-quarter"), ("1w", "calendar-week")):
        path = write_spec(tmp_path, "web.yaml", OPENSLO.format(name="web", duration=duration, zone="America/New_York"))
        result = slo("import", path)
        assert result.code == 0, result.err
        assert yaml.safe_load(result.out)["slos"][0]["window"] == window
        assert ("# OpenSLO calendar in America/New_York: the settings' calendar_timezone must be America/New_York; "
                "periods start at midnight on the first day (a Monday for weeks), whatever startTime "
                "(2022-01-01 12:00:00) says") in result.out


def test_the_calendar_compiles_in_the_settings_zone_and_other_zones_get_one_line_each(slo, tmp_path):
    slos = tmp_path / "slos"
    write_spec(slos, "web.yaml", OPENSLO.format(name="web", duration="1M", zone="America/New_York"))
    settings = write_spec(tmp_path, "settings.yaml", "calendar_timezone: America/New_York\n")
    out = tmp_path / "out"
    assert slo("compile", "--slos", slos, "--out", out, "--settings", settings).code == 0
    rules = yaml.safe_load((out / "prometheus" / "web.rules.yml").read_text())
    info = next(r for r in rules["groups"][0]["rules"] if r.get("record") == "slo_info")
    assert (info["labels"]["window"], info["labels"]["timezone"]) == ("calendar-month", "America/New_York")
    # A second file in another zone: one line at its timeZone, nothing written.
    write_spec(slos, "api.yaml", OPENSLO.format(name="api", duration="1M", zone="Europe/Berlin"))
    result = slo("compile", "--slos", slos, "--out", tmp_path / "out2", "--settings", settings)
    assert result.code == 1 and not (tmp_path / "out2").exists()
    assert result.err.splitlines() == [
        f"{slos / 'api.yaml'}:28:19: spec.timeWindow[0].calendar.timeZone: time zone Europe/Berlin differs from the "
        f"settings' calendar_timezone (America/New_York): every calendar period of the project is in that one zone; "
        f"set calendar_timezone: Europe/Berlin, or write this SLO's calendar in it"]


def test_a_calendar_the_compiler_has_no_period_for_is_refused_in_one_line(slo, tmp_path):
    path = write_spec(tmp_path, "web.yaml", OPENSLO.format(name="web", duration="2w", zone="UTC"))
    result = slo("import", path)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{path}:24:7: spec.timeWindow[0]: a calendar time window of 2w is not supported: calendar periods are 1M, "
        f"1Q, 1w with isRolling: false and a calendar; or set isRolling: true and remove calendar"]


def test_the_dashboard_of_a_calendar_slo_says_this_month_and_is_valid_grafana(slo, tmp_path):
    grafana_schema.require()
    slos = tmp_path / "slos"
    write_spec(slos, "web.yaml", OPENSLO.format(name="web", duration="1M", zone="America/New_York"))
    settings = write_spec(tmp_path, "settings.yaml", "calendar_timezone: America/New_York\n")
    assert slo("compile", "--slos", slos, "--out", tmp_path / "out", "--settings", settings).code == 0
    dashboard = json.loads((tmp_path / "out" / "grafana" / "dashboards" / "web.json").read_text())
    titles = {p["title"]: p for p in dashboard["panels"]}
    assert "web-availability: 99.9% over calendar month (America/New_York)" in titles
    sli = titles["SLI this month"]["targets"][0]["expr"]
    assert "slo:sli_error:ratio_this_period" in sli
    assert {"Error budget left this month", "Error budget burn-down this month"} <= set(titles)
    assert grafana_schema.findings(dashboard) == []
