"""Your Alertmanager configuration with the compiled route subtree and inhibit rules merged in.

What an earlier merge put there is recognised by the marker matcher (`names.ALERTMANAGER_MARKER`) and
replaced, so merging again, or after a recompile, gives one copy of the current rules; everything
else of the configuration stays as it was. amtool (Debian package `prometheus-alertmanager`) is the
real checker of the result.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from . import load, names, serialize, yamlpos
from .load import read
from .problems import InputError, Problem

AMTOOL_HINT = ("amtool not found: install Alertmanager's tools (Debian/Ubuntu: apt-get install "
               "prometheus-alertmanager) or put amtool on PATH")
HEADER = "# Merged by slo alertmanager merge: the route and inhibit rules with {marker} come from slo compile.\n"


class Missing(Exception):
    """amtool is not installed."""


def configured(settings_file: Path) -> Path | None:
    """Your Alertmanager configuration as the settings name it, relative to the settings file; None when unset."""
    config = load.settings(settings_file).alertmanager.config
    return settings_file.parent / config if config else None


def compiled(out: Path) -> tuple[list[dict], list[dict]]:
    """(routes, inhibit rules) as `slo compile` wrote them under `out`."""
    parts = []
    for path, key in ((names.alertmanager_route_path(), "routes"), (names.alertmanager_inhibit_path(), "inhibit_rules")):
        file = out / path
        if not file.is_file():
            raise InputError([Problem(str(file), 1, 1, "", "is missing; run `slo compile` first")])
        parts.append(yamlpos.load(str(file), read(file, str(file))).data[key])
    return parts[0], parts[1]


def ours(part: object) -> bool:
    """Whether a route or an inhibit rule was merged by us: it carries the marker."""
    if not isinstance(part, dict):
        return False
    matchers = [*(part.get("matchers") or []), *(part.get("target_matchers") or [])]
    return names.ALERTMANAGER_MARKER in matchers


def _receivers(routes: list[dict]) -> list[str]:
    found = []
    for route in routes:
        found += [route["receiver"]] if "receiver" in route else []
        found += _receivers(route.get("routes", []))
    return found


def merge(doc: yamlpos.Document, routes: list[dict], inhibit: list[dict]) -> dict:
    """The configuration of `doc` with `routes` first under its root route and `inhibit` after its own
    inhibit rules; InputError naming each problem at its place in `doc`."""
    config = doc.data
    if not isinstance(config, dict):
        raise InputError([doc.problem((), "must be an Alertmanager configuration (a mapping), got "
                                          f"{type(config).__name__}")])
    root = config.get("route")
    if not isinstance(root, dict):
        raise InputError([doc.problem(("route",), "needs the root route (a mapping): the SLO routes go under it")])
    problems = []
    for key in ("routes", "inhibit_rules"):
        holder = root if key == "routes" else config
        if not isinstance(holder.get(key) or [], list):
            problems.append(doc.problem((*(("route",) if key == "routes" else ()), key), "must be a list"))
    defined = {r.get("name") for r in config.get("receivers") or [] if isinstance(r, dict)}
    problems += [doc.problem(("receivers",), f"has no receiver {name!r}, which the SLO routes name (settings: "
                                             f"alertmanager); define it here", at_key=True)
                 for name in sorted(set(_receivers(routes)) - defined)]
    if problems:
        raise InputError(problems)
    theirs_routes = [r for r in root.get("routes") or [] if not ours(r)]
    theirs_inhibit = [r for r in config.get("inhibit_rules") or [] if not ours(r)]
    merged = {**config, "route": {**root, "routes": [*routes, *theirs_routes]}}
    merged["inhibit_rules"] = [*theirs_inhibit, *inhibit]
    return merged


def merged_text(config: Path, out: Path, label: str | None = None) -> bytes:
    """The merged configuration as YAML: the user's configuration at `config`, the compiled parts under `out`."""
    label = label or str(config)
    routes, inhibit = compiled(out)
    doc = yamlpos.load(label, read(config, label))
    return serialize.to_yaml(merge(doc, routes, inhibit), HEADER.format(marker=names.ALERTMANAGER_MARKER))


def check(text: bytes) -> str | None:
    """amtool check-config on a configuration; its complaint, or None when it is valid."""
    amtool = shutil.which("amtool")
    if amtool is None:
        raise Missing(AMTOOL_HINT)
    with tempfile.TemporaryDirectory(prefix="slo-alertmanager-") as folder:
        path = Path(folder) / "alertmanager.yml"
        path.write_bytes(text)
        result = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=120)
    if result.returncode == 0:
        return None
    return (result.stdout + result.stderr).replace(str(path), "the merged configuration").strip()
