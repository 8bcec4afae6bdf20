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
