"""Starting the real `prometheus-alertmanager` (Debian's 0.25) on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")  # Debian ships it in the prometheus-alertmanager package

CONFIG = """
route:
  receiver: "null"
  group_wait: 1s
receivers:
  - name: "null"
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [service]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ready(
    command: list[str], log_path: Path, url: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `command`, its output to `log_path`, and wait until `url`/-/ready says 200."""
    log = open(log_path, "ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    name = Path(command[0]).name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # polling for readiness: there is nothing to wait on but the port
    raise RuntimeError(f"{name} not ready after {timeout}s")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RealAlertmanager:
    """One Alertmanager process with its own storage dir; `stop()` and `start()` again keep its data."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        config: str = CONFIG,
        args: tuple[str, ...] = (),
        cores: int = 1,
    ) -> None:
        if BINARY is None:
            raise RuntimeError("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.args = args
        """More flags (`--web.get-concurrency=1`)."""
        self.cores = cores
        """Its GOMAXPROCS: one in tests (they run two at a time), the machine's in a bench."""
        (workdir / "alertmanager.yml").write_text(config)

    def start(self, timeout: float = 30.0) -> RealAlertmanager:
        self.process = start_ready(
            [
                BINARY,
                f"--config.file={self.workdir / 'alertmanager.yml'}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                *self.args,
            ],
            self.workdir / "alertmanager.log",
            self.url,
            timeout,
            env={**os.environ, "GOMAXPROCS": str(self.cores)},
        )
        return self

    def stop(self) -> None:
        stop(self.process)

    def post_alerts(self, alerts: list[dict]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()

    def alerts(self) -> list[dict]:
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        return response.json()
