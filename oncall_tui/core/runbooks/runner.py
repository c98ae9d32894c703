"""Running one runbook step as a real process, bounded in time, output and reach.

The step runs `shell -c command` in a new session (so its own process group), with no
stdin, stdout and stderr interleaved on one pipe. A reader thread saves the full output to
a file (up to a limit), hashes all of it, keeps a bounded tail, and hands decoded text to a
callback. A timeout or `kill()` sends SIGTERM to the whole group, then SIGKILL after a
grace period; a step that leaves processes behind (a background child holding the pipe)
has them ended the same way once its shell exits, so a step always finishes.

The group is led by `step_guard.py`, which holds the step until the console has recorded
its start (with the pid, the process group and the start time, to find it again), and ends
the group if the console goes away, however it stops: no step outlives its console, and the
guard notes how the step ended for the next console to record.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from oncall_tui.core.private import open_private, private_dir

TAIL_BYTES = 4096
CHUNK = 1 << 20
"""Read up to this much at a time, from a pipe made as big: a fast step's output then takes a
few large reads instead of thousands of 64 KiB ones, each of which waits for the GIL while
the console is busy with keys."""


GUARD = Path(__file__).with_name("step_guard.py")


class StepError(Exception):
    """The step could not be started; `str()` is one line."""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 on), or None if gone."""
    try:
        stat = Path("/proc", str(pid), "stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """A process as it can be found again: its pid, plus its start time (clock ticks since
    boot, field 22 of /proc/PID/stat) and the boot, so a reused pid is never taken for it."""

    pid: int
    start_ticks: int
    boot_id: str
    host: str = ""
    step_id: str = ""
    """The `ONCALL_STEP_ID` in the environment of everything the step started: with its
    guard gone, what is left of its group is told by it (a pid reused is not the step)."""

    @classmethod
    def of(cls, pid: int, step_id: str = "") -> ProcessRef | None:
        fields = _stat(pid)
        if fields is None or len(fields) < 20:
            return None
        return cls(pid, int(fields[19]), _boot_id(), socket.gethostname(), step_id)

    @classmethod
    def from_data(cls, data: Any) -> ProcessRef | None:
        try:
            return cls(
                int(data["pid"]),
                int(data["start_ticks"]),
                str(data["boot_id"]),
                str(data.get("host", "")),
                str(data.get("step_id", "")),
            )
        except (TypeError, KeyError, ValueError):
            return None

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def here(self) -> bool:
        """On this machine, this boot (else nothing can be said of it from here)."""
        return self.boot_id == _boot_id() and (not self.host or self.host == socket.gethostname())

    def alive(self) -> bool:
        """The very same process is still running (not a zombie)."""
        fields = _stat(self.pid)
        return self.here and fields is not None and fields[0] != "Z" and int(fields[19]) == self.start_ticks

    def group_members(self) -> list[int]:
        """Live processes in the process group this one leads (it among them, if alive). With
        the leader gone, only those carrying its `step_id`: the pid may lead another group now."""
        if not self.here:
            return []
        leader = _stat(self.pid)
        if leader is not None and int(leader[19]) != self.start_ticks:
            return []  # the pid went to another process: the group it led is gone
        members = group_members(self.pid)
        if self.alive():
            return members
        if not self.step_id:
            return members  # recorded before steps carried their id: the group is all there is
        mark = f"ONCALL_STEP_ID={self.step_id}".encode()
        # Not the step only when its environment says so: one it cannot read (root's, after sudo)
        # or one cleared (env -i) may well be the step's, and is counted, never left unseen.
        return [pid for pid in members if not (env := _environ(pid)) or env == [b""] or mark in env]


def _environ(pid: int) -> list[bytes]:
    try:
        return Path("/proc", str(pid), "environ").read_bytes().split(b"\0")
    except OSError:
        return []


def end_group(pgid: int, grace: float, gone: Callable[[float], bool]) -> None:
    """SIGTERM to a process group, then SIGKILL to whatever is left after `grace` seconds.
    `gone(wait)` waits up to `wait` seconds, then says whether the group has ended."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if gone(0.05):
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group, read from /proc."""
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return [pgid]  # nothing to read: assume someone is there, never that nobody is
    members = []
    for entry in entries:
        fields = _stat(int(entry))
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(entry))
    return members


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
    unknown: str = ""
    """Why the exit status is not known (a step its console left behind), if it is not."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def describe(self, timed: bool = True) -> str:
        """`exit 0 in 1.2 s`, `killed by SIGTERM in 3.0 s`, `ended, exit unknown after 40.0 s`
        (without the time when not `timed`)."""
        if self.unknown and self.exit_code is None and self.signal is None:
            how = "killed" if self.killed else "timed out" if self.timed_out else "ended"
            return f"{how}, exit unknown" + (f" after {self.duration:.1f} s" if timed else "")
        if self.timed_out:
            how = f"timed out, killed by {signal.Signals(self.signal).name}" if self.signal else "timed out"
        elif self.killed:
            how = f"killed by {signal.Signals(self.signal).name}" if self.signal else "killed"
        elif self.signal:
            how = f"ended by {signal.Signals(self.signal).name}"
        else:
            how = f"exit {self.exit_code}"
        return f"{how} in {self.duration:.1f} s" if timed else how


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
        self.step_id = uuid.uuid4().hex
        self.ref: ProcessRef | None = None
        """The guard leading the step's group, once started: how a later console finds it."""
        self._gate: int | None = None
        self._kill = threading.Event()
        self._hash = hashlib.sha256()
        self._size = self._saved = 0
        self._saving = True
        self._tail = bytearray()
        self._reader: threading.Thread | None = None
        self.started = 0.0

    @property
    def status_file(self) -> Path:
        """Where the guard notes how the step ended (for a console that was not there to see)."""
        return self.output.with_name(self.output.stem + ".status")

    def start(self, before_run: Callable[[ProcessRef], None] | None = None) -> None:
        """Start the step's guard, then `before_run(ref)` (record the start), then the step.

        If `before_run` raises, the step never runs and the error is raised again."""
        shell = shutil.which(self.shell, path=self.env.get("PATH", os.defpath))
        if shell is None:  # said now: the guard could only say it after the start was recorded
            raise StepError(f"cannot start {self.shell}: not found (PATH={self.env.get('PATH', os.defpath)})")
        try:
            private_dir(self.output.parent)
            fd = open_private(self.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            self._file = os.fdopen(fd, "wb", buffering=0)  # unbuffered: a crash loses nothing read
        except OSError as error:
            raise StepError(f"cannot save the output to {self.output}: {error.strerror or error}") from None
        gate, self._gate = os.pipe()
        guard = [sys.executable, "-I", "-S", str(GUARD), str(gate), str(self.status_file), str(self.grace)]
        try:
            self.process = subprocess.Popen(
                [*guard, shell, self.command],
                cwd=self.cwd,
                env=self.env | {"ONCALL_STEP_ID": self.step_id},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
                pass_fds=(gate,),
            )
        except (OSError, ValueError) as error:
            self._file.close()
            os.close(self._gate)
            raise StepError(
                f"cannot start {self.shell} in {self.cwd}: {getattr(error, 'strerror', None) or error}"
            ) from None
        finally:
            os.close(gate)
        with contextlib.suppress(OSError):  # Linux only, and capped by /proc/sys/fs/pipe-max-size
            fcntl.fcntl(self.process.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
        self._reader = threading.Thread(target=self._read, name="step-output", daemon=True)
        self._reader.start()
        self.ref = ProcessRef.of(self.process.pid, self.step_id) or ProcessRef(
            self.process.pid, 0, "", "", self.step_id
        )
        try:
            if before_run is not None:
                before_run(self.ref)
        except BaseException:
            self._close_gate()  # the guard reads the end of the gate and exits: nothing ran
            self.process.wait()
            self._reader.join()
            self._file.close()
            raise
        os.write(self._gate, b"run\n")
        self.started = time.monotonic()

    def _close_gate(self) -> None:
        if self._gate is not None:
            os.close(self._gate)
            self._gate = None

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
            if self._saving and self._saved < self.save_limit:
                piece = data[: self.save_limit - self._saved]
                try:
                    written = self._file.write(piece) or 0  # unbuffered: less than all means a full disk
                except OSError:
                    written = 0
                self._saved += written
                self._saving = written == len(piece)  # a full disk stops the saving, not the step
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
        assert self.process
        return self._signal_group(0) and bool(group_members(self.process.pid))

    def _end_group(self) -> None:
        assert self.process
        end_group(self.process.pid, self.grace, self._gone)

    def _gone(self, wait: float) -> bool:
        """Whether the group has ended, after waiting up to `wait` seconds (reaping the guard)."""
        assert self.process
        if self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=wait)
            return False
        if not self._group_alive():
            return True
        time.sleep(wait)  # the others are not our children: nothing to wait on but the group
        return False

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
        self._close_gate()  # after the step's end: its guard must not take this for the console going
        duration = time.monotonic() - self.started
        try:
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
