"""The command line as a user runs it: real processes, a real pseudo-terminal for the demo."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from oncall_tui.cli import default_config_path
from oncall_tui.sim.server import SimServer
from tests.alertmanager_process import free_port
from tests.conftest import ROOT


def oncall_tui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def write_config(tmp_path: Path, *urls: str) -> Path:
    sources = "".join(f"  - name: am{i}\n    url: {url}\n    timeout: 1s\n" for i, url in enumerate(urls))
    path = tmp_path / "config.yaml"
    path.write_text(f"user:\n  name: alice\nalertmanagers:\n{sources}")
    return path


def test_version_and_help() -> None:
    assert oncall_tui("--version").stdout.startswith("oncall-tui ")
    assert "demo" in oncall_tui("--help").stdout


def test_check_reaches_every_alertmanager(tmp_path: Path, sim: SimServer) -> None:
    path = write_config(tmp_path, sim.url)
    done = oncall_tui("check", env={"ONCALL_TUI_CONFIG": str(path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"config  ok {path}: 1 alertmanager(s), poll every 2s",
        f"alertmanager  ok am0: ready, version 0.25.0-oncall-tui-sim, cluster disabled  ({sim.url})",
    ]


def test_check_fails_with_1_and_names_the_unreachable_one(tmp_path: Path, sim: SimServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    done = oncall_tui("--config", str(write_config(tmp_path, sim.url, dead)), "check")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[1].startswith("alertmanager  ok am0") and lines[2].startswith("alertmanager  FAILED am1: unreachable")
    assert "Traceback" not in done.stdout + done.stderr


def test_the_example_config_ships_with_the_demo() -> None:
    assert default_config_path().read_text() == (ROOT / "config.yaml").read_text()


def test_demo_runs_in_a_real_terminal_and_quits_on_q() -> None:
    """A new user's first command: the console draws live alerts from the simulator, `q` quits."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the console on a 120x40 terminal
        os.environ.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "oncall_tui", "demo"])
    screen = b""
    try:
        deadline = time.monotonic() + 60
        while b"SLOViolation" not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    screen += os.read(fd, 65536)
                except OSError:
                    break
        assert b"SLOViolation" in screen and b"HighErrorRate" in screen, screen[-2000:]
        os.write(fd, b"q")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            finished, status = os.waitpid(pid, os.WNOHANG)
            if finished:
                assert os.waitstatus_to_exitcode(status) == 0
                return
            select.select([fd], [], [], 0.2)
            try:
                os.read(fd, 65536)  # keep the terminal drained
            except OSError:
                pass
        raise AssertionError("the demo did not quit on q")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
