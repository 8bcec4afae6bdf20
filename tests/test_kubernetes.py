"""The PrometheusRule manifests take their namespace and extra labels from the settings, so that a
Prometheus Operator's ruleSelector picks them up."""

import yaml

from conftest import SLOS, tree, write_spec


def compile_with(tmp_path, slo, settings: str):
    write_spec(tmp_path, "settings.yaml", settings)
    return slo("compile", "--slos", SLOS, "--out", tmp_path / "out", "--settings", tmp_path / "settings.yaml")


def test_namespace_and_labels_from_the_settings_reach_every_manifest_and_nothing_else(tmp_path, slo):
    result = compile_with(tmp_path, slo, "kubernetes_namespace: monitoring\n"
                                         "kubernetes_labels: {release: kube-prometheus-stack, example.com/team: sre}\n")
    assert result.code == 0, result.err
    for path in sorted((tmp_path / "out" / "kubernetes").glob("*.yml")):
        metadata = yaml.safe_load(path.read_text())["metadata"]
        assert metadata["namespace"] == "monitoring"
        assert metadata["labels"] == {"release": "kube-prometheus-stack", "example.com/team": "sre",
                                      "app.kubernetes.io/managed-by": "slo-compiler", "slo_service": path.stem}
    plain = tmp_path / "plain"
    assert slo("compile", "--slos", SLOS, "--out", plain, "--settings", tmp_path / "none.yaml").code == 0
    changed = {p for p, data in tree(tmp_path / "out").items() if tree(plain).get(p) != data}
    assert {p for p in changed if p != "manifest.json"} == {"kubernetes/payments.yml", "kubernetes/platform.yml"}


def test_without_the_settings_a_manifest_has_no_namespace(tmp_path, slo):
    assert compile_with(tmp_path, slo, "").code == 0
    assert "namespace" not in yaml.safe_load((tmp_path / "out" / "kubernetes" / "payments.yml").read_text())["metadata"]


def test_names_kubernetes_refuses_are_refused_at_their_place(tmp_path, slo):
    result = compile_with(tmp_path, slo, "kubernetes_namespace: Monitoring\nkubernetes_labels: {a/b/c: x, ok: 'a b', '': y}\n")
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert [line.split(": must be ")[0].rsplit(":", 3)[1:] for line in result.lines] == [
        ["1", "23", " kubernetes_namespace"], ["2", "21", ' kubernetes_labels["a/b/c"]'], ["2", "35", " kubernetes_labels.ok"],
        ["2", "42", ' kubernetes_labels[""]']]
    assert "must be a Kubernetes namespace: lower-case letters, digits and inner dashes" in result.lines[0]
