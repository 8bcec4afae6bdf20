"""HTTP for every push target: credentials, timeouts, retries with backoff, and messages free of secrets.

A call is retried on 429 (after `Retry-After` when the server sends one), on 5xx, on a timeout and
on a dropped connection, with exponential backoff and jitter. Writes are safe to retry because
every write of ours is idempotent (a dashboard saved with `overwrite`, a rule group replaced whole,
a delete whose 404 means done). 401 and 403 are never retried: the credentials will not change.
"""

import base64
import email.utils
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

import requests
import urllib3

RETRIED = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 5
BACKOFF = 0.5  # seconds before the second attempt; doubles each time
MAX_WAIT = 30.0  # cap of one backoff or Retry-After wait


class Failure(Exception):
    """A call that did not succeed; the message names the call and is safe to print."""


class Denied(Failure):
    """401 or 403: the credentials are wrong, or lack a permission."""


# Up to the last @ of the authority, as URL parsers read it: a password may hold an @ of its own.
_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def scrub(text: str) -> str:
    """Text with the user info (`user:password@`) of every URL in it removed."""
    return _USERINFO.sub("", text)


def usable_url(url: str) -> bool:
    """An http or https URL with a host (and a valid port, if any)."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
    except ValueError:
        return False


def segment(text: str) -> str:
    """One path segment: a namespace or group name never splits or escapes the path."""
    return quote(text, safe="")


@dataclass(frozen=True)
class Credentials:
    """Read from the environment only; `env_names` says where they came (or would come) from, for messages."""

    headers: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    env_names: str = ""

    @property
    def present(self) -> bool:
        return bool(self.headers or self.basic)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be printed: the token, the password, and the basic header that carries it."""
        values = [v.partition(" ")[2] for v in self.headers.values()]
        if self.basic:
            values += [self.basic[1], base64.b64encode(":".join(self.basic).encode()).decode()]
        return tuple(v for v in values if v)


def credentials(token_var: str, user_var: str, password_var: str) -> Credentials:
    """A bearer token, else a user and password, else none."""
    token = os.environ.get(token_var, "")
    if token:
        return Credentials({"Authorization": f"Bearer {token}"}, None, token_var)
    user, password = os.environ.get(user_var, ""), os.environ.get(password_var, "")
    if user or password:
        return Credentials({}, (user, password), f"{user_var}/{password_var}")
    return Credentials(env_names=f"{token_var} or {user_var}/{password_var}")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """Calls to one server. Thread-safe: each call opens its own request."""

    def __init__(self, base: str, what: str, creds: Credentials, headers: dict[str, str] | None = None,
                 verify: bool | str = True, timeout: float = 10.0):
        self.base = base.rstrip("/")
        self.shown = scrub(self.base)  # the base URL as messages may print it
        self.what = what  # "Grafana", "the ruler": names the server in messages
        self.creds = creds
        parts = urlsplit(self.base)
        # Credentials in the URL are sent as basic auth (by requests) and are as secret as the environment's.
        in_url = Credentials(basic=(unquote(parts.username or ""), unquote(parts.password or ""))) \
            if parts.password else Credentials()
        self.secrets = creds.secrets + in_url.secrets
        self.headers = {**(headers or {}), **creds.headers}
        self.verify = verify
        if verify is False:  # asked for in so many words: one warning per call would only bury the report
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.timeout = timeout

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return scrub(text)

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs) -> Response:
        """The response when its status is in `expect`; Failure (or Denied) otherwise, after retries."""
        where = f"{method} {path}"
        headers = {**self.headers, **kwargs.pop("headers", {})}
        problem = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(wait)
            wait = min(MAX_WAIT, BACKOFF * 2 ** attempt * (1 + random.random() / 2))
            try:
                raw = requests.request(method, self.base + path, headers=headers,
                                       auth=self.creds.basic, verify=self.verify, timeout=self.timeout,
                                       allow_redirects=False, **kwargs)
            except requests.exceptions.SSLError as exc:
                reason = ("its certificate could not be verified; name the CA that signed it with --ca-file"
                          if "CERTIFICATE_VERIFY_FAILED" in str(exc) else "the TLS handshake failed")
                raise Failure(f"{where}: TLS error talking to {self.what}: {reason}") from None
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                problem = "timed out" if isinstance(exc, requests.Timeout) else "connection failed or dropped"
                self._retrying(where, problem, attempt, wait)
                continue
            # A URL requests cannot use (urllib3 lets some host errors through as its own): asking again will not help.
            except (requests.RequestException, urllib3.exceptions.LocationValueError) as exc:
                raise Failure(self.redact(f"{where}: cannot call {self.what} at {self.shown}: {exc}")) from None
            response = Response(raw.status_code, raw.content, dict(raw.headers))
            if response.status in expect:
                return response
            if response.status in (401, 403):
                what = "refused the credentials" if response.status == 401 else "denied the permission"
                hint = (f"check {self.creds.env_names}" if self.creds.present else
                        f"no credentials were set{' in ' + self.creds.env_names if self.creds.env_names else ''}")
                said = excerpt(response)
                raise Denied(self.redact(f"{self.what} {what} ({response.status} on {where}{': ' * bool(said)}{said}): "
                                         f"{hint}"))
            if response.status not in RETRIED:
                raise Failure(self.redact(f"{where}: {response.status} {excerpt(response)}".rstrip()))
            problem = f"{response.status} {excerpt(response)}".rstrip()
            wait = max(wait, _retry_after(response) or 0)
            self._retrying(where, problem, attempt, wait)
        raise Failure(self.redact(f"{where}: {problem} (gave up after {ATTEMPTS} attempts at {self.shown})"))

    def _retrying(self, where: str, problem: str, attempt: int, wait: float) -> None:
        """Progress while retrying, so that a slow or absent server is never a silent wait."""
        if attempt + 1 < ATTEMPTS:
            print(self.redact(f"{self.what} at {self.shown}: {where}: {problem}; retry {attempt + 1} of "
                              f"{ATTEMPTS - 1} in {wait:.1f}s"), file=sys.stderr, flush=True)


def excerpt(response: Response) -> str:
    """The server's own words, shortened: a JSON `message`/`error` field or the start of the body."""
    text = response.text().strip()
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or text)
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _retry_after(response: Response) -> float | None:
    """Seconds from a `Retry-After` header (seconds or an HTTP date), capped; None when absent."""
    value = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(MAX_WAIT, max(0.0, seconds))
