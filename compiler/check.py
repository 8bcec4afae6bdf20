"""`slo check`: promtool on a compiled output folder, as its manifest describes it.

`promtool check rules` reads every rule file. The unit tests run one promtool per test file, across
the cores: each SLO's tests load that SLO's rule group alone, so the cost per SLO does not grow with
the SLOs of its service. With a base manifest (`--changed BASE`), as dbt's state selection does,
only the SLOs whose rule group or tests differ from it are tested.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import names, promtool, vmalert

SLOKey = tuple[str, str]  # (service, SLO)


@dataclass(frozen=True)
class Summary:
    tested: int  # SLOs whose tests ran
    unchanged: int  # SLOs skipped as unchanged against the base
    failures: tuple[promtool.Result, ...]
    seconds: float


def paths(entries: list[dict], kind: str) -> list[str]:
    return sorted(e["path"] for e in entries if e["kind"] == kind)


def _per_slo(entries: list[dict]) -> dict[SLOKey, dict[str, str]]:
    """{(service, SLO): {path: sha256}} of what each SLO's tests depend on: its rule group and tests."""
    out: dict[SLOKey, dict[str, str]] = {}
    for e in entries:
        if e["kind"] in (names.SLO_RULES, names.SUITE_RULES, names.TESTS):
            out.setdefault((e["service"], e["slo"]), {})[e["path"]] = e["sha256"]
    return out


def changed(entries: list[dict], base: list[dict] | None) -> set[SLOKey]:
    """The SLOs whose rule group or tests differ from the base manifest's (all of them without one)."""
    mine, theirs = _per_slo(entries), _per_slo(base or [])
    return {key for key, files in mine.items() if theirs.get(key) != files}


def vmalert_rules(out: Path, entries: list[dict], progress: Callable[[str], None]) -> list[str]:
    """`vmalert -dryRun` on the vmalert rule files, when there are some; a note, not a failure, when
    vmalert is not installed (promtool has tested the same rules in their Prometheus form)."""
    files = paths(entries, names.VMALERT_RULES)
    if not files:
        return []
    if vmalert.binary() is None:
        progress(f"{vmalert.INSTALL_HINT}; vmalert -dryRun skipped")
        return []
    complaint = vmalert.dry_run(files, out)
    if complaint:
        return [f"vmalert -dryRun {' '.join(files)}: failed\n{complaint}"]
    progress(f"vmalert -dryRun accepted {len(files)} rule files")
    return []


def run(out: Path, entries: list[dict], selected: set[SLOKey], jobs: int,
        progress: Callable[[str], None]) -> Summary:
    """promtool check rules on every rule file, and the tests of the selected SLOs."""
    tests = [e["path"] for e in entries if e["kind"] == names.TESTS and (e["service"], e["slo"]) in selected]
    runs = [["check", "rules", *paths(entries, names.RULES)]] if paths(entries, names.RULES) else []
    runs += [["test", "rules", path] for path in sorted(tests)]
    results, seconds = promtool.timed(promtool.run(runs, out, jobs), len(runs), progress)
    per_slo = _per_slo(entries)
    return Summary(len(selected & per_slo.keys()), len(per_slo.keys() - selected),
                   tuple(sorted((r for r in results if not r.ok), key=lambda r: r.args)), seconds)
