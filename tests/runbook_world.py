"""Alerts and runbooks for the runbook tests."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.core.alerts.models import Alert
from tests.conftest import FROZEN


def model_alert(
    name: str = "HighErrorRate", annotations: dict[str, str] | None = None, fp: str = "", **labels: str
) -> Alert:
    """An Alert as the board holds it."""
    return Alert(
        fingerprint=fp or f"fp-{name}",
        labels={"alertname": name, "severity": "critical", **labels},
        annotations=annotations or {},
        starts_at=FROZEN,
        ends_at=None,
        generator_url="http://prometheus.example:9090/graph?g0.expr=up",
        state="active",
        sources=("prod",),
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
