"""`slo push rules --ruler-url`: the compiled rule groups to a local server following the Mimir/Cortex
ruler API (YAML bodies of one group, 202 on writes, X-Scope-OrgID tenants)."""

import shutil
from pathlib import Path

import pytest
import requests
import yaml

import fakehttp
import fakeruler
import leaks
from compiler import pipeline, write
from conftest import SETTINGS, SLOS, write_spec

TENANT = "team-payments"


@pytest.fixture
def out(compiled, tmp_path) -> Path:
    """A copy of the compiled output that a test may change."""
    return Path(shutil.copytree(compiled, tmp_path / "output"))


def local_groups(out: Path) -> dict[str, dict[str, dict]]:
    return {path.name.removesuffix(".rules.yml"): {g["name"]: g for g in yaml.safe_load(path.read_text())["groups"]}
            for path in sorted((out / "prometheus").glob("*.rules.yml"))}


@pytest.fixture
def ruler(monkeypatch):
    app = fakeruler.Ruler()
    with fakehttp.serving_push_target(monkeypatch, app, "RULER", fakeruler.TOKEN) as server:
        server.ruler = app
        yield server
    assert fakeruler.contract_problems(server.log, app.prefix) == []


def push(slo, server, out: Path, *args):
    return slo("push", "rules", "--ruler-url", server.url, "--tenant", TENANT, "--out", out,
               "--settings", out / "settings.yaml", *args)


def test_one_namespace_per_service_one_group_per_slo_then_nothing_to_write(ruler, slo, out):
    expected = local_groups(out)
    result = push(slo, ruler, out)
    assert result.code == 0, result.err
    count = sum(map(len, expected.values()))
    assert result.out.splitlines()[-1] == f"ruler: {count} created, 0 updated, 0 deleted, 0 unchanged, 0 failed"
    assert ruler.ruler.groups(TENANT) == expected
    posts = [e for e in ruler.log if e.method == "POST"]
    assert {e.path for e in posts} == {f"/prometheus/config/v1/rules/{service}" for service in expected}
    assert all(e.header("Content-Type") == "application/yaml" and e.header("X-Scope-OrgID") == TENANT and
               e.status == 202 for e in posts)
    assert all(yaml.safe_load(e.body)["name"] in expected[e.path.rsplit("/", 1)[1]] for e in posts)

    writes = len(ruler.writes())
    again = push(slo, ruler, out)
    assert again.code == 0 and len(ruler.writes()) == writes
    assert again.out == f"ruler: 0 created, 0 updated, 0 deleted, {count} unchanged, 0 failed\n"


def test_cortex_paths(ruler, slo, out):
    ruler.ruler.prefix = fakeruler.PREFIXES["cortex"]
    assert push(slo, ruler, out, "--flavor", "cortex").code == 0
    assert {e.path.rsplit("/", 1)[0] for e in ruler.log if e.method == "POST"} == {"/api/v1/rules"}
    assert ruler.ruler.groups(TENANT) == local_groups(out)


def test_only_the_changed_group_is_posted(ruler, slo, out):
    push(slo, ruler, out)
    path = out / "prometheus" / "payments.rules.yml"
    data = yaml.safe_load(path.read_text())
    data["groups"][0]["interval"] = "30s"
    path.write_text(yaml.safe_dump(data))
    before = len(ruler.writes())
    result = push(slo, ruler, out)
    assert result.code == 0
    changed = ruler.writes()[before:]
    assert [(e.path, yaml.safe_load(e.body)["name"]) for e in changed] == \
        [("/prometheus/config/v1/rules/payments", data["groups"][0]["name"])]
    assert f"updated rule group payments/{data['groups'][0]['name']}" in result.out


def _planted(ruler, namespace: str, name: str, service: str | None) -> None:
    labels = {"slo_service": service} if service else {}
    ruler.ruler.groups(TENANT).setdefault(namespace, {})[name] = {
        "name": name, "rules": [{"record": "x:y:z", "expr": "vector(1)", "labels": labels}]}


def test_prune_deletes_only_our_groups_of_removed_slos(ruler, slo, out):
    _planted(ruler, "payments", "slo_payments_retired", "payments")  # ours: its SLO was removed
    _planted(ruler, "checkout", "slo_checkout_gone", "checkout")  # ours: the whole service was removed
    _planted(ruler, "payments", "team-extras", "payments")  # hand-written, in our namespace
    _planted(ruler, "payments", "slo_payments_lookalike", None)  # our name pattern, but not our labels
    _planted(ruler, "team-infra", "slo_team-infra_x", "payments")  # another team's namespace
    _planted(ruler, "payments", "slo_platform_x", "platform")  # another service's group name
    assert push(slo, ruler, out).code == 0
    assert "slo_payments_retired" in ruler.ruler.groups(TENANT)["payments"]

    result = push(slo, ruler, out, "--prune")
    assert result.code == 0, result.err
    assert [line for line in result.out.splitlines() if line.startswith("deleted")] == [
        "deleted rule group checkout/slo_checkout_gone", "deleted rule group payments/slo_payments_retired"]
    remaining = ruler.ruler.groups(TENANT)
    assert set(remaining["payments"]) >= {"team-extras", "slo_payments_lookalike", "slo_platform_x"}
    assert "slo_team-infra_x" in remaining["team-infra"] and not remaining.get("checkout")
    assert sorted(e.path for e in ruler.log if e.method == "DELETE") == [
        "/prometheus/config/v1/rules/checkout/slo_checkout_gone",
        "/prometheus/config/v1/rules/payments/slo_payments_retired"]


def test_prune_deletes_the_compiled_groups_of_a_removed_service(ruler, slo, out):
    removed = local_groups(out)["platform"]
    assert push(slo, ruler, out).code == 0
    kept = pipeline.render(pipeline.build_plan(SLOS, SETTINGS))
    write.write(out, {path: artifact for path, artifact in kept.items() if "platform" not in path})
    result = push(slo, ruler, out, "--prune")
    assert result.code == 0, result.err
    assert sorted(line for line in result.out.splitlines() if line.startswith("deleted")) == \
        [f"deleted rule group platform/{name}" for name in sorted(removed)]
    assert not ruler.ruler.groups(TENANT).get("platform") and ruler.ruler.groups(TENANT)["payments"]


def test_a_namespace_prefix_from_settings_keeps_other_namespaces_out_of_reach(ruler, slo, out):
    write_spec(out, "settings.yaml", "ruler_namespace_prefix: slo-\n")
    _planted(ruler, "payments", "slo_payments_retired", "payments")  # not under our prefix: not ours
    _planted(ruler, "slo-payments", "slo_payments_retired", "payments")
    result = push(slo, ruler, out, "--prune")
    assert result.code == 0, result.err
    groups = ruler.ruler.groups(TENANT)
    assert "slo_payments_retired" in groups["payments"] and "slo_payments_retired" not in groups["slo-payments"]
    assert set(groups) == {"payments", "slo-payments", "slo-platform"}


def test_dry_run_prints_the_plan_and_changes_nothing(ruler, slo, out):
    _planted(ruler, "payments", "slo_payments_retired", "payments")
    result = push(slo, ruler, out, "--dry-run", "--prune")
    assert result.code == 0
    lines = result.out.splitlines()
    assert "would delete rule group payments/slo_payments_retired" in lines
    assert all(line.startswith(("would create rule group ", "would delete rule group ")) for line in lines[:-1])
    count = sum(map(len, local_groups(out).values()))
    assert lines[-1] == (f"ruler (dry run, nothing changed): {count} to create, 0 to update, 1 to delete, "
                         f"0 unchanged, 0 failed")
    assert ruler.writes() == [] and set(ruler.ruler.groups(TENANT)) == {"payments"}


def test_each_tenant_gets_its_own_groups(ruler, slo, out):
    assert push(slo, ruler, out).code == 0
    assert slo("push", "rules", "--ruler-url", ruler.url, "--tenant", "other", "--out", out).code == 0
    assert ruler.ruler.groups("other") == ruler.ruler.groups(TENANT)


def test_without_a_tenant_the_ruler_says_so_in_one_line(ruler, slo, out):
    result = slo("push", "rules", "--ruler-url", ruler.url, "--out", out)
    assert result.code == 1
    assert result.lines == [f"ruler: warning: no --tenant: Mimir at {ruler.url} refuses requests without an "
                            "X-Scope-OrgID tenant unless its multi-tenancy is off",
                            "ruler: the ruler refused the credentials (401 on GET /prometheus/config/v1/rules: "
                            "no org id): check RULER_TOKEN"]
    assert fakeruler.contract_problems(ruler.log, ruler.ruler.prefix) == [
        "GET /prometheus/config/v1/rules: no X-Scope-OrgID"]
    ruler.log.clear()  # wrong on purpose


def test_rules_promtool_rejects_are_one_line_and_nothing_is_sent(ruler, slo, out):
    rules = out / "prometheus" / "payments.rules.yml"
    rules.write_text(rules.read_text().replace("sum(rate(", "sum(rate((", 1))
    result = push(slo, ruler, out)
    assert result.code == 1 and len(result.lines) == 1, result.err
    assert result.lines[0].startswith("ruler: promtool rejected the rules: ") and "payments.rules.yml" in result.err
    assert ruler.log == []


def test_the_stand_in_rejects_what_mimir_rejects(ruler):
    """Mimir validates a posted group as Prometheus does, PromQL included, and answers 400."""
    url, headers = f"{ruler.url}/prometheus/config/v1/rules/shop", {
        "Authorization": f"Bearer {fakeruler.TOKEN}", "X-Scope-OrgID": TENANT, "Content-Type": "application/yaml"}
    for group, message in [
            ("name: g\nrules:\n  - record: a:b\n    expr: sum(rate(x[5m])\n", 'group "g", rule 1, "a:b": could not parse'),
            ("name: g\nrules:\n  - record: a-b\n    expr: up\n", "invalid recording rule name: a-b"),
            ("name: g\nrules:\n  - alert: A\n    record: a\n    expr: up\n", "one of 'record' or 'alert'"),
            ("name: g\nrules: []\n", "rule group 'g' has no rules"),
            ("rules:\n  - record: a\n    expr: up\n", "rule group name must not be empty")]:
        answer = requests.post(url, data=group, headers=headers)
        assert (answer.status_code, message in answer.text) == (400, True), (group, answer.text)
    assert requests.post(url, data="name: g\nrules:\n  - record: a\n    expr: up\n", headers=headers).status_code == 202
    assert ruler.ruler.groups(TENANT) == {"shop": {"g": {"name": "g", "rules": [{"record": "a", "expr": "up"}]}}}
    ruler.log.clear()  # wrong on purpose


def test_the_contract_check_catches_requests_the_api_does_not_allow(ruler):
    auth = {"Authorization": f"Bearer {fakeruler.TOKEN}", "X-Scope-OrgID": TENANT}
    base = f"{ruler.url}/prometheus/config/v1/rules"
    requests.put(f"{base}/shop", data="name: g\nrules: []\n", headers=auth)
    requests.post(f"{base}/shop", data="groups:\n  - name: g\n", headers={**auth, "Content-Type": "application/yaml"})
    requests.post(f"{base}/shop", data="name: g\nrules:\n  - record: a\n    expr: up\n", headers=auth)
    requests.post(f"{base}/shop/g", data="name: g\n", headers=auth)
    assert fakeruler.contract_problems(ruler.log, ruler.ruler.prefix) == [
        "PUT /prometheus/config/v1/rules/shop: no such operation of the ruler API",
        "POST /prometheus/config/v1/rules/shop: the body is not the YAML of one rule group",
        "POST /prometheus/config/v1/rules/shop: Content-Type is None, not application/yaml",
        "POST /prometheus/config/v1/rules/shop/g: no such operation of the ruler API"]
    ruler.log.clear()  # wrong on purpose


def test_without_credentials_the_message_says_which_to_set(ruler, slo, out, monkeypatch):
    monkeypatch.delenv("RULER_TOKEN")
    result = push(slo, ruler, out)
    assert result.code == 1 and result.lines == [
        f"ruler: warning: no credentials in RULER_TOKEN or RULER_USER/RULER_PASSWORD: pushing to {ruler.url} without "
        "authentication",
        "ruler: the ruler refused the credentials (401 on GET /prometheus/config/v1/rules: Unauthorized): no "
        "credentials were set in RULER_TOKEN or RULER_USER/RULER_PASSWORD"]


def test_a_wrong_token_is_one_line_and_never_printed(ruler, slo, out, monkeypatch):
    monkeypatch.setenv("RULER_TOKEN", "ruler-wrong-token-123")
    result = push(slo, ruler, out)
    assert result.code == 1 and result.lines == [
        "ruler: the ruler refused the credentials (401 on GET /prometheus/config/v1/rules: Unauthorized): check "
        "RULER_TOKEN"]
    leaks.assert_no_leaks(["ruler-wrong-token-123"], {"stdout": result.out, "stderr": result.err})
    assert ruler.writes() == []


def test_a_group_the_ruler_rejects_is_named_and_the_others_are_written(ruler, slo, out):
    app = ruler.app
    rejected = next(iter(local_groups(out)["payments"]))

    def rejecting(exchange):
        if exchange.method == "POST" and yaml.safe_load(exchange.body)["name"] == rejected:
            return fakehttp.text(400, "per-tenant rule group limit reached")
        return app(exchange)

    ruler.app = rejecting
    result = push(slo, ruler, out)
    assert result.code == 1
    assert result.lines == [f"ruler: failed: rule group payments/{rejected}: POST /prometheus/config/v1/rules/payments:"
                            f" 400 per-tenant rule group limit reached"]
    count = sum(map(len, local_groups(out).values()))
    assert result.out.splitlines()[-1] == f"ruler: {count - 1} created, 0 updated, 0 deleted, 0 unchanged, 1 failed"


def test_faults_within_the_retries_converge(ruler, slo, out):
    # At most two faults per request, fewer than the attempts: the push must get through.
    ruler.faults = fakehttp.Faults(error=0.2, throttle=0.1, slow=0.1, dropped=0.1, dropped_after=0.1, delay=3,
                                   seed=2, limit=2)
    result = push(slo, ruler, out, "--timeout", "2")
    assert {e.fault for e in ruler.log} >= {"error", "throttle", "slow", "dropped", "dropped_after"}
    posts = [e for e in ruler.log if e.method == "POST"]
    assert len(posts) > len({e.body for e in posts})  # some were retried, and kept their headers
    assert {e.header("Content-Type") for e in posts} == {"application/yaml"}
    assert result.code == 0, result.err
    assert ruler.ruler.groups(TENANT) == local_groups(out)
    ruler.faults = fakehttp.Faults()
    writes = len(ruler.writes())
    assert push(slo, ruler, out).code == 0 and len(ruler.writes()) == writes


@pytest.mark.parametrize("args, message", [
    ([], "needs --ruler-url (or RULER_URL), or --prometheus-dir with --reload-url"),
    (["--ruler-url", "http://127.0.0.1:9", "--prometheus-dir", "."], "exclude each other"),
    (["--prometheus-dir", "."], "--prometheus-dir needs --reload-url"),
    (["--prometheus-dir", ".", "--reload-url", "http://127.0.0.1:9/reload"], "--prometheus-dir needs --reload-url"),
    (["--ruler-url", "http://127.0.0.1:9", "--flavor", "thanos"], "invalid choice"),
    (["--ruler-url", "http://127.0.0.1:9", "--timeout", "0"], "must be above 0 and at most 3600 seconds, got 0"),
    (["--ruler-url", "http://127.0.0.1:9", "--wait", "soon"], "not a number of seconds: 'soon'"),
    (["--ruler-url", "mimir:9009"], "--ruler-url (or RULER_URL) must be an http:// or https:// URL with a host"),
    (["--ruler-url", "htps://tenant:ruler-secret-1@mimir"], "must be an http:// or https:// URL with a host"),
    (["--prometheus-dir", ".", "--reload-url", "ftp://admin:ruler-secret-1@prometheus/-/reload"],
     "--reload-url must be an http:// or https:// URL with a host"),
])
def test_wrong_usage_exits_2(slo, monkeypatch, args, message):
    monkeypatch.delenv("RULER_URL", raising=False)
    result = slo("push", "rules", *args)
    assert result.code == 2 and message in result.err and "usage: slo push rules" in result.err
    leaks.assert_no_leaks(["ruler-secret-1"], {"stdout": result.out, "stderr": result.err})
