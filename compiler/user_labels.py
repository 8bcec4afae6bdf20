"""Where a spec sets label names of its own, and the names the `sloth_labels` setting keeps for the compiler.

Every label of a service, of an SLO, of its alerts and of their tiers ends up on the same series or
alerts as the labels the compiler writes, so a name taken by both would make one of them lose.
"""

from . import names
from .problems import Problem
from .spec import Service, Settings
from .yamlpos import Document, Path


def places(service: Service, index: int) -> list[tuple[Path, str]]:
    """(path of the key from the document's root, label name) of every label the SLO at `index` sets."""
    slo = service.slos[index]
    tiers = [(tier, getattr(slo.alerting, tier)) for tier in names.TIERS]
    found = [(("labels", k), k) for k in service.labels]
    found += [(("slos", index, "labels", k), k) for k in slo.labels]
    found += [(("slos", index, "alerting", "labels", k), k) for k in slo.alerting.labels]
    found += [(("slos", index, "alerting", tier, "labels", k), k) for tier, spec in tiers if spec for k in spec.labels]
    return found


def sloth_clashes(specs: list[tuple[Document, Service]], settings: Settings) -> list[Problem]:
    """Labels and `group_by` names that `sloth_labels: true` writes itself, each at its place."""
    if not settings.sloth_labels:
        return []
    problems = set()
    for doc, service in specs:
        for i, slo in enumerate(service.slos):
            keys = [(path, name, True) for path, name in places(service, i)]
            keys += [(("slos", i, "sli", slo.sli.kind, "group_by", j), name, False)
                     for j, name in enumerate(slo.sli.group_by)]
            problems.update(doc.problem(path, f"label {name!r} is set by the compiler when the sloth_labels "
                                              f"setting is on; choose another name", at_key=at_key)
                            for path, name, at_key in keys if name in names.SLOTH_LABELS)
    return sorted(problems)
