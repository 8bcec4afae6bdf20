"""A local HTTP server on 127.0.0.1 for push tests: every exchange logged, faults injected on demand.

The server is a stand-in for an API we cannot run here (Grafana, a Mimir ruler); what it answers
is decided by an `app` that follows the published contract of that API.
"""

import contextlib
import random
import re
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response: bytes = b""
    fault: str = ""  # the fault injected instead of the app's answer, if any
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


Reply = tuple[int, dict[str, str], bytes]
App = Callable[[Exchange], Reply]


def text(code: int, message: str) -> Reply:
    return code, {"Content-Type": "text/plain; charset=utf-8"}, (message + "\n").encode()


def refused(exchange: Exchange, token: str | None) -> Reply | None:
    """What a Mimir/Cortex endpoint answers a request without the bearer token or the tenant header."""
    if token and exchange.header("Authorization") != f"Bearer {token}":
        return text(401, "Unauthorized")
    if not exchange.header("X-Scope-OrgID"):
        return text(401, "no org id")
    return None


@dataclass
class Faults:
    """Shares of requests that fail: 503, 429 (with Retry-After), slow, or dropped connections.

    `dropped_after` drops the connection after the app has handled the request: the change is made,
    the answer lost, as when a proxy cuts a connection. Whether a request fails depends only on the
    request and on how often it was sent before, not on the order in which concurrent requests
    arrive, so an outcome never depends on thread scheduling. `limit` caps the faults of one request.
    """

    error: float = 0.0
    throttle: float = 0.0
    slow: float = 0.0
    dropped: float = 0.0
    dropped_after: float = 0.0
    delay: float = 1.0
    retry_after: str = "0"
    seed: int = 1
    limit: int | None = None
    _sent: Counter = field(init=False, default_factory=Counter)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def pick(self, exchange: Exchange) -> str:
        # A rule group is known by its name, so the faults a push meets do not change with its rules' text.
        group = re.search(rb"^name: (.*)$", exchange.body, re.M)
        request = repr((exchange.method, exchange.path, sorted(exchange.query.items()),
                        group.group(1) if group else exchange.body))
        with self._lock:
            attempt = self._sent[request]
            self._sent[request] += 1
        if self.limit is not None and attempt >= self.limit:
            return ""
        roll = random.Random(f"{self.seed} {attempt} {request}").random()
        for name in ("error", "throttle", "slow", "dropped", "dropped_after"):
            share = getattr(self, name)
            if roll < share:
                return name
            roll -= share
        return ""


class Server:
    def __init__(self, app: App):
        self.app = app
        self.faults = Faults()
        self.log: list[Exchange] = []
        self.crashes: list[str] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self.url = ""

    def writes(self) -> list[Exchange]:
        """Requests that changed something: answered writes, including those whose answer was lost."""
        return [e for e in self.log if e.method in ("POST", "PUT", "DELETE") and e.fault in ("", "slow", "dropped_after")
                and e.status < 300]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet test output
                pass

            def _handle(self) -> None:
                # Counted until the answer is ready: a client may send its next request once it reads it.
                server._enter()
                try:
                    answer = self._exchange()
                finally:
                    server._leave()
                if answer is None:
                    self.close_connection = True
                    return
                status, headers, data = answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _exchange(self) -> tuple[int, dict, bytes] | None:
                """The answer to the request, None for a connection dropped without one."""
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                exchange = Exchange(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
                with server._lock:
                    server.log.append(exchange)
                exchange.fault = server.faults.pick(exchange)
                if exchange.fault == "slow":
                    time.sleep(server.faults.delay)
                if exchange.fault == "dropped":
                    return None
                if exchange.fault == "error":
                    status, headers, data = 503, {"Content-Type": "application/json"}, b'{"message":"unavailable"}'
                elif exchange.fault == "throttle":
                    status, headers, data = 429, {"Retry-After": server.faults.retry_after}, b"too many requests"
                else:
                    try:
                        status, headers, data = server.app(exchange)
                    except Exception as exc:  # a bug of the stand-in: fail the test, not the connection
                        server.crashes.append(f"{exchange.method} {exchange.path}: {exc!r}")
                        status, headers, data = 500, {}, b"the test server crashed"
                exchange.status, exchange.response = status, data
                return None if exchange.fault == "dropped_after" else (status, headers, data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that timed out has closed its end: the broken pipe is the point of the test.
        pass


@contextlib.contextmanager
def serving_push_target(monkeypatch, app: App, env: str, token: str) -> Iterator[Server]:
    """`app` served for a push command that reads `<env>_TOKEN` and nothing else of the environment,
    with fast retries; it must not have crashed on any request."""
    from compiler.push import http
    for var in ("URL", "TOKEN", "USER", "PASSWORD"):
        monkeypatch.delenv(f"{env}_{var}", raising=False)
    monkeypatch.setenv(f"{env}_TOKEN", token)
    monkeypatch.setattr(http, "BACKOFF", 0.01)  # keep retries fast; Retry-After is still honoured
    with serving(app) as server:
        yield server
    assert server.crashes == []


@contextlib.contextmanager
def serving(app: App, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """The app on a free port of 127.0.0.1 (over TLS with a context), shut down on exit whatever happens."""
    server = Server(app)
    httpd = _Quiet(("127.0.0.1", 0), server.handler())
    if tls:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
