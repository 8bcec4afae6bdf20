"""The pipeline from spec files to artifacts in memory: load, plan, render."""

import dataclasses
from pathlib import Path

from . import load, plan, user_labels
from .problems import InputError
from .spec import Service
from .targets import grafana, kubernetes, prometheus, promtool_files, runbooks
from .yamlpos import Document

TARGETS = (prometheus, promtool_files, kubernetes, grafana, runbooks)


def build_plan(slos_dir: Path, settings_file: Path) -> plan.Plan:
    """Raises InputError with every problem of the settings and all specs."""
    return specs_and_plan(slos_dir, settings_file)[1]


def specs_and_plan(slos_dir: Path, settings_file: Path) -> tuple[list[tuple[Document, Service]], plan.Plan]:
    """Every spec with its positions (to place findings), and their plan."""
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
    problems = problems or user_labels.sloth_clashes(specs, settings)
    if problems:
        raise InputError(problems)
    return specs, dataclasses.replace(plan.build(specs, settings), runbook_templates=templates)


def render(p: plan.Plan) -> dict[str, tuple[bytes, str]]:
    """{output path: (bytes, source spec)} of every artifact of every target."""
    artifacts: dict[str, tuple[bytes, str]] = {}
    for target in TARGETS:
        artifacts.update(target.render(p))
    return artifacts
