"""Bad input: one clear line per problem with file:line:col and field, exit 1, nothing written."""

import pytest

from conftest import tree, write_spec
from leaks import assert_no_leaks

HEAD = """\
service: checkout
owner: team-a
slos:
  - name: availability
"""
RATIO = """\
    sli:
      ratio:
        errors: http_requests_total{code=~"5.."}
        total: http_requests_total
"""


CASES = [
    # (id, spec text, expected "line:col field", message fragment)
    ("objective-100", HEAD + "    objective: 100\n" + RATIO,
     "5:16: slos[0].objective:", "must be above 0 and below 100, got 100"),
    ("objective-0", HEAD + "    objective: 0\n" + RATIO, "5:16: slos[0].objective:", "must be above 0"),
    ("objective-string", HEAD + "    objective: high\n" + RATIO, "5:16: slos[0].objective:", "must be a number"),
    ("objective-missing", HEAD + RATIO, "4:5: slos[0].objective:", "is required"),
    ("unknown-key", HEAD + "    objectve: 99.9\n" + RATIO, "5:5: slos[0].objectve:",
     "unknown key; did you mean 'objective'?"),
    ("duplicate-key", HEAD + "    objective: 99.9\n    objective: 99\n" + RATIO, "6:5: slos[0].objective:",
     "duplicate key (first defined at line 5)"),
    ("service-pattern", "service: Checkout_API\n" + HEAD.split("\n", 1)[1] + "    objective: 99\n" + RATIO,
     "1:10: service:", "must be lower-case letters, digits and inner dashes"),
    ("service-path-escape", "service: ../etc\n" + HEAD.split("\n", 1)[1] + "    objective: 99\n" + RATIO,
     "1:10: service:", "got '../etc'"),
    ("slo-name-duplicate", HEAD + "    objective: 99\n" + RATIO + "  - name: availability\n    objective: 98\n"
     + RATIO, "10:11: slos[1].name:", "SLO 'availability' is already defined in this service"),
    ("window-not-duration", HEAD + "    objective: 99\n    window: 30days\n" + RATIO, "6:13: slos[0].window:",
     "must be a Prometheus duration"),
    ("window-zero", HEAD + "    objective: 99\n    window: 0d\n" + RATIO, "6:13: slos[0].window:",
     "must be longer than zero"),
    ("window-too-short", HEAD + "    objective: 99\n    window: 1d\n" + RATIO, "6:13: slos[0].window:",
     "1d period is too short for the page tier"),
    ("sli-two-kinds", HEAD + "    objective: 99\n" + RATIO + "      bool:\n        metric: up\n",
     "6:5: slos[0].sli:", "needs exactly one of ratio, latency, bool, events, raw; got ratio, bool"),
    ("sli-no-kind", HEAD + "    objective: 99\n    sli: {}\n", "6:5: slos[0].sli:", "got none"),
    ("ratio-not-selector", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: sum(rate(x[5m]))\n"
     "        total: x\n", "8:17: slos[0].sli.ratio.errors:", "must be a vector selector"),
    ("ratio-bad-promql", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: x\n"
     "        total: 'http_requests_total{'\n", "9:16: slos[0].sli.ratio.total:", "invalid PromQL"),
    ("ratio-range", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: x[5m]\n        total: y\n",
     "8:17: slos[0].sli.ratio.errors:", "without a [range]"),
    ("ratio-offset", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: x offset 5m\n"
     "        total: y\n", "8:17: slos[0].sli.ratio.errors:", "offset and @ modifiers are not allowed"),
    ("ratio-same", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: x{a=\"b\"}\n"
     "        total: 'x{a = \"b\"}'\n", "7:7: slos[0].sli.ratio:", "select the same series"),
    ("events-no-window", HEAD + "    objective: 99\n    sli:\n      events:\n        errors: sum(rate(e[5m]))\n"
     "        total: sum(rate(t[$window]))\n", "8:17: slos[0].sli.events.errors:", "must use $window"),
    ("events-same", HEAD + "    objective: 99\n    sli:\n      events:\n        errors: sum(rate(t[$window]))\n"
     "        total: sum(rate(t[$window]))\n", "7:7: slos[0].sli.events:", "are the same expression"),
    ("latency-bucket-suffix", HEAD + "    objective: 99\n    sli:\n      latency:\n"
     "        histogram: http_request_duration_seconds_bucket\n        threshold: 300ms\n",
     "7:7: slos[0].sli.latency:", "without _bucket: http_request_duration_seconds"),
    ("latency-threshold", HEAD + "    objective: 99\n    sli:\n      latency:\n        histogram: h\n"
     "        threshold: fast\n", "9:20: slos[0].sli.latency.threshold:", "must be a Prometheus duration"),
    ("latency-threshold-negative", HEAD + "    objective: 99\n    sli:\n      latency:\n        histogram: h\n"
     "        threshold: -1\n", "9:20: slos[0].sli.latency.threshold:", "must be above 0 seconds"),
    ("label-reserved-prefix", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels: {__meta: x}\n")
     + "    objective: 99\n" + RATIO, "3:10: labels.__meta:", "reserved by Prometheus"),
    ("label-set-by-compiler", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels: {slo_service: x}\n")
     + "    objective: 99\n" + RATIO, "3:10: labels.slo_service:", "set by the compiler"),
    ("label-value-not-string", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels:\n  tier: 1\n")
     + "    objective: 99\n" + RATIO, "4:9: labels.tier:", "must be text, got 1"),
    ("group-by-invalid", HEAD + "    objective: 99\n" + RATIO + "        group_by: [route-name]\n",
     "10:20: slos[0].sli.ratio.group_by[0]:", "not a valid Prometheus label name"),
    ("alert-name-invalid", HEAD + "    objective: 99\n" + RATIO + "    alerting:\n      name: Checkout-Burn\n",
     "11:13: slos[0].alerting.name:", "must be a valid alert name"),
    ("yaml-tag", HEAD + "    objective: !!python/object/apply:os.system ['true']\n" + RATIO,
     "5:16: slos[0].objective:", "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("yaml-merge-key", "base: &b {objective: 99}\n" + HEAD + "    <<: *b\n" + RATIO,
     "6:5: slos[0]:", "merge keys (<<) are not supported"),
    ("yaml-syntax", HEAD + "    objective: 99\n   sli: [\n", "6:4:", "invalid YAML"),
    ("top-level-list", "- service: x\n", "1:1:", "must be a mapping of keys, got a list"),
    ("slos-empty", "service: checkout\nslos: []\n", "2:1: slos:", "must list at least 1, got none"),
    ("empty-file", "", "1:1:", "file is empty"),
    ("objective-nan", HEAD + "    objective: .nan\n" + RATIO, "5:16: slos[0].objective:", "must be a finite number"),
    ("objective-huge-int", HEAD + "    objective: 123456789012345678901234567890\n" + RATIO,
     "5:16: slos[0].objective:", "must be above 0 and below 100"),
    ("window-too-long", HEAD + "    objective: 99\n    window: 3651d\n" + RATIO, "6:13: slos[0].window:",
     "must be at most 3650d"),
    ("latency-threshold-zero", HEAD + "    objective: 99\n    sli:\n      latency:\n        histogram: h\n"
     "        threshold: 0s\n", "9:20: slos[0].sli.latency.threshold:", "must be above 0 seconds"),
    ("label-value-empty", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels: {tier: ''}\n")
     + "    objective: 99\n" + RATIO, "3:16: labels.tier:", "must not be empty"),
    ("alert-label-reserved", HEAD + "    objective: 99\n" + RATIO + "    alerting:\n      labels: {burn_rate: x}\n",
     "11:16: slos[0].alerting.labels.burn_rate:", "set by the compiler"),
    ("group-by-service-label", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels: {tier: '1'}\n")
     + "    objective: 99\n" + RATIO + "        group_by: [tier]\n", "11:20: slos[0].sli.ratio.group_by[0]:",
     "tier is also a label the rules set to one value"),
    ("group-by-severity", HEAD + "    objective: 99\n" + RATIO + "        group_by: [severity]\n",
     "10:20: slos[0].sli.ratio.group_by[0]:", "severity is also a label the rules set to one value"),
    ("regex-invalid", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: x{code=~\"((\"}\n"
     "        total: x\n", "8:17: slos[0].sli.ratio.errors:", "invalid PromQL"),
    ("regex-repeat-over-re2-limit", HEAD + "    objective: 99\n    sli:\n      ratio:\n"
     "        errors: x{code=~\"5{1001}\"}\n        total: x\n", "8:17: slos[0].sli.ratio.errors:",
     "repeats more than 1000 times"),
    ("selector-or", HEAD + "    objective: 99\n    sli:\n      ratio:\n        errors: x{a=\"b\" or c=\"d\"}\n"
     "        total: x\n", "8:17: slos[0].sli.ratio.errors:", "`or` inside a selector is not supported"),
    ("description-not-text", HEAD + "    objective: 99\n    description: [a, b]\n" + RATIO,
     "6:5: slos[0].description:", "must be text, got a list"),
    ("unprintable-key", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels: {\"a\\x1eb\": x}\n")
     + "    objective: 99\n" + RATIO, '3:10: labels["a\\x1eb"]:', "not a valid Prometheus label name"),
    ("too-many-slos", "service: checkout\nslos:\n" + "".join(
        f"  - name: s{i}\n    objective: 99\n" + RATIO for i in range(101)),
     "2:1: slos:", "must list at most 100, got 101"),
]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder, the current one: problems name `slos/...` as the commands are given it."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "output"
    (out / "prometheus").mkdir(parents=True)
    (out / "prometheus" / "kept.rules.yml").write_text("previous output\n")
    return tmp_path, tree(out)


@pytest.mark.parametrize("text, where, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_is_refused_with_place_field_and_reason(slo, project, text, where, message):
    root, before = project
    write_spec(root / "slos", "checkout.yaml", text)
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    assert any(line.startswith(f"slos/checkout.yaml:{where}") and message in line for line in result.lines), \
        result.err
    assert "Traceback" not in result.err and result.out == ""
    assert tree(root / "output") == before


def test_at_least_40_bad_spec_cases():
    assert len(CASES) >= 40


def test_every_problem_of_every_file_is_reported_in_one_run(slo, project):
    root, before = project
    write_spec(root / "slos", "a.yaml", "service: a\nslos:\n  - name: x\n    objective: 100\n    sli: {}\n")
    write_spec(root / "slos", "b.yaml", "service: b\nslos:\n  - name: Y\n    objectiv: 99\n" + RATIO)
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    assert [line.split(": ", 1)[0] for line in result.lines] == [
        "slos/a.yaml:4:16", "slos/a.yaml:5:5", "slos/b.yaml:3:5", "slos/b.yaml:3:11", "slos/b.yaml:4:5"]
    assert tree(root / "output") == before


def test_a_service_defined_twice_names_both_files(slo, project):
    root, _ = project
    body = HEAD + "    objective: 99\n" + RATIO
    write_spec(root / "slos", "a.yaml", body)
    write_spec(root / "slos", "b.yaml", body.replace("availability", "other"))
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    assert result.lines == ["slos/b.yaml:1:10: service: service 'checkout' is already defined in slos/a.yaml"]


def test_alert_names_must_be_unique_within_a_service(slo, project):
    root, _ = project
    alerting = "    alerting:\n      name: SameBurn\n"
    second = HEAD.split("slos:\n", 1)[1].replace("availability", "latency")
    write_spec(root / "slos", "a.yaml", HEAD + "    objective: 99\n" + RATIO + alerting
               + second + "    objective: 99\n" + RATIO + alerting)
    write_spec(root / "slos", "b.yaml", HEAD.replace("checkout", "billing") + "    objective: 99\n" + RATIO + alerting)
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    # Another service may use the same name (slo_service tells the alerts apart), not another SLO here.
    assert result.lines == ["slos/a.yaml:19:13: slos[1].alerting.name: alert name SameBurn is already used by "
                            "SLO 'availability'; set alerting.name to tell them apart"]


def test_bad_settings_are_reported_with_the_specs_problems(slo, project):
    root, _ = project
    write_spec(root / "slos", "a.yaml", HEAD + "    objective: 100\n" + RATIO)
    settings = write_spec(root, "slo-settings.yaml", "scrape_intervall: 30s\ntiers: []\n")
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", settings.name)
    assert result.code == 1
    assert result.lines == [
        "slo-settings.yaml:1:1: scrape_intervall: unknown key; did you mean 'scrape_interval'?",
        "slo-settings.yaml:2:1: tiers: must list at least 1, got none",
        "slos/a.yaml:5:16: slos[0].objective: must be above 0 and below 100, got 100",
    ]


def test_alias_bomb_is_refused_quickly(slo, project):
    root, _ = project
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    write_spec(root / "slos", "bomb.yaml", "\n".join(lines) + "\nservice: x\n")
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    assert len(result.lines) == 1 and "refused: more than 100000 values once aliases are expanded" in result.err


def test_huge_file_is_refused_before_parsing(slo, project):
    root, _ = project
    write_spec(root / "slos", "huge.yaml", "service: x\n" + "# padding\n" * 200_000)
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    assert result.lines == ["slos/huge.yaml:1:1: file is larger than 1024 KiB"]


def test_deep_nesting_is_refused(slo, project):
    root, _ = project
    write_spec(root / "slos", "deep.yaml", "service: x\nslos: " + "[" * 40 + "]" * 40 + "\n")
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", root / "none.yaml")
    assert result.code == 1
    assert "nested deeper than 32 levels" in result.err


SETTINGS_CASES = [
    ("scrape-interval-zero", "scrape_interval: 0s\n", "1:18: scrape_interval:", "must be longer than zero"),
    ("tier-short-not-shorter", "tiers:\n  - {severity: page, budget_spent: 2, long: 1h, short: 1h}\n",
     "2:5: tiers[0]:", "short window must be shorter than the long window"),
    ("tier-severity", "tiers:\n  - {severity: urgent, budget_spent: 2, long: 1h, short: 5m}\n",
     "2:16: tiers[0].severity:", "must be 'page' or 'ticket'"),
    ("external-label-reserved", "external_labels: {__replica__: a}\n", "1:19: external_labels.__replica__:",
     "reserved by Prometheus"),
    ("grafana-url-credentials", "grafana_url: https://admin:hunter2-secret@grafana.example.com\n",
     "1:14: grafana_url:", "must not contain credentials"),
    ("missing-data-for-under-rule-interval", "rule_interval: 2m\nmissing_data_for: 90s\n", "2:19: missing_data_for:",
     "missing_data_for (1m30s) is shorter than rule_interval (2m): the rules are evaluated only every 2m"),
    # The default missing_data_for (15m) is too short for this rule_interval: the line written is blamed.
    ("rule-interval-over-missing-data-for", "scrape_interval: 10m\nrule_interval: 20m\n", "2:16: rule_interval:",
     "missing_data_for (15m) is shorter than rule_interval (20m)"),
]


@pytest.mark.parametrize("text, where, message", [c[1:] for c in SETTINGS_CASES], ids=[c[0] for c in SETTINGS_CASES])
def test_bad_settings_are_refused_with_place_field_and_reason(slo, project, text, where, message):
    root, before = project
    write_spec(root / "slos", "checkout.yaml", HEAD + "    objective: 99\n" + RATIO)
    settings = write_spec(root, "slo-settings.yaml", text)
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", settings.name)
    assert result.code == 1
    assert result.lines == [line for line in result.lines if line.startswith(f"slo-settings.yaml:{where}")]
    assert any(message in line for line in result.lines), result.err
    assert tree(root / "output") == before
    assert_no_leaks(["hunter2-secret"], {"stdout": result.out, "stderr": result.err})


def test_sloths_label_names_are_refused_as_user_labels_when_sloth_labels_is_on(slo, project):
    root, before = project
    write_spec(root / "slos", "checkout.yaml", HEAD.replace("owner: team-a\n", "owner: team-a\nlabels: {sloth_id: x}\n")
               + "    objective: 99\n    labels: {sloth_slo: y}\n"
               + RATIO + "        group_by: [sloth_window]\n"
               + "    alerting:\n      labels: {team: a}\n      ticket: {labels: {sloth_severity: z}}\n")
    sloth = write_spec(root, "sloth.yaml", "sloth_labels: true\n")
    result = slo("compile", "--slos", "slos", "--out", root / "output", "--settings", sloth.name)
    assert result.code == 1 and result.out == ""
    said = "is set by the compiler when the sloth_labels setting is on; choose another name"
    assert result.lines == [
        f"slos/checkout.yaml:3:10: labels.sloth_id: label 'sloth_id' {said}",
        f"slos/checkout.yaml:7:14: slos[0].labels.sloth_slo: label 'sloth_slo' {said}",
        f"slos/checkout.yaml:12:20: slos[0].sli.ratio.group_by[0]: label 'sloth_window' {said}",
        f"slos/checkout.yaml:15:25: slos[0].alerting.ticket.labels.sloth_severity: label 'sloth_severity' {said}"]
    assert tree(root / "output") == before
    # Without Sloth's labels the names are the user's own.
    result = slo("compile", "--slos", "slos", "--out", root / "plain", "--settings", root / "none.yaml")
    assert result.code == 0, result.err
