"""A large synthetic SLO repository: every SLI kind, several periods, grouped and ungrouped SLOs."""

from pathlib import Path

from compiler import serialize

KINDS = ("ratio", "latency", "bool", "events", "raw")
PERIODS = ("30d", "28d", "7d")


def _sli(kind: str, service: str, index: int, grouped: bool) -> dict:
    job = f'job="{service}"'
    if kind == "ratio":
        return {"ratio": {"errors": f'http_requests_total{{{job}, code=~"5..", handler="h{index}"}}',
                          "total": f'http_requests_total{{{job}, handler="h{index}"}}',
                          **({"group_by": ["route"]} if grouped else {})}}
    if kind == "latency":
        return {"latency": {"histogram": f'http_request_duration_seconds{{{job}, handler="h{index}"}}',
                            "threshold": "300ms", "group_by": ["route"]}}
    if kind == "bool":
        return {"bool": {"metric": f'probe_success{{job="blackbox", instance="https://{service}.example.com/{index}"}}'}}
    if kind == "raw":
        return {"raw": {"error_ratio": f'sum(rate(jobs_failed_total{{queue="{service}-{index}"}}[$window])) / '
                                        f'sum(rate(jobs_total{{queue="{service}-{index}"}}[$window]))'}}
    return {"events": {"errors": f'sum(rate(queue_dead_lettered_total{{queue="{service}-{index}"}}[$window]))',
                       "total": f'sum(rate(queue_published_total{{queue="{service}-{index}"}}[$window]))'}}


def service(number: int, slos_per_service: int) -> dict:
    name = f"svc{number:04d}"
    slos = []
    for i in range(slos_per_service):
        kind = KINDS[(number + i) % len(KINDS)]
        slos.append({"name": f"{kind}-{i}", "description": f"{kind} SLO {i} of {name}.",
                     "objective": (99.9, 99.5, 99.95, 99)[(number + i) % 4],
                     "window": PERIODS[(number + i) % len(PERIODS)], "sli": _sli(kind, name, i, grouped=number % 2 == 1),
                     **({"alerting": {"labels": {"team": f"team-{number % 7}"}, "ticket": False}} if i == 3 else {})})
    return {"service": name, "description": f"Service {number}", "owner": f"team-{number % 7}",
            "labels": {"tier": str(number % 3)}, "slos": slos}


def write(folder: Path, services: int, slos_per_service: int) -> list[Path]:
    """`services` spec files with `slos_per_service` SLOs each under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(services):
        path = folder / f"svc{n:04d}.yaml"
        path.write_bytes(serialize.to_yaml(service(n, slos_per_service)))
        paths.append(path)
    return paths
