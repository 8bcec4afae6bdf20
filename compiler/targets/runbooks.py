"""A Markdown runbook stub per alert tier, from Jinja templates in a sandbox.

Templates get plain data (strings, lists, dicts) built from the plan; descriptions, names and
labels are values in that data, so `{{ ... }}` inside them is printed, never evaluated. The
shipped templates live in `compiler/templates/`; a team replaces them with its own from the
settings' `runbook_templates` folder, for every runbook (`runbook.md.j2`), one service
(`<service>.md.j2`) or one alert (`<service>/<alert-slug>.md.j2`).
"""

import traceback
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .. import durations, markdown, names, plan as planning, yamlpos
from ..plan import Plan, ServicePlan, SLOPlan, number
from ..problems import InputError, Problem
from ..spec import Settings
from . import prometheus

TEMPLATE = "runbook.md.j2"
SUFFIX = ".j2"


def _environment(overrides: dict[str, str]) -> ImmutableSandboxedEnvironment:
    loader = jinja2.ChoiceLoader([jinja2.DictLoader(overrides), jinja2.PackageLoader("compiler", "templates")])
    env = ImmutableSandboxedEnvironment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
                                        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(md=markdown.inline, code=markdown.code, link_or_code=markdown.link_or_code)
    return env


def load_templates(settings_file: Path, settings: Settings) -> tuple[tuple[str, str], ...]:
    """The team's templates, {name: source}, each checked; InputError naming the file and line."""
    if not settings.runbook_templates:
        return ()
    folder = settings_file.parent / settings.runbook_templates
    if not folder.is_dir():
        doc = yamlpos.load(str(settings_file), settings_file.read_text(encoding="utf-8"))
        raise InputError([doc.problem(("runbook_templates",), f"{folder.name!r} is not a folder next to "
                                                              f"{settings_file.name}")])
    found = {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
             for p in sorted(folder.rglob(f"*{SUFFIX}")) if p.is_file()}
    env, problems = _environment(found), []
    for name, source in found.items():
        try:
            env.parse(source, name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(f"{settings.runbook_templates.rstrip('/')}/{name}", exc.lineno, 1, "template",
                                    exc.message or "invalid template"))
    if problems:
        raise InputError(problems)
    return tuple(found.items())


def _pair(slo: SLOPlan, pair: planning.Pair) -> dict:
    return {
        "long": pair.long_text, "short": pair.short_text, "for": pair.for_text if pair.for_ else "",
        "burn_rate": number(pair.burn_rate), "error_ratio": number(pair.error_ratio * 100),
        "budget_spent": number(pair.budget_spent),
        "budget_spent_time": durations.human(planning.budget_time(slo.budget, slo.period, pair.budget_spent / 100)),
        "exhaustion": durations.human(planning.exhaustion(pair.burn_rate, slo.period)),
        "long_query": prometheus.burn_rate(slo, pair.long_text),
        "short_query": prometheus.burn_rate(slo, pair.short_text),
    }


def context(service: ServicePlan, slo: SLOPlan, tier: str) -> dict:
    """Everything a runbook template may print, as plain data."""
    route = slo.route(tier)
    errors, total, _ = prometheus.base_rates(slo)
    pairs = [_pair(slo, p) for p in slo.pairs if p.tier == tier]
    return {
        "source": slo.source,
        "service": {"name": service.name, "description": service.description, "owner": service.owner},
        "slo": {"name": slo.name, "description": slo.description, "objective": number(slo.objective_percent),
                "period": slo.period_name, "budget": number(slo.budget * 100),
                "budget_time": durations.human(planning.budget_time(slo.budget, slo.period)),
                "sli_kind": slo.sli.kind, "window": slo.base_text, "group_by": list(slo.group_by),
                "min_events": slo.min_events,
                "queries": {"errors": errors, "total": total}},
        # The spec's annotations of this runbook's alerts: the tier's burn-rate alerts, or where the tier
        # has none, the missing-data ticket, which carries the SLO's alerting annotations.
        "alert": {"name": slo.alert, "tier": tier, "labels": dict(route.labels),
                  "annotations": dict(route.annotations if pairs else slo.annotations),
                  "runbook": route.runbook, "runbook_url": route.runbook_url,
                  "dashboard_url": slo.dashboard_url},
        "pairs": pairs,
        "missing_data": {"alert": slo.missing_data.alert, "for": slo.missing_data.for_text,
                         "annotations": dict(slo.annotations)}
        if tier == _missing_data_tier(slo) else None,
    }


def _missing_data_tier(slo: SLOPlan) -> str | None:
    """The tier whose runbook the missing-data ticket links to."""
    return slo.missing_data.tier if slo.missing_data else None


def tiers(slo: SLOPlan) -> tuple[str, ...]:
    """The tiers with a runbook: those with alert pairs, and the one the missing-data ticket links to
    (with both tiers off, the SLO's only runbook)."""
    linked = _missing_data_tier(slo)
    return tuple(dict.fromkeys((*slo.tiers, *([linked] if linked else []))))


def _candidates(service: str, alert: str, tier: str) -> list[str]:
    slug = Path(names.runbook_path(service, alert, tier)).stem
    return [f"{service}/{slug}.md{SUFFIX}", f"{service}.md{SUFFIX}", TEMPLATE]


def _failure(exc: jinja2.TemplateError, template: jinja2.Template, plan: Plan) -> Problem:
    """Where a template failed while rendering: its line, from the traceback Jinja rewrites."""
    files = {template.filename, "<template>"}
    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename in files), 1)
    ours = template.name in dict(plan.runbook_templates)
    folder = plan.settings.runbook_templates.rstrip("/") if ours else "compiler/templates"
    return Problem(f"{folder}/{template.name}", line or 1, 1, "template", exc.message or type(exc).__name__)


def render(plan: Plan) -> dict[str, tuple[bytes, str]]:
    env, out, problems = _environment(dict(plan.runbook_templates)), {}, []
    for service in plan.services:
        for slo in service.slos:
            for tier in tiers(slo):
                template = env.select_template(_candidates(service.name, slo.alert, tier))
                try:
                    text = template.render(context(service, slo, tier))
                except jinja2.TemplateError as exc:
                    problems.append(_failure(exc, template, plan))
                    continue
                out[names.runbook_path(service.name, slo.alert, tier)] = (text.encode(), service.source)
    if problems:
        raise InputError(problems)
    return out
