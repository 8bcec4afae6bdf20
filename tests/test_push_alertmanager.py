"""`slo push alertmanager`: the compiled route and inhibit rules merged into a tenant's configuration of a
local server following the Mimir/Cortex Alertmanager configuration API (GET/POST /api/v1/alerts,
X-Scope-OrgID, YAML with `alertmanager_config` and `template_files`, 201 on writes)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import fakealertmanager
import fakehttp
from compiler import pipeline, write
from conftest import ROOT, SLOS, write_spec

TENANT = "team-payments"
SETTINGS = "alertmanager:\n  page: {receiver: pager}\n"
OWN = """\
templates: ['*.tmpl']
route:
  receiver: default
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: default
receivers:
  - name: default
  - name: pager
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """The compiled output, which the tests only read."""
    folder = tmp_path_factory.mktemp("push-alertmanager")
    settings = write_spec(folder, "slo-settings.yaml", SETTINGS)
    out = folder / "output"
    write.write(out, pipeline.render(pipeline.build_plan(SLOS, settings)))
    return out


@pytest.fixture
def server(monkeypatch):
    app = fakealertmanager.Alertmanager()
    with fakehttp.serving_push_target(monkeypatch, app, "ALERTMANAGER", fakealertmanager.TOKEN) as served:
        served.app_state = app
        yield served


def push(slo, server, out, *args, tenant=TENANT):
    return slo("push", "alertmanager", "--url", server.url, "--out", out, "--settings", out.parent / "slo-settings.yaml",
               *(("--tenant", tenant) if tenant else ()), *args)


def stored(server) -> dict:
    return yaml.safe_load(server.app_state.tenants[TENANT]["alertmanager_config"])


def test_a_configuration_file_is_merged_and_created_then_nothing_is_written(slo, server, out, tmp_path):
    config = write_spec(tmp_path, "alertmanager.yml", OWN)
    result = push(slo, server, out, "--config", config)
    assert result.code == 0, result.err
    assert result.out == "created alertmanager configuration\nalertmanager: 1 created, 0 updated, 0 deleted, " \
                         "0 unchanged, 0 failed\n"
    merged = slo("alertmanager", "merge", "--config", config, "--out", out)
    assert stored(server) == yaml.safe_load(merged.out)
    post = next(e for e in server.log if e.method == "POST")
    assert post.header("X-Scope-OrgID") == TENANT and post.header("Content-Type") == "application/yaml"
    assert post.status == 201
    writes = len(server.writes())
    again = push(slo, server, out, "--config", config)
    assert again.code == 0 and len(server.writes()) == writes
    assert again.out == "alertmanager: 0 created, 0 updated, 0 deleted, 1 unchanged, 0 failed\n"


def test_without_a_file_the_tenants_configuration_is_merged_into_and_its_templates_kept(slo, server, out):
    template = '{{ define "slack.title" }}{{ .CommonLabels.alertname }}{{ end }}'
    server.app_state.tenants[TENANT] = {"template_files": {"slack.tmpl": template}, "alertmanager_config": OWN}
    dry = push(slo, server, out, "--dry-run")
    assert dry.code == 0 and dry.out.splitlines()[0] == "would update alertmanager configuration"
    assert server.writes() == []
    result = push(slo, server, out)
    assert result.code == 0, result.err
    assert server.app_state.tenants[TENANT]["template_files"] == {"slack.tmpl": template}
    config = stored(server)
    assert config["templates"] == ["*.tmpl"]
    routes = config["route"]["routes"]
    assert routes[1] == {"matchers": ['alertname="Watchdog"'], "receiver": "default"}
    assert routes[0]["routes"][0]["receiver"] == "pager"
    assert push(slo, server, out).out.endswith("1 unchanged, 0 failed\n")
    assert len([e for e in server.log if e.method == "POST"]) == 1


def test_a_tenant_without_configuration_needs_one(slo, server, out):
    result = push(slo, server, out)
    assert result.code == 1 and server.writes() == []
    assert result.lines == ["alertmanager: the tenant has no Alertmanager configuration yet: name yours with --config "
                            "(or alertmanager.config in the settings)"]


def test_a_receiver_missing_from_the_tenants_configuration_is_named_and_nothing_is_written(slo, server, out):
    server.app_state.tenants[TENANT] = {"template_files": {},
                                        "alertmanager_config": OWN.replace("  - name: pager\n", "")}
    result = push(slo, server, out)
    assert result.code == 1 and server.writes() == []
    assert result.lines == ["alertmanager configuration of the tenant:7:1: receivers: has no receiver 'pager', which "
                            "the SLO routes name (settings: alertmanager); define it here"]


def test_a_configuration_the_alertmanager_refuses_is_a_failure(slo, server, out, tmp_path):
    config = write_spec(tmp_path, "alertmanager.yml", OWN.replace("      receiver: default\n", "      receiver: nobody\n"))
    result = push(slo, server, out, "--config", config)
    assert result.code == 1 and server.app_state.tenants == {}
    assert result.lines[0].startswith("alertmanager: failed: alertmanager configuration: POST /api/v1/alerts: 400 "
                                      "error validating Alertmanager config:")
    assert 'undefined receiver \\"nobody\\"' in result.lines[0] or 'undefined receiver "nobody"' in result.lines[0]


def test_without_a_tenant_the_server_refuses(slo, server, out, tmp_path):
    config = write_spec(tmp_path, "alertmanager.yml", OWN)
    result = push(slo, server, out, "--config", config, tenant=None)
    assert result.code == 1 and server.writes() == []
    assert result.lines == ["alertmanager: the Alertmanager refused the credentials (401 on GET /api/v1/alerts: no org "
                            "id): check ALERTMANAGER_TOKEN"]


def test_the_documented_push_commands(server, out, tmp_path):
    commands = re.findall(r"```sh\n(slo push alertmanager.*?)```", (ROOT / "docs" / "alertmanager.md").read_text(), re.S)
    assert len(commands) == 1
    shutil.copytree(out, tmp_path / "output")
    write_spec(tmp_path, "slo-settings.yaml", SETTINGS + "  config: alertmanager.yml\n")
    write_spec(tmp_path, "alertmanager.yml", OWN)
    env = {**os.environ, "ALERTMANAGER_URL": server.url, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", commands[0]], cwd=tmp_path, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "would create alertmanager configuration"
    assert result.stdout.splitlines()[-1] == "alertmanager: 1 created, 0 updated, 0 deleted, 0 unchanged, 0 failed"
    assert TENANT in server.app_state.tenants
