"""`slo init SERVICE`: a commented starter spec, with SLIs proposed from a live server's series.

`discover` asks the server (I/O); `spec_text` is pure and writes the spec from what was found.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import yaml

from .prometheus_api import PrometheusAPI

# Labels that tell failed requests apart in the usual HTTP and gRPC instrumentation.
ERROR_LABELS = ("code", "status", "status_code", "grpc_code")
HTTP_ERRORS = "5.."
GRPC_ERRORS = "Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss"
PROPOSALS_PER_KIND = 5  # a first spec to edit, not a catalogue of the server
LOOKBACK_SECONDS = 3600


@dataclass(frozen=True, order=True)
class Counter:
    job: str
    metric: str
    label: str
    values: tuple[str, ...]


@dataclass(frozen=True, order=True)
class Histogram:
    job: str
    metric: str  # without _bucket
    buckets: tuple[str, ...]  # finite `le` values, ascending


@dataclass(frozen=True, order=True)
class Probe:
    job: str
    instance: str


@dataclass(frozen=True)
class Found:
    url: str
    counters: tuple[Counter, ...]
    histograms: tuple[Histogram, ...]
    probes: tuple[Probe, ...]


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _error_matcher(label: str, values: set[str] | tuple[str, ...]) -> str | None:
    """The matcher of failed requests, where the label's values are HTTP statuses or gRPC codes."""
    if all(re.fullmatch(r"[1-5][0-9][0-9]", v) for v in values):
        return f'{label}=~"{HTTP_ERRORS}"'
    if "OK" in values:
        return f'{label}=~"{GRPC_ERRORS}"'
    return None


def _mine(items: list, service: str, *fields: str) -> list:
    """The items with the service's name as a word of one of the fields (a job, a probed URL), else
    all of them: a first guess for the team to trim."""
    def words(item) -> set[str]:
        return {w for f in fields for w in re.split(r"[^a-z0-9-]+", getattr(item, f).lower())}
    return sorted(i for i in items if service in words(i)) or sorted(items)


def discover(server: PrometheusAPI, service: str) -> Found:
    """The series of the last hour that an SLI can be built on, the service's own first."""
    groups: dict[tuple[str, str, str], set[str]] = {}
    for label in ERROR_LABELS:
        for s in server.series(f'{{__name__=~".+_total", {label}!=""}}', LOOKBACK_SECONDS):
            groups.setdefault((s.get("job", ""), s["__name__"], label), set()).add(s[label])
    counters = [Counter(job, name, label, tuple(sorted(values))) for (job, name, label), values in groups.items()
                if _error_matcher(label, values)]
    buckets: dict[tuple[str, str], set[str]] = {}
    for s in server.series('{__name__=~".+_bucket", le!=""}', LOOKBACK_SECONDS):
        buckets.setdefault((s.get("job", ""), s["__name__"].removesuffix("_bucket")), set()).add(s["le"])
    histograms = [Histogram(job, name, tuple(sorted((b for b in les if _number(b) is not None), key=Decimal)))
                  for (job, name), les in buckets.items()]
    probes = {Probe(s.get("job", ""), s.get("instance", "")) for s in server.series("probe_success", LOOKBACK_SECONDS)}
    return Found(server.base,
                 tuple(_mine(counters, service, "job")[:PROPOSALS_PER_KIND]),
                 tuple(_mine([h for h in histograms if h.buckets], service, "job")[:PROPOSALS_PER_KIND]),
                 tuple(_mine(list(probes), service, "job", "instance")[:PROPOSALS_PER_KIND]))


def _scalar(text: str) -> str:
    """The text as a YAML scalar: plain where YAML reads it back unchanged, else single-quoted."""
    if yaml.safe_load(f"k: {text}") == {"k": text}:
        return text
    return "'" + text.replace("'", "''") + "'"


def _selector(metric: str, *matchers: str) -> str:
    return f"{metric}{{{', '.join(matchers)}}}" if matchers else metric


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-") or "slo"


def _proposals(service: str, found: Found) -> list[tuple[str, str, str, list[str]]]:
    """(name, comment, objective, lines of the sli mapping) of every proposed SLO."""
    proposals = []
    for c in found.counters:
        job = [f'job="{c.job}"'] if c.job else []
        stem = c.metric.removesuffix("_total")
        proposals.append((_slug(f"{'' if c.job in ('', service) else c.job}-{stem}-availability"),
                          f"{c.metric} by {c.label} ({', '.join(c.values)}): requests without an error",
                          "99.9", ["ratio:", f"  errors: {_scalar(_selector(c.metric, *job, _error_matcher(c.label, c.values)))}",
                                   f"  total: {_scalar(_selector(c.metric, *job))}"]))
    for h in found.histograms:
        job = [f'job="{h.job}"'] if h.job else []
        threshold = format(Decimal(h.buckets[len(h.buckets) // 2]), "f")
        proposals.append((_slug(f"{'' if h.job in ('', service) else h.job}-{h.metric}-latency"),
                          f"{h.metric}, buckets {', '.join(h.buckets)}: the threshold must be one of them",
                          "99", ["latency:", f"  histogram: {_scalar(_selector(h.metric, *job))}",
                                 f"  threshold: {threshold}"]))
    for p in found.probes:
        matchers = [f'{k}="{v}"' for k, v in (("job", p.job), ("instance", p.instance)) if v]
        proposals.append((_slug(f"{p.instance.split('://')[-1] or p.job}-probe"),
                          f"probe_success of {p.instance or p.job}: the target answered the probe", "99.5",
                          ["bool:", f"  metric: {_scalar(_selector('probe_success', *matchers))}"]))
    names: set[str] = set()
    unique = []
    for name, comment, objective, sli in proposals:
        taken, n = name, 2
        while taken in names:
            taken, n = f"{name}-{n}", n + 1
        names.add(taken)
        unique.append((taken, comment, objective, sli))
    return unique


def _example(service: str) -> list[tuple[str, str, str, list[str]]]:
    return [("requests-availability", "requests answered without a server error: put your metric and job here",
             "99.9", ["ratio:", f'  errors: http_requests_total{{job="{service}", code=~"5.."}}',
                      f'  total: http_requests_total{{job="{service}"}}'])]


OTHER_KINDS = """\
  # Other kinds of SLI, to uncomment and adapt (docs/spec.md has them all):
  # - name: requests-latency
  #   objective: 99
  #   sli:
  #     latency:                     # a classic histogram; the threshold must be one of its le buckets
  #       histogram: http_request_duration_seconds{{job="{service}"}}
  #       threshold: 300ms
  # - name: probe
  #   objective: 99.5
  #   sli:
  #     bool:                        # a 0/1 gauge where 1 is good
  #       metric: probe_success{{job="blackbox", instance="https://{service}.example.com"}}
"""


def spec_text(service: str, found: Found | None) -> str:
    """A commented spec of the service that compiles as it is: SLOs proposed from what was found, or
    one example SLO to adapt."""
    proposals = _proposals(service, found) if found else []
    lines = [f"# SLOs of {service}, written by `slo init`. Edit them, then: slo compile && slo explain "
             f"{service}/NAME", "# The spec: docs/spec.md; `slo schema` gives editors its JSON Schema."]
    if found:
        lines.append(f"# Proposed from the series {found.url} holds (counters with a status code label, "
                     "classic histograms, probe_success):" if proposals else
                     f"# {found.url} holds no counter with a status code label, classic histogram or "
                     "probe_success: an example to adapt.")
        lines.append("# keep the SLOs that matter to your users, and set objectives you can meet."
                     if proposals else "#")
    lines += [f"service: {service}",
              'description: ""                    # what the service does, shown in runbooks and dashboards',
              'owner: ""                          # the team that answers its alerts',
              "slos:"]
    for name, comment, objective, sli in proposals or _example(service):
        lines += [f"  # {comment}", f"  - name: {name}",
                  f"    objective: {objective}" + " " * (20 - len(objective)) + "# percent of good events over the window",
                  "    sli:", *(f"      {line}" for line in sli)]
    return "\n".join(lines) + "\n" + OTHER_KINDS.format(service=service)
