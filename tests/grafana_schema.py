"""Grafana 11.4's own JSON Schemas, applied to a dashboard the way Grafana reads it.

The schemas are generated per kind: the dashboard (whose panels hold `options`,
`fieldConfig.defaults.custom` and `targets` as free objects), one file per panel plugin
(`Options`, `FieldConfig`), the Prometheus query and the unit ids. `findings` puts them
together: the dashboard against its schema, then every panel's options, custom field config
and override values against its plugin's, every target against the Prometheus query's, and
every unit against Grafana's unit ids.
"""

import json
import os
import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "shared" / "contracts" / "grafana-11.4-jsonschema"
# Grafana's unit picker also takes custom units written as `<kind>:<text>`.
CUSTOM_UNIT = re.compile(r"^(suffix|prefix|time|si|count|currency):.+$")
PANEL_SCHEMAS = ("stat", "table", "text", "timeseries")


def require() -> None:
    """Skip where the schemas are absent, except in CI, where they must be there."""
    if not SCHEMAS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"Grafana's JSON Schemas are not at {SCHEMAS}")
        pytest.skip(f"Grafana's JSON Schemas are not at {SCHEMAS}")


@cache
def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


# Grafana's kinds declare a matcher's options and an override's value as CUE's `_` (any value); the
# generated schemas type them as objects, which would refuse what Grafana itself saves (`"options":
# "Objective"`, `"value": "percentunit"`). They are left open here and checked on their own: the
# value against the field option it sets, a byName matcher's options as the field name it is.
ANY = {"MatcherConfig": "options", "DynamicConfigValue": "value"}
MATCHER_OPTIONS = {"byName": {"type": "string", "minLength": 1}}


@cache
def _validator(name: str, definition: str | None = None) -> jsonschema.Draft7Validator:
    schema = _schema(name)
    if name == "dashboard":
        schema = json.loads(json.dumps(schema))
        for kind, field in ANY.items():
            schema["definitions"][kind]["properties"][field] = {}
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    return jsonschema.Draft7Validator(schema)


@cache
def units() -> frozenset[str]:
    return frozenset(d["const"] for d in _schema("units")["definitions"].values() if "const" in d)


def _errors(where: str, validator: jsonschema.Draft7Validator, instance) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{where}/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _reasons(found)]


def _reasons(errors) -> list:
    """Where an object fits none of a oneOf's schemas, the errors of the schema it is meant for: one
    whose constant it matches (a panel is judged as a panel, not as a row), then the closest."""
    out = []
    for error in errors:
        if error.validator not in ("oneOf", "anyOf") or not error.context:
            out.append(error)
            continue
        branches: dict = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        out += _reasons(min(branches.values(), key=lambda e: (any(s.validator == "const" for s in e), len(e))))
    return out


def _unit(where: str, unit) -> list[str]:
    if unit in units() or (isinstance(unit, str) and CUSTOM_UNIT.match(unit)):
        return []
    return [f"{where}: {unit!r} is no Grafana unit id"]


def _override_value(where: str, kind: str, prop: dict) -> list[str]:
    """An override property sets one field option: its value must be what that option takes.

    (The generated DynamicConfigValue types `value` as an object, a translation of CUE's `_`, any.)
    """
    field, value = prop["id"], prop.get("value")
    if field == "unit":
        return _unit(where, value)
    if field.startswith("custom."):
        custom = _custom_schema(kind)
        sub = custom.get("properties", {}).get(field.removeprefix("custom."))
        if sub is None:
            return [f"{where}: {field} is no field option of {kind}"]
        schema = {**sub, "definitions": _schema(kind)["definitions"]}
        return _errors(where, jsonschema.Draft7Validator(schema), value)
    sub = _schema("dashboard")["definitions"]["FieldConfig"]["properties"].get(field)
    if sub is None:
        return [f"{where}: {field} is no field option"]
    schema = {**sub, "definitions": _schema("dashboard")["definitions"]}
    return _errors(where, jsonschema.Draft7Validator(schema), value)


def _custom_schema(kind: str) -> dict:
    definitions = _schema(kind)["definitions"]
    custom = definitions.get("FieldConfig", {"type": "object", "additionalProperties": False})
    while "$ref" in custom:
        custom = definitions[custom["$ref"].split("/")[-1]]
    return custom


def panel_findings(where: str, panel: dict) -> list[str]:
    kind = panel["type"]
    if kind not in PANEL_SCHEMAS:
        return [f"{where}: panel type {kind!r} has no schema here"]
    found = [] if "pluginVersion" in panel else [f"{where}: no pluginVersion"]
    found += _errors(f"{where}/options", _validator(kind, "Options"), panel.get("options", {}))
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    if "custom" in defaults:
        custom = _custom_schema(kind)
        schema = {**custom, "definitions": _schema(kind)["definitions"]}
        found += _errors(f"{where}/fieldConfig/defaults/custom", jsonschema.Draft7Validator(schema),
                         defaults["custom"])
    if "unit" in defaults:
        found += _unit(f"{where}/fieldConfig/defaults/unit", defaults["unit"])
    for i, override in enumerate(panel.get("fieldConfig", {}).get("overrides", [])):
        matcher = override["matcher"]
        if matcher["id"] not in MATCHER_OPTIONS:
            found.append(f"{where}/fieldConfig/overrides/{i}/matcher: matcher {matcher['id']!r} is not checked here")
        else:
            found += _errors(f"{where}/fieldConfig/overrides/{i}/matcher/options",
                             jsonschema.Draft7Validator(MATCHER_OPTIONS[matcher["id"]]), matcher.get("options"))
        for j, prop in enumerate(override["properties"]):
            found += _override_value(f"{where}/fieldConfig/overrides/{i}/properties/{j}", kind, prop)
    for i, target in enumerate(panel.get("targets", [])):
        found += _errors(f"{where}/targets/{i}", _validator("prometheus"), target)
    return found


def findings(dashboard: dict) -> list[str]:
    """Every way `dashboard` departs from Grafana 11.4's schemas, one line each; none when valid."""
    found = _errors("", _validator("dashboard"), dashboard)
    for i, top in enumerate(dashboard.get("panels", [])):
        inner = [(f"/panels/{i}/panels/{j}", p) for j, p in enumerate(top.get("panels", []))]
        for where, panel in ([] if top.get("type") == "row" else [(f"/panels/{i}", top)]) + inner:
            found += panel_findings(where, panel)
    return found
