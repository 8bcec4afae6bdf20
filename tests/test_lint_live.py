"""`slo lint --prometheus URL` against a real Prometheus (Debian package) on 127.0.0.1.

The server holds an hour of backfilled traffic of an API (requests by code, a latency histogram
with buckets 0.1, 0.5 and +Inf) and a blackbox probe, and has the external label cluster=eu1.
"""

import http.server
import json
import threading

import pytest

import realprom
from conftest import write_spec
from leaks import assert_no_leaks
from test_lint import URLS

SERIES = ['http_requests_total{code="200",job="api"}', 'http_requests_total{code="500",job="api"}',
          'http_request_duration_seconds_bucket{job="api",le="0.1"}',
          'http_request_duration_seconds_bucket{job="api",le="0.5"}',
          'http_request_duration_seconds_bucket{job="api",le="+Inf"}',
          'http_request_duration_seconds_count{job="api"}', 'probe_success{job="blackbox"}']
SPEC = """\
service: api
labels: {cluster: local}
slos:
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: http_requests_total{job="api", code=~"5.."}
        total: http_requests_total{job="api"}
  - name: missing-counters
    objective: 99
    sli:
      ratio:
        errors: http_failures_total{job="api"}
        total: http_calls_total{job="api"}
  - name: latency-on-a-bucket
    objective: 99
    sli:
      latency: {histogram: 'http_request_duration_seconds{job="api"}', threshold: 500ms}
  - name: latency-between-buckets
    objective: 99
    sli:
      latency: {histogram: 'http_request_duration_seconds{job="api"}', threshold: 250ms}
  - name: latency-of-another-job
    objective: 99
    sli:
      latency: {histogram: 'http_request_duration_seconds{job="web"}', threshold: 500ms}
  - name: probe
    objective: 99
    sli:
      bool: {metric: 'probe_success{job="blackbox"}'}
  - name: custom
    objective: 99
    sli:
      events:
        errors: sum(rate(http_requests_total{job="api", code="500"}[$window]))
        total: sum(rate(http_requests_total{job="apii"}[$window]))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, promtool):
    work = tmp_path_factory.mktemp("live")
    realprom.backfill_counters(promtool, SERIES, work / "data", minutes=60, step=10)
    config = {"global": {"external_labels": {"cluster": "eu1"}}}
    with realprom.running(work, [], work / "data", extra_config=config) as prometheus:
        yield prometheus, work


def settings(tmp_path):
    """Settings that name where runbooks and Grafana live, so that lint reports only the SLOs' findings."""
    return write_spec(tmp_path, "slo-settings.yaml", URLS)


def test_live_checks_find_missing_series_buckets_and_external_labels(server, tmp_path, slo):
    prometheus, _ = server
    write_spec(tmp_path / "slos", "api.yaml", SPEC)
    result = slo("lint", "--slos", tmp_path / "slos", "--settings", settings(tmp_path),
                 "--prometheus", prometheus.base)
    found = {(line.split(": ")[1], line.split(": ")[2]) for line in result.lines}
    assert found == {
        ("labels.cluster", "error external-label-conflict"),
        ("slos[1].sli.ratio.errors", "warning selector-matches-nothing"),
        ("slos[1].sli.ratio.total", "error selector-matches-nothing"),
        ("slos[3].sli.latency.threshold", "error missing-le-bucket"),
        ("slos[4].sli.latency.histogram", "error selector-matches-nothing"),
        ("slos[6].sli.events.total", "error selector-matches-nothing"),
    }, result.err
    assert result.code == 1
    assert "http_request_duration_seconds has no le=\"0.25\" bucket; its buckets are 0.1, 0.5" in result.err
    assert "cluster='eu1'" in result.err  # read from the server's configuration, not from settings


def test_without_the_server_none_of_this_can_be_seen(tmp_path, slo):
    # 0.25 is a default client bucket, so only the server can tell that this histogram lacks it.
    write_spec(tmp_path / "slos", "api.yaml", SPEC)
    result = slo("lint", "--slos", tmp_path / "slos", "--settings", settings(tmp_path))
    assert (result.code, result.err) == (0, "")


def test_an_unreachable_server_is_one_line_and_never_shows_the_password(tmp_path, slo, monkeypatch):
    write_spec(tmp_path / "slos", "api.yaml", SPEC)
    password, token = "pa55-word-in-url", "token-from-the-environment"
    monkeypatch.setenv("SLO_PROMETHEUS_TOKEN", token)
    url = f"http://reader:{password}@127.0.0.1:{realprom.free_port()}/prefix"
    result = slo("lint", "--slos", tmp_path / "slos", "--settings", settings(tmp_path), "--prometheus", url)
    assert result.code == 1
    assert len(result.lines) == 1 and result.lines[0].startswith("slo: cannot query Prometheus at http://127.0.0.1:")
    assert_no_leaks([password, token, "reader:" + password], {"stdout": result.out, "stderr": result.err})


class _Guarded(http.server.BaseHTTPRequestHandler):
    """Answers like Prometheus' API only to the expected bearer token; records what it was sent."""

    token = ""
    seen: list[str] = []

    def do_GET(self):
        self.seen.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            body = {"status": "error", "error": "unauthorized"}
        else:
            self.send_response(200)
            data = {"yaml": "global: {}\n"} if "status/config" in self.path else {"resultType": "vector",
                                                                                 "result": [{"value": [0, "1"]}]}
            body = {"status": "success", "data": data}
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


def test_the_token_from_the_environment_is_sent_and_never_printed(tmp_path, slo, monkeypatch):
    # An HTTP stand-in that checks the header: Prometheus itself has no token check to test against.
    token = "s3cret-bearer-token"
    _Guarded.token, _Guarded.seen = token, []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Guarded)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        write_spec(tmp_path / "slos", "api.yaml", SPEC.split("  - name: missing-counters")[0])
        args = ("lint", "--slos", tmp_path / "slos", "--settings", settings(tmp_path),
                "--prometheus", f"http://127.0.0.1:{httpd.server_port}")
        refused = slo(*args)
        monkeypatch.setenv("SLO_PROMETHEUS_TOKEN", token)
        accepted = slo(*args)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert refused.code == 1 and refused.lines == [
        f"slo: Prometheus at http://127.0.0.1:{httpd.server_port} refused /api/v1/status/config (401 unauthorized)"]
    assert (accepted.code, accepted.err) == (0, "")
    assert f"Bearer {token}" in _Guarded.seen
    assert_no_leaks([token], {"stdout": refused.out + accepted.out, "stderr": refused.err + accepted.err})
