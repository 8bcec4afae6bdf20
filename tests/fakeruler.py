"""A local stand-in for the Mimir/Cortex ruler configuration API, following its documented contract.

`<prefix>/config/v1/rules[/{namespace}[/{group}]]` under Mimir's `/prometheus` or Cortex' `/api/v1/rules`
(flavors), per tenant (`X-Scope-OrgID`, 401 "no org id" without it). GET answers YAML, and 404
"no rule groups found" when there are none; POST takes the YAML of one group to a namespace (400
when it is not a valid group) and answers 202; DELETE of a group answers 202, or 404.
"""

import re
import threading
from urllib.parse import unquote

import yaml

from fakehttp import Exchange, Reply

TOKEN = "ruler-token-5f1e2d3c4b"
PREFIXES = {"mimir": "/prometheus/config/v1/rules", "cortex": "/api/v1/rules"}
ACCEPTED = (202, {"Content-Type": "application/json"}, b'{"status":"success","data":null,"errorType":"","error":""}')


def _text(code: int, message: str) -> Reply:
    return code, {"Content-Type": "text/plain; charset=utf-8"}, (message + "\n").encode()


def _yaml(data: object) -> Reply:
    return 200, {"Content-Type": "application/yaml"}, yaml.safe_dump(data, sort_keys=False).encode()


def _invalid(group: object) -> str | None:
    if not isinstance(group, dict) or not isinstance(group.get("name"), str) or not group["name"]:
        return "unable to decoded rule group"
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        return f"group {group['name']}: no rules"
    for rule in rules:
        if not isinstance(rule, dict) or bool(rule.get("record")) == bool(rule.get("alert")) or not rule.get("expr"):
            return f"group {group['name']}: each rule needs one of record or alert, and expr"
    return None


class Ruler:
    def __init__(self, flavor: str = "mimir", token: str | None = TOKEN):
        self.prefix = PREFIXES[flavor]
        self.token = token
        self.tenants: dict[str, dict[str, dict[str, dict]]] = {}  # tenant -> namespace -> name -> group
        self._lock = threading.Lock()

    def groups(self, tenant: str) -> dict[str, dict[str, dict]]:
        return self.tenants.setdefault(tenant, {})

    def __call__(self, exchange: Exchange) -> Reply:
        if self.token and exchange.header("Authorization") != f"Bearer {self.token}":
            return _text(401, "Unauthorized")
        tenant = exchange.header("X-Scope-OrgID")
        if not tenant:
            return _text(401, "no org id")
        match = re.fullmatch(re.escape(self.prefix) + r"(?:/([^/]+)(?:/([^/]+))?)?", exchange.path)
        if match is None:
            return _text(404, "404 page not found")
        namespace, name = (unquote(p) if p else None for p in match.groups())
        with self._lock:
            return self._route(exchange, self.groups(tenant), namespace, name)

    def _route(self, exchange: Exchange, store: dict, namespace: str | None, name: str | None) -> Reply:
        method = exchange.method
        if method == "GET" and name is None:
            found = {ns: list(groups.values()) for ns, groups in sorted(store.items())
                     if groups and namespace in (None, ns)}
            return _yaml(found) if found else _text(404, "no rule groups found")
        if method == "GET":
            group = store.get(namespace, {}).get(name)
            return _yaml(group) if group else _text(404, "group does not exist")
        if method == "POST" and namespace and name is None:
            try:
                group = yaml.safe_load(exchange.body)
            except yaml.YAMLError:
                group = None
            problem = _invalid(group)
            if problem:
                return _text(400, problem)
            store.setdefault(namespace, {})[group["name"]] = group
            return ACCEPTED
        if method == "DELETE" and namespace and name:
            if store.get(namespace, {}).pop(name, None) is None:
                return _text(404, "group does not exist")
            return ACCEPTED
        if method == "DELETE" and namespace:
            if not store.pop(namespace, None):
                return _text(404, "namespace does not exist")
            return ACCEPTED
        return _text(405, "method not allowed")
