"""`slo lint`: checks that promtool does not make, on user queries and on the generated rules.

promtool proves that the rules parse and that the generated tests hold. It cannot know that a
rate reads a gauge, that a range holds too few scrapes, that a threshold is no bucket of the
histogram, or that an alert tier can never fire at the chosen objective (SRE Workbook: at a 90%
SLO a full outage spends only 1.4% of a 30-day budget in an hour, so a tier that waits for 2%
in an hour is dead). Each finding has a severity, a code, its place in the spec and a fix.

The checks are pure. The live ones ask a running Prometheus through `Live`, which the command
line fills with an HTTP client.
"""

import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Protocol

import promql_parser

from . import durations, names, plan, promql, sli, user_labels
from .plan import SLOPlan, number
from .load import SETTINGS_FILE
from .problems import ERROR, WARNING, Problem
from .spec import Service, Settings
from .targets import prometheus
from .yamlpos import Document, dotted

RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
FULL_OUTAGE = Decimal(1)
LIVE_LOOKBACK = "1h"  # a selector that matched nothing for this long is taken as matching nothing


class Live(Protocol):
    def query(self, expr: str) -> list[dict]: ...

    def external_labels(self) -> dict[str, str]: ...


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    col: int
    field: str
    severity: str
    code: str
    message: str
    fix: str

    def __str__(self) -> str:
        text = f"{self.severity} {self.code}: {self.message}; fix: {self.fix}"
        return str(Problem(self.file, self.line, self.col, self.field, text))


@dataclass(frozen=True)
class Query:
    """One of an SLO's two base-window expressions; windows read from raw series use the same selectors."""

    role: str  # errors | total
    path: tuple  # the spec field it comes from, under the SLO
    node: promql_parser.Expr


@dataclass(frozen=True)
class Subject:
    """One SLO, with the spec it came from so that findings name their place."""

    slo: SLOPlan
    doc: Document
    service: Service
    index: int

    def finding(self, path: tuple, severity: str, code: str, message: str, fix: str, *,
                in_slo: bool = True, at_key: bool = False) -> Finding:
        place = self.doc.problem(("slos", self.index, *path) if in_slo else path, "", at_key=at_key)
        return Finding(place.file, place.line, place.col, place.field, severity, code, message, fix)

    def sli_finding(self, check: sli.Check) -> Finding:
        return self.finding(("sli", self.slo.sli.kind, *check.path), check.severity, check.code, check.message,
                            check.fix)

    def queries(self) -> list[Query]:
        paths = [("sli", self.slo.sli.kind, *field) for field in self.slo.sli_kind.queries]
        errors, total, _ = prometheus.base_rates(self.slo)
        return [Query("errors", paths[0], promql.check(errors)), Query("total", paths[1], promql.check(total))]


def _nodes(node: promql_parser.Expr, kind: type) -> list:
    found: list = []
    promql_parser.walk(node, lambda n: found.append(n) if isinstance(n, kind) else None)
    return found


def _ms(delta) -> int:
    return int(delta.total_seconds() * 1000)


def ranges(subject: Subject, settings: Settings) -> Iterator[Finding]:
    floor = plan.SCRAPES_PER_WINDOW * settings.scrape_interval
    for query in subject.queries():
        for matrix in _nodes(query.node, promql_parser.MatrixSelector):
            if _ms(matrix.range) < floor:
                yield subject.finding(
                    query.path, ERROR, "range-too-short",
                    f"a [{durations.to_text(_ms(matrix.range))}] range holds fewer than {plan.SCRAPES_PER_WINDOW} "
                    f"scrapes at the {durations.to_text(settings.scrape_interval)} scrape interval: a rate over it "
                    f"is empty or jumps with every missed scrape",
                    f"use $window, or a range of at least {durations.to_text(floor)}")


def counters(subject: Subject) -> Iterator[Finding]:
    for query in subject.queries():
        for call in _nodes(query.node, promql_parser.Call):
            if call.func.name not in RATE_FUNCTIONS or not isinstance(call.args[0], promql_parser.MatrixSelector):
                continue
            metric = promql.from_node(call.args[0].vector_selector).metric
            if metric and not metric.endswith(promql.COUNTER_SUFFIXES):
                suffixes = ", ".join(promql.COUNTER_SUFFIXES)
                yield subject.finding(
                    query.path, WARNING, "rate-of-non-counter",
                    f"{call.func.name}() of {metric}, whose name is not a counter's ({suffixes}): "
                    f"the rate of a gauge means nothing",
                    "use a counter, or the bool SLI for a 0/1 gauge")


def selectors(subject: Subject) -> Iterator[Finding]:
    for query in subject.queries():
        for node in _nodes(query.node, promql_parser.VectorSelector):
            sel = promql.from_node(node)
            if node.matchers.or_matchers or sel.metric or any(m.op == "=" and m.value for m in sel.matchers):
                continue
            yield subject.finding(
                query.path, ERROR, "selector-without-equality",
                f"{sel} has no equality matcher: regular expressions alone pick its series, across every metric "
                f"name, which is slow and easily matches more than meant",
                'name the metric, or add a label="value" matcher')


def kind_checks(subject: Subject) -> Iterator[Finding]:
    """The checks of the SLO's own kind (`sli.Kind.checks`)."""
    for check in subject.slo.sli_kind.checks(subject.slo.sli.body, subject.slo.group_by):
        yield subject.sli_finding(check)


def budget(subject: Subject, settings: Settings) -> Iterator[Finding]:
    slo = subject.slo
    budget_ms = slo.budget_time
    at = ("objective",)
    if budget_ms < plan.SHORT_BUDGET:
        yield subject.finding(
            at, WARNING, "budget-too-small",
            f"{number(slo.objective_percent)}% over {slo.period_text} leaves {durations.human(budget_ms)} of full "
            f"outage: one slow deploy or a few failed scrapes spend all of it",
            "lower the objective, or lengthen the window")
    fires = []
    for pair in slo.pairs:
        fire = plan.time_to_fire(slo, pair, FULL_OUTAGE, settings.rule_interval, settings.scrape_interval)
        if fire is None:
            spent = plan.budget_spent(pair.long, FULL_OUTAGE, slo.budget, slo.period) * 100
            yield subject.finding(
                at, ERROR, "tier-never-fires",
                f"the {pair.tier} tier {pair.long_text}/{pair.short_text} waits for a burn rate of "
                f"{number(pair.burn_rate)}, but at {number(slo.objective_percent)}% even a full outage burns only "
                f"{number(1 / slo.budget)}x (spending {spent:.2f}% of the budget in {pair.long_text}, not "
                f"{number(pair.budget_spent)}%): the alert can never fire",
                f"turn the tier off (alerting.{pair.tier}: false), or give it longer windows in the settings' tiers")
        elif pair.tier == names.PAGE:
            fires.append(fire)
    if fires and min(fires) > budget_ms:
        yield subject.finding(
            at, ERROR, "page-after-budget",
            f"a full outage pages after {durations.human(min(fires))}, when the whole budget "
            f"({durations.human(budget_ms)}) is already spent",
            "lower the objective, lengthen the window, or shorten the page tier's `for`")


def external_labels(subject: Subject, external: dict[str, str], sloth_labels: bool) -> Iterator[Finding]:
    for path, name in user_labels.places(subject.service, subject.index):
        if name in external:
            yield subject.finding(
                path, ERROR, "external-label-conflict",
                f"{name} is an external label of Prometheus ({name}={external[name]!r}): it attaches external "
                f"labels only where a series or alert lacks them, so this value hides the server's own",
                "rename the label", in_slo=False, at_key=True)
    for name in sorted(names.SLOTH_LABELS & external.keys() if sloth_labels else ()):
        yield subject.finding(
            ("service",), ERROR, "external-label-conflict",
            f"{name} is an external label of Prometheus ({name}={external[name]!r}), and the sloth_labels setting "
            f"puts a {name} of the compiler's on the series and alerts of this service, hiding the server's own",
            "turn sloth_labels off, or rename the external label", in_slo=False)
    for i, name in enumerate(subject.slo.group_by):
        if name in external:
            yield subject.finding(
                ("sli", subject.slo.sli.kind, "group_by", i), WARNING, "group-by-external-label",
                f"{name} is an external label: series inside Prometheus do not carry it, so grouping by it "
                f"gives one group with an empty {name}",
                f"remove {name} from group_by; Prometheus adds it to every result on the way out")


def live_series(subject: Subject, server: Live) -> Iterator[Finding]:
    own = subject.slo.sli_kind.live(subject.slo.sli.body, server, LIVE_LOOKBACK)
    if own is not None:
        yield from map(subject.sli_finding, own)
        return
    seen = set()
    for query in subject.queries():
        for node in _nodes(query.node, promql_parser.VectorSelector):
            sel = str(promql.from_node(node))
            if node.matchers.or_matchers or (query.role, sel) in seen:
                continue
            seen.add((query.role, sel))
            if server.query(f"count(last_over_time({sel}[{LIVE_LOOKBACK}]))"):
                continue
            if query.role == "errors":
                yield subject.finding(query.path, WARNING, "selector-matches-nothing",
                                      f"{sel} matched no series in the last {LIVE_LOOKBACK}",
                                      "check its name and labels; an error counter may only appear with the first "
                                      "error, which the rules count as zero errors until then")
            else:
                yield subject.finding(query.path, ERROR, "selector-matches-nothing",
                                      f"{sel} matched no series in the last {LIVE_LOOKBACK}: the SLO measures nothing",
                                      "check the metric name and labels against the server")


def links(settings: Settings, settings_file: str) -> Iterator[Finding]:
    """Without base URLs the alerts carry no address that opens outside Grafana."""
    def finding(field: str, code: str, message: str, fix: str) -> Finding:
        return Finding(settings_file, 1, 1, field, WARNING, code, message, fix)

    if not settings.runbook_base_url:
        yield finding("runbook_base_url", "no-runbook-url",
                      "runbook_base_url is empty, so alerts carry no runbook_url (only runbook_path, a file in "
                      "this repository) and dashboards name runbooks without linking them",
                      "set runbook_base_url to where output/ can be browsed, e.g. "
                      "https://git.example.com/slos/blob/main/output")
    if not settings.grafana_url:
        yield finding("grafana_url", "no-grafana-url",
                      "grafana_url is empty, so an alert's dashboard_url is a path on Grafana (/d/...) that opens "
                      "nothing from Alertmanager, a chat or a pager",
                      "set grafana_url to the address of your Grafana, e.g. https://grafana.example.com")


def teams(the_plan: plan.Plan, settings_file: str) -> Iterator[Finding]:
    """Without team_label a team is a service's owner: a team no service has gets no alert."""
    settings = the_plan.settings.alertmanager
    owners = sorted({s.owner for s in the_plan.services if s.owner})
    for team in [] if settings.team_label else sorted(set(settings.teams) - set(owners)):
        close = difflib.get_close_matches(team, owners, 1)
        yield Finding(settings_file, 1, 1, dotted(("alertmanager", "teams", team)), WARNING, "team-without-service",
                      f"no service has the owner {team!r}, so this team's receivers get no alert"
                      + (f" (did you mean {close[0]!r}?)" if close else ""),
                      "name an owner of a service, or set team_label to route by an alert label")


def subjects(specs: list[tuple[Document, Service]], the_plan: plan.Plan) -> list[Subject]:
    by_name = {service.service: (doc, service) for doc, service in specs}
    out = []
    for service_plan in the_plan.services:
        doc, service = by_name[service_plan.name]
        index = {s.name: i for i, s in enumerate(service.slos)}
        out += [Subject(slo, doc, service, index[slo.name]) for slo in service_plan.slos]
    return out


def lint(specs: list[tuple[Document, Service]], the_plan: plan.Plan, server: Live | None = None,
         settings_file: str = SETTINGS_FILE) -> list[Finding]:
    """Every finding of the settings and of every SLO, sorted by place."""
    settings = the_plan.settings
    external = {**settings.external_labels, **(server.external_labels() if server else {})}
    findings: set[Finding] = {*links(settings, settings_file), *teams(the_plan, settings_file)}
    for subject in subjects(specs, the_plan):
        for check in (ranges(subject, settings), counters(subject), selectors(subject), kind_checks(subject),
                      budget(subject, settings),
                      external_labels(subject, external, settings.sloth_labels)):
            findings.update(check)
        if server is not None:
            findings.update(live_series(subject, server))
    return sorted(findings)
