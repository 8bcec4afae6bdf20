"""A local stand-in for Grafana's HTTP API, following its published spec (Grafana 11.4).

No Grafana server can be installed here, so push is tested against this app. It implements the
endpoints push uses with the behaviour the spec (`../shared/contracts/grafana-api-merged.json`)
and Grafana's documentation give them: authentication (bearer token or basic), 400 for an
invalid dashboard, 401, 403 for a viewer's writes, 404, 409 for a folder uid taken, and 412
`version-mismatch` for a stale dashboard saved without `overwrite`. `contract_problems` checks
every exchange against the spec: path, method, query parameters, request body and response body.
"""

import base64
import itertools
import json
import re
import threading
from functools import cache
from urllib.parse import unquote

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from conftest import SHARED
from fakehttp import Exchange, Reply

SPEC = SHARED / "contracts" / "grafana-api-merged.json"
JSON = {"Content-Type": "application/json"}
TOKEN = "glsa_admin_token_0123456789"
VIEWER_TOKEN = "glsa_viewer_token_9876543210"
USER, PASSWORD = "admin", "admin-password-42"


def _reply(status: int, body: object) -> Reply:
    return status, JSON, json.dumps(body).encode()


def _error(code: int, message: str, **extra: str) -> Reply:
    return _reply(code, {"message": message, **extra})


class Grafana:
    """The app: state of one organisation per X-Grafana-Org-Id, changed only by authorised writes."""

    def __init__(self) -> None:
        self.orgs: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def org(self, org_id: str = "1") -> dict:
        return self.orgs.setdefault(org_id, {"folders": {}, "dashboards": {}})

    def add_dashboard(self, model: dict, folder_uid: str = "", org_id: str = "1") -> None:
        """A dashboard made by hand in the UI (for prune and ownership tests)."""
        self.org(org_id)["dashboards"][model["uid"]] = {**model, "id": next(self._ids), "version": 1,
                                                          "_folder": folder_uid}

    def add_folder(self, uid: str, title: str, org_id: str = "1") -> None:
        self._new_folder(self.org(org_id), uid, title)

    def _new_folder(self, org: dict, uid: str, title: str) -> dict:
        org["folders"][uid] = {"uid": uid, "title": title, "id": next(self._ids), "version": 1}
        return org["folders"][uid]

    def _role(self, exchange: Exchange) -> str | None:
        auth = exchange.header("Authorization") or ""
        if auth == f"Bearer {TOKEN}":
            return "Admin"
        if auth == f"Bearer {VIEWER_TOKEN}":
            return "Viewer"
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return "Admin" if (user, password) == (USER, PASSWORD) else None
        return None

    def __call__(self, exchange: Exchange) -> Reply:
        path, method = exchange.path, exchange.method
        if (method, path) == ("GET", "/api/health"):
            return _reply(200, {"database": "ok", "version": "11.4.0", "commit": "0000000"})
        role = self._role(exchange)
        if role is None:
            return _error(401, "Unauthorized")
        if method != "GET" and role != "Admin":
            return _error(403, "You'll need additional permissions to perform this action. Permissions needed: "
                               "dashboards:write")
        with self._lock:
            return self._route(method, path, exchange, self.org(exchange.header("X-Grafana-Org-Id") or "1"))

    def _route(self, method: str, path: str, exchange: Exchange, org: dict) -> Reply:
        body = json.loads(exchange.body) if exchange.body else {}
        if m := re.fullmatch(r"/api/folders/([^/]+)", path):
            return self._folder(method, unquote(m[1]), body, org)
        if (method, path) == ("POST", "/api/folders"):
            return self._create_folder(body, org)
        if (method, path) == ("POST", "/api/dashboards/db"):
            return self._save(body, org)
        if m := re.fullmatch(r"/api/dashboards/uid/([^/]+)", path):
            return self._dashboard(method, unquote(m[1]), org)
        if (method, path) == ("GET", "/api/search"):
            return self._search(exchange.query, org)
        return _error(404, "Not found")

    def _folder_json(self, folder: dict) -> dict:
        return {**folder, "url": f"/dashboards/f/{folder['uid']}/", "canSave": True, "canEdit": True}

    def _folder(self, method: str, uid: str, body: dict, org: dict) -> Reply:
        folder = org["folders"].get(uid)
        if folder is None:
            return _error(404, "folder not found")
        if method == "GET":
            return _reply(200, self._folder_json(folder))
        if method == "PUT":
            if not body.get("overwrite") and body.get("version") != folder["version"]:
                return _error(409, "the folder has been changed by someone else", status="version-mismatch")
            folder.update(title=body.get("title") or folder["title"], version=folder["version"] + 1)
            return _reply(200, self._folder_json(folder))
        return _error(405, "Method not allowed")

    def _create_folder(self, body: dict, org: dict) -> Reply:
        if not body.get("title"):
            return _error(400, "folder title cannot be empty")
        uid = body.get("uid") or f"f{next(self._ids)}"
        if uid in org["folders"]:
            return _error(409, "a folder with the same uid already exists")
        return _reply(200, self._folder_json(self._new_folder(org, uid, body["title"])))

    def _save(self, body: dict, org: dict) -> Reply:
        model = body.get("dashboard")
        if not isinstance(model, dict) or not str(model.get("title", "")).strip():
            return _error(400, "Dashboard title cannot be empty")
        uid = model.get("uid") or f"d{next(self._ids)}"
        if len(uid) > 40:
            return _error(400, "uid too long, max 40 characters")
        folder = body.get("folderUid", "")
        if folder and folder not in org["folders"]:
            return _error(400, "folder not found")
        current = org["dashboards"].get(uid)
        if current is not None and not body.get("overwrite") and model.get("version") != current["version"]:
            return _error(412, "The dashboard has been changed by someone else", status="version-mismatch")
        version = current["version"] + 1 if current else 1
        stored = {**model, "uid": uid, "id": current["id"] if current else next(self._ids), "version": version,
                  "_folder": folder}
        org["dashboards"][uid] = stored
        return _reply(200, {"id": stored["id"], "uid": uid, "url": f"/d/{uid}/x", "status": "success",
                            "version": version, "title": model["title"], "folderUid": folder})

    def _dashboard(self, method: str, uid: str, org: dict) -> Reply:
        stored = org["dashboards"].get(uid)
        if stored is None:
            return _error(404, "Dashboard not found")
        model = {k: v for k, v in stored.items() if k != "_folder"}
        if method == "GET":
            return _reply(200, {"dashboard": model, "meta": {"folderUid": stored["_folder"], "version":
                                                             stored["version"], "slug": "x", "url": f"/d/{uid}/x"}})
        if method == "DELETE":
            del org["dashboards"][uid]
            return _reply(200, {"uid": uid, "title": model["title"], "message": f"Dashboard {model['title']} deleted"})
        return _error(405, "Method not allowed")

    def _search(self, query: dict[str, list[str]], org: dict) -> Reply:
        hits = [{"uid": d["uid"], "id": d["id"], "title": d["title"], "tags": d.get("tags", []), "type": "dash-db",
                 "folderUid": d["_folder"], "uri": f"db/{d['uid']}", "url": f"/d/{d['uid']}/x"}
                for d in sorted(org["dashboards"].values(), key=lambda d: d["uid"])]
        for tag in query.get("tag", []):
            hits = [h for h in hits if tag in h["tags"]]
        if query.get("folderUIDs"):
            hits = [h for h in hits if h["folderUid"] in query["folderUIDs"]]
        limit, page = int(query.get("limit", ["1000"])[0]), int(query.get("page", ["1"])[0])
        return _reply(200, hits[(page - 1) * limit:page * limit])


@cache
def _spec() -> dict:
    return json.loads(SPEC.read_text())


def _operation(method: str, path: str) -> tuple[str, dict] | None:
    spec = _spec()
    for template, operations in spec["paths"].items():
        pattern = re.escape(spec["basePath"] + template)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        if re.fullmatch(pattern, path) and method.lower() in operations:
            return template, operations[method.lower()]
    return None


def _validate(schema: dict, instance: object) -> str | None:
    registry = Registry().with_resource("urn:grafana", Resource.from_contents(_spec(), default_specification=DRAFT4))
    resolved = json.loads(json.dumps(schema).replace('"#/', '"urn:grafana#/'))
    error = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(resolved, registry=registry)
                                             .iter_errors(instance))
    return None if error is None else f"{error.json_path}: {error.message}"


def contract_problems(log: list[Exchange]) -> list[str]:
    """Every way in which a request, or our app's answer to it, departs from Grafana's spec."""
    problems = []
    for e in log:
        where = f"{e.method} {e.path}"
        found = _operation(e.method, e.path)
        if found is None:
            problems.append(f"{where}: no such operation in the spec")
            continue
        template, operation = found
        declared = {p["name"]: p for p in operation.get("parameters", [])}
        problems += [f"{where}: query parameter {q!r} is not in the spec" for q in e.query
                     if declared.get(q, {}).get("in") != "query"]
        body = next((p for p in declared.values() if p["in"] == "body"), None)
        if e.body and body is None:
            problems.append(f"{where}: sends a body the spec does not take")
        elif body is not None and e.body:
            problem = _validate(body["schema"], json.loads(e.body))
            if problem:
                problems.append(f"{where}: request body {problem}")
        if e.fault or not e.status:
            continue
        answer = operation["responses"].get(str(e.status))
        if answer is None:
            problems.append(f"{where}: status {e.status} is not a documented answer of {template}")
            continue
        answer = _spec()["responses"][answer["$ref"].rsplit("/", 1)[1]] if "$ref" in answer else answer
        if "schema" in answer:
            problem = _validate(answer["schema"], json.loads(e.response))
            if problem:
                problems.append(f"{where}: response {e.status} {problem}")
    return problems
