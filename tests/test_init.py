"""`slo init SERVICE`: a commented starter spec that compiles as written, and with `--prometheus URL`
SLIs proposed from a real Prometheus on 127.0.0.1 holding half an hour of backfilled series."""

import pytest
import yaml

import realprom
from conftest import write_spec

SERIES = ['http_requests_total{code="200",job="shop"}', 'http_requests_total{code="503",job="shop"}',
          'grpc_server_handled_total{grpc_code="OK",job="shop"}',
          'grpc_server_handled_total{grpc_code="Unavailable",job="shop"}',
          'app_errors_total{code="E42",job="shop"}',  # a code label that is no status: no SLI
          'http_requests_total{code="200",job="cart"}', 'http_requests_total{code="500",job="cart"}',
          *(f'http_request_duration_seconds_bucket{{job="shop",le="{le}"}}' for le in ("0.1", "0.25", "1", "+Inf")),
          'http_request_duration_seconds_count{job="shop"}',
          'probe_success{instance="https://shop.example.com",job="blackbox"}',
          'probe_success{instance="https://cart.example.com",job="blackbox"}']


@pytest.fixture(scope="module")
def server(tmp_path_factory, promtool):
    work = tmp_path_factory.mktemp("init")
    realprom.backfill_counters(promtool, SERIES, work / "data", minutes=30, step=1)
    with realprom.running(work, [], work / "data") as prometheus:
        yield prometheus


def compiles(slo, folder) -> None:
    result = slo("compile", "--slos", folder, "--out", folder.parent / "out", "--settings", folder / "none.yaml")
    assert result.code == 0, result.err


def test_the_starter_compiles_and_names_the_service_everywhere(tmp_path, slo):
    result = slo("init", "shop", "--slos", tmp_path / "slos")
    assert (result.code, result.out, result.err) == (0, "", "")
    text = (tmp_path / "slos" / "shop.yaml").read_text()
    spec = yaml.safe_load(text)
    assert spec["service"] == "shop"
    assert spec["slos"][0]["sli"]["ratio"]["total"] == 'http_requests_total{job="shop"}'
    assert "# - name: requests-latency" in text and "threshold: 300ms" in text  # the other kinds, commented
    compiles(slo, tmp_path / "slos")
    assert slo("explain", "shop/requests-availability", "--slos", tmp_path / "slos").code == 0


def test_an_existing_spec_is_never_overwritten_and_a_bad_name_is_usage(tmp_path, slo):
    write_spec(tmp_path / "slos", "shop.yaml", "mine\n")
    result = slo("init", "shop", "--slos", tmp_path / "slos")
    assert result.code == 1 and result.lines == [f"slo: {tmp_path / 'slos' / 'shop.yaml'}: already exists; "
                                                 "edit it, or delete it to start again"]
    assert (tmp_path / "slos" / "shop.yaml").read_text() == "mine\n"
    assert slo("init", "Shop_1", "--slos", tmp_path / "slos").code == 2
    assert not (tmp_path / "slos" / "Shop_1.yaml").exists()


def test_slis_are_proposed_from_the_services_own_series(server, tmp_path, slo):
    result = slo("init", "shop", "--slos", tmp_path / "slos", "--prometheus", server.base)
    assert (result.code, result.err) == (0, "")
    spec = yaml.safe_load((tmp_path / "slos" / "shop.yaml").read_text())
    slis = {s["name"]: s["sli"] for s in spec["slos"]}
    assert slis == {
        "grpc-server-handled-availability": {"ratio": {
            "errors": 'grpc_server_handled_total{job="shop", grpc_code=~"Unknown|DeadlineExceeded|Unimplemented|'
                      'Internal|Unavailable|DataLoss"}',
            "total": 'grpc_server_handled_total{job="shop"}'}},
        "http-requests-availability": {"ratio": {"errors": 'http_requests_total{job="shop", code=~"5.."}',
                                                 "total": 'http_requests_total{job="shop"}'}},
        "http-request-duration-seconds-latency": {"latency": {
            "histogram": 'http_request_duration_seconds{job="shop"}', "threshold": 0.25}},
        "shop-example-com-probe": {"bool": {
            "metric": 'probe_success{job="blackbox", instance="https://shop.example.com"}'}},
    }
    assert "buckets 0.1, 0.25, 1: the threshold must be one of them" in (tmp_path / "slos" / "shop.yaml").read_text()
    compiles(slo, tmp_path / "slos")
    lint = slo("lint", "--slos", tmp_path / "slos", "--settings", tmp_path / "none.yaml", "--prometheus", server.base)
    assert "selector-matches-nothing" not in lint.err and "missing-le-bucket" not in lint.err


def test_a_service_without_series_of_its_own_gets_every_candidate(server, tmp_path, slo):
    assert slo("init", "billing", "--slos", tmp_path / "slos", "--prometheus", server.base).code == 0
    names = [s["name"] for s in yaml.safe_load((tmp_path / "slos" / "billing.yaml").read_text())["slos"]]
    assert "cart-http-requests-availability" in names and "shop-http-requests-availability" in names
    assert "cart-example-com-probe" in names and "shop-example-com-probe" in names
    compiles(slo, tmp_path / "slos")


def test_an_unreachable_server_is_one_line_and_writes_nothing(tmp_path, slo):
    url = f"http://127.0.0.1:{realprom.free_port()}"
    result = slo("init", "shop", "--slos", tmp_path / "slos", "--prometheus", url)
    assert result.code == 1 and len(result.lines) == 1 and url in result.err
    assert not (tmp_path / "slos").exists()
