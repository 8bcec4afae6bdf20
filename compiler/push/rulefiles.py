"""The compiled rule files that push reads: one per service, one group per SLO."""

from pathlib import Path

import yaml

from .. import promtool
from ..problems import InputError, Problem
from .http import Failure

RULES = Path("prometheus")
SUFFIX = ".rules.yml"


def load(out: Path) -> dict[str, list[dict]]:
    """{service: its rule groups} from the rule files under `out`."""
    files = sorted((out / RULES).glob(f"*{SUFFIX}"))
    if not files:
        raise InputError([Problem(str(out / RULES), 1, 1, "", "holds no rule files; run `slo compile` first")])
    services, problems = {}, []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            problems.append(Problem(str(path), mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, "",
                                    "is not a YAML rule file"))
            continue
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, list) or not all(isinstance(g, dict) and g.get("name") for g in groups):
            problems.append(Problem(str(path), 1, 1, "groups", "must be a list of named rule groups"))
            continue
        services[path.name.removesuffix(SUFFIX)] = groups
    if problems:
        raise InputError(problems)
    return services


def validate(out: Path) -> None:
    """promtool check rules before anything is pushed (`slo check` runs the unit tests, in CI)."""
    try:
        found = promtool.check(out, tests=False)
    except promtool.Missing as exc:
        raise Failure(str(exc)) from None
    if found:
        raise Failure("promtool rejected the rules: " + " | ".join(" ".join(f.split()) for f in found))
