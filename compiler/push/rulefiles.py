"""The compiled rule files that push reads, as the output's manifest lists them: one per service,
one group per SLO."""

from pathlib import Path

import yaml

from .. import names, write
from ..problems import InputError, Problem


def paths(out: Path) -> list[str]:
    """The rule files of the output folder, relative to it."""
    return write.listed(out, names.RULES)


def load(out: Path) -> dict[str, list[dict]]:
    """{service: its rule groups} from the rule files of the output folder."""
    files = [out / p for p in paths(out)]
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
        services[names.layout_entry(path.relative_to(out).as_posix())["service"]] = groups
    if problems:
        raise InputError(problems)
    return services
