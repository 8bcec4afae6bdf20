"""User text never changes meaning on its way out, and nothing is written outside the output folder."""

import html
import json
import re
import subprocess
from datetime import timedelta

import promql_parser
import pytest
import yaml
from markdown_it import MarkdownIt

from compiler import promql, write
from compiler.problems import Problem
from conftest import SETTINGS, SLOS, tree, write_spec
from leaks import assert_no_leaks, forms, leaks

SPEC = """\
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{job="shop", code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
    alerting:
      labels: {team: '{{ $value }} {{ .Labels.job }} "q" \\ 100%'}
      page: {labels: {channel: '#shop {{'}}
"""


def test_alert_labels_are_not_evaluated_as_templates(tmp_path, slo, promtool):
    # Prometheus expands alert labels as templates: without escaping, these would print the value
    # or fail to parse. The generated tests expect the literal text, and promtool runs them.
    write_spec(tmp_path / "slos", "shop.yaml", SPEC)
    out = tmp_path / "output"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    files = sorted((out / "prometheus" / "tests" / "shop").glob("*.tiers.test.yml"))
    tests = [t for f in files for t in yaml.safe_load(f.read_text())["tests"]]
    labels = [a["exp_labels"] for t in tests for c in t["alert_rule_test"] for a in c["exp_alerts"]]
    assert labels and all(a["team"] == '{{ $value }} {{ .Labels.job }} "q" \\ 100%' for a in labels)
    assert {a["channel"] for a in labels if a["slo_severity"] == "page"} == {"#shop {{"}
    result = subprocess.run([promtool, "test", "rules", *map(str, files)], cwd=out, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", ["../escaped.yml", "prometheus/../../escaped.yml", "{absolute}"])
def test_no_artifact_is_written_outside_the_output_folder(tmp_path, path):
    path = path.format(absolute=tmp_path / "escaped.yml")
    out = tmp_path / "output"
    write.write(out, {"kubernetes/kept.yml": (b"previous\n", "spec")})
    with pytest.raises(ValueError, match="escapes the output folder"):
        write.write(out, {"prometheus/ok.rules.yml": (b"x", "spec"), path: (b"x", "spec")})
    assert tree(tmp_path) == {"output/kubernetes/kept.yml": b"previous\n", "output/manifest.json": tree(out)["manifest.json"]}


def test_a_problem_with_control_characters_stays_one_line():
    line = str(Problem("slos/a\nb.yaml", 1, 2, "labels.x\u2028y", "bad\rvalue"))
    assert line.splitlines() == [line] and line == "slos/a\\nb.yaml:1:2: labels.x\\u2028y: bad\\rvalue"


def test_the_leak_scanner_finds_each_form_in_texts_and_files(tmp_path):
    secret = 's3cr3t"value/é'
    assert len(forms(secret)) == 4
    for number, form in enumerate(forms(secret).values()):
        (tmp_path / f"log{number}.txt").write_text(f"before {form} after")
    found = leaks([secret], {"stderr": f"token={secret}"}, [tmp_path])
    assert sorted(found) == sorted([f"{tmp_path / f'log{n}.txt'}: secret #0 ({name})"
                                    for n, name in enumerate(forms(secret))] + ["stderr: secret #0 (as is)"])
    assert leaks(["other-secret"], {"stderr": f"token={secret}"}, [tmp_path]) == []


def test_secrets_in_the_environment_reach_no_output_and_no_message(tmp_path, slo, monkeypatch):
    secrets = {"SLO_PROMETHEUS_TOKEN": "prom-token-7f3a9", "GRAFANA_TOKEN": "glsa_grafana-token-1b2c",
               "RULER_PASSWORD": "ruler-pass-5d6e"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "output"
    args = ("--slos", SLOS, "--settings", SETTINGS)
    results = [slo("compile", *args, "--out", out), slo("lint", *args),
               slo("explain", "payments/api-availability", *args)]
    assert [r.code for r in results] == [0, 0, 0]
    printed = {f"{i}.{stream}": getattr(r, stream) for i, r in enumerate(results) for stream in ("out", "err")}
    assert_no_leaks(secrets.values(), printed, [out])


NASTY = '*all* <b>bold</b> | 5xx [link](https://x.example) `tick` &lt; ~~gone~~ # h \\ _u_\nsecond line'
MARKDOWN_SPEC = f"""\
service: shop
owner: {json.dumps(NASTY)}
slos:
  - name: availability
    description: {json.dumps(NASTY)}
    objective: 99.9
    sli:
      ratio:
        errors: 'http_requests_total{{job="shop", code=~"5.."}}'
        total: 'http_requests_total{{job="shop"}}'
    alerting:
      labels: {{team: "a`b|c"}}
"""


def _text(rendered: str) -> str:
    """What a reader sees: the rendered HTML without its tags, entities resolved, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", rendered)).split())


def test_user_text_in_runbooks_and_dashboard_panels_is_literal_markdown(tmp_path, slo):
    write_spec(tmp_path / "slos", "shop.yaml", MARKDOWN_SPEC)
    out = tmp_path / "output"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    shown = " ".join(NASTY.split())
    runbook = md.render((out / "runbooks" / "shop" / "shop-availability-budget-burn-page.md").read_text())
    panel = next(p["options"]["content"] for p in json.loads((out / "grafana" / "dashboards" / "shop.json").read_text())["panels"]
                 if p.get("type") == "text")
    for rendered in (runbook, md.render(panel)):
        assert not re.search(r"<(b|em|del)>|href=\"https://x", rendered), rendered
        assert _text(rendered).count(shown) >= 2  # the description and the owner, each whole
    # The alert labels stay in their table cell: every row of the first table keeps two cells.
    table = runbook.split("<table>")[1].split("</table>")[0]
    assert all(row.count("<td>") == 2 for row in table.split("<tr>")[2:])
    assert "<code>team=a`b|c</code>" in table


@pytest.mark.parametrize("value, printed", [('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("line\nnext", '"line\\nnext"')])
def test_every_selector_the_compiler_builds_escapes_its_values_and_parses_back(value, printed):
    built = promql.equal("slo:objective:ratio", [("slo_service", value)]).with_matcher(promql.Matcher("g", "=~", value))
    assert str(built) == f"slo:objective:ratio{{slo_service={printed}, g=~{printed}}}"
    assert promql.selector(str(built)) == built


def test_a_selector_read_back_prints_its_range_before_its_offsets_which_add_up():
    built = promql.equal("slo:sli_errors:rate5m", [("slo_name", 'a"b')]).back(60_000).over(3_570_000).back(3_600_000)
    assert str(built) == 'slo:sli_errors:rate5m{slo_name="a\\"b"}[59m30s] offset 1h1m'
    node = promql_parser.parse(str(built))
    assert (node.range, node.vector_selector.offset) == (timedelta(minutes=59, seconds=30), timedelta(hours=1, minutes=1))
    assert str(built.over(0).back(-3_660_000)) == 'slo:sli_errors:rate5m{slo_name="a\\"b"}'
