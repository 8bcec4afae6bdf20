"""A local stand-in for the Mimir/Cortex ruler configuration API, following its documented contract.

Mimir's HTTP API reference (ruler): `<prefix>/config/v1/rules[/{namespace}[/{groupName}]]` under
Mimir's `/prometheus` or Cortex' `/api/v1/rules` (flavors), per tenant (`X-Scope-OrgID`, 401
"no org id" without it). GET of all, of a namespace or of a group answers YAML, and 404 "no rule
groups found" when there are none; POST to a namespace takes the YAML of one rule group
(`Content-Type: application/yaml`) and answers 202, or 400 when the group is invalid, its PromQL
included, as Mimir validates it; DELETE of a group or a namespace answers 202, or 404.
`contract_problems` checks every exchange against these shapes after a test.
"""

import re
import threading
from urllib.parse import unquote

import promql_parser
import yaml

from fakehttp import Exchange, Reply, refused, text

TOKEN = "ruler-token-5f1e2d3c4b"
PREFIXES = {"mimir": "/prometheus/config/v1/rules", "cortex": "/api/v1/rules"}
ACCEPTED = (202, {"Content-Type": "application/json"}, b'{"status":"success","data":null,"errorType":"","error":""}')


def _yaml(data: object) -> Reply:
    return 200, {"Content-Type": "application/yaml"}, yaml.safe_dump(data, sort_keys=False).encode()


def _load(body: bytes) -> object:
    try:
        return yaml.load(body, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _rule_problem(rule: object) -> str | None:
    """What Prometheus' rule validation (which the ruler runs) finds wrong with one rule."""
    if not isinstance(rule, dict) or bool(rule.get("record")) == bool(rule.get("alert")):
        return "one of 'record' or 'alert' must be set"
    if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
        return "field 'expr' must be set in rule"
    try:
        promql_parser.parse(rule["expr"])
    except ValueError as exc:
        return f"could not parse expression: {exc}"
    if rule.get("record") and not METRIC_NAME.fullmatch(str(rule["record"])):
        return f"invalid recording rule name: {rule['record']}"
    if rule.get("record") and ("for" in rule or "annotations" in rule):
        return "invalid field 'for' or 'annotations' in recording rule"
    bad = [k for k in {**(rule.get("labels") or {}), **(rule.get("annotations") or {})} if not LABEL_NAME.fullmatch(k)]
    return f"invalid label name: {bad[0]}" if bad else None


def _invalid(group: object) -> str | None:
    if not isinstance(group, dict) or not isinstance(group.get("name"), str) or not group["name"]:
        return "invalid rules config: rule group name must not be empty"
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        return f"invalid rules config: rule group '{group['name']}' has no rules"
    for index, rule in enumerate(rules):
        problem = _rule_problem(rule)
        if problem:
            name = rule.get("record") or rule.get("alert") if isinstance(rule, dict) else ""
            return f"group \"{group['name']}\", rule {index + 1}, \"{name}\": {problem}"
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
        refusal = refused(exchange, self.token)
        if refusal:
            return refusal
        tenant = exchange.header("X-Scope-OrgID")
        match = re.fullmatch(re.escape(self.prefix) + r"(?:/([^/]+)(?:/([^/]+))?)?", exchange.path)
        if match is None:
            return text(404, "404 page not found")
        namespace, name = (unquote(p) if p else None for p in match.groups())
        if exchange.method == "POST" and namespace and name is None:
            group = _load(exchange.body)  # parsed and validated outside the lock: only the store is shared
            problem = _invalid(group)
            if problem:
                return text(400, problem)
            with self._lock:
                self.groups(tenant).setdefault(namespace, {})[group["name"]] = group
            return ACCEPTED
        with self._lock:
            return self._route(exchange, self.groups(tenant), namespace, name)

    def _route(self, exchange: Exchange, store: dict, namespace: str | None, name: str | None) -> Reply:
        method = exchange.method
        if method == "GET" and name is None:
            found = {ns: list(groups.values()) for ns, groups in sorted(store.items())
                     if groups and namespace in (None, ns)}
            return _yaml(found) if found else text(404, "no rule groups found")
        if method == "GET":
            group = store.get(namespace, {}).get(name)
            return _yaml(group) if group else text(404, "group does not exist")
        if method == "DELETE" and namespace and name:
            if store.get(namespace, {}).pop(name, None) is None:
                return text(404, "group does not exist")
            return ACCEPTED
        if method == "DELETE" and namespace:
            if not store.pop(namespace, None):
                return text(404, "namespace does not exist")
            return ACCEPTED
        return text(405, "method not allowed")


def contract_problems(log: list[Exchange], prefix: str) -> list[str]:
    """Every way in which a request, or the stand-in's answer, departs from the documented API."""
    routes = {("GET", 0), ("GET", 1), ("GET", 2), ("POST", 1), ("DELETE", 1), ("DELETE", 2)}
    problems = []
    for e in log:
        where = f"{e.method} {e.path}"
        if not e.header("X-Scope-OrgID"):
            problems.append(f"{where}: no X-Scope-OrgID")
        match = re.fullmatch(re.escape(prefix) + r"((?:/[^/]+){0,2})", e.path)
        if match is None or (e.method, match[1].count("/")) not in routes:
            problems.append(f"{where}: no such operation of the ruler API")
            continue
        if e.method != "POST":
            if e.body:
                problems.append(f"{where}: sends a body")
            continue
        if (e.header("Content-Type") or "").split(";")[0] != "application/yaml":
            problems.append(f"{where}: Content-Type is {e.header('Content-Type')!r}, not application/yaml")
        body = _load(e.body)
        if not (isinstance(body, dict) and "name" in body and "rules" in body and "groups" not in body):
            problems.append(f"{where}: the body is not the YAML of one rule group")
        if e.status and e.status < 300 and e.status != 202:
            problems.append(f"{where}: a write answered {e.status}, not 202")
    return problems
