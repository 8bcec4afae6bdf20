"""The `slo` command line; its exit codes are in `exits`."""

import argparse
import dataclasses
import difflib
import json
import os
import re
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from . import (__version__, alertmanager, backtest, changes, check, durations, explain, gitref, lint, load, measure,
               names, pipeline, plan, promtool, report, review, starter, write)
from .report import fetch as report_fetch, html as report_html, period as report_period, render as report_render
from .exits import OK, REFUSED, USAGE
from .fields import NAME_PATTERN
from .formats import emit
from .load import SETTINGS_FILE
from .problems import InputError, Problem
from .prometheus_api import TIMEOUT_SECONDS, TOKEN_ENV, PrometheusAPI, Unreachable
from .push import commands as push
from .spec import Service, Settings
from .targets import promtool_tests


def _paths(parser: argparse.ArgumentParser, out: bool = True) -> None:
    parser.add_argument("--slos", type=Path, default=Path("slos"), help="folder of SLO specs (default: slos)")
    parser.add_argument("--settings", type=Path, default=Path(SETTINGS_FILE),
                        help=f"project settings file (default: {SETTINGS_FILE}; absent means defaults)")
    if out:
        parser.add_argument("--out", type=Path, default=Path(names.OUTPUT), help="output folder (default: output)")


def _compile(args: argparse.Namespace) -> int:
    artifacts = pipeline.render(pipeline.build_plan(args.slos, args.settings))
    write.write(args.out, artifacts)
    return OK


def _lint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--prometheus", type=_url, metavar="URL",
                        help="also check against this live server (series that exist, histogram buckets, "
                             f"external labels); credentials in the URL or in ${TOKEN_ENV}")


def _lint(args: argparse.Namespace) -> int:
    return _linted(args, *pipeline.specs_and_plan(args.slos, args.settings))


def _linted(args: argparse.Namespace, specs: list, the_plan: plan.Plan) -> int:
    server = PrometheusAPI(args.prometheus) if args.prometheus else None
    findings = lint.lint(specs, the_plan, server, args.settings.name)
    for finding in findings:
        print(finding, file=sys.stderr)
    failing = any(f.severity == lint.ERROR for f in findings) or (args.strict and findings)
    return REFUSED if failing else OK


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def _base_manifest(ref: str, out: Path) -> list[dict] | None:
    """The manifest entries of `out` as of git ref `ref`; None when that commit has none of this version."""
    data = gitref.file_at(ref, out / write.MANIFEST)
    return write.entries(data) if data is not None else None


def _progress(message: str) -> None:
    print(f"slo check: {message}", file=sys.stderr, flush=True)


def _check(args: argparse.Namespace) -> int:
    specs, the_plan = pipeline.specs_and_plan(args.slos, args.settings)
    linted = _linted(args, specs, the_plan)
    try:
        entries = write.check_fresh(args.out, pipeline.render(the_plan))
        base = _base_manifest(args.changed, args.out) if args.changed else None
        summary = check.run(args.out, entries, check.changed(entries, base), args.jobs, _progress)
    except gitref.Refused as exc:
        print(f"slo: check: {exc}", file=sys.stderr)
        return USAGE
    for failure in summary.failures:
        print(f"promtool {' '.join(failure.args)}: failed\n{failure.output}", file=sys.stderr)
    amtool = check.vmalert_rules(args.out, entries, _progress) + _check_alertmanager(args)
    for failure in amtool:
        print(failure, file=sys.stderr)
    untested = [f"{s.name}/{slo.name}" for s in the_plan.services for slo in s.slos
                if promtool_tests.unsupported(slo)]
    skipped = f", {summary.unchanged} skipped as unchanged since {args.changed}" if args.changed else ""
    without = f", {len(untested)} without synthetic traffic ({', '.join(untested)})" if untested else \
        ", 0 without synthetic traffic"
    verdict = f"{len(summary.failures)} files failed" if summary.failures else "all passed"
    _progress(f"{summary.tested} SLOs checked{skipped}{without}; {verdict} in {summary.seconds:.0f}s")
    return REFUSED if summary.failures or amtool or linted else OK


def _check_alertmanager(args: argparse.Namespace) -> list[str]:
    """amtool check-config on the configured Alertmanager configuration with the compiled parts merged in."""
    config = alertmanager.configured(args.settings)
    if config is None:
        return []
    complaint = alertmanager.check(alertmanager.merged_text(config, args.out))
    return [f"{config} merged with {args.out / 'alertmanager'}: amtool check-config: {complaint}"] if complaint else []


def _merge(args: argparse.Namespace) -> int:
    config = args.config or alertmanager.configured(args.settings)
    if config is None:
        args.usage(f"needs --config, or alertmanager.config in {args.settings}")
    sys.stdout.buffer.write(alertmanager.merged_text(config, args.out))
    return OK


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not value.is_finite() or not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 100, got {text}")
    return value


LISTED = 20  # names on one line of an error message


def _choices(close: list[str], listed: list[str], what: str) -> str:
    """`; did you mean 'x'? SLOs: a, b and 3 more`: the closest name, and those there are."""
    more = f" and {len(listed) - LISTED} more" if len(listed) > LISTED else ""
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"; {guess}{what}: {', '.join(listed[:LISTED])}{more}"


def _suggest(wanted: str, the_plan: plan.Plan) -> str:
    """Did you mean, and the SLOs there are: those of the service named, else all of them."""
    known = [f"{s.name}/{o.name}" for s in the_plan.services for o in s.slos]
    service, _, name = wanted.partition("/")
    listed = [k for k in known if k.startswith(f"{service}/")]
    if listed:  # the service is right: only the SLO's name can be misspelt
        close = [f"{service}/{c}" for c in difflib.get_close_matches(name, [k.partition("/")[2] for k in listed], 1)]
    else:
        listed, close = known, difflib.get_close_matches(wanted, known, 1)
    if not known:
        return "; it holds no SLOs"
    return _choices(close, listed, "SLOs") + " (write SERVICE/SLO)"


def _explain(args: argparse.Namespace) -> int:
    service, _, name = args.slo.partition("/")
    the_plan = pipeline.build_plan(args.slos, args.settings)
    found = the_plan.slo(service, name)
    if found is None:
        print(f"slo: no SLO {args.slo!r} under {args.slos}{_suggest(args.slo, the_plan)}", file=sys.stderr)
        return REFUSED
    sys.stdout.write(explain.explain(found, args.error_rate, the_plan.settings.rule_interval,
                                     the_plan.settings.scrape_interval))
    return OK


def _import(args: argparse.Namespace) -> int:
    label = str(args.file)
    docs = load.spec_documents(label, load.read(args.file, label))
    if not docs:
        raise InputError([Problem(label, 1, 1, "", "holds no SLOs: its objects define none")])
    for doc, service in docs:
        _refusals(doc, service, Path(SETTINGS_FILE))
    sys.stdout.write("---\n".join(emit.spec(doc, service) for doc, service in docs))
    return OK


def _refusals(doc, service: Service, settings: Path) -> None:
    """Notes in the imported spec on what `slo lint` would refuse, at the field it names."""
    try:
        the_plan = plan.build([(doc, service)], load.settings(settings))
    except InputError:
        return  # compiling the imported spec reports these, each at its place
    # Findings name their place in the original file: the note goes to the v1 field that came from there.
    places = {}
    for path in sorted(getattr(doc, "origin", {}), key=len, reverse=True):
        place = doc.problem(path, "")
        places.setdefault((place.line, place.col), path)
    for finding in lint.lint([(doc, service)], the_plan):
        if finding.severity == lint.ERROR and (finding.line, finding.col) in places:
            doc.notes.setdefault(places[finding.line, finding.col], []).append(
                f"slo lint refuses this: {finding.code}: {finding.message}; fix: {finding.fix}")


def _init(args: argparse.Namespace) -> int:
    if not re.fullmatch(NAME_PATTERN, args.service):
        print(f"slo: init: {args.service!r} is no service name: lowercase letters, digits and inner dashes",
              file=sys.stderr)
        return USAGE
    target = args.slos / f"{args.service}.yaml"
    if target.exists():
        print(f"slo: {target}: already exists; edit it, or delete it to start again", file=sys.stderr)
        return REFUSED
    found = starter.discover(PrometheusAPI(args.prometheus), args.service) if args.prometheus else None
    text = starter.spec_text(args.service, found)
    load.spec_documents(str(target), text)  # a starter that does not load is our bug, never written
    args.slos.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return OK


def _side(slos: Path, settings: Path) -> plan.Plan:
    """The plan of one side of a diff; a side without specs (before the first SLO) has none."""
    if not slos.is_dir() or not load.spec_files(slos):
        return plan.Plan((), load.settings(settings))
    return pipeline.build_plan(slos, settings)


def _as_given(file: str, given: dict[Path, Path]) -> str:
    """A file of a snapshot of the base as the user named it on the command line."""
    for snapshot, path in given.items():
        if Path(file) == snapshot:
            return str(path)
        if Path(file).is_relative_to(snapshot):
            return str(path / Path(file).relative_to(snapshot))
    return file


def _diff(args: argparse.Namespace) -> int:
    if args.backtest and not args.prometheus:
        args.usage("--backtest needs --prometheus URL: the history is read from there")
    problems = []
    try:
        with tempfile.TemporaryDirectory(prefix="slo-diff-") as folder:
            base = gitref.snapshot(args.base, args.slos, args.settings, Path(folder))
            try:
                old = _side(base.slos, base.settings)
            except InputError as exc:  # problems of the old specs name the ref: `main:slos/x.yaml:3:1: ...`
                given = {base.slos: args.slos, base.settings: args.settings}
                problems += [dataclasses.replace(p, file=f"{args.base}:{_as_given(p.file, given)}")
                             for p in exc.problems]
    except gitref.Refused as exc:
        print(f"slo: diff: {exc}", file=sys.stderr)
        return USAGE
    try:
        new = _side(args.slos, args.settings)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    found = changes.compare(old, new, pipeline.render(old), pipeline.render(new))
    measured, backtests = {}, {}
    if args.prometheus:
        api = PrometheusAPI(args.prometheus, args.timeout)
        try:
            measured = measure.changed(api, new, found)
            if args.backtest:
                backtests = backtest.run(api, backtest.sides(old, new, found), args.backtest, time.time(),
                                         lambda line: print(f"slo: {line}", file=sys.stderr))
        except Unreachable as exc:
            print(f"slo: diff: {exc}", file=sys.stderr)
            return REFUSED
    if args.format == "json":
        sys.stdout.write(review.to_json(found, args.base, base.commit, measured, backtests))
    else:
        sys.stdout.write(review.markdown(found, args.base, measured, backtests))
    return OK


def _calendar(text: str) -> str:
    try:
        report_period.calendar(text, "UTC")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _day(text: str):
    try:
        return report_period.day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _report_period(args: argparse.Namespace, slos: list[plan.SLOPlan], tz: str, now: float) -> report_period.Period:
    """The period asked, in the settings' calendar_timezone: --period, --from and --to, or by default the
    last whole month (the last whole week or quarter where every SLO's period is one)."""
    if args.period and (args.from_day or args.to_day):
        args.usage("--period and --from/--to exclude each other: give a month, or a first and a last day")
    if bool(args.from_day) != bool(args.to_day):
        args.usage("--from and --to go together: the first and the last day of the period, both included")
    try:
        if args.from_day:
            return report_period.days(args.from_day, args.to_day, tz)
    except ValueError as exc:
        args.usage(str(exc))
    if args.period:
        return report_period.calendar(args.period, tz)
    return report_period.last(report.default_window(slos), now, tz)


def _chosen(args: argparse.Namespace, the_plan: plan.Plan) -> list[plan.SLOPlan]:
    """The SLOs of the services of --service and those of --slo, in the plan's order; all without either.
    Names that are none: one usage error naming each, with the closest name."""
    services = [s.name for s in the_plan.services]
    unknown = [f"--service {name!r}: no such service under {args.slos}"
               f"{_choices(difflib.get_close_matches(name, services, 1), services, 'services')}"
               for name in args.services if name not in services]
    unknown += [f"--slo {wanted!r}: no such SLO under {args.slos}{_suggest(wanted, the_plan)}"
                for wanted in args.slo_ids if the_plan.slo(*wanted.partition("/")[::2]) is None]
    if unknown:
        args.usage(" | ".join(unknown))
    everything = not args.services and not args.slo_ids
    return [slo for service in the_plan.services for slo in service.slos
            if everything or service.name in args.services or f"{service.name}/{slo.name}" in args.slo_ids]


def _report(args: argparse.Namespace) -> int:
    now = time.time()
    the_plan = pipeline.build_plan(args.slos, args.settings)
    slos = _chosen(args, the_plan)
    period = _report_period(args, slos, the_plan.settings.calendar_timezone, now)
    state, end = report.state(period, int(now * 1000))
    fetcher = backtest.Fetcher(PrometheusAPI(args.prometheus, args.timeout))
    measured = []
    for slo in slos:
        if state == report.FUTURE:
            measured.append((slo, None))
            continue
        began, asked = time.monotonic(), fetcher.queries
        try:
            measured.append((slo, report_fetch.measure(fetcher, slo, period, end, args.replay_alerts)))
        except Unreachable as exc:
            print(f"slo: report: {exc}", file=sys.stderr)
            return REFUSED
        print(f"slo: report {slo.service}/{slo.name}: {fetcher.queries - asked + report_fetch.INSTANT_QUERIES} queries over {period.label} "
              f"in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    found = report.report(period, int(now * 1000), measured,
                          report.FROM_BACKTEST if args.replay_alerts else report.FROM_ALERTS)
    text = {"json": report_render.json_report, "html": report_html.html_report,
            "markdown": report_render.markdown_report}[args.format](found)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return OK


def _span(text: str) -> int:
    try:
        value = durations.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value < durations.UNITS["h"]:
        raise argparse.ArgumentTypeError(f"must be at least 1h, got {text}")
    return value


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text


def _schema(args: argparse.Namespace) -> int:
    model = Settings if args.settings_schema else Service
    # Serialization mode writes defaults through the fields' serializers, durations as `1m` rather than
    # 60000 ms; every input type declares its own schema, so the shapes are those of validation.
    print(json.dumps(model.model_json_schema(by_alias=True, mode="serialization"), indent=2, sort_keys=True))
    return OK


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="slo", description="Compile SLO specs into Prometheus rules, "
                                                           "alerts and their tests, and push them.")
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = commands.add_parser("compile", help="validate slos/ and write output/")
    _paths(p)
    p.set_defaults(run=_compile)
    p = commands.add_parser("check", help="slo lint, then promtool check rules and promtool test rules on output/")
    _paths(p)
    _lint_options(p)
    p.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1, metavar="N",
                   help="promtool processes at a time (default: the number of CPUs)")
    p.add_argument("--changed", metavar="BASE",
                   help="run the tests only of SLOs whose rules or tests differ from git ref BASE's output")
    p.set_defaults(run=_check)
    p = commands.add_parser("lint", help="checks on queries and rules that promtool does not make")
    _paths(p, out=False)
    _lint_options(p)
    p.set_defaults(run=_lint)
    p = commands.add_parser("explain", help="windows, burn rates and time to fire of one SLO's alert tiers")
    p.add_argument("slo", metavar="SERVICE/SLO")
    p.add_argument("--error-rate", type=_percent, default=Decimal(100), metavar="PERCENT",
                   help="constant error rate to explain (default: 100, a full outage)")
    _paths(p, out=False)
    p.set_defaults(run=_explain)
    p = commands.add_parser("import", help="print a Sloth, Pyrra or OpenSLO spec as a v1 spec")
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(run=_import)
    p = commands.add_parser("init", help="write a commented starter spec of a service into slos/")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("--prometheus", type=_url, metavar="URL",
                   help="propose SLIs from this server's series (counters with a status code label, classic "
                        f"histograms, probe_success); credentials in the URL or in ${TOKEN_ENV}")
    p.add_argument("--slos", type=Path, default=Path("slos"), help="folder of SLO specs (default: slos)")
    p.set_defaults(run=_init)
    p = commands.add_parser("diff", help="Markdown summary of what the SLOs change against a git ref")
    p.add_argument("base", metavar="BASE", help="git ref to compare with (a branch, tag or commit)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown", help="default: markdown")
    p.add_argument("--prometheus", type=_url, metavar="URL",
                   help="Prometheus (or Mimir's Prometheus API) to measure each changed SLI over its period, to "
                        f"warn of a breached objective; credentials in the URL or in ${TOKEN_ENV}")
    p.add_argument("--backtest", type=_span, metavar="SPAN",
                   help="with --prometheus: what each added or changed SLO's alerts, old and new, would have done "
                        "over this span of history (30d)")
    p.add_argument("--timeout", type=push._seconds, default=TIMEOUT_SECONDS, metavar="SECONDS",
                   help=f"timeout of every query to --prometheus (default: {TIMEOUT_SECONDS:g})")
    _paths(p, out=False)
    p.set_defaults(run=_diff, usage=p.error)
    p = commands.add_parser("report", help="whether each SLO met its objective over a month or days, measured by a "
                                           "Prometheus server")
    p.add_argument("--prometheus", type=_url, metavar="URL", required=True,
                   help=f"Prometheus (or Mimir's Prometheus API) holding the SLIs' series and ALERTS; credentials in "
                        f"the URL or in ${TOKEN_ENV}")
    p.add_argument("--period", type=_calendar, metavar="PERIOD",
                   help="the calendar month (2026-11), quarter (2026-Q4) or ISO week (2026-W48) to report, in the "
                        "settings' calendar_timezone (default: the last whole month, or week or quarter where "
                        "every SLO's period is one)")
    p.add_argument("--from", dest="from_day", type=_day, metavar="YYYY-MM-DD", help="first day of the period")
    p.add_argument("--to", dest="to_day", type=_day, metavar="YYYY-MM-DD", help="last day of the period (included)")
    p.add_argument("--service", dest="services", action="append", default=[], metavar="NAME",
                   help="report only this service's SLOs (repeatable; with --slo, both sets)")
    p.add_argument("--slo", dest="slo_ids", action="append", default=[], metavar="SERVICE/NAME",
                   help="report only this SLO (repeatable)")
    p.add_argument("--replay-alerts", action="store_true",
                   help="the alerts that fired, replayed from the raw series through the compiled rules (as slo diff "
                        "--backtest does) instead of read from ALERTS: for a server that did not run the rules")
    p.add_argument("--format", choices=("markdown", "json", "html"), default="markdown",
                   help="default: markdown; html is one self-contained file, for an email")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--timeout", type=push._seconds, default=TIMEOUT_SECONDS, metavar="SECONDS",
                   help=f"timeout of every query to --prometheus (default: {TIMEOUT_SECONDS:g})")
    _paths(p, out=False)
    p.set_defaults(run=_report, usage=p.error)
    p = commands.add_parser("schema", help="JSON Schema of the spec, for editors")
    p.add_argument("--settings", dest="settings_schema", action="store_true",
                   help=f"the schema of {SETTINGS_FILE} instead")
    p.set_defaults(run=_schema)
    p = commands.add_parser("alertmanager", help="the compiled Alertmanager routes and inhibit rules")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("merge", help="print your Alertmanager configuration with the compiled route and "
                                         "inhibit rules merged in")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="your Alertmanager configuration (default: alertmanager.config in the settings)")
    p.add_argument("--out", type=Path, default=Path("output"), help="compiled output folder (default: output)")
    p.add_argument("--settings", type=Path, default=Path(SETTINGS_FILE),
                   help=f"project settings file (default: {SETTINGS_FILE})")
    p.set_defaults(run=_merge, usage=p.error)
    push.add(commands)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return REFUSED
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"slo: {where}{exc.strerror or exc}", file=sys.stderr)
        return REFUSED
    except (Unreachable, write.NotOurs, write.Stale, gitref.Missing, promtool.Missing, alertmanager.Missing) as exc:
        print(f"slo: {exc}", file=sys.stderr)
        return REFUSED
