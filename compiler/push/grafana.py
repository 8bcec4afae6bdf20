"""Dashboards to Grafana through its HTTP API (`/api`, Grafana 9 to 12).

The push reads before it writes: a dashboard is saved only when its content differs from what
Grafana holds (ignoring `id` and `version`, which Grafana owns) or when it sits in another
folder. Objects the compiler does not manage are never written or deleted: a dashboard is ours
when it carries the managed tag, and prune only looks in our folder.
"""

import json
from pathlib import Path

from .. import names, write
from ..problems import InputError, Problem
from . import report
from .http import Client, Failure, segment

SEARCH_PAGE = 1000
OWNED_BY_GRAFANA = ("id", "version")


def load(out: Path) -> list[dict]:
    """The dashboard models of the output folder (as its manifest lists them), each checked for what
    push relies on."""
    files = [out / p for p in write.listed(out, names.DASHBOARD, names.OVERVIEW_DASHBOARD)]
    problems, dashboards, seen = [], [], {}
    for path in files:
        label = str(path)
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem(label, getattr(exc, "lineno", 1), getattr(exc, "colno", 1), "",
                                    f"is not a JSON dashboard: {getattr(exc, 'msg', exc)}"))
            continue
        found = _problems(model)
        uid = model.get("uid") if isinstance(model, dict) else None
        if not found and uid in seen:
            found = [("uid", f"{uid!r} is also the uid of {seen[uid]}")]
        problems += [Problem(label, 1, 1, field, message) for field, message in found]
        if not found:
            seen[uid] = label
            dashboards.append(model)
    if problems:
        raise InputError(problems)
    return dashboards


def _problems(model: object) -> list[tuple[str, str]]:
    if not isinstance(model, dict):
        return [("", "must be a JSON object (a Grafana dashboard model)")]
    found = []
    uid = model.get("uid")
    if not isinstance(uid, str) or not 0 < len(uid) <= 40:
        found.append(("uid", f"must be a string of 1 to 40 characters, got {uid!r}"))
    if not isinstance(model.get("title"), str) or not model["title"]:
        found.append(("title", "must be a non-empty string"))
    if names.MANAGED_BY not in (model.get("tags") or []):
        found.append(("tags", f"must contain {names.MANAGED_BY!r}, the tag that marks dashboards push manages"))
    return found


def _content(dashboard: dict) -> dict:
    return {k: v for k, v in dashboard.items() if k not in OWNED_BY_GRAFANA}


class Push:
    def __init__(self, client: Client, folder_title: str, message: str, dry_run: bool):
        self.client = client
        self.folder_title = folder_title
        self.folder_uid = names.folder_uid(folder_title)
        self.message = message
        self.dry_run = dry_run

    def health(self) -> None:
        try:
            self.client.call("GET", "/api/health")
        except Failure as exc:
            raise Failure(f"Grafana at {self.client.shown} failed its health check: {exc}") from None

    def folder(self) -> str:
        """Ensure our folder exists with our title; the action taken."""
        path = f"/api/folders/{segment(self.folder_uid)}"
        current = self.client.call("GET", path, expect=(200, 404))
        if current.status == 200:
            folder = json.loads(current.body)
            if folder.get("title") == self.folder_title:
                return report.UNCHANGED
            if not self.dry_run:
                self.client.call("PUT", path, json={"title": self.folder_title, "version": folder.get("version", 0),
                                                    "overwrite": True})
            return report.UPDATED
        if not self.dry_run:
            # 409: an earlier attempt created it and its answer was lost; the folder is there.
            self.client.call("POST", "/api/folders", expect=(200, 409),
                             json={"uid": self.folder_uid, "title": self.folder_title})
        return report.CREATED

    def dashboard(self, model: dict) -> str:
        uid = model["uid"]
        current = self.client.call("GET", f"/api/dashboards/uid/{segment(uid)}", expect=(200, 404))
        action = report.CREATED
        if current.status == 200:
            held = json.loads(current.body)
            dashboard, meta = held.get("dashboard") or {}, held.get("meta") or {}
            if names.MANAGED_BY not in (dashboard.get("tags") or []):
                raise Failure(f"a dashboard with uid {uid!r} exists without the {names.MANAGED_BY!r} tag: "
                              f"it is not ours, so it is left as it is")
            if _content(dashboard) == _content(model) and meta.get("folderUid") == self.folder_uid:
                return report.UNCHANGED
            action = report.UPDATED
        if not self.dry_run:
            self.client.call("POST", "/api/dashboards/db", json={
                "dashboard": {**_content(model), "id": None}, "folderUid": self.folder_uid,
                "overwrite": True, "message": self.message})
        return action

    def stale(self, keep: set[str]) -> list[str]:
        """Uids of managed dashboards in our folder that the output no longer has."""
        found, page = [], 1
        while True:
            response = self.client.call("GET", "/api/search", params={
                "type": "dash-db", "tag": names.MANAGED_BY, "folderUIDs": self.folder_uid,
                "limit": SEARCH_PAGE, "page": page})
            hits = json.loads(response.body)
            # Checked again here: the filters are the server's, the safety is ours.
            found += [h["uid"] for h in hits if h.get("folderUid") == self.folder_uid
                      and names.MANAGED_BY in (h.get("tags") or []) and h.get("uid") not in keep]
            if len(hits) < SEARCH_PAGE:
                return sorted(found)
            page += 1

    def delete(self, uid: str) -> str:
        if not self.dry_run:
            # 404: already gone, perhaps by an earlier attempt whose answer was lost.
            self.client.call("DELETE", f"/api/dashboards/uid/{segment(uid)}", expect=(200, 404))
        return report.DELETED


def push(client: Client, dashboards: list[dict], folder_title: str, message: str, dry_run: bool,
         prune: bool, concurrency: int) -> list[report.Outcome]:
    """Raises Failure when Grafana cannot be read at all; every other failure is an outcome."""
    target = Push(client, folder_title, message, dry_run)
    target.health()
    stale = target.stale({d["uid"] for d in dashboards}) if prune else []
    folder = report.attempt(f"folder {target.folder_uid} ({folder_title})", target.folder)
    if folder.action == report.FAILED:
        return [folder]
    tasks: list[report.Task] = [(f"dashboard {d['uid']} ({d['title']})", lambda d=d: target.dashboard(d))
                                for d in dashboards]
    tasks += [(f"dashboard {uid}", lambda uid=uid: target.delete(uid)) for uid in stale]
    return [folder, *report.run(tasks, concurrency)]
