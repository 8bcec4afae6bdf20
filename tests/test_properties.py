"""Property tests (hypothesis): no valid spec breaks the output, no broken spec breaks the compiler.

Random valid specs carry label values with quotes, backslashes, newlines and unicode, template-like
descriptions, every SLI kind, window and tier shape, and group_by: each compiles, every value
comes back unchanged from the YAML written, and promtool accepts every rule file and passes every
generated test. Random mutations of valid specs either compile or are refused with one
`file:line:col` line per problem, never a traceback and never a hang.

Runs are derandomized (the same examples every run) and bounded, to keep the suite fast.
"""

import contextlib
import io
import json
import re
import signal
import subprocess
import tempfile
from pathlib import Path

import promql_parser
import yaml
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from compiler import names, promql
from compiler.cli import main
from conftest import SETTINGS, SLOS, tree
from test_lint import URLS

SETTINGS = dict(derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text a template engine, a YAML writer or a PromQL printer could trip on.
TRICKY = ['a"b', "back\\slash", "new\nline", "tab\there", "{{ $value }}", "{{ .Labels.job }}", "{% raw %}",
          "100%", "%s %d", "$labels", "ünïcødé ✓ 日本", "emoji 🔥", "'single'", "- dash", "key: value", "#hash",
          "&anchor *alias", "!tag", "", " ", "null", "true", "0x1F", "1e3", "\\u0000", "}}{{", "`tick`"]
text = st.one_of(st.sampled_from(TRICKY),
                 st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
name = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
# group_by labels apart from the labels a spec sets, which the compiler refuses to group by.
GROUP_LABELS = ["route", "instance", "pod", "region"]
group_label = st.sampled_from(GROUP_LABELS)
label_name = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: not n.startswith("__") and n not in names.RESERVED_LABELS and n not in GROUP_LABELS + ["severity"])
metric = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
REGEXES = ["5..", "2..|3..", ".*", ".+", "(GET|POST)", "[a-c]x?", "x{3}"]
matcher = st.one_of(
    st.tuples(label_name, st.sampled_from(["=", "!="]), text),
    st.tuples(label_name, st.sampled_from(["=~", "!~"]), st.sampled_from(REGEXES)))
# Windows from a few days to a year, in every unit, and thresholds in every form.
WINDOWS = ["3d", "7d", "1w", "14d", "28d", "4w", "30d", "720h", "30d12h", "90d", "365d"]
THRESHOLDS = ["100ms", "250ms", "1s", "1m", 0.5, 2.5, 1, "1500ms"]


def _selector(metric_name: str, matchers: list[tuple[str, str, str]]) -> str:
    # A JSON string is a valid PromQL string literal: the spec's own text must escape like this.
    inner = ", ".join(f"{n}{op}{json.dumps(v, ensure_ascii=False)}" for n, op, v in matchers)
    return f"{metric_name}{{{inner}}}" if inner else metric_name


def _unique(items: list[tuple]) -> list[tuple]:
    return list({item[0]: item for item in items}.values())


@st.composite
def sli(draw) -> dict:
    kind = draw(st.sampled_from(["ratio", "latency", "bool", "events"]))
    base = draw(metric)
    matchers = _unique(draw(st.lists(st.one_of(matcher, st.tuples(group_label, st.just("="), text)), max_size=3)))
    group_by = draw(st.lists(group_label, max_size=2, unique=True)) if kind != "events" else []
    extra = {"group_by": group_by} if group_by else {}
    if kind == "ratio":
        split = (draw(label_name.filter(lambda n: n not in {m[0] for m in matchers})), "=~", "5..")
        return {"ratio": {"errors": _selector(base + "_total", matchers + [split]),
                          "total": _selector(base + "_total", matchers), **extra}}
    if kind == "latency":
        return {"latency": {"histogram": _selector(base + "_seconds", matchers),
                            "threshold": draw(st.sampled_from(THRESHOLDS)), **extra}}
    if kind == "bool":
        return {"bool": {"metric": _selector(base, matchers), **extra}}
    by = draw(st.lists(group_label, max_size=2, unique=True))
    agg = f"sum by ({', '.join(by)})" if by else "sum"
    return {"events": {"errors": f"{agg} (rate({_selector(base + '_errors_total', matchers)}[$window]))",
                       "total": f"{agg} (rate({_selector(base + '_requests_total', matchers)}[$window]))"}}


label_value = text.filter(bool)
tier = st.one_of(st.just(True), st.just(False), st.builds(lambda labels: {"labels": labels},
                                                          st.dictionaries(label_name, label_value, max_size=2)))


@st.composite
def slo(draw) -> dict:
    spec = {"name": draw(name), "objective": draw(st.one_of(
        st.sampled_from([90, 95, 99, 99.5, 99.9, 99.95, 99.99]),
        st.floats(min_value=80, max_value=99.99).map(lambda f: round(f, 3))))}
    if draw(st.booleans()):
        spec["description"] = draw(text)
    if draw(st.booleans()):
        spec["window"] = draw(st.sampled_from(WINDOWS))
    spec["sli"] = draw(sli())
    alerting = {}
    if draw(st.booleans()):
        alerting["labels"] = draw(st.dictionaries(label_name, label_value, max_size=2))
    if draw(st.booleans()):
        alerting["annotations"] = draw(st.dictionaries(label_name, text.filter(lambda t: "{{" not in t),
                                                       max_size=2))
    pages = draw(tier)
    alerting.update({"page": pages, "ticket": draw(tier) if pages is not False else True})
    spec["alerting"] = alerting
    return spec


@st.composite
def service(draw) -> dict:
    slos = draw(st.lists(slo(), min_size=1, max_size=2, unique_by=lambda s: s["name"]))
    spec = {"service": draw(name), "slos": slos}
    for key in ("description", "owner"):
        if draw(st.booleans()):
            spec[key] = draw(text)
    if draw(st.booleans()):
        spec["labels"] = draw(st.dictionaries(label_name, label_value, max_size=2))
    return spec


def run(*args) -> tuple[int, str, str]:
    """The command line in-process: exit code, stdout, stderr. A traceback fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


# The default tiers with short `for`, so that promtool simulates minutes instead of hours per test;
# the default `for` values are proven by the tests of the committed and the shared examples.
QUICK_TIERS = """\
tiers:
  - {severity: page, budget_spent: 2, long: 1h, short: 5m, for: 1m}
  - {severity: page, budget_spent: 5, long: 6h, short: 30m, for: 2m}
  - {severity: ticket, budget_spent: 10, long: 1d, short: 2h, for: 3m}
  - {severity: ticket, budget_spent: 10, long: 3d, short: 6h}
"""


def _compile(folder: Path, text: str, settings_text: str = "") -> tuple[int, str, str]:
    (folder / "slos").mkdir(exist_ok=True)
    (folder / "slos" / "spec.yaml").write_text(text, encoding="utf-8")
    (folder / "settings.yaml").write_text(settings_text)
    return run("compile", "--slos", folder / "slos", "--out", folder / "output", "--settings", folder / "settings.yaml")


def _matcher_values(expr: str) -> set[str]:
    """Label values of every selector in PromQL, as the parser decodes them."""
    found: set[str] = set()
    promql_parser.walk(promql_parser.parse(expr), lambda n: found.update(
        m.value for m in n.matchers.matchers) if isinstance(n, promql_parser.VectorSelector) else None)
    return found


def _spec_matcher_values(spec: dict) -> set[str]:
    queries = [v for s in spec["slos"] for sli in s["sli"].values() for k, v in sli.items()
               if k not in ("group_by", "threshold")]
    return set().union(*(_matcher_values(promql.with_window(q, "5m")) for q in queries))


class _SpecDumper(yaml.SafeDumper):
    """PyYAML writes NEL, LS and PS raw inside quoted scalars, where a YAML reader folds them into a
    space: strings holding them are written double-quoted, where they are escaped."""


_SpecDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if any(c in value for c in "\x85\u2028\u2029") else None))


def _spec_yaml(spec: dict) -> str:
    return yaml.dump(spec, Dumper=_SpecDumper, allow_unicode=True, sort_keys=False)


# Without shrinking: each example runs promtool twice, and shrinking one could take minutes.
@settings(max_examples=30, phases=[Phase.explicit, Phase.generate], **SETTINGS)
@given(service())
def test_every_valid_spec_compiles_and_promtool_accepts_all_of_it(spec):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        code, _, err = _compile(folder, _spec_yaml(spec), QUICK_TIERS)
        assert (code, err) == (0, ""), err
        out = folder / "output"
        rules_file = out / "prometheus" / f"{spec['service']}.rules.yml"
        groups = yaml.safe_load(rules_file.read_text(encoding="utf-8"))["groups"]
        rules = [r for g in groups for r in g["rules"]]
        # Label values come back exactly as written in the spec (recording rules do not expand templates).
        for key, value in spec.get("labels", {}).items():
            assert {r["labels"][key] for r in rules if "record" in r} == {value}
        info = [r["labels"] for r in rules if r.get("record") == names.INFO]
        assert {i["description"] for i in info} == {s.get("description", "") for s in spec["slos"]}
        assert yaml.safe_load((out / "kubernetes" / f"{spec['service']}.yml").read_text())["spec"]["groups"] == groups
        # Every matcher value of the spec is in the rules, escaped so that PromQL reads it back unchanged.
        assert _spec_matcher_values(spec) <= set().union(*(_matcher_values(r["expr"]) for r in rules))
        for path, data in tree(out).items():  # every artifact, of every target, parses in its format
            if path.endswith(".json"):
                json.loads(data)
            elif path.endswith((".yml", ".yaml")):
                yaml.safe_load(data)
        for args in (["check", "rules", str(rules_file)],
                     ["test", "rules", *map(str, sorted((out / "prometheus" / "tests").rglob("*.tiers.test.yml")))]):
            result = subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=out)
            assert result.returncode == 0, result.stdout + result.stderr


# Fragments that break YAML, types, PromQL or limits when dropped into a valid spec.
FRAGMENTS = ["{", "}", "[", "]", '"', "'", "\\", "\n", ": ", "- ", "&a ", "*a", "!!python/name:os.system ",
             "<<: *a\n", "\t", "%", "#", "~", "null", ".nan", ".inf", "-1", "1e400", "99999999999999999999d",
             "0s", "true", "{{", "$window", "[5m]", "=~\"((\"", "x{1001}", "é", "\x85", "\ufeff", "?"]
SEEDS = [(SLOS / "payments.yaml").read_text(), (SLOS / "platform.yaml").read_text()]


def _assert_clean(folder: Path, code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and out == ""
    if code == 0:
        assert err == ""
    else:
        assert code == 1 and err, err
        # Each problem names the spec file as the command was given it: the folder passed to --slos.
        problem = re.compile(re.escape(str(folder)) + r"/slos/[^:/]+\.yaml:\d+:\d+: ")
        assert all(problem.match(line) for line in err.splitlines()), err
        assert not (folder / "output").exists()


@st.composite
def text_mutation(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace-line", "duplicate-line"]))
        if action == "insert":
            text = text[:at] + draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3))) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
        else:
            lines = text.splitlines(keepends=True)
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i] = lines[j] if action == "replace-line" else lines[i] + lines[i]
            text = "".join(lines)
    return text


scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 30),
                   st.floats(), text, st.sampled_from(["30d", "0d", "5m", "99.9", "x{a=\"b\"}", "[5m]"]))
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                     max_leaves=8)


def _paths(node, prefix=()) -> list[tuple]:
    found = [prefix]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found += _paths(child, prefix + (key,))
    return found


@st.composite
def tree_mutation(draw) -> str:
    data = yaml.safe_load(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        holder = data
        for key in path[:-1]:
            holder = holder[key]
        if draw(st.booleans()):
            holder[path[-1]] = draw(value)
        elif isinstance(holder, dict):
            del holder[path[-1]]
    return yaml.safe_dump(data, allow_unicode=True)


@contextlib.contextmanager
def time_limit(seconds: int):
    """A hang fails the example instead of stalling the suite."""
    def expire(*_):
        raise TimeoutError(f"no answer within {seconds}s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=300, **SETTINGS)
@given(st.one_of(text_mutation(), tree_mutation()))
def test_a_mutated_spec_compiles_or_is_refused_line_by_line(text):
    with tempfile.TemporaryDirectory() as tmp, time_limit(20):
        folder = Path(tmp)
        # Settings that name where runbooks and Grafana live, so that lint warns of the spec alone.
        _assert_clean(folder, *_compile(folder, text, URLS))
        _assert_clean(folder, *run("lint", "--slos", folder / "slos", "--settings", folder / "settings.yaml"))
