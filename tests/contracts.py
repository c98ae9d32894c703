"""Validating JSON against the official Alertmanager API description in ../shared/contracts."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml

from oncall_tui.sim.server import SimServer
from tests.conftest import ROOT

CONTRACTS = ROOT.parent / "shared" / "contracts"
ALERTMANAGER = CONTRACTS / "alertmanager-v0.25-openapi.yaml"


@cache
def _alertmanager() -> dict[str, Any]:
    return yaml.safe_load(ALERTMANAGER.read_text())


def _definitions() -> dict[str, Any]:
    return _alertmanager()["definitions"]


def require_contracts() -> None:
    if not ALERTMANAGER.is_file():
        pytest.skip(f"contract file {ALERTMANAGER} is absent (it lives in ../shared/contracts, beside the repo)")


def validate(instance: Any, definition: str) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits `#/definitions/<definition>`."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions()}
    jsonschema.validate(instance, schema, format_checker=jsonschema.FormatChecker())


def validate_query(method: str, target: str) -> dict[str, list[str]]:
    """Raise AssertionError unless the query of `target` (a path with its query, as sent) has
    only parameters the contract declares for that operation, each of its type, an array one
    repeated (`collectionFormat: multi`) and any other at most once. Returns the parameters."""
    document = _alertmanager()
    parts = urlsplit(target)
    path = "/" + parts.path.removeprefix(document["basePath"].rstrip("/")).lstrip("/")
    declared = {
        p["name"]: p for p in document["paths"][path][method.lower()].get("parameters", []) if p["in"] == "query"
    }
    query = parse_qs(parts.query, keep_blank_values=True)
    for name, values in query.items():
        assert name in declared, f"{method} {path}: {name!r} is no parameter of the contract's ({sorted(declared)})"
        kind = declared[name]["type"]
        if kind == "array":
            assert declared[name].get("collectionFormat") == "multi", f"{name}: not a repeated parameter"
            kind = declared[name]["items"]["type"]
        else:
            assert len(values) == 1, f"{name} sent {len(values)} times"
        for value in values:
            assert kind != "boolean" or value in ("true", "false"), f"{name}={value!r} is no boolean"
    return query


def alerts_asked(server: SimServer) -> list[dict[str, list[str]]]:
    """The query of every GET of the alerts the simulator was sent, oldest first; each checked
    against the contract when the contract file is there (the truth tests need it not)."""
    asked = [target for method, target in server.asked if method == "GET" and "/api/v2/alerts" in target]
    if ALERTMANAGER.is_file():
        return [validate_query("GET", target) for target in asked]
    return [parse_qs(urlsplit(target).query, keep_blank_values=True) for target in asked]


# -- PagerDuty REST API v2 (OpenAPI 3.0) -------------------------------------------------------
PAGERDUTY = CONTRACTS / "pagerduty-rest-openapiv3.json"


def require_pagerduty_contract() -> None:
    if not PAGERDUTY.is_file():
        pytest.skip(f"contract file {PAGERDUTY} is absent (it lives in ../shared/contracts, beside the repo)")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` in JSON Schema terms: null is allowed too."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@cache
def _pagerduty() -> dict[str, Any]:
    doc = _nullable(json.loads(PAGERDUTY.read_text()))
    schemas = doc["components"]["schemas"]
    # Two places where the file contradicts itself, patched here and nowhere else:
    # - Oncall.start/end are typed string, but their descriptions say null means a permanent
    #   on-call (users named directly in an escalation level), which is what the API sends.
    for key in ("start", "end"):
        schemas["Oncall"]["properties"][key]["type"] = ["string", "null"]
    # - AcknowledgeLogEntry is LogEntry (type enum "acknowledge_log_entry") AND its own enum
    #   "acknowledgement_log_entry": nothing can satisfy both. Real entries say the former.
    schemas["AcknowledgeLogEntry"]["allOf"][1]["properties"]["type"]["enum"] = ["acknowledge_log_entry"]
    # - Oncall.user is a UserReference, but with include[]=users (which the console sends) it
    #   is the full User, as the file itself models for Incident.last_status_change_by.
    schemas["Oncall"]["properties"]["user"] = {
        "oneOf": [{"$ref": "#/components/schemas/UserReference"}, {"$ref": "#/components/schemas/User"}]
    }
    # - Channel is oneOf five variants told apart only by prose ("Will be `api`"), so every
    #   channel matches several and oneOf rejects them all: anyOf is what the text means.
    channel = schemas["Channel"]
    channel["anyOf"] = channel.pop("oneOf")
    return doc


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validate_openapi(doc: dict[str, Any], instance: Any, path: str, method: str, status: str | None) -> None:
    where: tuple[str, ...] = ("paths", path, method, "requestBody")
    if status is not None:
        responses = doc["paths"][path][method]["responses"]
        if status not in responses and f"{status[0]}XX" in responses:
            status = f"{status[0]}XX"  # OpenAPI's status ranges, e.g. 5XX
        where = ("paths", path, method, "responses", status)
        ref = responses[status].get("$ref")  # shared responses
        if ref:
            where = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref.removeprefix("#/").split("/"))
    where += ("content", "application/json", "schema")
    schema = {"$ref": _pointer(*where), "paths": doc["paths"], "components": doc["components"]}
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(instance)


def validate_pagerduty(instance: Any, path: str, method: str, status: str | None = None) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits the request body of
    `method path` (status None) or its response with `status`."""
    _validate_openapi(_pagerduty(), instance, path, method, status)


# -- PagerDuty Events API v2 (OpenAPI 3.0) ------------------------------------------------------
PAGERDUTY_EVENTS = CONTRACTS / "pagerduty-events-v2-openapiv3.json"


def require_events_contract() -> None:
    if not PAGERDUTY_EVENTS.is_file():
        pytest.skip(f"contract file {PAGERDUTY_EVENTS} is absent (it lives in ../shared/contracts, beside the repo)")


@cache
def _events() -> dict[str, Any]:
    doc = json.loads(PAGERDUTY_EVENTS.read_text())
    # One place where the file says less than it means, patched here and nowhere else: its
    # 400 and 429 responses name their shape only in a `description`
    # ("#/components/responses/ArgumentError", "…/TooManyRequests"), which it never defines.
    # The real API's 400 body ({"status", "message", "errors"}) is the file's own Error
    # response, so both are checked against Error.
    responses = doc["paths"]["/enqueue"]["post"]["responses"]
    for status in ("400", "429"):
        responses[status] = {"$ref": "#/components/responses/Error"}
    return doc


def validate_events(instance: Any, status: int | None = None) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits the request body of
    `POST /enqueue` (status None) or its answer with `status` (a 5xx is the file's 5XX)."""
    _validate_openapi(_events(), instance, "/enqueue", "post", None if status is None else str(status))
