"""The real Alertmanager for integration tests (required in CI, skipped with a reason elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alertmanager_process import BINARY, RealAlertmanager


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[RealAlertmanager]:
    if BINARY is None:
        reason = "prometheus-alertmanager is not installed: apt-get install prometheus-alertmanager"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: missing there is a broken setup, not a skip
        pytest.skip(reason)
    am = RealAlertmanager(tmp_path).start()
    yield am
    am.stop()
