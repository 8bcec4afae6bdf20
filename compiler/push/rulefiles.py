"""The compiled rule files that push reads, as the output's manifest lists them: one per service,
one group per SLO, in Prometheus' form or vmalert's (`engine: victoriametrics`)."""

from pathlib import Path

import yaml

from .. import names, promtool, vmalert, write
from ..problems import InputError, Problem
from .http import Failure


def paths(out: Path) -> list[str]:
    """The rule files of the output folder, relative to it."""
    return write.listed(out, names.RULES, names.VMALERT_RULES)


def kind(out: Path) -> str:
    """The kind of the rule files: Prometheus' or vmalert's (names.LAYOUT); one engine compiles them all."""
    return names.layout_entry(paths(out)[0])["kind"]


def engine(out: Path) -> str:
    """The engine the rule files were compiled for (`names.PROMETHEUS` or `names.VICTORIAMETRICS`)."""
    return names.VICTORIAMETRICS if kind(out) == names.VMALERT_RULES else names.PROMETHEUS


def load(out: Path) -> dict[str, list[dict]]:
    """{service: its rule groups} from the rule files of the output folder."""
    return {names.layout_entry(path)["service"]: groups for path, groups in load_files(out).items()}


def load_files(out: Path) -> dict[str, list[dict]]:
    """{path relative to the output folder: its rule groups} of the rule files of the output folder."""
    files, problems = {}, []
    for relative in paths(out):
        path = out / relative
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
        files[relative] = groups
    if problems:
        raise InputError(problems)
    return files


def validate(out: Path) -> None:
    """promtool check rules (vmalert -dryRun on vmalert's files) before anything is pushed (`slo check`
    runs the unit tests, in CI)."""
    files = paths(out)
    if kind(out) == names.VMALERT_RULES:
        try:
            complaint = vmalert.dry_run(files, out)
        except FileNotFoundError as exc:
            raise Failure(str(exc)) from None
        if complaint:
            raise Failure(f"vmalert -dryRun rejected the rules: {complaint}")
        return
    try:
        found = [r for r in promtool.run([["check", "rules", *files]], out, 1) if not r.ok]
    except promtool.Missing as exc:
        raise Failure(str(exc)) from None
    if found:
        raise Failure("promtool rejected the rules: " + " | ".join(" ".join(f.output.split()) for f in found))
