"""The command line: help, usage errors, explain, schema, and promtool's absence."""

import json
import subprocess
import sys

import pytest

from compiler.spec import Service, Settings
from conftest import ROOT, SETTINGS, SLOS


@pytest.mark.parametrize("command", [[], ["compile"], ["check"], ["lint"], ["explain"], ["schema"]])
def test_help_everywhere(slo, command):
    result = slo(*command, "--help")
    assert result.code == 0 and "usage: slo" in result.out


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["compile", "--nope"], ["explain"],
                                  ["explain", "a/b", "--error-rate", "150"], ["explain", "a/b", "--error-rate", "nan"]])
def test_wrong_usage_exits_2(slo, args):
    result = slo(*args)
    assert result.code == 2 and "usage: slo" in result.err


def test_explain_shows_each_tier_its_detection_budget_and_reset_times(slo):
    result = slo("explain", "payments/api-availability", "--slos", SLOS)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "payments/api-availability: 99.9% over 30d, error budget 0.1% (43m 12s of full outage)"
    assert lines[5].split()[:7] == ["tier", "long", "short", "burn", "rate", "for", "fires"]
    # A full outage: fires after 3m (6.94% of the budget), never at 10x, resets 5m after it ends.
    assert lines[6].split() == ["page", "1h", "5m", "14.4", "2m", "3m", "6.94%", "never", "-", "5m"]
    assert lines[9].split()[:4] == ["ticket", "3d", "6h", "1"]


def test_explain_at_a_slow_burn_says_which_tiers_never_fire(slo):
    result = slo("explain", "payments/api-availability", "--slos", SLOS, "--error-rate", "0.5")
    rows = {tuple(line.split()[:3]): line for line in result.out.splitlines()[6:]}
    assert "never" in rows[("page", "1h", "5m")] and "never" not in rows[("ticket", "3d", "6h")]


def test_explain_of_an_unknown_slo_is_one_line(slo):
    result = slo("explain", "payments/nope", "--slos", SLOS)
    assert result.code == 1 and len(result.lines) == 1 and "no SLO 'payments/nope'" in result.err
    assert "did you mean" not in result.err
    assert result.err.endswith(f"under {SLOS}; SLOs: payments/api-availability, payments/api-latency "
                               "(write SERVICE/SLO)\n")


def test_explain_of_a_misspelt_slo_suggests_the_closest_and_lists_them_all(slo):
    result = slo("explain", "payments/api-availabilty", "--slos", SLOS)
    assert result.code == 1 and len(result.lines) == 1
    assert "did you mean 'payments/api-availability'?" in result.err
    unknown_service = slo("explain", "paymnts/api-latency", "--slos", SLOS)
    assert "did you mean 'payments/api-latency'?" in unknown_service.err
    assert "platform/" in unknown_service.err  # no such service: every SLO is listed


def test_schema_is_json_schema_of_the_spec(slo):
    schema = json.loads(slo("schema").out)
    assert schema["required"] == ["service", "slos"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["service"]["pattern"] == "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
    settings = json.loads(slo("schema", "--settings").out)
    assert "tiers" in settings["properties"]


def test_schema_shows_duration_defaults_as_users_write_them(slo):
    properties = json.loads(slo("schema", "--settings").out)["properties"]
    assert {k: properties[k]["default"] for k in ("default_window", "scrape_interval", "rule_interval",
                                                  "missing_data_for", "tiers_period")} == \
        {"default_window": "30d", "scrape_interval": "1m", "rule_interval": "1m", "missing_data_for": "15m",
         "tiers_period": "30d"}
    assert properties["sloth_labels"]["default"] is False and properties["grafana_folder"]["default"] == "SLOs"


@pytest.mark.parametrize("model", [Service, Settings])
def test_the_schema_accepts_what_the_models_accept_defaults_aside(model):
    """The schema is printed in serialization mode for its defaults; its shapes must be validation's."""
    def without_defaults(node):
        if isinstance(node, dict):
            return {k: without_defaults(v) for k, v in node.items() if k != "default"}
        return [without_defaults(v) for v in node] if isinstance(node, list) else node
    assert without_defaults(model.model_json_schema(by_alias=True, mode="serialization")) == \
        without_defaults(model.model_json_schema(by_alias=True))


def test_check_without_promtool_says_how_to_install_it(slo, monkeypatch, tmp_path, compiled):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = slo("check", "--out", compiled, "--slos", SLOS, "--settings", SETTINGS)
    assert result.code == 1
    # After lint's warnings that the repository's settings name no runbook or Grafana address.
    assert [line.split(": ")[1] for line in result.lines[:-1]] == ["grafana_url", "runbook_base_url"]
    assert result.lines[-1] == ("slo: promtool not found: install Prometheus' tools (Debian/Ubuntu: apt-get install "
                                "prometheus) or put promtool on PATH")


def test_check_of_an_empty_folder_says_to_compile_first(slo, tmp_path, promtool):
    result = slo("check", "--out", tmp_path, "--slos", SLOS)
    # After lint's warnings that the settings (absent here) name no runbook or Grafana address.
    assert [line.split(": ")[1] for line in result.lines[:-1]] == ["grafana_url", "runbook_base_url"]
    assert (result.code, result.lines[-1]) == (1, f"slo: {tmp_path}: no manifest.json of this compiler version; "
                                                  f"run `slo compile`")


def test_python_dash_m_compiler_runs_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "compiler", "compile", "--slos", "nowhere"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr == "nowhere:1:1: is not a folder of SLO specs\n"
