"""`slo push grafana` and `slo push rules`: options, credentials from the environment, the report.

Secrets come from the environment only and are never printed: messages that could carry a
server's words pass through the client's redaction first.
"""

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .. import alertmanager as merging
from .. import exits, load, names, yamlpos
from ..engine import LOADER
from . import alertmanager, grafana, promdir, report, ruler, rulefiles
from .http import Client, Credentials, Failure, credentials, usable_url

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 4


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 3600 seconds, got {text}")
    return value


def _common(p: argparse.ArgumentParser, prune: bool = True) -> None:
    p.add_argument("--out", type=Path, default=Path(names.OUTPUT), help="output folder to push (default: output)")
    p.add_argument("--settings", type=Path, default=Path(load.SETTINGS_FILE),
                   help=f"project settings file (default: {load.SETTINGS_FILE})")
    p.add_argument("--dry-run", action="store_true", help="print what would be created, updated and deleted; "
                                                          "change nothing")
    if prune:
        p.add_argument("--prune", action="store_true", help="also delete what we manage that the output no longer has")
    p.add_argument("--ca-file", type=Path, help="CA bundle to verify the server's TLS certificate")
    p.add_argument("--insecure-skip-verify", action="store_true", help="do not verify TLS certificates (unsafe)")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"timeout of every call (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, choices=range(1, 33), metavar="N",
                   help=f"calls in flight at once, 1 to 32 (default: {DEFAULT_CONCURRENCY})")


def add(commands: argparse._SubParsersAction) -> None:
    push = commands.add_parser("push", help="apply output/ to Grafana, a ruler or a Prometheus rule folder")
    targets = push.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = targets.add_parser("grafana", help="dashboards to Grafana (credentials: GRAFANA_TOKEN, or GRAFANA_USER "
                                           "and GRAFANA_PASSWORD)")
    p.add_argument("--url", help="Grafana base URL (default: $GRAFANA_URL)")
    p.add_argument("--folder", help="title of the folder of our dashboards (default: grafana_folder in settings)")
    p.add_argument("--org-id", type=int, help="Grafana organisation (X-Grafana-Org-Id)")
    _common(p)
    p.set_defaults(run=_grafana, usage=p.error)
    p = targets.add_parser("rules", help="rule groups to a Mimir or Cortex ruler (credentials: RULER_TOKEN, or "
                                         "RULER_USER and RULER_PASSWORD), or rule files to a Prometheus")
    p.add_argument("--ruler-url", help="ruler base URL (default: $RULER_URL)")
    p.add_argument("--tenant", help="tenant, sent as X-Scope-OrgID")
    p.add_argument("--flavor", choices=sorted(ruler.FLAVORS), default="mimir", help="ruler API paths (default: mimir)")
    p.add_argument("--prometheus-dir", type=Path, help="a Prometheus rule folder to write instead of a ruler")
    p.add_argument("--reload-url", help="with --prometheus-dir: Prometheus' reload URL, ending in /-/reload")
    p.add_argument("--wait", type=_seconds, default=90.0, metavar="SECONDS",
                   help="with --prometheus-dir: how long to wait for every group to load and evaluate "
                        "(default: 90)")
    _common(p)
    p.set_defaults(run=_rules, usage=p.error)
    p = targets.add_parser("alertmanager", help="the SLO route and inhibit rules into a Mimir or Cortex "
                                                "Alertmanager's configuration (credentials: ALERTMANAGER_TOKEN, "
                                                "or ALERTMANAGER_USER and ALERTMANAGER_PASSWORD)")
    p.add_argument("--url", help="Alertmanager base URL, the API under /api/v1/alerts (default: $ALERTMANAGER_URL)")
    p.add_argument("--tenant", help="tenant, sent as X-Scope-OrgID")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="your Alertmanager configuration to merge into (default: alertmanager.config in the "
                        "settings; none: the tenant's current configuration)")
    _common(p, prune=False)
    p.set_defaults(run=_alertmanager, usage=p.error)


def _url(args: argparse.Namespace, option: str, url: str) -> str:
    # Never echoed: it may carry a password.
    if not usable_url(url):
        args.usage(f"{option} must be an http:// or https:// URL with a host")
    return url


def _verify(args: argparse.Namespace) -> bool | str:
    if args.ca_file and args.insecure_skip_verify:
        args.usage("--ca-file and --insecure-skip-verify exclude each other")
    if args.ca_file and not args.ca_file.is_file():
        args.usage(f"--ca-file {args.ca_file}: no such file")
    return str(args.ca_file) if args.ca_file else not args.insecure_skip_verify


def commit_message() -> str:
    """Names the commit in Grafana's version history: CI's commit, else the checkout's."""
    sha = os.environ.get("GITHUB_SHA", "")
    if not sha:
        try:
            sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            sha = ""
    sha = sha.strip()[:12]
    return f"slo push from commit {sha}" if sha else "slo push (commit unknown)"


def _finish(target: str, work: Callable[[], list[report.Outcome]], dry_run: bool) -> int:
    try:
        outcomes = work()
    except Failure as exc:
        print(f"{target}: {exc}", file=sys.stderr)
        return exits.REFUSED
    for line in report.changes(outcomes, dry_run):
        print(line)
    failed = report.failures(target, outcomes)
    for line in failed:
        print(line, file=sys.stderr)
    print(report.summary(target, outcomes, dry_run))
    return exits.REFUSED if failed else exits.OK


def _grafana(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("GRAFANA_URL", "")
    if not url:
        args.usage("needs --url or GRAFANA_URL")
    _url(args, "--url (or GRAFANA_URL)", url)
    creds = credentials("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD")
    if not creds.present:
        args.usage("needs credentials in the environment: GRAFANA_TOKEN (a service account token), "
                   "or GRAFANA_USER and GRAFANA_PASSWORD")
    verify = _verify(args)
    folder = args.folder or load.settings(args.settings).grafana_folder
    dashboards = grafana.load(args.out)
    headers = {"X-Grafana-Org-Id": str(args.org_id)} if args.org_id is not None else {}
    client = Client(url, "Grafana", creds, headers, verify, args.timeout)
    return _finish("grafana", lambda: grafana.push(client, dashboards, folder, commit_message(), args.dry_run,
                                                   args.prune, args.concurrency), args.dry_run)


def _rules(args: argparse.Namespace) -> int:
    ruler_url = args.ruler_url or ("" if args.prometheus_dir else os.environ.get("RULER_URL", ""))
    verify = _verify(args)
    if args.prometheus_dir:
        if args.ruler_url:
            args.usage("--ruler-url and --prometheus-dir exclude each other: push to one target at a time")
        base = promdir.base_url(args.reload_url or "")
        if base is None:
            args.usage("--prometheus-dir needs --reload-url, Prometheus' URL ending in /-/reload")
        _url(args, "--reload-url", base)
        loader = LOADER[rulefiles.engine(args.out)]  # Prometheus, or vmalert for engine: victoriametrics
        client = Client(base, loader, Credentials(), verify=verify, timeout=args.timeout)
        return _finish(loader.lower(), lambda: promdir.push(client, args.out, args.prometheus_dir, args.dry_run,
                                                            args.prune, args.wait), args.dry_run)
    if not ruler_url:
        args.usage("needs --ruler-url (or RULER_URL), or --prometheus-dir with --reload-url")
    _url(args, "--ruler-url (or RULER_URL)", ruler_url)
    prefix = load.settings(args.settings).ruler_namespace_prefix
    services = rulefiles.load(args.out)
    headers = {"X-Scope-OrgID": args.tenant} if args.tenant else {}
    client = Client(ruler_url, "the ruler", credentials("RULER_TOKEN", "RULER_USER", "RULER_PASSWORD"), headers,
                    verify, args.timeout)
    # Both are legitimate (a gateway that adds them, single-tenant Cortex) but usually a forgotten setting.
    if not client.secrets:
        print(f"ruler: warning: no credentials in {client.creds.env_names}: pushing to {client.shown} "
              "without authentication", file=sys.stderr)
    if args.flavor == "mimir" and not args.tenant:
        print(f"ruler: warning: no --tenant: Mimir at {client.shown} refuses requests without an X-Scope-OrgID "
              "tenant unless its multi-tenancy is off", file=sys.stderr)

    def work() -> list[report.Outcome]:
        if rulefiles.engine(args.out) == names.VICTORIAMETRICS:
            raise Failure("the rule files are vmalert's (engine: victoriametrics), with group keys a Mimir or Cortex "
                          "ruler does not know: push them with --prometheus-dir to vmalert's rule folder, or compile "
                          "with engine: prometheus for a ruler")
        rulefiles.validate(args.out)
        return ruler.push(client, args.flavor, services, prefix, args.dry_run, args.prune, args.concurrency)
    return _finish("ruler", work, args.dry_run)


def _alertmanager(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("ALERTMANAGER_URL", "")
    if not url:
        args.usage("needs --url or ALERTMANAGER_URL")
    _url(args, "--url (or ALERTMANAGER_URL)", url)
    verify = _verify(args)
    config = args.config or merging.configured(args.settings)
    base = yamlpos.load(str(config), load.read(config, str(config))) if config else None
    routes, inhibit = merging.compiled(args.out)
    headers = {"X-Scope-OrgID": args.tenant} if args.tenant else {}
    client = Client(url, "the Alertmanager", credentials("ALERTMANAGER_TOKEN", "ALERTMANAGER_USER",
                                                         "ALERTMANAGER_PASSWORD"), headers, verify, args.timeout)
    return _finish("alertmanager", lambda: alertmanager.push(client, base, routes, inhibit, args.dry_run), args.dry_run)
