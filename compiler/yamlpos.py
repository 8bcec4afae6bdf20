"""YAML reading that keeps the line and column of every node, and refuses what is unsafe.

Only the plain YAML types are built (maps, lists, strings, numbers, booleans, null): a tag never
runs code. Duplicate keys are errors, and size, nesting and alias expansion are bounded so that a
hostile file is refused quickly instead of exhausting memory.
"""

import re
from dataclasses import dataclass, field

import yaml

from .problems import InputError, Problem, one_line

MAX_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 32

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
Path = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed file: its data, and where each value and each key stands (1-based line, col)."""

    file: str  # as the user named it: every problem starts with it
    data: object
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    name: str = ""  # the name outputs give it (`slos/checkout.yaml`), the same from wherever it is read

    @property
    def source_name(self) -> str:
        return self.name or self.file

    def place(self, path: Path) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor that exists in the file."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (1, 1))

    def key_place(self, path: Path) -> tuple[int, int]:
        return self.keys.get(path) or self.place(path)

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        line, col = self.key_place(path) if at_key else self.place(path)
        return Problem(self.file, line, col, dotted(path), message)


def dotted(path: Path) -> str:
    """`("slos", 0, "objective")` -> `slos[0].objective`; a key that is no plain name is quoted,
    `kubernetes_labels["app.kubernetes.io/part-of"]`, so that the path reads one way only."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(str(part)):
            quoted = one_line(part).replace('"', '\\"')
            text += f'["{quoted}"]'
        else:
            text += f".{part}" if text else str(part)
    return text


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, file: str):
        self.doc = Document(file, None)
        self.problems: list[Problem] = []
        self.nodes = 0
        self.scalars = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, path: Path, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(Problem(self.doc.file, line, col, dotted(path), message))

    def build(self, node: yaml.Node, path: Path) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge(node, f"more than {MAX_NODES} values once aliases are expanded")
        if len(path) > MAX_DEPTH:
            raise _TooLarge(node, f"nested deeper than {MAX_DEPTH} levels")
        self.doc.values[path] = _mark(node)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            self.fail(node, path, f"YAML tag {node.tag!r} is not allowed; write a plain value")
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag == _TIMESTAMP:
            return node.value  # a date (OpenSLO calendars) is read as the text it is written as
        if node.tag not in _PLAIN_TAGS:
            self.fail(node, path, f"YAML tag {node.tag!r} is not allowed; write a plain value")
            return None
        try:
            return self.scalars.construct_object(node)
        except yaml.YAMLError as exc:
            self.fail(node, path, f"unreadable value: {exc.problem or exc}")
            return None

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.fail(key_node, path, "YAML merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                self.fail(key_node, path, "keys must be plain strings")
                continue
            key = str(key_node.value)
            if key in result:
                first = self.doc.keys[path + (key,)]
                self.fail(key_node, path + (key,), f"duplicate key (first defined at line {first[0]})")
                continue
            self.doc.keys[path + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, path + (key,))
            if not isinstance(value_node, yaml.ScalarNode):
                # A problem with a whole block reads best at the key that opens it.
                self.doc.values[path + (key,)] = _mark(key_node)
        return result


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node, message: str):
        self.node, self.message = node, message


def load(file: str, text: str) -> Document:
    """Parse one YAML document with positions; raises InputError with every problem found."""
    docs = load_all(file, text)
    if len(docs) != 1:
        raise InputError([Problem(file, 1, 1, "", "holds several YAML documents; write one per file")])
    return docs[0]


_INDENTATION = ("; hint: check the indentation: the keys of one mapping start in the same column, "
                "deeper than their parent's key, and the items of a list each start with '- '")
_KEY_WITHOUT_SPACE = re.compile(r"^[\s-]*[A-Za-z_][\w.-]*:[^\s/]")


def _hint(problem: str, text: str, line: int, col: int) -> str:
    """The usual cause of PyYAML's complaint at this place, in words a spec writer knows."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "tab character" in problem:
        return "; hint: indent with spaces: YAML refuses tabs"
    if "mapping values are not allowed" in problem:
        if ": " in here[:col - 1] or here[:col - 1].rstrip().endswith(":"):
            return "; hint: a value holding ': ' must be quoted: key: 'text: more text'"
        return _INDENTATION
    if "could not find expected ':'" in problem or "expected <block end>" in problem or "expected key" in problem \
            or "expected '-' indicator" in problem:
        for number in range(line, 0, -1):
            if _KEY_WITHOUT_SPACE.match(lines[number - 1] if number <= len(lines) else ""):
                return f"; hint: put a space after the ':' on line {number} (key: value)"
        return _INDENTATION
    return ""


def load_all(file: str, text: str) -> list[Document]:
    """Parse every YAML document of a file (`---` separated), each with its own positions."""
    if len(text.encode()) > MAX_BYTES:
        raise InputError([Problem(file, 1, 1, "", f"file is larger than {MAX_BYTES // 1024} KiB")])
    roots = []
    try:
        loader = _Loader(text)
        try:
            while loader.check_node():
                roots.append(loader.get_node())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or ""
        raise InputError([Problem(file, line, col, "", f"invalid YAML: {problem}{_hint(problem, text, line, col)}")])
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, 1, 1, "", f"invalid YAML: {exc}")])
    roots = [r for r in roots if not _empty(r)]
    if not roots:
        raise InputError([Problem(file, 1, 1, "", "file is empty")])
    docs, problems, nodes = [], [], 0
    for root in roots:
        builder = _Builder(file)
        builder.nodes = nodes  # the bound on alias expansion holds for the whole file
        try:
            builder.doc.data = builder.build(root, ())
        except _TooLarge as exc:
            line, col = _mark(exc.node)
            raise InputError([Problem(file, line, col, "", f"refused: {exc.message}")])
        nodes = builder.nodes
        problems += builder.problems
        docs.append(builder.doc)
    if problems:
        raise InputError(problems)
    return docs


def _empty(node: yaml.Node) -> bool:
    # A stray `---` at the end of a file makes an empty document, not a problem.
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value == ""
