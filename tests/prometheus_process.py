"""Starting the real `prometheus` (Debian's) on a free loopback port, with a rule file
evaluated every second, so its `ALERTS` series has episodes within a test."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.alertmanager_process import free_port, start_ready, stop

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
        self,
        workdir: Path,
        rules: str = RULES,
        alertmanager: str | None = None,
        external: dict[str, str] | None = None,
        every: str = "1s",
    ) -> None:
        """`every`: its evaluation interval (and scrape interval)."""
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
            f"global: {{evaluation_interval: {every}, scrape_interval: {every}"
            + (f", external_labels: {json.dumps(external)}" if external else "")
            + "}\n"
            f"rule_files: [{workdir / 'rules.yml'}]\n" + alerting
        )

    def start(self, timeout: float = 60.0) -> RealPrometheus:
        self.process = start_ready(
            [
                BINARY,
                f"--config.file={self.workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--rules.alert.resend-delay=1s",
            ],
            self.workdir / "prometheus.log",
            self.url,
            timeout,
        )
        return self

    def stop(self) -> None:
        stop(self.process)
