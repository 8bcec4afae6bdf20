"""Specs written for Sloth, Pyrra and OpenSLO, recognised by their keys and converted to v1.

A document is recognised by its `version` key (Sloth's prometheus/v1) or its `apiVersion` and
`kind` keys, never by patterns in the raw text; a document with neither is a v1 spec. A YAML
list of objects with `apiVersion` (as the OpenSLO SDK writes them) is read as one object per item.
"""

from typing import Callable

from pydantic import BaseModel

from ..problems import InputError, Problem
from ..yamlpos import Document
from . import openslo, pyrra, sloth
from .convert import Converted, view

Validate = Callable[[Document, type[BaseModel]], BaseModel]

_OBJECTS = {(sloth.API_VERSION, sloth.KIND): sloth.ServiceLevel,
            (pyrra.API_VERSION, pyrra.KIND): pyrra.ServiceLevelObjective,
            **openslo.MODELS}


def _objects(doc: Document) -> list[Document]:
    """The documents of a parsed YAML document: itself, or each item of a list of objects."""
    data = doc.data
    if isinstance(data, list) and data and all(isinstance(item, dict) and "apiVersion" in item for item in data):
        return [view(doc, (i,)) for i in range(len(data))]
    return [doc]


def _known() -> str:
    return ", ".join(f"{api} {kind}" for api, kind in _OBJECTS) + f", version: {sloth.PROMETHEUS_V1}"


def model(doc: Document) -> type[BaseModel] | None:
    """The model of a foreign document, None for a v1 spec; InputError for an unknown version or kind."""
    data = doc.data
    if not isinstance(data, dict):
        return None
    if "version" in data:
        if data["version"] != sloth.PROMETHEUS_V1:
            raise InputError([doc.problem(("version",), f"unknown spec version {data['version']!r}; "
                                                        f"Sloth specs are version: {sloth.PROMETHEUS_V1}")])
        return sloth.PrometheusV1
    if "apiVersion" not in data:
        return None
    api, kind = data.get("apiVersion"), data.get("kind")
    found = _OBJECTS.get((api, kind)) or (pyrra.ServiceLevelObjective if pyrra.bare(data) else None)
    if found is None:
        near = any(a == api or k == kind for a, k in _OBJECTS)
        if not near and isinstance(kind, str) and isinstance(data.get("metadata"), dict):
            # Refused, not skipped: a mistyped apiVersion or kind of an SLO object must not go unnoticed.
            raise InputError([doc.problem(("kind",), f"{kind} {data['metadata'].get('name', '')!r} ({api}) is not "
                                                     f"an SLO object: files here hold SLO specs only; move it to "
                                                     f"a manifest of its own")])
        where = ("kind",) if any(a == api for a, _ in _OBJECTS) else ("apiVersion",)
        raise InputError([doc.problem(where, f"apiVersion {api!r} with kind {kind!r} is not a known spec; "
                                             f"known: {_known()}")])
    return found


def to_v1(docs: list[Document], validate: Validate) -> tuple[list[Document], list[Problem]]:
    """The v1 documents of one file, and the problems of those that could not be converted."""
    problems: list[Problem] = []
    out: list[Document] = []
    open_slo: list[tuple[Document, BaseModel]] = []
    for doc in (part for d in docs for part in _objects(d)):
        try:
            foreign = model(doc)
            if foreign is None:
                out.append(doc)
                continue
            spec = validate(doc, foreign)
        except InputError as exc:
            problems += exc.problems
            continue
        if isinstance(spec, openslo.Object):
            open_slo.append((doc, spec))
            continue
        draft, found = (pyrra if isinstance(spec, pyrra.ServiceLevelObjective) else sloth).convert(doc, spec)
        problems += found
        if not found:
            out.append(draft.document())
    drafts, found = openslo.convert(open_slo)
    problems += found
    out += [draft.document() for draft in drafts]
    return out, problems


__all__ = ["Converted", "model", "to_v1"]
