"""`slo push rules --prometheus-dir`: a real Prometheus (Debian package) on 127.0.0.1 with
`--web.enable-lifecycle`, reading `*.rules.yml` from the folder that push writes, reloaded by push."""

import shutil
from pathlib import Path

import pytest
import yaml

import realprom
from compiler import pipeline, write
from compiler.targets import prometheus as rules_target
from conftest import SLOS, write_spec

HEADER = rules_target.HEADER.format(source="slos/test.yaml")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("compiled")
    settings = write_spec(work, "slo-settings.yaml", "rule_interval: 1s\n")
    write.write(work / "output", pipeline.render(pipeline.build_plan(SLOS, settings)))
    return work / "output"


@pytest.fixture
def out(compiled, tmp_path) -> Path:
    return Path(shutil.copytree(compiled, tmp_path / "output"))


@pytest.fixture
def server(tmp_path, promtool):
    rules = tmp_path / "rules"
    rules.mkdir()
    with realprom.running(tmp_path, [rules / "*.rules.yml"], tmp_path / "data",
                          extra_args=("--web.enable-lifecycle",)) as prom:
        prom.rules = rules
        yield prom


def push(slo, server, out: Path, *args):
    return slo("push", "rules", "--prometheus-dir", server.rules, "--reload-url", f"{server.base}/-/reload",
               "--out", out, "--wait", "20", *args)


def loaded(server) -> dict[str, dict]:
    return {g["name"]: g for g in server.get("/api/v1/rules")["data"]["groups"]}


def group_file(name: str, expr: str = "vector(1)") -> str:
    return HEADER + yaml.safe_dump({"groups": [{"name": name, "interval": "1s",
                                                "rules": [{"record": f"{name}:test", "expr": expr}]}]})


def test_push_writes_our_files_reloads_and_every_group_loads_healthy_then_writes_nothing(server, slo, out):
    result = push(slo, server, out)
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["created rule file payments.rules.yml", "created rule file platform.rules.yml",
                                       "prometheus: 2 created, 0 updated, 0 deleted, 0 unchanged, 0 failed"]
    for path in (out / "prometheus").glob("*.rules.yml"):
        assert (server.rules / path.name).read_bytes() == path.read_bytes()
    ours = {g["name"] for p in (out / "prometheus").glob("*.rules.yml") for g in yaml.safe_load(p.read_text())["groups"]}
    groups = loaded(server)
    assert set(groups) == ours
    assert all(rule["health"] == "ok" for g in groups.values() for rule in g["rules"])

    stamps = {p.name: p.stat().st_mtime_ns for p in server.rules.iterdir()}
    again = push(slo, server, out)
    assert again.code == 0 and again.out == "prometheus: 0 created, 0 updated, 0 deleted, 2 unchanged, 0 failed\n"
    assert {p.name: p.stat().st_mtime_ns for p in server.rules.iterdir()} == stamps


def test_prune_removes_only_our_stale_files_and_foreign_files_survive(server, slo, out):
    (server.rules / "team.rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "team", "rules": [
        {"record": "team:up", "expr": "vector(1)"}]}]}))
    (server.rules / "retired.rules.yml").write_text(group_file("slo_retired_x"))
    (server.rules / "notes.txt").write_text("not a rule file")
    result = push(slo, server, out, "--prune")
    assert result.code == 0, result.err
    assert "deleted rule file retired.rules.yml" in result.out.splitlines()
    assert sorted(p.name for p in server.rules.iterdir()) == ["notes.txt", "payments.rules.yml", "platform.rules.yml",
                                                             "team.rules.yml"]
    assert "team" in loaded(server) and "slo_retired_x" not in loaded(server)


def test_a_foreign_file_with_our_name_is_never_overwritten(server, slo, out):
    theirs = yaml.safe_dump({"groups": [{"name": "hand", "rules": [{"record": "hand:x", "expr": "vector(1)"}]}]})
    (server.rules / "payments.rules.yml").write_text(theirs)
    result = push(slo, server, out)
    assert result.code == 1
    assert result.lines == [f"prometheus: failed: rule file payments.rules.yml: {server.rules}/payments.rules.yml "
                            f"exists and was not written by slo compile, so it is left as it is"]
    assert (server.rules / "payments.rules.yml").read_text() == theirs
    assert (server.rules / "platform.rules.yml").exists()


def test_a_failed_reload_restores_the_previous_files(server, slo, out):
    assert push(slo, server, out).code == 0
    before = {p.name: p.read_bytes() for p in server.rules.iterdir()}
    (server.rules / "broken.rules.yml").write_text("groups: [ {name: broken, rules: [ {record: 'x', expr: '(' } ] } ]\n")
    changed = out / "prometheus" / "payments.rules.yml"
    changed.write_text(changed.read_text().replace("interval: 1s", "interval: 2s"))
    result = push(slo, server, out)
    assert result.code == 1
    assert len(result.lines) == 1
    line = result.lines[0]
    assert line.startswith("prometheus: failed: rule file payments.rules.yml: POST /-/reload: Prometheus refused "
                           "the reload (its log says why): ")
    assert "failed to reload config" in line  # Prometheus' own words
    assert "; previous files restored, but their reload failed too: POST /-/reload: Prometheus refused the " in line
    assert {p.name: p.read_bytes() for p in server.rules.iterdir() if p.name != "broken.rules.yml"} == before
    assert {g["interval"] for g in loaded(server).values()} == {1}  # still running the previous rules


def test_a_group_that_fails_to_evaluate_is_rolled_back(server, slo, tmp_path):
    out = tmp_path / "bad-output"
    duplicate = 'vector(1) + on() group_left() (vector(1) or label_replace(vector(1), "a", "b", "", ""))'
    write.write(out, {"prometheus/bad.rules.yml": (group_file("slo_bad_x", duplicate).encode(), "test")})
    result = push(slo, server, out)
    assert result.code == 1
    assert result.lines[0].startswith("prometheus: failed: rule file bad.rules.yml: rule groups loaded but failed "
                                      "to evaluate: slo_bad_x: ")
    assert result.lines[0].endswith("; previous files restored and reloaded")
    assert list(server.rules.iterdir()) == []
    assert "slo_bad_x" not in loaded(server)


def test_promtool_rejects_invalid_rules_before_anything_is_written(server, slo, tmp_path):
    out = tmp_path / "bad-output"
    write.write(out, {"prometheus/bad.rules.yml": (group_file("slo_bad_x", "sum((").encode(), "test")})
    result = push(slo, server, out)
    assert result.code == 1 and result.lines[0].startswith("prometheus: promtool rejected the rules: ")
    assert list(server.rules.iterdir()) == []


def test_dry_run_lists_the_files_and_writes_nothing(server, slo, out):
    (server.rules / "retired.rules.yml").write_text(group_file("slo_retired_x"))
    result = push(slo, server, out, "--dry-run", "--prune")
    assert result.out.splitlines() == [
        "would create rule file payments.rules.yml", "would create rule file platform.rules.yml",
        "would delete rule file retired.rules.yml",
        "prometheus (dry run, nothing changed): 2 to create, 0 to update, 1 to delete, 0 unchanged, 0 failed"]
    assert [p.name for p in server.rules.iterdir()] == ["retired.rules.yml"]


def test_the_summary_names_vmalert_for_its_rule_files(slo, tmp_path, vmalert):
    """With `engine: victoriametrics` the files go to vmalert's rule folder, and every line says so."""
    settings = write_spec(tmp_path, "slo-settings.yaml", "engine: victoriametrics\n")
    out = tmp_path / "output"
    assert slo("compile", "--slos", SLOS, "--out", out, "--settings", settings).code == 0
    folder = tmp_path / "rules"
    folder.mkdir()
    result = slo("push", "rules", "--prometheus-dir", folder, "--reload-url", "http://127.0.0.1:9/-/reload",
                 "--out", out, "--dry-run")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "would create rule file payments.rules.yml", "would create rule file platform.rules.yml",
        "vmalert (dry run, nothing changed): 2 to create, 0 to update, 0 to delete, 0 unchanged, 0 failed"]
    assert list(folder.iterdir()) == []
