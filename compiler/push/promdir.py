"""Rule files to a plain Prometheus or vmalert: its rule folder, `POST /-/reload`, and proof that every group loaded.

Only our files are written or deleted: a rule file is ours when it starts with the header that
`slo compile` writes. Each is replaced atomically (a temporary file renamed over it), so Prometheus
never reads half a file. When the reload fails, or a group of ours is missing or unhealthy after
it, the previous files are put back and Prometheus is reloaded again.
"""

import json
import os
import tempfile
import time
from pathlib import Path

from .. import names
from ..targets import prometheus
from . import report, rulefiles
from .http import Client, Failure, excerpt

MARKER = prometheus.HEADER.partition("{source}")[0].encode()
RELOAD = "/-/reload"
POLL = 0.5  # seconds between looks at /api/v1/rules
NOT_EVALUATED = "0001-01-01T00:00:00Z"
SUFFIX = Path(names.rules_path("")).name  # of the rule files in Prometheus' folder: ours keep their names


def base_url(reload_url: str) -> str | None:
    """Prometheus' base URL from its reload URL; None when the URL does not end in /-/reload."""
    base = reload_url.rstrip("/")
    return base.removesuffix(RELOAD) if base.endswith(RELOAD) else None


def ours(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(MARKER)) == MARKER


def write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _plan(out: Path, folder: Path, prune: bool) -> tuple[dict[str, report.Outcome], dict[str, bytes | None]]:
    """The outcome for every file by name, and the new content of each file to change (None: delete)."""
    outcomes, changes = {}, {}
    local = {Path(p).name: (out / p).read_bytes() for p in rulefiles.paths(out)}
    for name, data in local.items():
        path, thing = folder / name, f"rule file {name}"
        if not path.exists():
            outcomes[name] = report.Outcome(report.CREATED, thing)
        elif not ours(path):
            outcomes[name] = report.Outcome(report.FAILED, thing, f"{path} exists and was not written by slo "
                                                                  f"compile, so it is left as it is")
            continue
        elif path.read_bytes() == data:
            outcomes[name] = report.Outcome(report.UNCHANGED, thing)
            continue
        else:
            outcomes[name] = report.Outcome(report.UPDATED, thing)
        changes[name] = data
    if prune:
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            if path.name not in local and ours(path):
                outcomes[path.name] = report.Outcome(report.DELETED, f"rule file {path.name}")
                changes[path.name] = None
    return outcomes, changes


def _apply(folder: Path, contents: dict[str, bytes | None]) -> None:
    for name, data in sorted(contents.items()):
        if data is None:
            (folder / name).unlink(missing_ok=True)
        else:
            write_atomically(folder / name, data)


def reload(client: Client) -> None:
    # 500 is the server refusing the new configuration: asking again would not change its mind.
    response = client.call("POST", RELOAD, expect=(200, 500))
    if response.status != 200:
        raise Failure(f"POST {RELOAD}: {client.what} refused the reload (its log says why): {excerpt(response)}")


def _confirm(client: Client, groups: set[str], wait: float) -> None:
    """Every group of ours loaded, evaluated and healthy within `wait` seconds; Failure otherwise."""
    deadline = time.monotonic() + wait
    while True:
        try:
            # vmalert lists no groups as null
            listed = json.loads(client.call("GET", "/api/v1/rules").body)["data"]["groups"] or []
        except (ValueError, KeyError, TypeError):
            raise Failure("GET /api/v1/rules: the answer is not Prometheus' list of rule groups") from None
        loaded = {g["name"]: g for g in listed if g.get("name") in groups}
        broken = sorted(f"{name}: {rule.get('lastError') or 'unhealthy'}" for name, g in loaded.items()
                        for rule in g["rules"] if rule.get("health") == "err")
        if broken:
            raise Failure(f"rule groups loaded but failed to evaluate: {'; '.join(broken)}")
        waiting = sorted(groups - set(loaded)) or sorted(
            n for n, g in loaded.items() if g.get("lastEvaluation", NOT_EVALUATED).startswith("0001-"))
        if not waiting:
            return
        if time.monotonic() > deadline:
            missing = sorted(groups - set(loaded))
            raise Failure(f"after {wait:g}s, rule groups " + (f"not loaded: {', '.join(missing)}" if missing else
                                                                f"not yet evaluated: {', '.join(waiting)}"))
        time.sleep(POLL)


def push(client: Client, out: Path, folder: Path, dry_run: bool, prune: bool, wait: float) -> list[report.Outcome]:
    """Raises Failure when the rules are invalid; a failed reload or check fails every changed file."""
    files = {Path(path).name: groups for path, groups in rulefiles.load_files(out).items()}
    rulefiles.validate(out)
    if not folder.is_dir():
        raise Failure(f"{folder} is not a folder")
    outcomes, changes = _plan(out, folder, prune)
    if dry_run or not changes:
        return list(outcomes.values())
    # Groups of a file left as it is (not ours) are not expected to load.
    groups = {g["name"] for name, gs in files.items() for g in gs if outcomes[name].action != report.FAILED}
    previous = {name: (folder / name).read_bytes() if (folder / name).exists() else None for name in changes}
    _apply(folder, changes)
    try:
        reload(client)
        _confirm(client, groups, wait)
    except Failure as exc:
        _apply(folder, previous)
        try:
            reload(client)
            after = "previous files restored and reloaded"
        except Failure as again:
            after = f"previous files restored, but their reload failed too: {again}"
        return [report.Outcome(report.FAILED, o.thing, f"{exc}; {after}") if o.action in report.CHANGES else o
                for o in outcomes.values()]
    return list(outcomes.values())
