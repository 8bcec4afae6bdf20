"""What every converter shares: a v1 document built from a foreign one, whose problems point back.

A converter reads a validated foreign model and writes the equivalent v1 data with `Draft.put`,
naming for each value the path it came from. The resulting `Converted` document is validated
as any v1 spec; a problem it finds (an invalid PromQL query, an objective of 100) is reported at
the line, column and field of the foreign file, never at a place that exists only in memory.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from ..problems import Problem
from ..yamlpos import Document, Path

UNSUPPORTED = "is not supported"
# Sloth writes {{.window}}; other OpenSLO generators {{.Window}}; Go templates allow spaces inside.
_WINDOW = re.compile(r"\{\{-?\s*\.[wW]indow\s*-?\}\}")
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")


@dataclass
class Converted(Document):
    """A v1 document converted from `source`; `origin` maps v1 paths to their document and path."""

    source: Document | None = None
    origin: dict[Path, tuple[Document, Path]] = field(default_factory=dict)  # objects may span documents
    notes: dict[Path, list[str]] = field(default_factory=dict)  # v1 path -> how it was mapped
    format: str = ""
    # v1 path of an SLO -> the time zone its foreign calendar names, and where (the settings hold the zone)
    timezones: dict[Path, tuple[str, Document, Path]] = field(default_factory=dict)

    def source_place(self, path: Path) -> tuple[Document, Path]:
        """Where a v1 path came from: its nearest mapped ancestor, then the rest unchanged."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.origin:
                doc, came_from = self.origin[path[:cut]]
                return doc, came_from + path[cut:]
        return self.source, path

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        doc, came_from = self.source_place(path)
        return doc.problem(came_from, message, at_key=at_key)


class Draft:
    """The v1 data of one service under construction, with where each part came from."""

    def __init__(self, source: Document, format: str):
        self.source, self.format = source, format
        self.data: dict = {}
        self.origin: dict[Path, tuple[Document, Path]] = {}
        self.notes: dict[Path, list[str]] = {}
        self.timezones: dict[Path, tuple[str, Document, Path]] = {}

    def put(self, path: Path, value: object, came_from: Path, doc: Document | None = None) -> None:
        """Set `path` (creating mappings and list items on the way) to `value`, from `came_from` in
        `doc` (by default the draft's source document)."""
        node: object = self.data
        for key, following in zip(path[:-1], path[1:]):
            if isinstance(node, list) and key == len(node):
                node.append({} if not isinstance(following, int) else [])
            elif isinstance(node, dict) and key not in node:
                node[key] = {} if not isinstance(following, int) else []
            node = node[key]
        if isinstance(node, list):
            node.append(value)
        else:
            node[path[-1]] = value
        self.origin[path] = (doc or self.source, came_from)

    def note(self, path: Path, text: str) -> None:
        self.notes.setdefault(path, []).append(text)

    def document(self) -> Converted:
        return Converted(self.source.file, self.data, name=self.source.name, source=self.source,
                         origin=dict(self.origin), notes=dict(self.notes), format=self.format,
                         timezones=dict(self.timezones))


def unsupported(doc: Document, path: Path, feature: str, why: str) -> Problem:
    """One line that names what cannot be honoured, where it is, and why."""
    return doc.problem(path, f"{feature} {UNSUPPORTED}: {why}")


def sloth_query(doc: Document, at: Path, text: str, problems: list[Problem]) -> str | None:
    """A Sloth or OpenSLO query with its window placeholder written as v1's `$window`; None, with a
    problem added, when it holds another placeholder."""
    query = _WINDOW.sub("$window", text)
    other = _PLACEHOLDER.search(query)
    if other:
        problems.append(doc.problem(at, f"unknown placeholder {other.group()}: the only one is {{{{.window}}}} "
                                        f"(or {{{{.Window}}}}), the range of each window"))
        return None
    return query


def percent(value: Decimal) -> int | float:
    """A percentage as a spec writes it: 99.9, and 90 rather than 90.0."""
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def scalar_text(value: object) -> str:
    """Label values as Go's YAML decoder turns them into strings (`true`, `0.2`, `90`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def view(doc: Document, prefix: Path) -> Document:
    """The part of `doc` under `prefix` as a document of its own (one item of a YAML list of specs)."""
    cut = len(prefix)
    data: object = doc.data
    for key in prefix:
        data = data[key]
    return Document(doc.file, data,
                    values={p[cut:]: v for p, v in doc.values.items() if p[:cut] == prefix},
                    keys={p[cut:]: v for p, v in doc.keys.items() if p[:cut] == prefix and len(p) > cut},
                    name=doc.name)
