"""Messages that say what to do: the usual cause of a YAML syntax error, and the windows a period
allows."""

import pytest

from conftest import write_spec

HEAD = "service: shop\nslos:\n  - name: checkout\n"
SLI = "    sli:\n      bool: {metric: up}\n"
INDENTATION = "hint: check the indentation"


@pytest.mark.parametrize("text, place, hint", [
    (HEAD + "    objective: 99\n     sli:\n      bool: {metric: up}\n", ":5:9:", INDENTATION),
    (HEAD + "    objective: 99\n  sli:\n      bool: {metric: up}\n", ":5:3:", INDENTATION),
    (HEAD + "    objective:99\n" + SLI, ":5:5:", "hint: put a space after the ':' on line 4 (key: value)"),
    ("service: shop\ndescription: Checkout: the API\nslos:\n  - name: checkout\n    objective: 99\n" + SLI, ":2:22:",
     "hint: a value holding ': ' must be quoted"),
    (HEAD + "\tobjective: 99\n" + SLI, ":4:1:", "hint: indent with spaces"),
], ids=["key-indented-deeper", "key-indented-less", "no-space-after-colon", "unquoted-colon", "tab"])
def test_a_yaml_syntax_error_names_its_usual_cause(tmp_path, slo, text, place, hint):
    write_spec(tmp_path / "slos", "shop.yaml", text)
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    assert result.code == 1 and len(result.lines) == 1, result.err
    assert place in result.err and "invalid YAML: " in result.err and hint in result.err
    assert not (tmp_path / "out").exists()


def _compile_window(tmp_path, slo, window: str, alerting: str = "", settings: str = ""):
    write_spec(tmp_path / "slos", "shop.yaml", HEAD + f"    objective: 99\n    window: {window}\n" + SLI + alerting)
    (tmp_path / "settings.yaml").write_text(settings)
    return slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings",
               tmp_path / "settings.yaml")


@pytest.mark.parametrize("window, alerting, settings, says, shortest, too_short", [
    ("1h", "", "", "its long window would be under a minute, shorter than 4 scrape intervals (4 x 1m = 4m)",
     "3d", "2d"),
    ("2d", "", "", "its long window would be 4m, no longer than its short window, which is at least 4 scrape "
     "intervals (4 x 1m = 4m)", "3d", "2d"),
    ("1h", "    alerting: {page: false}\n", "", "the ticket tier 1d/2h (written for 30d)", "3h", "2h"),
    ("1h", "", "scrape_interval: 15s\n", "(4 x 15s = 1m)", "18h", "12h"),
], ids=["long-window-under-a-minute", "long-window-at-the-floor", "ticket-only", "15s-scrapes"])
def test_a_too_short_period_says_why_and_the_shortest_period_the_tiers_allow(
        tmp_path, slo, window, alerting, settings, says, shortest, too_short):
    result = _compile_window(tmp_path, slo, window, alerting, settings)
    assert result.code == 1 and len(result.lines) == 1, result.err
    assert says in result.err and f"the shortest period these tiers allow is {shortest};" in result.err
    assert "shop.yaml:5:13: slos[0].window: a " in result.lines[0]
    assert _compile_window(tmp_path, slo, shortest, alerting, settings).code == 0
    assert _compile_window(tmp_path, slo, too_short, alerting, settings).code == 1
