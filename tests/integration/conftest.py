"""The real Alertmanager for integration tests (required in CI, skipped with a reason elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alertmanager_process import AMTOOL, BINARY, RealAlertmanager
from tests.prometheus_process import BINARY as PROMETHEUS
from tests.prometheus_process import RealPrometheus


def _require(binary: str | None, name: str, package: str = "prometheus-alertmanager") -> str:
    if binary is None:
        reason = f"{name} is not installed: apt-get install {package}"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: missing there is a broken setup, not a skip
        pytest.skip(reason)
    return binary


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[RealAlertmanager]:
    _require(BINARY, "prometheus-alertmanager")
    am = RealAlertmanager(tmp_path).start()
    yield am
    am.stop()


@pytest.fixture
def amtool() -> str:
    """The real amtool 0.25, Alertmanager's own command line, as the judge of matcher syntax."""
    return _require(AMTOOL, "amtool")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[RealPrometheus]:
    """The real Prometheus, its rules evaluated every second (AlwaysFiring fires at once)."""
    _require(PROMETHEUS, "prometheus", "prometheus")
    (tmp_path / "prometheus").mkdir()
    server = RealPrometheus(tmp_path / "prometheus").start()
    yield server
    server.stop()
