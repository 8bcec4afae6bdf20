"""`slo check`: per-SLO promtool tests, in parallel, only the changed SLOs with --changed, a stale output
refused, and every SLO whose SLI gets synthetic traffic tested."""

import re
from pathlib import Path

import pytest
import yaml

from compiler import check, cli, write
from compiler.targets import alert_timing_tests, promtool_tests
from conftest import ROOT, write_spec
from gitrepo import Repo

SPEC = """\
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5.."}
        total: http_requests_total{job="shop"}
  - name: latency
    objective: 99
    sli:
      latency: {histogram: 'http_request_duration_seconds{job="shop"}', threshold: 500ms}
  - name: satisfaction
    objective: 95
    sli:
      raw:
        error_ratio: 1 - avg(avg_over_time(satisfaction_ratio{job="shop"}[$window]))
"""
SYNTHETIC = ("availability", "latency")  # the raw SLI gives a ratio, no events to synthesise


def project(root: Path, spec: str = SPEC) -> list:
    """Arguments of slo compile and check for a project under `root`."""
    write_spec(root / "slos", "shop.yaml", spec)
    write_spec(root, "slo-settings.yaml", "# defaults\n")
    return ["--slos", root / "slos", "--settings", root / "slo-settings.yaml", "--out", root / "output"]


@pytest.fixture
def shop(tmp_path, slo) -> list:
    args = project(tmp_path)
    assert slo("compile", *args).code == 0
    return args


def summary(result) -> str:
    return re.sub(r" in \d+s$", "", result.lines[-1])


def test_each_slo_gets_its_tests_per_tier_as_the_default_tiers_say(shop, tmp_path):
    # The default tiers for 30d (SRE Workbook table 5-8 and the 1d ticket): page 1h/5m and 6h/30m,
    # ticket 1d/2h and 3d/6h. Tiers file: each tier fires at its burn rate, nothing below all of
    # them, a full outage pages. Timing file (1m steps): the windows up to an hour (1h/5m), the
    # outage and its reset, traffic stopping, vanished series. Days file (1h steps): the longer
    # windows, three quiet days, a slow burn that opens a ticket.
    expected = {"tiers": {"page": 2, "ticket": 2, "other": 2}, "timing": {"page": 1, "ticket": 0, "other": 3},
                "days": {"page": 1, "ticket": 2, "other": 2}}
    folder = tmp_path / "output" / "prometheus" / "tests" / "shop"
    for name in SYNTHETIC:
        for suite, counts in expected.items():
            titles = [t["name"] for t in yaml.safe_load((folder / f"{name}.{suite}.test.yml").read_text())["tests"]]
            tiers = [m.group(1) if m else "other" for m in (re.search(r"the (page|ticket) tier ", t) for t in titles)]
            assert {tier: tiers.count(tier) for tier in counts} == counts, (name, suite, titles)
            assert len(tiers) == sum(counts.values())
    for suite in expected:  # the raw SLI's files say why they hold no test
        text = (folder / f"satisfaction.{suite}.test.yml").read_text()
        assert "# satisfaction: no synthetic test (a raw SLI's query gives a ratio" in text
        assert yaml.safe_load(text)["tests"] == []


def test_a_compile_that_would_write_no_test_for_an_slo_with_synthetic_traffic_fails(tmp_path, slo, monkeypatch):
    monkeypatch.setattr(promtool_tests, "cases", lambda slo_, interval: [])
    monkeypatch.setattr(alert_timing_tests, "_tests", lambda slo_, clock, builders: [])
    result = slo("compile", *project(tmp_path))
    assert result.code == 1
    assert result.lines == [f"slos/shop.yaml:1:1: shop/{name}: no promtool test was written although its SLI gets "
                            f"synthetic traffic; this is a bug of the compiler, please report it" for name in SYNTHETIC]
    assert not (tmp_path / "output").exists()


def test_the_tests_of_an_slo_load_its_group_alone_equal_to_the_one_prometheus_loads(shop, tmp_path):
    out = tmp_path / "output"
    groups = yaml.safe_load((out / "prometheus" / "shop.rules.yml").read_text())["groups"]
    folder = out / "prometheus" / "tests" / "shop"
    copies = {p.name.removesuffix(".rules.yml"): yaml.safe_load(p.read_text())["groups"]
              for p in folder.glob("*.rules.yml")}
    assert copies == {g["name"].removeprefix("slo_shop_"): [g] for g in groups}
    for path in folder.glob("*.test.yml"):
        assert yaml.safe_load(path.read_text())["rule_files"] == [f"{path.name.split('.')[0]}.rules.yml"]


def test_the_manifest_gives_each_file_its_kind_service_and_slo(shop, tmp_path):
    entries = write.read_manifest(tmp_path / "output")
    kinds = {(e["kind"], e.get("service"), e.get("slo")) for e in entries}
    assert ("rules", "shop", None) in kinds and ("kubernetes", "shop", None) in kinds
    assert {(k, slo_) for k, s, slo_ in kinds if slo_} == {
        (kind, name) for kind in ("slo-rules", "tests") for name in ("availability", "latency", "satisfaction")}
    assert len([e for e in entries if e["kind"] == "tests"]) == 3 * 3


def test_check_tests_each_slo_and_counts_those_without_synthetic_traffic(shop, slo, promtool):
    result = slo("check", *shop, "--jobs", "2")
    assert result.code == 0, result.err
    assert summary(result) == "slo check: 3 SLOs checked, 1 without synthetic traffic (shop/satisfaction); all passed"


@pytest.mark.parametrize("change, what", [
    (lambda root: write_spec(root / "slos", "shop.yaml", SPEC.replace("99.9", "99.5")),
     "differs from what the specs and settings compile to"),
    (lambda root: write_spec(root, "slo-settings.yaml", "rule_interval: 30s\n"),
     "differs from what the specs and settings compile to"),
    (lambda root: (root / "output" / "prometheus" / "tests" / "shop" / "latency.rules.yml").write_text("groups: []\n"),
     "was changed or removed since it was compiled"),
    (lambda root: (root / "output" / "kubernetes" / "shop.yml").unlink(), "was changed or removed since it was compiled"),
], ids=["spec", "settings", "edited", "removed"])
def test_a_stale_output_is_refused_with_one_line(shop, slo, tmp_path, change, what):
    change(tmp_path)
    result = slo("check", *shop)
    assert result.code == 1
    [line] = [line for line in result.lines if "stale" in line]
    assert line.startswith(f"slo: {tmp_path / 'output'}: output is stale, ") and line.endswith(f"{what}; run `slo compile`")


def test_jobs_must_be_at_least_one(shop, slo):
    assert slo("check", *shop, "--jobs", "0").code == 2


def test_a_failing_test_file_is_reported_whole(shop, tmp_path, promtool):
    out = tmp_path / "output"
    copy = out / "prometheus" / "tests" / "shop" / "availability.rules.yml"
    copy.write_text(copy.read_text().replace("> 14.4\n", "> 20\n"))
    entries = write.read_manifest(out)
    done = []
    summary_ = check.run(out, entries, {("shop", "availability")}, 2, done.append)
    assert (summary_.tested, summary_.unchanged) == (1, 2)
    failed = {r.args: r.output for r in summary_.failures}
    assert set(failed) == {("test", "rules", "prometheus/tests/shop/availability.tiers.test.yml"),
                           ("test", "rules", "prometheus/tests/shop/availability.timing.test.yml")}
    for output in failed.values():
        assert "FAILED" in output and "ShopAvailabilityBudgetBurn" in output


def test_changed_tests_only_the_slos_whose_rules_or_tests_differ_from_the_base(tmp_path, slo, promtool):
    repo = Repo(tmp_path / "repo", slo)
    args = project(repo.root)
    assert slo("compile", *args).code == 0
    repo.commit("base")
    result = slo("check", *args, "--changed", "main")
    assert result.code == 0, result.err
    assert summary(result) == ("slo check: 0 SLOs checked, 3 skipped as unchanged since main, "
                               "1 without synthetic traffic (shop/satisfaction); all passed")
    write_spec(repo.slos, "shop.yaml", SPEC.replace("99.9", "99.5"))
    assert slo("compile", *args).code == 0
    result = slo("check", *args, "--changed", "main")
    assert result.code == 0, result.err
    assert summary(result) == ("slo check: 1 SLOs checked, 2 skipped as unchanged since main, "
                               "1 without synthetic traffic (shop/satisfaction); all passed")


def test_changed_against_a_base_without_a_manifest_tests_every_slo():
    entries = [{"kind": "tests", "service": "s", "slo": name, "path": f"p/{name}", "sha256": "0"} for name in "ab"]
    assert check.changed(entries, None) == {("s", "a"), ("s", "b")}
    assert check.changed(entries, entries[:1]) == {("s", "b")}
    assert check.changed(entries, [{**entries[0], "sha256": "1"}, entries[1]]) == {("s", "a")}


def test_changed_against_a_ref_that_is_no_commit_is_wrong_usage(tmp_path, slo):
    repo = Repo(tmp_path / "repo", slo)
    args = project(repo.root)
    assert slo("compile", *args).code == 0
    repo.commit("base")
    result = slo("check", *args, "--changed", "no-such-branch")
    assert result.code == 2 and result.lines[-1].startswith("slo: check: 'no-such-branch' is not a commit")


def test_progress_reports_files_done_and_elapsed_time():
    results = iter([check.promtool.Result(("x",), True, "")] * 3)
    lines = []
    check.promtool.timed(results, 3, lines.append, every=0)
    assert lines == ["1/3 files, 0s", "2/3 files, 0s"]


def test_the_commands_in_the_check_docs_are_valid_command_lines():
    text = (ROOT / "docs" / "check.md").read_text()
    lines = [line.partition("#")[0].split() for block in re.findall(r"```sh[^\n]*\n(.*?)```", text, re.S)
             for line in block.splitlines()]
    commands = [argv[1:] for argv in lines if argv[:2] == ["slo", "check"]]
    assert len(commands) == 3
    for argv in commands:
        assert cli.parser().parse_args(argv).command == "check"
