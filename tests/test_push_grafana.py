"""`slo push grafana` against a local server that follows Grafana's published API (11.4).

No real Grafana was available to test against. Every exchange of every test is checked against
the spec after the test: path, method, query parameters, request and response bodies.
"""

import base64
import json
import ssl
import threading
import time
import warnings
from pathlib import Path

import pytest
import requests
import trustme
import yaml

import fakegrafana
import fakehttp
import leaks
from compiler import names, write
from compiler.push import http
from conftest import SLOS, shared
from fakegrafana import PASSWORD, TOKEN, USER, VIEWER_TOKEN

FOLDER = names.folder_uid("SLOs")
SERVICES = ("checkout", "payments", "search")


@pytest.fixture
def grafana(monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123")
    app = fakegrafana.Grafana()
    with fakehttp.serving_push_target(monkeypatch, app, "GRAFANA", TOKEN) as server:
        server.grafana = app
        yield server
    # Without ../shared the exchanges go unchecked; the contract tests below skip and say so.
    if fakegrafana.SPEC.exists():
        assert fakegrafana.contract_problems(server.log) == []


def dashboard(service: str, **extra) -> dict:
    return {"uid": names.dashboard_uid(service), "title": f"{service} SLOs", "tags": [names.MANAGED_BY, service],
            "schemaVersion": 39, "panels": [{"type": "stat", "title": "Budget left", "id": 1}], **extra}


def output(folder: Path, *models: dict, files: dict[str, str] | None = None) -> Path:
    """An output folder of these dashboard models (and other dashboard files by name), with its manifest."""
    texts = {**{f"{m['uid']}.json": json.dumps(m, indent=2) for m in models}, **(files or {})}
    write.write(folder / "output", {f"grafana/dashboards/{name}": (text.encode(), "test") for name, text in texts.items()})
    return folder / "output"


def push(slo, server, out: Path, *args):
    return slo("push", "grafana", "--url", server.url, "--out", out, "--settings", out / "none.yaml", *args)


def stored(server, uid: str, org: str = "1") -> dict:
    return server.grafana.org(org)["dashboards"][uid]


def content(model: dict) -> dict:
    return {k: v for k, v in model.items() if k not in ("id", "version", "_folder")}


def test_first_push_creates_folder_and_dashboards_and_a_second_push_writes_nothing(grafana, slo, tmp_path):
    models = [dashboard(s) for s in SERVICES]
    out = output(tmp_path, *models)
    result = push(slo, grafana, out)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"created folder {FOLDER} (SLOs)", *[f"created dashboard slo-{s} ({s} SLOs)" for s in SERVICES],
        "grafana: 4 created, 0 updated, 0 deleted, 0 unchanged, 0 failed"]
    assert grafana.grafana.org()["folders"][FOLDER]["title"] == "SLOs"
    for model in models:
        assert content(stored(grafana, model["uid"])) == model and stored(grafana, model["uid"])["_folder"] == FOLDER
    saves = [json.loads(e.body) for e in grafana.writes() if e.path == "/api/dashboards/db"]
    assert {s["message"] for s in saves} == {"slo push from commit 0123456789ab"}
    assert all(s["overwrite"] is True and s["folderUid"] == FOLDER for s in saves)

    writes_before = len(grafana.writes())
    again = push(slo, grafana, out)
    assert again.code == 0 and len(grafana.writes()) == writes_before
    assert again.out == "grafana: 0 created, 0 updated, 0 deleted, 4 unchanged, 0 failed\n"


def test_the_compiled_dashboards_push_as_they_are_and_a_second_push_writes_nothing(grafana, slo, compiled):
    out = compiled
    models = {p.name: json.loads(p.read_text()) for p in sorted((out / "grafana" / "dashboards").glob("*.json"))}
    assert models, "the compiled output has no dashboards"
    result = push(slo, grafana, out)
    assert result.code == 0, result.err
    for model in models.values():
        assert content(stored(grafana, model["uid"])) == content(model)
    writes = len(grafana.writes())
    assert push(slo, grafana, out).code == 0 and len(grafana.writes()) == writes


def test_only_the_changed_dashboard_is_written_and_its_version_moves_on(grafana, slo, tmp_path):
    push(slo, grafana, output(tmp_path, *[dashboard(s) for s in SERVICES]))
    before = len(grafana.writes())
    changed = dashboard("payments", description="now with a latency row")
    result = push(slo, grafana, output(tmp_path, dashboard("checkout"), changed, dashboard("search")))
    assert result.code == 0
    assert [(e.method, e.path, json.loads(e.body)["dashboard"]["uid"]) for e in grafana.writes()[before:]] == \
        [("POST", "/api/dashboards/db", "slo-payments")]
    assert stored(grafana, "slo-payments")["version"] == 2 and content(stored(grafana, "slo-payments")) == changed
    assert "updated dashboard slo-payments (payments SLOs)" in result.out


def test_an_edit_made_in_the_ui_is_replaced_by_the_committed_dashboard(grafana, slo, tmp_path):
    out = output(tmp_path, dashboard("payments"))
    push(slo, grafana, out)
    edited = stored(grafana, "slo-payments")
    edited.update(title="hand edited", version=7)
    result = push(slo, grafana, out)
    assert result.code == 0 and "updated dashboard slo-payments" in result.out
    assert stored(grafana, "slo-payments")["title"] == "payments SLOs" and stored(grafana, "slo-payments")["version"] == 8


def test_a_dashboard_in_another_folder_is_moved_into_ours(grafana, slo, tmp_path):
    grafana.grafana.add_folder("elsewhere", "Elsewhere")
    grafana.grafana.add_dashboard(dashboard("payments"), folder_uid="elsewhere")
    result = push(slo, grafana, output(tmp_path, dashboard("payments")))
    assert result.code == 0 and "updated dashboard slo-payments" in result.out
    assert stored(grafana, "slo-payments")["_folder"] == FOLDER


def test_a_folder_with_our_uid_gets_our_title(grafana, slo, tmp_path):
    grafana.grafana.add_folder(FOLDER, "slos (old title)")
    result = push(slo, grafana, output(tmp_path, dashboard("payments")))
    assert result.code == 0 and f"updated folder {FOLDER} (SLOs)" in result.out
    assert grafana.grafana.org()["folders"][FOLDER]["title"] == "SLOs"


def test_the_folder_title_comes_from_settings_or_the_folder_option(grafana, slo, tmp_path):
    out = output(tmp_path, dashboard("payments"))
    (out / "none.yaml").write_text("grafana_folder: Team Payments\n")
    assert push(slo, grafana, out).code == 0
    assert grafana.grafana.org()["folders"]["slo-team-payments"]["title"] == "Team Payments"
    assert push(slo, grafana, out, "--folder", "Reliability").code == 0
    assert stored(grafana, "slo-payments")["_folder"] == "slo-reliability"


def test_file_provisioning_names_the_same_folder_as_push(slo, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("grafana_folder: Team Payments\n")
    assert slo("compile", "--slos", SLOS, "--out", tmp_path / "out", "--settings", settings).code == 0
    provisioning = yaml.safe_load((tmp_path / "out" / "grafana" / "provisioning" / "dashboards.yml").read_text())
    assert [p["folder"] for p in provisioning["providers"]] == ["Team Payments"]


def test_prune_deletes_only_managed_dashboards_of_our_folder_that_the_output_no_longer_has(grafana, slo, tmp_path):
    app = grafana.grafana
    app.add_folder(FOLDER, "SLOs")
    app.add_folder("team-folder", "Team")
    app.add_dashboard(dashboard("retired"), folder_uid=FOLDER)  # ours, gone from the output
    app.add_dashboard({"uid": "hand-made", "title": "Hand made", "tags": ["ops"]}, folder_uid=FOLDER)
    app.add_dashboard(dashboard("elsewhere"), folder_uid="team-folder")  # our tag, another folder
    app.add_dashboard({"uid": "general", "title": "General", "tags": []})
    out = output(tmp_path, dashboard("payments"))

    assert push(slo, grafana, out).code == 0
    assert set(app.org()["dashboards"]) == {"slo-retired", "hand-made", "slo-elsewhere", "general", "slo-payments"}

    result = push(slo, grafana, out, "--prune")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["deleted dashboard slo-retired",
                                       "grafana: 0 created, 0 updated, 1 deleted, 2 unchanged, 0 failed"]
    assert set(app.org()["dashboards"]) == {"hand-made", "slo-elsewhere", "general", "slo-payments"}
    assert set(app.org()["folders"]) == {FOLDER, "team-folder"}


def test_a_dashboard_with_our_uid_but_without_our_tag_is_never_overwritten(grafana, slo, tmp_path):
    theirs = {"uid": "slo-payments", "title": "Someone else's", "tags": ["ops"]}
    grafana.grafana.add_dashboard(theirs)
    result = push(slo, grafana, output(tmp_path, dashboard("checkout"), dashboard("payments")))
    assert result.code == 1
    assert result.lines == ["grafana: failed: dashboard slo-payments (payments SLOs): a dashboard with uid "
                            "'slo-payments' exists without the 'slo-compiler' tag: it is not ours, so it is left "
                            "as it is"]
    assert content(stored(grafana, "slo-payments")) == theirs
    assert result.out.splitlines()[-1] == "grafana: 2 created, 0 updated, 0 deleted, 0 unchanged, 1 failed"


def test_dry_run_prints_the_plan_and_changes_nothing(grafana, slo, tmp_path):
    app = grafana.grafana
    app.add_folder(FOLDER, "SLOs")
    app.add_dashboard(dashboard("retired"), folder_uid=FOLDER)
    app.add_dashboard(dashboard("payments", title="old title"), folder_uid=FOLDER)
    before = json.dumps(app.orgs, sort_keys=True)
    result = push(slo, grafana, output(tmp_path, dashboard("checkout"), dashboard("payments")), "--dry-run",
                  "--prune")
    assert result.code == 0
    assert result.out.splitlines() == [
        "would create dashboard slo-checkout (checkout SLOs)", "would update dashboard slo-payments (payments SLOs)",
        "would delete dashboard slo-retired",
        "grafana (dry run, nothing changed): 1 to create, 1 to update, 1 to delete, 1 unchanged, 0 failed"]
    assert grafana.writes() == [] and json.dumps(app.orgs, sort_keys=True) == before


def test_dashboards_go_to_the_organisation_named_by_org_id(grafana, slo, tmp_path):
    assert push(slo, grafana, output(tmp_path, dashboard("payments")), "--org-id", "2").code == 0
    assert "slo-payments" in grafana.grafana.org("2")["dashboards"] and not grafana.grafana.org("1")["dashboards"]
    assert {e.header("X-Grafana-Org-Id") for e in grafana.log} == {"2"}


def test_basic_auth_from_user_and_password(grafana, slo, tmp_path, monkeypatch):
    monkeypatch.delenv("GRAFANA_TOKEN")
    monkeypatch.setenv("GRAFANA_USER", USER)
    monkeypatch.setenv("GRAFANA_PASSWORD", PASSWORD)
    assert push(slo, grafana, output(tmp_path, dashboard("payments"))).code == 0
    assert "slo-payments" in grafana.grafana.org()["dashboards"]


@pytest.mark.parametrize("env, line", [
    ({"GRAFANA_TOKEN": "glsa_wrong"}, "grafana: Grafana refused the credentials (401 on GET /api/folders/slo-slos: "
                                      "Unauthorized): check GRAFANA_TOKEN"),
    ({"GRAFANA_USER": USER, "GRAFANA_PASSWORD": "wrong"},
     "grafana: Grafana refused the credentials (401 on GET /api/folders/slo-slos: Unauthorized): "
     "check GRAFANA_USER/GRAFANA_PASSWORD"),
    ({"GRAFANA_TOKEN": VIEWER_TOKEN}, "grafana: Grafana denied the permission (403 on POST /api/folders: You'll "
                                      "need additional permissions to perform this action. Permissions needed: "
                                      "dashboards:write): check GRAFANA_TOKEN"),
])
def test_bad_credentials_give_one_clear_line_and_change_nothing(grafana, slo, tmp_path, monkeypatch, env, line):
    monkeypatch.delenv("GRAFANA_TOKEN")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = push(slo, grafana, output(tmp_path, dashboard("payments"), dashboard("checkout")))
    assert (result.code, result.lines, result.out) == (1, [line], "")
    assert grafana.writes() == []
    assert all(value not in result.err for value in env.values())


def echo_credentials(server, said: str = "") -> None:
    """The server refuses every dashboard save, echoing `said` and the Authorization header it was sent."""
    app = server.app

    def echoing(exchange):
        if exchange.path == "/api/dashboards/db":
            return fakegrafana._error(400, f"bad dashboard{said}, your header was {exchange.header('Authorization')}")
        return app(exchange)

    server.app = echoing


def test_secrets_never_appear_in_output_even_when_the_server_echoes_them(grafana, slo, tmp_path, caplog,
                                                                       monkeypatch):
    echo_credentials(grafana)
    result = push(slo, grafana, output(tmp_path, dashboard("payments")))
    assert result.code == 1
    assert "bad dashboard, your header was Bearer ***" in result.err
    leaks.assert_no_leaks([TOKEN], {"stdout": result.out, "stderr": result.err, "log": caplog.text}, [tmp_path])
    monkeypatch.delenv("GRAFANA_TOKEN")
    monkeypatch.setenv("GRAFANA_USER", USER)
    monkeypatch.setenv("GRAFANA_PASSWORD", PASSWORD)
    result = push(slo, grafana, output(tmp_path, dashboard("payments")))
    assert result.code == 1 and "bad dashboard, your header was Basic ***" in result.err
    basic_header = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    leaks.assert_no_leaks([PASSWORD, basic_header], {"stdout": result.out, "stderr": result.err,
                                                     "log": caplog.text}, [tmp_path])


def test_every_call_is_retried_until_it_gives_up_and_each_failure_is_named(grafana, slo, tmp_path):
    app = grafana.app
    grafana.app = lambda e: fakegrafana._error(500, "database locked") if e.path == "/api/dashboards/db" else app(e)
    result = push(slo, grafana, output(tmp_path, dashboard("checkout"), dashboard("payments")))
    assert result.code == 1
    assert result.reported == [f"grafana: failed: dashboard slo-{s} ({s} SLOs): POST /api/dashboards/db: 500 database "
                               f"locked (gave up after {http.ATTEMPTS} attempts at {grafana.url})"
                               for s in ("checkout", "payments")]
    assert result.lines.count(f"Grafana at {grafana.url}: POST /api/dashboards/db: 500 database locked; retry 1 of "
                              f"{http.ATTEMPTS - 1} in 0.0s") == 2  # progress, never a silent wait
    assert sum(e.path == "/api/dashboards/db" for e in grafana.log) == 2 * http.ATTEMPTS
    assert result.out.splitlines()[-1] == "grafana: 1 created, 0 updated, 0 deleted, 0 unchanged, 2 failed"


def test_a_429_is_retried_no_sooner_than_retry_after_says(grafana, slo, tmp_path):
    app, throttled = grafana.app, []

    def throttling(exchange):
        if exchange.path == "/api/dashboards/uid/slo-payments" and not throttled:
            throttled.append(exchange)
            exchange.fault = "throttle"
            return 429, {"Retry-After": "1"}, b"slow down"
        return app(exchange)

    grafana.app = throttling
    assert push(slo, grafana, output(tmp_path, dashboard("payments"))).code == 0
    reads = [e for e in grafana.log if e.path == "/api/dashboards/uid/slo-payments"]
    assert len(reads) == 2 and reads[1].at - reads[0].at >= 1.0


def test_faults_503_429_slow_and_dropped_connections_within_the_retries_converge(grafana, slo, tmp_path):
    models = [dashboard(f"service-{i}") for i in range(8)]
    out = output(tmp_path, *models)
    # At most two faults per request, fewer than the attempts: the push must get through.
    grafana.faults = fakehttp.Faults(error=0.15, throttle=0.1, slow=0.1, dropped=0.1, dropped_after=0.1,
                                     delay=3, seed=1, limit=2)
    result = push(slo, grafana, out, "--timeout", "2")
    assert {e.fault for e in grafana.log} >= {"error", "throttle", "slow", "dropped", "dropped_after"}
    assert result.code == 0, result.err
    for model in models:
        assert content(stored(grafana, model["uid"])) == model
    grafana.faults = fakehttp.Faults()
    writes = len(grafana.writes())
    assert push(slo, grafana, out).code == 0 and len(grafana.writes()) == writes


def test_concurrency_is_bounded(grafana, slo, tmp_path):
    # Each save waits for a second one: two at a time get through, one at a time would time out. The pair
    # is then held a moment, so that a third save, had the client sent one, would be in flight with it.
    app, pair = grafana.app, threading.Barrier(2, timeout=10)

    def pairing(exchange):
        if exchange.path == "/api/dashboards/db":
            pair.wait()
            time.sleep(0.3)
        return app(exchange)

    grafana.app = pairing
    out = output(tmp_path, *[dashboard(f"service-{i}") for i in range(6)])
    assert push(slo, grafana, out, "--concurrency", "2").code == 0
    assert grafana.max_in_flight == 2


def test_an_unhealthy_grafana_is_one_line_and_nothing_is_written(grafana, slo, tmp_path):
    app = grafana.app
    grafana.app = lambda e: fakegrafana._error(503, "database down") if e.path == "/api/health" else app(e)
    result = push(slo, grafana, output(tmp_path, dashboard("payments")))
    assert result.code == 1 and result.reported == [
        f"grafana: Grafana at {grafana.url} failed its health check: GET /api/health: 503 database down (gave up "
        f"after {http.ATTEMPTS} attempts at {grafana.url})"]
    assert [e.path for e in grafana.log] == ["/api/health"] * http.ATTEMPTS


def test_an_invalid_dashboard_file_is_reported_at_its_place_and_nothing_is_sent(grafana, slo, tmp_path):
    out = output(tmp_path, dashboard("payments"), {"uid": "x" * 41, "title": "", "tags": []},
                 files={"broken.json": "{\n  \"uid\": ,\n}"})
    result = push(slo, grafana, out)
    folder = out / "grafana" / "dashboards"
    assert result.code == 1
    assert result.lines == [
        f"{folder}/broken.json:2:10: is not a JSON dashboard: Expecting value",
        f"{folder}/{'x' * 41}.json:1:1: tags: must contain 'slo-compiler', the tag that marks dashboards push manages",
        f"{folder}/{'x' * 41}.json:1:1: title: must be a non-empty string",
        f"{folder}/{'x' * 41}.json:1:1: uid: must be a string of 1 to 40 characters, got '{'x' * 41}'"]
    assert grafana.log == []


def test_an_output_without_dashboards_says_to_compile_first(grafana, slo, tmp_path):
    result = slo("push", "grafana", "--url", grafana.url, "--out", tmp_path)
    assert result.code == 1 and result.lines == [f"{tmp_path}/manifest.json:1:1: is missing or from another "
                                                 f"version; run `slo compile` first"]


@pytest.fixture
def grafana_tls(grafana, tmp_path):
    """The same Grafana behind TLS, with a certificate from a CA of its own; the CA file to trust it."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with fakehttp.serving(grafana.app, tls=context) as server:
        server.grafana = grafana.grafana
        yield server, tmp_path / "ca.pem"
    grafana.log.extend(server.log)  # checked against the spec with the others


def test_tls_is_verified_against_the_ca_file(grafana_tls, slo, tmp_path):
    server, ca = grafana_tls
    out = output(tmp_path, dashboard("payments"))
    refused = push(slo, server, out)
    assert refused.code == 1 and refused.lines == [
        f"grafana: Grafana at {server.url} failed its health check: GET /api/health: TLS error talking to Grafana: "
        f"its certificate could not be verified; name the CA that signed it with --ca-file"]
    assert server.log == []  # nothing was sent before the certificate was checked
    trusted = push(slo, server, out, "--ca-file", ca)
    assert trusted.code == 0, trusted.err
    assert "slo-payments" in server.grafana.org()["dashboards"]


def test_insecure_skip_verify_works_without_a_warning_per_call(grafana_tls, slo, tmp_path):
    server, _ = grafana_tls
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any InsecureRequestWarning would fail the push
        result = push(slo, server, output(tmp_path, dashboard("payments")), "--insecure-skip-verify")
    assert (result.code, result.err) == (0, "")


@pytest.mark.parametrize("args, env, message", [
    ([], {}, "needs --url or GRAFANA_URL"),
    (["--url", "http://127.0.0.1:9"], {"GRAFANA_TOKEN": ""}, "needs credentials in the environment"),
    (["--url", "http://127.0.0.1:9", "--ca-file", "ca.pem", "--insecure-skip-verify"], {},
     "--ca-file and --insecure-skip-verify exclude each other"),
    (["--url", "http://127.0.0.1:9", "--ca-file", "no-such-ca.pem"], {}, "no such file"),
    (["--url", "http://127.0.0.1:9", "--concurrency", "0"], {}, "invalid choice"),
])
def test_wrong_usage_exits_2(grafana, slo, monkeypatch, args, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = slo("push", "grafana", *args)
    assert result.code == 2 and message in result.err and "usage: slo push grafana" in result.err


def test_the_local_server_answers_as_grafana_does(grafana):
    """The stand-in itself: 409, 412 version-mismatch, 400, 404, as Grafana documents them."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = grafana.url
    assert requests.post(f"{url}/api/folders", json={"uid": "f1", "title": "F"}, headers=auth).status_code == 200
    taken = requests.post(f"{url}/api/folders", json={"uid": "f1", "title": "Other"}, headers=auth)
    assert taken.status_code == 409
    first = requests.post(f"{url}/api/dashboards/db", json={"dashboard": {"uid": "d1", "title": "D"},
                                                            "folderUid": "f1"}, headers=auth).json()
    stale = requests.post(f"{url}/api/dashboards/db", headers=auth, json={
        "dashboard": {"uid": "d1", "title": "D", "version": first["version"] - 1}, "folderUid": "f1"})
    assert (stale.status_code, stale.json()["status"]) == (412, "version-mismatch")
    assert requests.post(f"{url}/api/dashboards/db", headers=auth, json={"dashboard": {"title": " "}}).status_code == 400
    assert requests.get(f"{url}/api/dashboards/uid/nope", headers=auth).status_code == 404
    assert requests.get(f"{url}/api/folders/f1").status_code == 401


def test_the_contract_check_catches_requests_the_spec_does_not_allow(grafana):
    shared("contracts", "grafana-api-merged.json")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    requests.post(f"{grafana.url}/api/dashboards/db", json={"dashboard": "not an object"}, headers=auth)
    requests.get(f"{grafana.url}/api/search", params={"folder": "x"}, headers=auth)
    requests.post(f"{grafana.url}/api/dashboards/uid/x", json={}, headers=auth)
    problems = fakegrafana.contract_problems(grafana.log)
    assert problems[0].startswith("POST /api/dashboards/db: request body $.dashboard: 'not an object' is not of "
                                  "type 'object'")
    assert "GET /api/search: query parameter 'folder' is not in the spec" in problems
    assert "POST /api/dashboards/uid/x: no such operation in the spec" in problems
    grafana.log.clear()  # they were wrong on purpose


def test_credentials_in_the_url_are_never_printed(grafana, slo, tmp_path, caplog):
    url = grafana.url.replace("://", f"://{USER}:{PASSWORD}@")
    basic_header = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    out = output(tmp_path, dashboard("payments"))
    echo_credentials(grafana, f" from {url}")
    app = grafana.app
    result = slo("push", "grafana", "--url", url, "--out", out, "--settings", out / "none.yaml")
    assert result.code == 1
    assert f"bad dashboard from {grafana.url}, your header was Basic ***" in result.err
    printed = {"stdout": result.out, "stderr": result.err, "log": caplog.text}
    grafana.app = lambda e: fakegrafana._error(503, f"down at {url}") if e.path == "/api/health" else app(e)
    result = slo("push", "grafana", "--url", url, "--out", out, "--settings", out / "none.yaml")
    assert result.reported == [f"grafana: Grafana at {grafana.url} failed its health check: GET /api/health: 503 "
                               f"down at {grafana.url} (gave up after {http.ATTEMPTS} attempts at {grafana.url})"]
    printed.update(health=result.err)
    for wrong in (url.replace("http", "htp"), url + ":99999", url.replace("127.0.0.1", "127..1")):
        result = slo("push", "grafana", "--url", wrong, "--out", out, "--settings", out / "none.yaml")
        assert result.code in (1, 2) and "Traceback" not in result.err, result.err
        printed[wrong] = result.out + result.err
    leaks.assert_no_leaks([PASSWORD, basic_header], printed, [tmp_path])


@pytest.mark.parametrize("text, shown", [
    ("GET https://user:pa55word@host:3000/api failed", "GET https://host:3000/api failed"),
    ("http://user:p@ss@host/x and http://host/y", "http://host/x and http://host/y"),
    ("no URL, an address user@example.com", "no URL, an address user@example.com"),
])
def test_scrub_removes_the_user_info_of_every_url(text, shown):
    assert http.scrub(text) == shown
