"""Writing artifacts: all or nothing, byte-identical for the same input, stale files removed."""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from . import names, serialize
from .problems import InputError, Problem

MANIFEST = "manifest.json"
GENERATOR = "slo-compiler"
VERSION = 2  # 2: each entry has its kind, service and SLO


class Stale(Exception):
    """The output folder is not what the current specs and settings compile to."""


class NotOurs(Exception):
    """The output folder holds something the compiler did not write: replacing it would lose it."""


def _check_replaceable(out: Path) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise NotOurs(f"{out}: exists and is not a folder; choose another --out")
    if not any(out.iterdir()):
        return
    try:
        generator = json.loads((out / MANIFEST).read_text(encoding="utf-8")).get("generator")
    except (OSError, ValueError, AttributeError):
        generator = None
    if generator != GENERATOR:
        raise NotOurs(f"{out}: is a folder the compiler did not write (no {MANIFEST} of ours), and compiling "
                      f"replaces the whole folder; choose another --out or empty it")


def manifest(artifacts: dict[str, tuple[bytes, str]]) -> bytes:
    """Every artifact with its kind (and service and SLO, see names.LAYOUT), hash and source spec."""
    entries = [{**names.layout_entry(path), "path": path, "sha256": _sha256(data), "source": source}
               for path, (data, source) in sorted(artifacts.items())]
    return serialize.to_json({"artifacts": entries, "generator": GENERATOR, "version": VERSION})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entries(data: bytes) -> list[dict] | None:
    """The entries of a manifest, None when it is not a manifest of this version."""
    try:
        found = json.loads(data)
    except ValueError:
        return None
    if not isinstance(found, dict) or found.get("generator") != GENERATOR or found.get("version") != VERSION:
        return None
    return found["artifacts"]


def _written(out: Path) -> list[dict] | None:
    try:
        return entries((out / MANIFEST).read_bytes())
    except OSError:
        return None


def read_manifest(out: Path) -> list[dict]:
    """The entries of the manifest of an output folder; Stale when there is none of this version."""
    found = _written(out)
    if found is None:
        raise Stale(f"{out}: no {MANIFEST} of this compiler version; run `slo compile`")
    return found


def listed(out: Path, *kinds: str) -> list[str]:
    """The paths of the files of these kinds in the output folder's manifest; InputError when none."""
    found = _written(out)
    paths = sorted(e["path"] for e in found or () if e["kind"] in kinds)
    if not paths:
        what = f"lists no {' or '.join(kinds)} files" if found is not None else "is missing or from another version"
        raise InputError([Problem(str(out / MANIFEST), 1, 1, "", f"{what}; run `slo compile` first")])
    return paths


def check_fresh(out: Path, artifacts: dict[str, tuple[bytes, str]]) -> list[dict]:
    """The manifest entries of `out` when it holds exactly these artifacts, else Stale with one line."""
    written = read_manifest(out)
    if (out / MANIFEST).read_bytes() != manifest(artifacts):
        expected = {p: _sha256(data) for p, (data, _) in artifacts.items()}
        found = {e["path"]: e["sha256"] for e in written}
        differ = sorted(p for p in expected.keys() | found.keys() if expected.get(p) != found.get(p)) or [MANIFEST]
        raise Stale(_stale(out, differ, "differs from what the specs and settings compile to"))
    edited = []
    for entry in written:
        try:
            if _sha256((out / entry["path"]).read_bytes()) != entry["sha256"]:
                edited.append(entry["path"])
        except OSError:
            edited.append(entry["path"])
    if edited:
        raise Stale(_stale(out, edited, "was changed or removed since it was compiled"))
    return written


def _stale(out: Path, paths: list[str], what: str) -> str:
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return f"{out}: output is stale, {shown} {what}; run `slo compile`"


def write(out: Path, artifacts: dict[str, tuple[bytes, str]]) -> None:
    """Replace `out` with exactly these artifacts and their manifest.

    Files are written into a sibling temporary folder that is then swapped in, so a failure
    leaves the previous output whole and no reader sees half an output.
    """
    out = out.resolve()
    _check_replaceable(out)
    for path in artifacts:
        target = (out / path).resolve()
        if out not in target.parents:
            raise ValueError(f"artifact path escapes the output folder: {path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files = {**{p: data for p, (data, _) in artifacts.items()}, MANIFEST: manifest(artifacts)}
        for path, data in sorted(files.items()):
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        staging.chmod(0o755)
        if not out.exists():
            os.replace(staging, out)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        try:
            os.replace(out, old / out.name)
            try:
                os.replace(staging, out)
            except BaseException:
                os.replace(old / out.name, out)
                raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
