"""The compiled route subtree and inhibit rules to a Mimir or Cortex Alertmanager, through its
configuration API: `GET`/`POST /api/v1/alerts` per tenant (`X-Scope-OrgID`), a YAML body holding
`alertmanager_config` (the configuration as text) and `template_files`; 404 when the tenant has none,
201 on a write.

The configuration is one object per tenant, so the push merges ours into it (see
`compiler.alertmanager`): into your configuration file when one is named, else into the tenant's
current one. Templates are the tenant's and are sent back unchanged. Nothing is written when the
merged configuration equals the tenant's.
"""

import yaml

from .. import alertmanager, serialize, yamlpos
from . import report
from .http import Client, Failure

PATH = "/api/v1/alerts"
THING = "alertmanager configuration"


def remote(client: Client) -> dict | None:
    """The tenant's {alertmanager_config, template_files}, or None when it has none."""
    response = client.call("GET", PATH, expect=(200, 404))
    if response.status == 404:
        return None
    try:
        data = yaml.safe_load(response.body)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("alertmanager_config"), str):
        raise Failure(f"GET {PATH}: the Alertmanager answered with something other than a configuration")
    return data


def desired(current: dict | None, base: yamlpos.Document | None, routes: list[dict], inhibit: list[dict]) -> dict:
    """The merged configuration: into `base` when given, else into the tenant's current one."""
    if base is None:
        if current is None:
            raise Failure("the tenant has no Alertmanager configuration yet: name yours with --config "
                          "(or alertmanager.config in the settings)")
        base = yamlpos.load(f"{THING} of the tenant", current["alertmanager_config"])
    return alertmanager.merge(base, routes, inhibit)


def push(client: Client, base: yamlpos.Document | None, routes: list[dict], inhibit: list[dict],
         dry_run: bool) -> list[report.Outcome]:
    current = remote(client)
    config = desired(current, base, routes, inhibit)
    if current is not None and yaml.safe_load(current["alertmanager_config"]) == config:
        return [report.Outcome(report.UNCHANGED, THING)]

    def write() -> str:
        if not dry_run:
            body = {"template_files": (current or {}).get("template_files") or {},
                    "alertmanager_config": serialize.to_yaml(config).decode()}
            client.call("POST", PATH, expect=(200, 201, 202), data=serialize.to_yaml(body),
                        headers={"Content-Type": "application/yaml"})
        return report.CREATED if current is None else report.UPDATED
    return [report.attempt(THING, write)]
