"""Driving the real console in a pseudo-terminal, as a person at a keyboard would."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time

from tests.conftest import ROOT


class Terminal:
    """`oncall-tui ARGS` on a 160x45 terminal; `wait_for` reads the screen bytes until text shows."""

    def __init__(self, *args: str, **env: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the console
            os.environ.update(TERM="xterm-256color", COLUMNS="160", LINES="45", **env)
            os.chdir(ROOT)
            os.execv(sys.executable, [sys.executable, "-m", "oncall_tui", *args])
        self.screen = b""

    def read(self, timeout: float) -> None:
        if select.select([self.fd], [], [], timeout)[0]:
            try:
                self.screen += os.read(self.fd, 65536)
            except OSError:  # the console has gone
                pass

    def wait_for(self, text: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"never saw {text!r} on the screen: {self.screen[-1500:]!r}"
            self.read(0.5)

    def press(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self, timeout: float = 30) -> int:
        """Wait for the console to end by itself."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished, status = os.waitpid(self.pid, os.WNOHANG)
            if finished:
                return os.waitstatus_to_exitcode(status)
            self.read(0.2)  # keep the terminal drained
        raise AssertionError("the console did not exit")

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        os.close(self.fd)
