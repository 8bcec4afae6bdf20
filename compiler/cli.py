"""The `slo` command line. Exit codes: 0 success, 1 the input or a check said no, 2 wrong usage."""

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from . import __version__, durations, pipeline, plan, promtool, write
from .load import SETTINGS_FILE
from .problems import InputError
from .push import commands as push
from .spec import Service, Settings

OK, REFUSED, USAGE = 0, 1, 2


def _paths(parser: argparse.ArgumentParser, out: bool = True) -> None:
    parser.add_argument("--slos", type=Path, default=Path("slos"), help="folder of SLO specs (default: slos)")
    parser.add_argument("--settings", type=Path, default=Path(SETTINGS_FILE),
                        help=f"project settings file (default: {SETTINGS_FILE}; absent means defaults)")
    if out:
        parser.add_argument("--out", type=Path, default=Path("output"), help="output folder (default: output)")


def _compile(args: argparse.Namespace) -> int:
    artifacts = pipeline.render(pipeline.build_plan(args.slos, args.settings))
    write.write(args.out, artifacts)
    return OK


def _check(args: argparse.Namespace) -> int:
    try:
        failures = promtool.check(args.out)
    except promtool.Missing as exc:
        print(f"slo: {exc}", file=sys.stderr)
        return REFUSED
    for failure in failures:
        print(failure, file=sys.stderr)
    return REFUSED if failures else OK


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 100, got {text}")
    return value


def explain(slo: plan.SLOPlan, error_percent: Decimal) -> str:
    """Per tier: windows, burn rate, and what happens at a constant error ratio."""
    ratio = error_percent / 100
    budget_time = int(slo.budget * slo.period)
    lines = [f"{slo.service}/{slo.name}: {plan.number(slo.objective_percent)}% over {slo.period_text}, "
             f"error budget {plan.number(slo.budget * 100)}% ({durations.human(budget_time)} of full outage)",
             f"SLI: {slo.sli.kind}; measured over {slo.base_text} from raw series, longer windows derived",
             f"at {plan.number(error_percent)}% errors (burn rate {plan.number(ratio / slo.budget)}), the budget "
             f"is gone in {durations.human(int(budget_time / ratio))}", ""]
    header = ("tier", "long", "short", "burn rate", "for", "budget spent", "fires after", "budget spent by then")
    rows = [header]
    for pair in slo.pairs:
        fire = plan.time_to_fire(pair, slo.budget, ratio)
        spent = "" if fire is None else f"{plan.budget_spent(fire, ratio, slo.budget, slo.period) * 100:.2f}%"
        rows.append((pair.tier, pair.long_text, pair.short_text, plan.number(pair.burn_rate),
                     durations.to_text(pair.for_) if pair.for_ else "-", f"{plan.number(pair.budget_spent)}%",
                     "never" if fire is None else durations.human(fire), spent or "-"))
    if not slo.pairs:
        return "\n".join(lines + ["no alert tiers are enabled"]) + "\n"
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def _explain(args: argparse.Namespace) -> int:
    service, _, name = args.slo.partition("/")
    found = pipeline.build_plan(args.slos, args.settings).slo(service, name)
    if found is None:
        print(f"slo: no SLO {args.slo!r} under {args.slos} (write SERVICE/SLO)", file=sys.stderr)
        return REFUSED
    sys.stdout.write(explain(found, args.error_rate))
    return OK


def _schema(args: argparse.Namespace) -> int:
    model = Settings if args.settings_schema else Service
    print(json.dumps(model.model_json_schema(by_alias=True), indent=2, sort_keys=True))
    return OK


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="slo", description="Compile SLO specs into Prometheus rules, "
                                                           "alerts and their tests, and push them.")
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = commands.add_parser("compile", help="validate slos/ and write output/")
    _paths(p)
    p.set_defaults(run=_compile)
    p = commands.add_parser("check", help="promtool check rules and promtool test rules on output/")
    p.add_argument("--out", type=Path, default=Path("output"), help="output folder (default: output)")
    p.set_defaults(run=_check)
    p = commands.add_parser("explain", help="windows, burn rates and time to fire of one SLO's alert tiers")
    p.add_argument("slo", metavar="SERVICE/SLO")
    p.add_argument("--error-rate", type=_percent, default=Decimal(100), metavar="PERCENT",
                   help="constant error rate to explain (default: 100, a full outage)")
    _paths(p, out=False)
    p.set_defaults(run=_explain)
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
        print(f"slo: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return REFUSED
