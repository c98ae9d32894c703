"""Validating JSON against the official Alertmanager API description in ../shared/contracts."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT

CONTRACTS = ROOT.parent / "shared" / "contracts"
ALERTMANAGER = CONTRACTS / "alertmanager-v0.25-openapi.yaml"


@cache
def _definitions() -> dict[str, Any]:
    return yaml.safe_load(ALERTMANAGER.read_text())["definitions"]


def require_contracts() -> None:
    if not ALERTMANAGER.is_file():
        pytest.skip(f"contract file {ALERTMANAGER} is absent (it lives in ../shared/contracts, beside the repo)")


def validate(instance: Any, definition: str) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits `#/definitions/<definition>`."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions()}
    jsonschema.validate(instance, schema, format_checker=jsonschema.FormatChecker())
