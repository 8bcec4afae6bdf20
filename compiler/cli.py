"""The `slo` command line; its exit codes are in `exits`."""

import argparse
import dataclasses
import json
import sys
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from . import __version__, changes, explain, gitref, lint, load, measure, names, pipeline, plan, promtool, review, write
from .exits import OK, REFUSED, USAGE
from .formats import emit
from .load import SETTINGS_FILE
from .problems import InputError, Problem
from .prometheus_api import TOKEN_ENV, PrometheusAPI, Unreachable
from .push import commands as push
from .spec import Service, Settings


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
    specs, the_plan = pipeline.specs_and_plan(args.slos, args.settings)
    server = PrometheusAPI(args.prometheus) if args.prometheus else None
    findings = lint.lint(specs, the_plan, server, args.settings.name)
    for finding in findings:
        print(finding, file=sys.stderr)
    failing = any(f.severity == lint.ERROR for f in findings) or (args.strict and findings)
    return REFUSED if failing else OK


def _check(args: argparse.Namespace) -> int:
    linted = _lint(args)
    try:
        failures = promtool.check(args.out)
    except promtool.Missing as exc:
        print(f"slo: {exc}", file=sys.stderr)
        return REFUSED
    for failure in failures:
        print(failure, file=sys.stderr)
    return REFUSED if failures or linted else OK


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not value.is_finite() or not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 100, got {text}")
    return value


def _explain(args: argparse.Namespace) -> int:
    service, _, name = args.slo.partition("/")
    the_plan = pipeline.build_plan(args.slos, args.settings)
    found = the_plan.slo(service, name)
    if found is None:
        print(f"slo: no SLO {args.slo!r} under {args.slos} (write SERVICE/SLO)", file=sys.stderr)
        return REFUSED
    sys.stdout.write(explain.explain(found, args.error_rate, the_plan.settings.rule_interval,
                                     the_plan.settings.scrape_interval))
    return OK


def _import(args: argparse.Namespace) -> int:
    label = str(args.file)
    docs = load.spec_documents(label, load.read(args.file, label))
    if not docs:
        raise InputError([Problem(label, 1, 1, "", "holds no SLOs: its objects define none")])
    sys.stdout.write("---\n".join(emit.spec(doc) for doc, _ in docs))
    return OK


def _side(slos: Path, settings: Path) -> plan.Plan:
    """The plan of one side of a diff; a side without specs (before the first SLO) has none."""
    if not slos.is_dir() or not load.spec_files(slos):
        return plan.Plan((), load.settings(settings))
    return pipeline.build_plan(slos, settings)


def _diff(args: argparse.Namespace) -> int:
    problems = []
    try:
        with tempfile.TemporaryDirectory(prefix="slo-diff-") as folder:
            base = gitref.snapshot(args.base, args.slos, args.settings, Path(folder))
            try:
                old = _side(base.slos, base.settings)
            except InputError as exc:  # problems of the old specs name the ref: `main:slos/x.yaml:3:1: ...`
                problems += [dataclasses.replace(p, file=f"{args.base}:{p.file}") for p in exc.problems]
    except gitref.Refused as exc:
        print(f"slo: diff: {exc}", file=sys.stderr)
        return USAGE
    except gitref.Missing as exc:
        print(f"slo: {exc}", file=sys.stderr)
        return REFUSED
    try:
        new = _side(args.slos, args.settings)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    found = changes.compare(old, new, pipeline.render(old), pipeline.render(new))
    measured = {}
    if args.prometheus:
        try:
            measured = measure.changed(args.prometheus, new, found)
        except Unreachable as exc:
            print(f"slo: diff: {exc}", file=sys.stderr)
            return REFUSED
    if args.format == "json":
        sys.stdout.write(review.to_json(found, args.base, base.commit, measured))
    else:
        sys.stdout.write(review.markdown(found, args.base, measured))
    return OK


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
    p = commands.add_parser("diff", help="Markdown summary of what the SLOs change against a git ref")
    p.add_argument("base", metavar="BASE", help="git ref to compare with (a branch, tag or commit)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown", help="default: markdown")
    p.add_argument("--prometheus", type=_url, metavar="URL",
                   help="Prometheus to measure each changed SLI over its period, to warn of a breached objective")
    _paths(p, out=False)
    p.set_defaults(run=_diff)
    p = commands.add_parser("schema", help="JSON Schema of the spec, for editors")
    p.add_argument("--settings", dest="settings_schema", action="store_true",
                   help=f"the schema of {SETTINGS_FILE} instead")
    p.set_defaults(run=_schema)
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
    except (Unreachable, write.NotOurs) as exc:
        print(f"slo: {exc}", file=sys.stderr)
        return REFUSED
