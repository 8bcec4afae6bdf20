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


PYRRA = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: checkout
spec:
  target: "{target}"
  window: 28d
  indicator:
    ratio:
      errors:
        metric: http_requests_total{{job="checkout",code=~"5.."}}
      total:
        metric: http_requests_total{{job="checkout"}}
{alerting}"""


def _imported(tmp_path, slo, target: str, alerting: str = "") -> list[str]:
    path = write_spec(tmp_path, "pyrra.yaml", PYRRA.format(target=target, alerting=alerting))
    result = slo("import", path)
    assert result.code == 0, result.err
    return result.out.splitlines()


def test_import_says_which_alert_is_renamed_which_burn_rates_change_and_what_lint_refuses(tmp_path, slo):
    out = _imported(tmp_path, slo, "90")
    notes = [line.strip() for line in out if line.strip().startswith("# ") and not line.startswith("# Converted")]
    assert notes[0] == ("# alerts renamed: Pyrra's ErrorBudgetBurn is CheckoutCheckoutBudgetBurn here; routes and "
                        "silences on alertname must follow, or set alerting.name: ErrorBudgetBurn")
    assert notes[1].startswith("# slo lint refuses this: tier-never-fires: the page tier 1h/5m waits for a burn rate "
                               "of 13.44, but at 90% even a full outage burns only 10x")
    assert notes[2].startswith("# burn rates changed: Pyrra's factors 14, 7, 2, 1 are 1h/5m at 13.44, 6h/30m at 5.6, "
                               "1d/2h at 2.8, 3d/6h at 0.933 here")
    assert out[out.index(next(line for line in out if "slo lint refuses" in line)) + 1].strip().startswith("objective:")
    # Each note is true: lint refuses the imported spec at its objective, and the alert has the name said.
    write_spec(tmp_path / "slos", "checkout.yaml", "\n".join(out) + "\n")
    lint = slo("lint", "--slos", tmp_path / "slos", "--settings", tmp_path / "none.yaml")
    assert lint.code == 1 and "slos[0].objective: error tier-never-fires" in lint.err
    assert slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings",
               tmp_path / "none.yaml").code == 0
    assert "alert: CheckoutCheckoutBudgetBurn" in (tmp_path / "out" / "prometheus" / "checkout.rules.yml").read_text()


def test_import_keeps_quiet_about_what_does_not_change(tmp_path, slo):
    out = "\n".join(_imported(tmp_path, slo, "99.9", "  alerting:\n    name: CheckoutBurn\n"))
    assert "alerts renamed" not in out and "slo lint refuses" not in out and "burn rates changed" in out
