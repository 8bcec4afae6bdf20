"""Writing artifacts: all or nothing, byte-identical for the same input, stale files removed."""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from . import serialize

MANIFEST = "manifest.json"
GENERATOR = "slo-compiler"


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
    entries = [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "source": source}
               for path, (data, source) in sorted(artifacts.items())]
    return serialize.to_json({"artifacts": entries, "generator": GENERATOR, "version": 1})


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
