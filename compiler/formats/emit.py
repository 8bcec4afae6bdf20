"""`slo import`: a converted spec printed as v1 YAML, with comments saying what was mapped how.

Each value that came from a differently named place says where (`# from spec.target`), and each
decision a converter took (a plugin dropped, a default that differs) stands above the key it
concerns. PyYAML cannot write comments, hence this small printer for the plain data of a spec.
"""

import yaml

from .. import names, plan
from ..spec import Service
from ..yamlpos import Document, Path, dotted
from .convert import Converted

INDENT = "  "


def _scalar(value: object) -> str:
    """One scalar as YAML writes it on one line: plain where that reads back the same, else quoted."""
    text = yaml.safe_dump(value, width=1 << 16, allow_unicode=True, default_flow_style=True)
    return text.removesuffix("\n").removesuffix("\n...").rstrip("\n")


def _severities(service: Service) -> dict[Path, list[str]]:
    """A note per SLO: the severity each tier's alerts get, once every label is applied."""
    notes = {}
    for i, slo in enumerate(service.slos):
        tiers = [f"{tier} alerts {dict(plan.route_labels(service, i, tier))[names.SEVERITY]}"
                 if getattr(slo.alerting, tier) is not None else f"{tier} alerts off" for tier in ("page", "ticket")]
        notes[("slos", i)] = [f"{names.SEVERITY}: {', '.join(tiers)}"]
    return notes


class _Printer:
    def __init__(self, doc: Document, notes: dict[Path, list[str]]):
        self.doc = doc
        self.notes = notes
        self.lines: list[str] = []

    def _comments(self, path: Path, indent: str) -> None:
        for note in self.notes.get(path, []):
            self.lines.append(f"{indent}# {note}")

    def _origin(self, path: Path) -> str:
        if not isinstance(self.doc, Converted) or path not in self.doc.origin:
            return ""
        source = dotted(self.doc.origin[path][1])
        return f"  # from {source}" if source and source != dotted(path) else ""

    def mapping(self, data: dict, path: Path, indent: str, first_prefix: str = "") -> None:
        for i, (key, value) in enumerate(data.items()):
            here = path + (key,)
            first = bool(i == 0 and first_prefix)
            lead = first_prefix if first else indent
            # A comment above a list item's first key stands at the item's dash, where YAML readers look.
            self._comments(here, first_prefix.removesuffix("- ") if first else indent)
            if isinstance(value, dict) and value:
                self.lines.append(f"{lead}{key}:{self._origin(here)}")
                self.mapping(value, here, indent + INDENT)
            elif isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
                self.lines.append(f"{lead}{key}:{self._origin(here)}")
                for j, item in enumerate(value):
                    self._comments(here + (j,), indent + INDENT)
                    self.mapping(item, here + (j,), indent + INDENT * 2, first_prefix=indent + INDENT + "- ")
            elif isinstance(value, list):
                self.lines.append(f"{lead}{key}: [{', '.join(map(_scalar, value))}]{self._origin(here)}")
            elif isinstance(value, dict):
                self.lines.append(f"{lead}{key}: {{}}{self._origin(here)}")
            elif isinstance(value, str) and "\n" in value:
                chomp = "" if value.endswith("\n") else "-"
                self.lines.append(f"{lead}{key}: |{chomp}{self._origin(here)}")
                self.lines += [f"{indent}{INDENT}{line}" if line else "" for line in value.rstrip("\n").split("\n")]
            else:
                self.lines.append(f"{lead}{key}: {_scalar(value)}{self._origin(here)}")


def spec(doc: Document, service: Service) -> str:
    """One v1 spec as YAML text, with a header naming where it came from."""
    notes = {**doc.notes} if isinstance(doc, Converted) else {}
    for path, more in _severities(service).items():
        notes[path] = notes.get(path, []) + more
    printer = _Printer(doc, notes)
    what = doc.format if isinstance(doc, Converted) else "a v1 spec"
    printer.lines.append(f"# Converted by slo import from {doc.file} ({what}).")
    printer.mapping(doc.data, (), "")
    return "\n".join(printer.lines) + "\n"
