"""Scan everything a command printed or wrote for secret values, in the forms in which they leak.

Use it wherever a secret is handed to the compiler (environment, URL, settings): pass the
secrets, what was printed, and the folders written (output, logs). Derived secrets, such as the
value of a basic-auth header, are secrets of their own: pass them too.
"""

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Iterable

MIN_SECRET = 8  # shorter values would match by chance


def forms(secret: str) -> dict[str, str]:
    """The distinct ways a secret appears when it leaks: as is, URL-quoted, JSON-escaped, base64."""
    candidates = {"as is": secret, "URL-quoted": urllib.parse.quote(secret, safe=""),
                  "JSON-escaped": json.dumps(secret, ensure_ascii=True)[1:-1],
                  "base64": base64.b64encode(secret.encode()).decode()}
    distinct: dict[str, str] = {}
    for name, form in candidates.items():
        if form not in distinct.values():
            distinct[name] = form
    return distinct


def files(folder: Path) -> dict[str, str]:
    return {str(p): p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file()}


def leaks(secrets: Iterable[str], texts: dict[str, str] | None = None, folders: Iterable[Path] = ()) -> list[str]:
    """Where a secret shows, as `place: form`; the secret itself is never repeated."""
    where = dict(texts or {})
    for folder in folders:
        where.update(files(Path(folder)))
    found = []
    for number, secret in enumerate(secrets):
        assert len(secret) >= MIN_SECRET, "use a longer secret: a short one matches by chance"
        for name, form in forms(secret).items():
            found += [f"{place}: secret #{number} ({name})" for place, text in where.items() if form in text]
    return found


def assert_no_leaks(secrets: Iterable[str], texts: dict[str, str] | None = None,
                    folders: Iterable[Path] = ()) -> None:
    found = leaks(list(secrets), texts, folders)
    assert not found, "secrets leaked:\n" + "\n".join(found)
