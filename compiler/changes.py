"""What an SLO change means: two plans and their artifacts compared, for a reviewer.

Pure: the plans come from `pipeline`, every number from `plan`. The result says, per SLO, what a
reviewer must weigh (objective and budget, SLI, alert tiers, routing) and which of those changes
need a warning, and counts what changes in the generated artifacts.

A removed SLO and an added one with the same SLI are taken as a rename, preferably within one
service: the SLI is what ties a series' history to an SLO, and a rename is what loses it.
"""

from dataclasses import dataclass
from decimal import Decimal

from . import names, plan
from .targets import prometheus

# The kinds of output files (names.LAYOUT) as a reviewer reads them, in the order shown.
KINDS = (((names.RULES, names.VMALERT_RULES), "rule files"),
         ((names.SLO_RULES, names.SUITE_RULES, names.TESTS), "promtool tests"),
         ((names.KUBERNETES,), "PrometheusRule manifests"), ((names.VMRULE,), "VMRule manifests"),
         ((names.DASHBOARD, names.OVERVIEW_DASHBOARD, names.PROVISIONING), "dashboards"),
         ((names.RUNBOOK,), "runbooks"), ((names.ALERTMANAGER_ROUTE, names.ALERTMANAGER_INHIBIT), "Alertmanager routes and inhibit rules"))
_PER_PAIR = (names.LONG_WINDOW, names.SHORT_WINDOW, names.BURN_RATE)


@dataclass(frozen=True)
class Objective:
    percent: Decimal
    period: str
    budget_minutes: Decimal  # of full outage per period
    allowed_errors: Decimal  # percent of events


@dataclass(frozen=True)
class Tier:
    """One alert pair as a reviewer reads it."""

    windows: str  # long/short
    burn_rate: Decimal
    fires_above: Decimal  # percent of errors over both windows
    for_: str


@dataclass(frozen=True)
class TierChange:
    tier: str
    old: Tier | None
    new: Tier | None


@dataclass(frozen=True)
class Value:
    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class SLOChange:
    status: str  # added | removed | changed | renamed
    service: str
    name: str
    renamed_from: str | None  # service/slo
    old: Objective | None
    new: Objective | None
    sli: tuple[Value, ...]
    tiers: tuple[TierChange, ...]
    tiers_on: tuple[str, ...]
    tiers_off: tuple[str, ...]
    routing: tuple[Value, ...]  # key: `<tier>: <label>`
    severity: tuple[tuple[str, str], ...]  # (tier, severity label) of each tier that alerts, as it now is
    alert: Value | None
    missing_data: Value | None  # how long the SLI is absent before the ticket; None: off

    @property
    def id(self) -> str:
        return f"{self.service}/{self.name}"


@dataclass(frozen=True)
class Caution:
    slo: str
    kind: str  # renamed | regrouped | tightened | short-budget | tier-off | page-removed | alert-renamed |
    #            severity | missing-data-off | breached
    message: str


@dataclass(frozen=True)
class Files:
    kind: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Artifacts:
    records: tuple[int, int]  # recording rules before, after
    alerts: tuple[int, int]  # alert rules before, after
    groups_added: tuple[str, ...]
    groups_removed: tuple[str, ...]
    alerts_added: tuple[str, ...]
    alerts_removed: tuple[str, ...]
    files: tuple[Files, ...]


@dataclass(frozen=True)
class Changes:
    services_added: tuple[str, ...]
    services_removed: tuple[str, ...]
    slos: tuple[SLOChange, ...]
    warnings: tuple[Caution, ...]
    settings: tuple[str, ...]
    artifacts: Artifacts

    @property
    def empty(self) -> bool:
        return not (self.slos or self.settings or self.artifacts.files)


def objective(slo: plan.SLOPlan) -> Objective:
    return Objective(slo.objective_percent, slo.period_name, (Decimal(slo.budget_time) / plan.MINUTE).normalize(),
                     (slo.budget * 100).normalize())


def _tier(pair: plan.Pair) -> Tier:
    return Tier(f"{pair.long_text}/{pair.short_text}", pair.burn_rate, (pair.error_ratio * 100).normalize(),
                pair.for_text if pair.for_ else "none")


def _text(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return plan.number(value) if isinstance(value, Decimal) else str(value)


def sli_fields(slo: plan.SLOPlan) -> dict[str, str]:
    """The SLI as `kind.field: text`, the way the spec writes it."""
    kind = slo.sli.kind
    body = getattr(slo.sli, kind).model_dump()
    return {f"{kind}.{key}": _text(value) for key, value in body.items() if value not in ([], None)}


def _values(old: dict[str, str], new: dict[str, str], prefix: str = "") -> list[Value]:
    return [Value(prefix + key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)]


def _enabled(slo: plan.SLOPlan | None) -> set[str]:
    return {p.tier for p in slo.pairs} if slo else set()


def alert_labels(slo: plan.SLOPlan, tier: str) -> dict[str, str]:
    """The labels an alert of this tier reaches Alertmanager with: what routes it to a receiver."""
    pair = next(p for p in slo.pairs if p.tier == tier)
    rule = prometheus.alert(slo, pair)["labels"]
    # Series labels come first: the alert rule's own labels override them in Prometheus.
    return {k: v for k, v in {**dict(slo.labels), **rule}.items() if k not in _PER_PAIR}


def severities(slo: plan.SLOPlan) -> tuple[tuple[str, str], ...]:
    """The severity label each tier's alerts carry, for the tiers that alert."""
    return tuple((tier, alert_labels(slo, tier)[names.SEVERITY]) for tier in names.TIERS if tier in _enabled(slo))


def _missing_data_for(slo: plan.SLOPlan) -> str | None:
    return slo.missing_data.for_text if slo.missing_data else None


def _match(before: list[Tier], after: list[Tier]) -> list[tuple[Tier | None, Tier | None]]:
    """Pairs of one tier, old with new: same windows first, then the rest in order (as for a new period)."""
    by_windows = {b.windows: b for b in after}
    rows = [(a, by_windows.get(a.windows)) for a in before]
    unmatched = [i for i, (_, b) in enumerate(rows) if b is None]
    spare = [b for b in after if b.windows not in {a.windows for a in before}]
    for i, b in zip(unmatched, spare):
        rows[i] = (rows[i][0], b)
    return rows + [(None, b) for b in spare[len(unmatched):]]


def _tiers(old: plan.SLOPlan | None, new: plan.SLOPlan | None) -> list[TierChange]:
    changes = []
    for tier in names.TIERS:
        before = [_tier(p) for p in old.pairs if p.tier == tier] if old else []
        after = [_tier(p) for p in new.pairs if p.tier == tier] if new else []
        changes += [TierChange(tier, a, b) for a, b in _match(before, after) if a != b]
    return changes


def _slo_change(status: str, old: plan.SLOPlan | None, new: plan.SLOPlan | None) -> SLOChange:
    current = new or old
    routing = []
    for tier in names.TIERS:
        if tier in _enabled(old) & _enabled(new):
            routing += _values(alert_labels(old, tier), alert_labels(new, tier), f"{tier}: ")
    alert = Value("alert", old.alert, new.alert) if old and new and old.alert != new.alert else None
    missing = Value("missing_data", _missing_data_for(old), _missing_data_for(new)) \
        if old and new and _missing_data_for(old) != _missing_data_for(new) else None
    return SLOChange(
        status=status, service=current.service, name=current.name,
        renamed_from=f"{old.service}/{old.name}" if status == "renamed" else None,
        old=objective(old) if old else None, new=objective(new) if new else None,
        sli=tuple(_values(sli_fields(old) if old else {}, sli_fields(new) if new else {})),
        tiers=tuple(_tiers(old, new)),
        tiers_on=tuple(t for t in names.TIERS if old and t in _enabled(new) - _enabled(old)),
        tiers_off=tuple(t for t in names.TIERS if new and t in _enabled(old) - _enabled(new)),
        routing=tuple(routing), severity=severities(new) if new else (), alert=alert, missing_data=missing)


def _minutes(o: Objective, same_period: str = "") -> str:
    """`43.2 min per 30d`, or `43.2` before `21.6 min per 30d` when both are per the same period."""
    return plan.number(o.budget_minutes) if o.period == same_period else \
        f"{plan.number(o.budget_minutes)} min per {o.period}"


def _warnings(change: SLOChange, old: plan.SLOPlan | None, new: plan.SLOPlan | None) -> list[Caution]:
    found = []

    def warn(kind: str, message: str) -> None:
        found.append(Caution(change.id, kind, message))

    if change.status == "renamed":
        warn("renamed", f"renamed from {change.renamed_from}: its series start over under the new "
                        f"{names.SERVICE}/{names.SLO} labels, so the history of its error ratios and budget is lost")
    regrouped = [v for v in change.sli if v.key.endswith(".group_by")]
    if old and new and regrouped:
        warn("regrouped", f"group_by changes from [{regrouped[0].old or ''}] to [{regrouped[0].new or ''}]: "
                          f"every series of this SLO starts over under the new labels")
    if old and new and new.objective > old.objective:
        warn("tightened", f"objective tightened from {plan.number(old.objective_percent)}% to "
                          f"{plan.number(new.objective_percent)}%: the error budget shrinks from "
                          f"{_minutes(change.old, change.new.period)} to {_minutes(change.new)} of full outage")
    if new and new.budget_time < plan.SHORT_BUDGET and (not old or old.budget_time != new.budget_time):
        warn("short-budget", f"an error budget of {plan.number(change.new.budget_minutes)} min of full outage per "
                             f"{new.period_text}: a single incident spends it before an alert can help")
    if not new:
        pages = sum(p.tier == names.PAGE for p in old.pairs)
        if pages:
            warn("page-removed", f"removed with its {pages} page alert rule{'s' if pages > 1 else ''}: "
                                 f"nobody is paged for it any more")
        return found
    for tier in change.tiers_off:
        effect = "nobody is paged for it any more" if tier == names.PAGE else "a slow budget burn opens no ticket"
        warn("tier-off", f"the {tier} tier is turned off: {effect}")
    for tier_change in change.tiers:
        if tier_change.tier == names.PAGE and tier_change.new is None and names.PAGE in _enabled(new):
            warn("page-removed", f"the page alert over {tier_change.old.windows} (burn rate "
                                 f"{plan.number(tier_change.old.burn_rate)}) is removed")
    if change.missing_data and change.missing_data.new is None:
        warn("missing-data-off", "the missing-data ticket is turned off: when the SLI's series vanish (a broken "
                                 "exporter, a renamed metric) the SLO sees no errors, so an outage can go unseen")
    if change.alert:
        warn("alert-renamed", f"alert renamed from {change.alert.old} to {change.alert.new}: silences, "
                              f"inhibitions and routes that match alertname={change.alert.old} no longer apply")
    for value in change.routing:
        if value.key.endswith(f": {names.SEVERITY}"):
            tier = value.key.split(":")[0]
            warn("severity", f"{tier} alerts change {names.SEVERITY} from {value.old or '(none)'} to "
                             f"{value.new or '(none)'}: Alertmanager routes on it decide who is paged")
    return found


def _renames(old: dict, new: dict, removed: list, added: list) -> list[tuple[tuple, tuple]]:
    pairs = []
    for key in added:
        same_sli = [r for r in removed if old[r].sli == new[key].sli]
        if same_sli:
            match = min(same_sli, key=lambda r: (r[0] != key[0], r))
            removed.remove(match)
            pairs.append((match, key))
    return pairs


def _slos(p: plan.Plan) -> dict[tuple[str, str], plan.SLOPlan]:
    return {(s.service, s.name): s for service in p.services for s in service.slos}


def kind(path: str) -> str:
    """How a reviewer reads the kind of an artifact."""
    found = names.layout_entry(path)["kind"]
    return next((label for kinds, label in KINDS if found in kinds), "other files")


def _rules(p: plan.Plan) -> tuple[int, dict[str, str], set[str]]:
    """(recording rules, {alert rule id: group}, group names) of everything the plan generates."""
    records, alerts, groups = 0, {}, set()
    for service in p.services:
        for group in prometheus.groups(service, p):
            groups.add(group["name"])
            for rule in group["rules"]:
                if "record" in rule:
                    records += 1
                else:
                    labels = rule["labels"]
                    # The missing-data ticket has no windows.
                    windows = f" {labels[names.LONG_WINDOW]}/{labels[names.SHORT_WINDOW]}" \
                        if names.LONG_WINDOW in labels else ""
                    alerts[f"{rule['alert']} ({labels[names.TIER]}{windows})"] = group["name"]
    return records, alerts, groups


def _artifacts(old: plan.Plan, new: plan.Plan, old_files: dict[str, tuple[bytes, str]],
               new_files: dict[str, tuple[bytes, str]]) -> Artifacts:
    (old_records, old_alerts, old_groups), (new_records, new_alerts, new_groups) = _rules(old), _rules(new)
    paths = sorted(old_files.keys() | new_files.keys())
    files = []
    for label in [label for _, label in KINDS] + ["other files"]:
        mine = [p for p in paths if kind(p) == label]
        added = tuple(p for p in mine if p not in old_files)
        removed = tuple(p for p in mine if p not in new_files)
        changed = tuple(p for p in mine if p in old_files and p in new_files and old_files[p][0] != new_files[p][0])
        if added or changed or removed:
            files.append(Files(label, added, changed, removed))
    return Artifacts((old_records, new_records), (len(old_alerts), len(new_alerts)),
                     tuple(sorted(new_groups - old_groups)), tuple(sorted(old_groups - new_groups)),
                     tuple(sorted(new_alerts.keys() - old_alerts.keys())),
                     tuple(sorted(old_alerts.keys() - new_alerts.keys())), tuple(files))


def compare(old: plan.Plan, new: plan.Plan, old_files: dict[str, tuple[bytes, str]],
            new_files: dict[str, tuple[bytes, str]]) -> Changes:
    """Everything that differs between two plans and their artifacts; unchanged SLOs are left out."""
    before, after = _slos(old), _slos(new)
    removed = sorted(before.keys() - after.keys())
    added = sorted(after.keys() - before.keys())
    renames = _renames(before, after, removed, added)
    renamed_to = {new_key for _, new_key in renames}
    matched = [("changed", k, k) for k in sorted(before.keys() & after.keys())]
    matched += [("renamed", o, n) for o, n in renames]
    matched += [("added", None, k) for k in added if k not in renamed_to]
    matched += [("removed", k, None) for k in removed]
    slos, warnings = [], []
    for status, o, n in matched:
        a, b = before.get(o), after.get(n)
        change = _slo_change(status, a, b)
        if status == "changed" and not (change.old != change.new or change.sli or change.tiers or change.routing
                                        or change.alert or change.missing_data):
            continue
        slos.append(change)
        warnings += _warnings(change, a, b)
    slos.sort(key=lambda c: (c.service, c.name))
    old_services = {s.name for s in old.services}
    new_services = {s.name for s in new.services}
    settings = tuple(k for k in type(new.settings).model_fields
                     if getattr(old.settings, k) != getattr(new.settings, k))
    return Changes(tuple(sorted(new_services - old_services)), tuple(sorted(old_services - new_services)),
                   tuple(slos), tuple(sorted(warnings, key=lambda w: (w.slo, w.kind, w.message))), settings,
                   _artifacts(old, new, old_files, new_files))
