"""Rule groups to a Mimir or Cortex ruler through its HTTP API: one namespace per service.

The ruler API takes one rule group per call, as a YAML body (202 on writes), under a tenant
(`X-Scope-OrgID`). A group is ours when it lives in the namespace of a service, carries that
service's group name prefix, and every rule in it is labelled with that service: prune deletes
only such groups, so a group written by hand, even in our namespace, survives.
"""

import yaml

from .. import names, serialize
from . import report
from .http import Client, Failure, segment

FLAVORS = {"mimir": "/prometheus/config/v1/rules", "cortex": "/api/v1/rules"}
Remote = dict[str, dict[str, dict]]  # namespace -> group name -> group


def normal(value: object) -> object:
    """A group as a ruler may echo it: empty and default fields dropped, so that only content compares."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def ours(namespace: str, group: dict, prefix: str) -> bool:
    if not namespace.startswith(prefix):
        return False
    service = namespace[len(prefix):]
    rules = group.get("rules") or []
    # Alert rules take the service label from their expression, so only recording rules carry it.
    recorded = [r for r in rules if "record" in r]
    return (str(group.get("name", "")).startswith(names.group(service, "")) and bool(recorded)
            and all((r.get("labels") or {}).get(names.SERVICE) == service for r in recorded))


class Push:
    def __init__(self, client: Client, flavor: str, dry_run: bool):
        self.client = client
        self.base = FLAVORS[flavor]
        self.dry_run = dry_run

    def remote(self) -> Remote:
        # 404: the tenant has no rule groups at all yet.
        response = self.client.call("GET", self.base, expect=(200, 404))
        data = yaml.safe_load(response.body) if response.status == 200 else None
        if data is not None and not isinstance(data, dict):
            raise Failure(f"GET {self.base}: the ruler answered with something other than a map of namespaces")
        return {ns: {g["name"]: g for g in groups or [] if isinstance(g, dict) and "name" in g}
                for ns, groups in (data or {}).items()}

    def group(self, namespace: str, group: dict, current: dict | None) -> str:
        if current is not None and normal(current) == normal(group):
            return report.UNCHANGED
        if not self.dry_run:
            self.client.call("POST", f"{self.base}/{segment(namespace)}", expect=(200, 202),
                             data=serialize.to_yaml(group), headers={"Content-Type": "application/yaml"})
        return report.CREATED if current is None else report.UPDATED

    def delete(self, namespace: str, name: str) -> str:
        if not self.dry_run:
            # 404: already gone, perhaps by an earlier attempt whose answer was lost.
            self.client.call("DELETE", f"{self.base}/{segment(namespace)}/{segment(name)}", expect=(200, 202, 404))
        return report.DELETED


def push(client: Client, flavor: str, services: dict[str, list[dict]], prefix: str, dry_run: bool, prune: bool,
         concurrency: int) -> list[report.Outcome]:
    """Raises Failure when the ruler cannot be read at all; every other failure is an outcome."""
    target = Push(client, flavor, dry_run)
    remote = target.remote()
    tasks: list[report.Task] = []
    wanted = set()
    for service, groups in sorted(services.items()):
        namespace = names.ruler_namespace(prefix, service)
        for group in groups:
            wanted.add((namespace, group["name"]))
            current = remote.get(namespace, {}).get(group["name"])
            tasks.append((f"rule group {namespace}/{group['name']}",
                          lambda n=namespace, g=group, c=current: target.group(n, g, c)))
    if prune:
        tasks += [(f"rule group {namespace}/{name}", lambda n=namespace, g=name: target.delete(n, g))
                  for namespace, groups in sorted(remote.items()) for name, group in sorted(groups.items())
                  if (namespace, name) not in wanted and ours(namespace, group, prefix)]
    return report.run(tasks, concurrency)
