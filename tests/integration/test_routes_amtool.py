"""The console walks an Alertmanager's routing tree as amtool 0.25 does (`amtool config
routes test`): the same receivers, in the same order, for every label set tried."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oncall_tui.core.alerts.routes import destinations
from tests.unit.test_routes import GUIDE

LABEL_SETS = [
    {"alertname": "OncallPage", "oncall": "erin", "severity": "critical", "level": "2"},
    {"alertname": "OncallPage", "oncall": "dana", "severity": "critical", "level": "2"},
    {"alertname": "OncallPage", "oncall": "dana", "severity": "warning", "level": "3"},
    {"alertname": "OncallPageX", "severity": "warning"},
    {"alertname": "Other", "severity": "info"},
]


@pytest.mark.parametrize("labels", LABEL_SETS, ids=lambda labels: ",".join(f"{k}={v}" for k, v in labels.items()))
def test_the_same_receivers_as_amtool(amtool: str, tmp_path: Path, labels: dict[str, str]) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(GUIDE)
    done = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert [d.receiver for d in destinations(GUIDE, labels)] == done.stdout.strip().split(",")
