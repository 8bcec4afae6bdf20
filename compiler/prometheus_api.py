"""A read-only client of a live Prometheus' HTTP API, for `slo lint` and `slo diff --prometheus URL`.

Credentials come from the URL (`https://user:password@host`, sent as basic auth) or from the
environment (a bearer token); neither is ever printed: messages name the URL without them.
"""

import base64
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

TOKEN_ENV = "SLO_PROMETHEUS_TOKEN"
TIMEOUT_SECONDS = 30.0  # per request: a query over a whole SLO period of raw series takes time

Group = tuple[tuple[str, str], ...]  # the labels of one series of a result, sorted: a group_by group


class Unreachable(Exception):
    """The server could not be asked, or did not answer as the API documents."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PrometheusAPI:
    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS):
        self.timeout = timeout
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        self.base = urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
        self.headers = {}
        if "@" in parts.netloc:
            user, _, password = parts.netloc.rpartition("@")[0].partition(":")
            pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif os.environ.get(TOKEN_ENV):
            self.headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"

    def _get(self, path: str, **params: str) -> dict:
        url = self.base + path + (f"?{urllib.parse.urlencode(params)}" if params else "")
        request = urllib.request.Request(url, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            raise Unreachable(f"Prometheus at {self.base} refused {params.get('query', path)} "
                              f"({exc.code} {_api_error(exc) or exc.reason})", exc.code) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise Unreachable(f"cannot query Prometheus at {self.base}: {getattr(exc, 'reason', exc)}") from None
        if not isinstance(body, dict) or body.get("status") != "success":
            raise Unreachable(f"Prometheus at {self.base} did not answer {path} as its API does")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        """The result of an instant query (`/api/v1/query`), now or at `at` (s)."""
        params = {"query": expr} if at is None else {"query": expr, "time": repr(at)}
        return self._get("/api/v1/query", **params)["result"]

    def series(self, match: str, seconds: int) -> list[dict[str, str]]:
        """The label sets of the series matching `match` that have samples in the last `seconds`."""
        now = time.time()
        return self._get("/api/v1/series", **{"match[]": match, "start": f"{now - seconds:.3f}", "end": f"{now:.3f}"})

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        """The series of a range query (`/api/v1/query_range`), times in seconds."""
        return self._get("/api/v1/query_range", query=expr, start=repr(start), end=repr(end),
                         step=repr(step))["result"]

    def external_labels(self) -> dict[str, str]:
        """The server's `global.external_labels`; none where the server does not publish its config."""
        try:
            text = self._get("/api/v1/status/config")["yaml"]
        except Unreachable as exc:
            if exc.status == 404:  # Mimir, Cortex, Thanos: no config endpoint
                return {}
            raise
        config = yaml.safe_load(text) or {}
        labels = (config.get("global") or {}).get("external_labels") or {}
        return {str(k): str(v) for k, v in labels.items()}


def _api_error(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(exc).get("error", ""))
    except (ValueError, OSError, AttributeError):
        return ""
