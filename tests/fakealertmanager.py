"""A local stand-in for the Mimir/Cortex Alertmanager configuration API, following its documented contract.

`/api/v1/alerts` per tenant (`X-Scope-OrgID`, 401 "no org id" without it). GET answers YAML with
`template_files` and `alertmanager_config` (the configuration as text), or 404 "alertmanager config
not found"; POST takes that YAML, refuses an empty or invalid configuration with 400 (validated here
by amtool, as Mimir validates it with Alertmanager's own loader) and answers 201 Created.
"""

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import yaml

from fakehttp import Exchange, Reply, refused, text

TOKEN = "alertmanager-token-9a8b7c"
PATH = "/api/v1/alerts"


def invalid(config: str) -> str | None:
    if not config.strip():
        return "configuration provided is empty, if you'd like to remove your configuration please use the delete configuration endpoint"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "alertmanager.yml"
        path.write_text(config)
        result = subprocess.run([shutil.which("amtool"), "check-config", str(path)], capture_output=True, text=True)
    return None if result.returncode == 0 else (result.stdout + result.stderr).strip()


class Alertmanager:
    def __init__(self, token: str | None = TOKEN):
        self.token = token
        self.tenants: dict[str, dict] = {}  # tenant -> {template_files, alertmanager_config}
        self._lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> Reply:
        refusal = refused(exchange, self.token)
        if refusal:
            return refusal
        tenant = exchange.header("X-Scope-OrgID")
        if exchange.path != PATH:
            return text(404, "404 page not found")
        with self._lock:
            if exchange.method == "GET":
                stored = self.tenants.get(tenant)
                if stored is None:
                    return text(404, "alertmanager config not found")
                return 200, {"Content-Type": "application/yaml"}, yaml.safe_dump(stored, sort_keys=False).encode()
            if exchange.method == "POST":
                try:
                    body = yaml.safe_load(exchange.body)
                except yaml.YAMLError as exc:
                    return text(400, f"error marshalling YAML Alertmanager config: {exc}")
                if not isinstance(body, dict):
                    return text(400, "error marshalling YAML Alertmanager config")
                problem = invalid(str(body.get("alertmanager_config") or ""))
                if problem:
                    return text(400, f"error validating Alertmanager config: {problem}")
                self.tenants[tenant] = {"template_files": body.get("template_files") or {},
                                        "alertmanager_config": body["alertmanager_config"]}
                return 201, {}, b""
            if exchange.method == "DELETE":
                self.tenants.pop(tenant, None)
                return 200, {}, b""
        return text(405, "method not allowed")
