"""Starting the real `prometheus` (Debian's) on a free loopback port, with a rule file
evaluated every second, so its `ALERTS` series has episodes within a test."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.alertmanager_process import free_port

BINARY = shutil.which("prometheus")

RULES = """
groups:
  - name: tests
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: critical, service: "ml-api"}
        annotations: {summary: "fires at once"}
      - alert: Flapping
        expr: (vector(time()) % 6) < 3
        labels: {severity: warning}
"""


class RealPrometheus:
    def __init__(
        self, workdir: Path, rules: str = RULES, alertmanager: str | None = None, external: dict[str, str] | None = None
    ) -> None:
        if BINARY is None:
            raise RuntimeError("prometheus is not installed (apt-get install prometheus)")
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        (workdir / "rules.yml").write_text(rules)
        alerting = (
            f"alerting:\n  alertmanagers:\n    - static_configs: [{{targets: ['{alertmanager.split('//')[1]}']}}]\n"
            if alertmanager
            else ""
        )
        (workdir / "prometheus.yml").write_text(
            "global: {evaluation_interval: 1s, scrape_interval: 1s"
            + (f", external_labels: {json.dumps(external)}" if external else "")
            + "}\n"
            f"rule_files: [{workdir / 'rules.yml'}]\n" + alerting
        )

    def start(self, timeout: float = 60.0) -> RealPrometheus:
        log = open(self.workdir / "prometheus.log", "ab")
        self.process = subprocess.Popen(
            [
                BINARY,
                f"--config.file={self.workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--rules.alert.resend-delay=1s",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {(self.workdir / 'prometheus.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)  # polling for readiness: there is nothing to wait on but the port
        raise RuntimeError(f"prometheus not ready after {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
