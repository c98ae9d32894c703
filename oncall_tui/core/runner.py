"""Running one runbook step as a real process, bounded in time, output and reach.

The step runs `shell -c command` in a new session (so its own process group), with no
stdin, stdout and stderr interleaved on one pipe. A reader thread saves the full output to
a file (up to a limit), hashes all of it, keeps a bounded tail, and hands decoded text to a
callback. A timeout or `kill()` sends SIGTERM to the whole group, then SIGKILL after a
grace period; a step that leaves processes behind (a background child holding the pipe)
has them ended the same way once its shell exits, so a step always finishes.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import hashlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TAIL_BYTES = 4096
CHUNK = 1 << 20
"""Read up to this much at a time, from a pipe made as big: a fast step's output then takes a
few large reads instead of thousands of 64 KiB ones, each of which waits for the GIL while
the console is busy with keys."""


class StepError(Exception):
    """The step could not be started; `str()` is one line."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    exit_code: int | None
    signal: int | None
    timed_out: bool
    killed: bool
    duration: float
    size: int
    sha256: str
    tail: bytes
    saved: int
    """Bytes of output saved to the file (less than `size` when over the limit)."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def describe(self) -> str:
        if self.timed_out:
            how = f"timed out, killed by {signal.Signals(self.signal).name}" if self.signal else "timed out"
        elif self.killed:
            how = f"killed by {signal.Signals(self.signal).name}" if self.signal else "killed"
        elif self.signal:
            how = f"ended by {signal.Signals(self.signal).name}"
        else:
            how = f"exit {self.exit_code}"
        return f"{how} in {self.duration:.1f} s"


class StepProcess:
    """One run of one command. `start()`, then `wait()` (blocking; call from a thread)."""

    def __init__(
        self,
        command: str,
        *,
        shell: str,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        output: Path,
        on_output: Callable[[str], None] | None = None,
        grace: float = 3.0,
        save_limit: int = 256 * 1024 * 1024,
    ) -> None:
        self.command, self.shell, self.cwd, self.env = command, shell, cwd, env
        self.timeout, self.output, self.on_output = timeout, output, on_output
        self.grace, self.save_limit = grace, save_limit
        self.process: subprocess.Popen[bytes] | None = None
        self._kill = threading.Event()
        self._hash = hashlib.sha256()
        self._size = self._saved = 0
        self._tail = bytearray()
        self._reader: threading.Thread | None = None
        self.started = 0.0

    def start(self) -> None:
        try:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.output.open("wb")
        except OSError as error:
            raise StepError(f"cannot save the output to {self.output}: {error.strerror or error}") from None
        try:
            self.process = subprocess.Popen(
                [self.shell, "-c", self.command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except (OSError, ValueError) as error:
            self._file.close()
            raise StepError(
                f"cannot start {self.shell} in {self.cwd}: {getattr(error, 'strerror', None) or error}"
            ) from None
        self.started = time.monotonic()
        with contextlib.suppress(OSError):  # Linux only, and capped by /proc/sys/fs/pipe-max-size
            fcntl.fcntl(self.process.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
        self._reader = threading.Thread(target=self._read, name="step-output", daemon=True)
        self._reader.start()

    def kill(self) -> None:
        """Ask for the group to end: SIGTERM now, SIGKILL after the grace period (from `wait`)."""
        self._kill.set()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _read(self) -> None:
        assert self.process and self.process.stdout
        fd = self.process.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                data = os.read(fd, CHUNK)
            except OSError:
                break
            if not data:
                break
            self._hash.update(data)
            self._size += len(data)
            if self._saved < self.save_limit:
                piece = data[: self.save_limit - self._saved]
                try:
                    self._file.write(piece)
                    self._saved += len(piece)
                except OSError:
                    self._saved = self.save_limit  # a full disk stops the saving, not the step
            self._tail += data
            if len(self._tail) > 2 * TAIL_BYTES:
                del self._tail[:-TAIL_BYTES]
            if self.on_output:
                self.on_output(decoder.decode(data))
        if self.on_output:
            self.on_output(decoder.decode(b"", final=True))

    def _signal_group(self, sig: int) -> bool:
        """Signal the step's process group; False once nobody is left in it."""
        assert self.process
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def _group_alive(self) -> bool:
        """Anyone left in the group but zombies (which an init that never reaps keeps around)?"""
        if not self._signal_group(0):
            return False
        assert self.process
        try:
            entries = os.listdir("/proc")
        except OSError:
            return True
        for entry in entries:
            if not entry.isdigit():
                continue
            try:
                stat = Path("/proc", entry, "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 2 and fields[2] == str(self.process.pid) and fields[0] != "Z":
                return True
        return False

    def _end_group(self) -> None:
        """SIGTERM, then SIGKILL to whatever is left after the grace period."""
        if not self._signal_group(signal.SIGTERM):
            return
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.05)
                continue
            if not self._group_alive():
                return
            time.sleep(0.05)  # the others are not our children: nothing to wait on but the group
        self._signal_group(signal.SIGKILL)

    def wait(self) -> StepOutcome:
        """Until the step and everything it started have ended; then the outcome."""
        assert self.process and self._reader
        deadline = self.started + self.timeout
        timed_out = killed = False
        while True:
            try:
                self.process.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            if self._kill.is_set() or time.monotonic() >= deadline:
                timed_out, killed = not self._kill.is_set(), self._kill.is_set()
                self._end_group()
                self.process.wait()
                break
        self._reader.join(0.5)
        if self._reader.is_alive() or self._group_alive():  # a child still holds the pipe, or lingers
            self._end_group()
        self._reader.join()
        duration = time.monotonic() - self.started
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError:
            pass
        finally:
            self._file.close()
        code = self.process.returncode
        return StepOutcome(
            exit_code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            timed_out=timed_out,
            killed=killed,
            duration=duration,
            size=self._size,
            sha256=self._hash.hexdigest(),
            tail=bytes(self._tail[-TAIL_BYTES:]),
            saved=self._saved,
        )
