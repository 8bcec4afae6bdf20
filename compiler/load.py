"""Reading spec and settings files into validated models, with every problem at its file:line:col."""

import difflib
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from . import formats, yamlpos
from .problems import InputError, Problem
from .fields import FieldError
from .spec import Service, Settings

SETTINGS_FILE = "slo-settings.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")


def _model_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The model class that holds the last key of `path`, following fields, lists and dicts."""
    current: object = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: object) -> object:
    """The model inside `X | None`, `list[X]`, `Annotated[X, ...]`, or the annotation itself."""
    for arg in typing.get_args(annotation) or ():
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def _message(error: dict, doc: yamlpos.Document, model: type[BaseModel]) -> tuple[tuple, str, bool]:
    """(path, message, at_key) for one pydantic error."""
    path = tuple(error["loc"])
    kind = error["type"]
    if kind == "value_error" and isinstance(error["ctx"]["error"], FieldError):
        return path + error["ctx"]["error"].path, str(error["ctx"]["error"]), False
    if path and path[-1] == "[key]":  # a dict key itself is wrong: point at the key
        return path[:-1], _text(error, kind), True
    if kind == "extra_forbidden":
        holder = _model_at(model, path[:-1])
        known = [f.alias or n for n, f in holder.model_fields.items()] if holder else []
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (f"; known keys: {', '.join(known)}" if known else "")
        return path, f"unknown key{hint}", True
    return path, _text(error, kind), False


def _text(error: dict, kind: str) -> str:
    if kind == "missing":
        return "is required"
    if kind in ("value_error", "assertion_error"):
        return str(error["ctx"]["error"])
    if kind == "too_short":
        return f"must list at least {error['ctx']['min_length']}, got none"
    if kind == "too_long":
        return f"must list at most {error['ctx']['max_length']}, got {error['ctx']['actual_length']}"
    message = error["msg"][0].lower() + error["msg"][1:]
    message = message.replace("input should be", "must be")
    if kind in ("model_type", "dict_type", "list_type"):
        return f"{message}, got {type(error['input']).__name__}"
    return f"{message}, got {error['input']!r}"


def validate(doc: yamlpos.Document, model: type[BaseModel]) -> BaseModel:
    """The model of a parsed document; InputError naming each wrong field at its place."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path, message, at_key = _message(error, doc, model)
            problems.append(doc.problem(path, message, at_key=at_key))
        raise InputError(problems) from None


def read(path: Path, label: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError([Problem(label, 1, 1, "", "file is not UTF-8 text")]) from None
    except OSError as exc:
        raise InputError([Problem(label, 1, 1, "", f"cannot read: {exc.strerror}")]) from None


def _mapping(doc: yamlpos.Document) -> yamlpos.Document:
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), f"must be a mapping of keys, got {type(doc.data).__name__}")])
    return doc


def load_file(path: Path, label: str, model: type[BaseModel]) -> tuple[yamlpos.Document, BaseModel]:
    doc = _mapping(yamlpos.load(label, read(path, label)))
    return doc, validate(doc, model)


def spec_documents(label: str, text: str) -> list[tuple[yamlpos.Document, Service]]:
    """The services of one spec file: v1 documents, or Sloth, Pyrra and OpenSLO ones converted."""
    docs, problems = formats.to_v1(yamlpos.load_all(label, text), validate)
    loaded = []
    for doc in docs:
        try:
            loaded.append((doc, validate(_mapping(doc), Service)))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return loaded


def settings(path: Path) -> Settings:
    """The project settings; defaults for everything when the file is absent or empty."""
    if not path.exists() or _only_comments(path):
        return Settings()
    return load_file(path, path.name, Settings)[1]


def _only_comments(path: Path) -> bool:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return all(not line.strip() or line.lstrip().startswith("#") for line in lines)


def spec_files(slos_dir: Path) -> list[Path]:
    return sorted(p for p in slos_dir.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())


def specs(slos_dir: Path) -> list[tuple[yamlpos.Document, Service]]:
    """Every spec under `slos_dir`; InputError with the problems of all files together."""
    if not slos_dir.is_dir():
        raise InputError([Problem(str(slos_dir), 1, 1, "", "is not a folder of SLO specs")])
    problems, loaded = [], []
    files = spec_files(slos_dir)
    for path in files:
        label = f"{slos_dir.name}/{path.name}"
        try:
            loaded += spec_documents(label, read(path, label))
        except InputError as exc:
            problems.extend(exc.problems)
    if not loaded and not problems:
        problems.append(Problem(str(slos_dir), 1, 1, "", "holds no SLOs: its files define other objects only"
                                if files else "holds no .yaml spec files"))
    if problems:
        raise InputError(problems)
    return loaded

