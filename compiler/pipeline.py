"""The pipeline from spec files to artifacts in memory: load, plan, render."""

import dataclasses
from pathlib import Path

from . import load, plan
from .problems import InputError
from .targets import grafana, kubernetes, prometheus, promtool_tests, runbooks

TARGETS = (prometheus, promtool_tests, kubernetes, grafana, runbooks)


def build_plan(slos_dir: Path, settings_file: Path) -> plan.Plan:
    """Raises InputError with every problem of the settings and all specs."""
    problems = []
    settings = specs = None
    templates = ()
    try:
        settings = load.settings(settings_file)
        templates = runbooks.load_templates(settings_file, settings)
    except InputError as exc:
        problems += exc.problems
    try:
        specs = load.specs(slos_dir)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    return dataclasses.replace(plan.build(specs, settings), runbook_templates=templates)


def render(p: plan.Plan) -> dict[str, tuple[bytes, str]]:
    """{output path: (bytes, source spec)} of every artifact of every target."""
    artifacts: dict[str, tuple[bytes, str]] = {}
    for target in TARGETS:
        artifacts.update(target.render(p))
    return artifacts
