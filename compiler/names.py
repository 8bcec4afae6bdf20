"""Every naming decision in one place: record names, label names, group names, file paths, links.

Record and label names are a contract: dashboards and alert routes depend on them. They equal
Sloth's names so that dashboards built for Sloth's rules keep working.
"""

import hashlib
import re

# Labels on every generated series and alert.
SERVICE = "slo_service"
SLO = "slo_name"
WINDOW = "slo_window"
# Labels on alerts.
TIER = "slo_severity"
SEVERITY = "severity"
LONG_WINDOW = "long_window"
SHORT_WINDOW = "short_window"
BURN_RATE = "burn_rate"
ALERT_NAME = "alertname"
RESERVED_LABELS = frozenset({SERVICE, SLO, WINDOW, TIER, LONG_WINDOW, SHORT_WINDOW, BURN_RATE,
                             ALERT_NAME, "le"})
# Prometheus' series of its alerts, one per pending or firing alert, at every evaluation.
ALERTS, ALERT_STATE, FIRING = "ALERTS", "alertstate", "firing"
# The engines that evaluate the rules (settings `engine`).
PROMETHEUS, VICTORIAMETRICS = "prometheus", "victoriametrics"
PAGE, TICKET = "page", "ticket"  # the alert tiers, fastest first
TIERS = (PAGE, TICKET)
DEFAULT_SEVERITY = {PAGE: "critical", TICKET: "warning"}
# Sloth's labels, added too when the `sloth_labels` setting is on.
SLOTH_ID = "sloth_id"
SLOTH_SERVICE = "sloth_service"
SLOTH_SLO = "sloth_slo"
SLOTH_WINDOW = "sloth_window"
SLOTH_SEVERITY = "sloth_severity"
SLOTH_LABELS = frozenset({SLOTH_ID, SLOTH_SERVICE, SLOTH_SLO, SLOTH_WINDOW, SLOTH_SEVERITY})
# The folder the compiler writes by default, which the repository keeps.
OUTPUT = "output"
# Marks what the compiler owns (dashboard tag, Kubernetes label): push and prune touch nothing else.
MANAGED_BY = "slo-compiler"

OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"
BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
INFO = "slo_info"


def sloth_id(service: str, slo: str) -> str:
    return f"{service}-{slo}"


def error_ratio(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def errors_rate(window: str) -> str:
    """Error events per second over `window` (for bool SLIs: bad samples per window)."""
    return f"slo:sli_errors:rate{window}"


def total_rate(window: str) -> str:
    """All events per second over `window` (for bool SLIs: samples per window)."""
    return f"slo:sli_total:rate{window}"


def errors_count(hour: str) -> str:
    """Error events in the clock hour so far (`this_hour`), or in the last whole clock hour
    (`last_hour`, recorded once, when the next hour starts): the counts a long period adds up."""
    return f"slo:sli_errors:count_{hour}"


def total_count(hour: str) -> str:
    """All events in the clock hour so far (`this_hour`) or in the last whole one (`last_hour`)."""
    return f"slo:sli_total:count_{hour}"


THIS_HOUR, LAST_HOUR = "this_hour", "last_hour"
# Calendar periods: the time zone's offset from UTC now, the number of the current period, the whole
# clock hours of the period so far (`errors_count(PERIOD_HOURS)`), and the error ratio since its start.
UTC_OFFSET = "slo:calendar_utc_offset:seconds"
PERIOD_HOURS = "period_hours"
PERIOD_INDEX = "slo:calendar_period:index"
PERIOD_ERROR_RATIO = "slo:sli_error:ratio_this_period"
# Tags the terms of a sum inside one expression; `__` names cannot come from scraped series.
PART = "__slo_part__"


def missing_data_alert(alert: str) -> str:
    return alert.removesuffix("BudgetBurn") + "DataMissing"


def group(service: str, slo: str) -> str:
    # Underscores cannot occur in service or SLO names, so the name is unambiguous, and it is
    # safe in a ruler API path.
    return f"slo_{service}_{slo}"


def camel(*parts: str) -> str:
    return "".join(word.capitalize() for part in parts for word in part.split("-"))


def kebab(camel_name: str) -> str:
    out = ""
    for i, ch in enumerate(camel_name):
        if ch.isupper() and i and not camel_name[i - 1].isupper():
            out += "-"
        out += ch.lower()
    return out.replace("_", "-")


def default_alert(service: str, slo: str) -> str:
    # A Pyrra objective is a service and an SLO of one name: say that name once.
    return camel(service, *([slo] if slo != service else [])) + "BudgetBurn"


# The output layout: where each kind of file goes. manifest.json records every file with its kind
# (and its service and SLO), and check, push and diff read that, not folder listings.
RULES, SLO_RULES, SUITE_RULES, TESTS, VMALERT_RULES = "rules", "slo-rules", "suite-rules", "tests", "vmalert-rules"
KUBERNETES, VMRULE, DASHBOARD, OVERVIEW_DASHBOARD, PROVISIONING, RUNBOOK = (
    "kubernetes", "vmrule", "dashboard", "overview-dashboard", "provisioning", "runbook")
ALERTMANAGER_ROUTE, ALERTMANAGER_INHIBIT = "alertmanager-route", "alertmanager-inhibit-rules"
LAYOUT = {
    RULES: "prometheus/{service}.rules.yml",  # what Prometheus loads: one group per SLO
    # With `engine: victoriametrics`, what vmalert loads instead (vmalert's group keys promtool refuses).
    VMALERT_RULES: "vmalert/{service}.rules.yml",
    # One SLO's group alone, in the form Prometheus reads (for vmalert: without its group parameters),
    # equal to its group in the service's rule file otherwise: its tests load only this, so that
    # checking costs the same per SLO whatever the number of SLOs in a service.
    SLO_RULES: "prometheus/tests/{service}/{slo}.rules.yml",
    # The same for one suite of tests evaluated at an interval other than the rules', where the engine's
    # reads trail by an evaluation (vmalert): its reads trail by that suite's evaluation.
    SUITE_RULES: "prometheus/tests/{service}/{slo}.{suite}.rules.yml",
    TESTS: "prometheus/tests/{service}/{slo}.{suite}.test.yml",
    KUBERNETES: "kubernetes/{service}.yml",  # PrometheusRule
    VMRULE: "kubernetes/{service}.vmrule.yml",  # VMRule, with `engine: victoriametrics` instead
    OVERVIEW_DASHBOARD: "grafana/dashboards/slo-overview.json",
    DASHBOARD: "grafana/dashboards/{service}.json",
    PROVISIONING: "grafana/provisioning/dashboards.yml",
    RUNBOOK: "runbooks/{service}/{alert}.md",
    ALERTMANAGER_ROUTE: "alertmanager/route.yml",
    ALERTMANAGER_INHIBIT: "alertmanager/inhibit_rules.yml",
}
# Service, SLO and alert names hold no dot and no slash, so each path has one kind and one reading.
_LAYOUT_PATTERNS = {kind: re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/.]+)", re.escape(pattern)))
                    for kind, pattern in LAYOUT.items()}


def output_path(kind: str, **parts: str) -> str:
    return LAYOUT[kind].format(**parts)


def layout_entry(path: str) -> dict[str, str]:
    """{"kind": ..., "service": ..., "slo": ...} of an output path (the parts its kind's path has)."""
    for kind, pattern in _LAYOUT_PATTERNS.items():
        match = pattern.fullmatch(path)
        if match:
            parts = {k: v for k, v in match.groupdict().items() if k in ("service", "slo")}
            return {"kind": kind, **parts}
    raise ValueError(f"{path}: no kind of output file has this path (see names.LAYOUT)")


def rules_path(service: str) -> str:
    return output_path(RULES, service=service)


def engine_rules(engine: str) -> str:
    """The kind of the rule files the engine loads."""
    return VMALERT_RULES if engine == VICTORIAMETRICS else RULES


def engine_manifest(engine: str) -> str:
    """The kind of the Kubernetes manifests of the engine's operator."""
    return VMRULE if engine == VICTORIAMETRICS else KUBERNETES


def slo_rules_path(service: str, slo: str) -> str:
    return output_path(SLO_RULES, service=service, slo=slo)


def suite_rules_path(service: str, slo: str, suite: str) -> str:
    return output_path(SUITE_RULES, service=service, slo=slo, suite=suite)


def tests_path(service: str, slo: str, suite: str) -> str:
    return output_path(TESTS, service=service, slo=slo, suite=suite)


def kubernetes_path(service: str) -> str:
    return output_path(KUBERNETES, service=service)


DASHBOARD_UID_PREFIX = "slo-"
# Service names cannot hold an underscore, so no service dashboard can take the overview's uid.
OVERVIEW_UID = "slo_overview"
OVERVIEW = "slo-overview"
# A service of this name would overwrite the overview's file.
RESERVED_SERVICES = frozenset({OVERVIEW})
# Panel ids of a service dashboard: the SLO at `position` (by name) owns a block of ids, its row
# first, so an SLO's ids move only when SLOs before it are added or removed.
PANELS_PER_SLO = 100
BURN_RATE_PANEL = 5  # offset in the block of the panel that alerts link to


def dashboard_uid(service: str) -> str:
    uid = f"{DASHBOARD_UID_PREFIX}{service}"
    if len(uid) <= 40:
        return uid
    # Grafana caps uids at 40 characters; a digest keeps long names distinct.
    return f"{uid[:31]}-{hashlib.sha256(service.encode()).hexdigest()[:8]}"


def dashboard_path(service: str) -> str:
    return output_path(OVERVIEW_DASHBOARD) if service == OVERVIEW else output_path(DASHBOARD, service=service)


def provisioning_path() -> str:
    return output_path(PROVISIONING)


def panel_id(position: int, offset: int = 0) -> int:
    return PANELS_PER_SLO * (position + 1) + offset


def runbook_path(service: str, alert: str, tier: str) -> str:
    return output_path(RUNBOOK, service=service, alert=f"{kebab(alert)}-{tier}")


def runbook_url(base: str, service: str, alert: str, tier: str) -> str:
    """The runbook's address; empty without a base URL, where a path would resolve against
    whatever page shows it (a dashboard, Alertmanager, a chat) and open nothing."""
    return f"{base.rstrip('/')}/{runbook_path(service, alert, tier)}" if base else ""


def repository_path(path: str) -> str:
    """Where a generated file lies in the repository, for people to find it without a link."""
    return f"{OUTPUT}/{path}"


def dashboard_url(grafana: str, service: str, panel: int | None = None) -> str:
    if panel is not None:
        return panel_url(grafana, dashboard_uid(service), panel)
    return f"{grafana.rstrip('/')}/d/{dashboard_uid(service)}"


def panel_url(grafana: str, uid: str, panel: int | str) -> str:
    """The dashboard `uid` showing one of its panels (`panel` may be a Grafana variable)."""
    return f"{grafana.rstrip('/')}/d/{uid}?viewPanel={panel}"


def folder_uid(title: str) -> str:
    """The Grafana folder of our dashboards, found by this uid so that every push lands in the same one."""
    slug = "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in title.lower()).split())
    uid = f"slo-{slug}"
    if slug and len(uid) <= 40:
        return uid
    return f"{uid[:31].rstrip('-')}-{hashlib.sha256(title.encode()).hexdigest()[:8]}"


def alertmanager_route_path() -> str:
    return output_path(ALERTMANAGER_ROUTE)


def alertmanager_inhibit_path() -> str:
    return output_path(ALERTMANAGER_INHIBIT)


# A matcher true for every alert of ours (none sets this label) that marks the route and inhibit rules
# the compiler wrote, so that a later merge replaces them and leaves everything else alone.
ALERTMANAGER_MARKER = 'slo_compiler=""'


def ruler_namespace(prefix: str, service: str) -> str:
    """One ruler namespace per service, so that a team's rules are pushed and pruned on their own."""
    return f"{prefix}{service}"
