"""The guard between the console and a runbook step: a step never outlives its console.

Run by `runner.StepProcess` as `python -I -S step_guard.py GATE STATUS GRACE SHELL COMMAND`,
the leader of the step's own process group, with the read end of a pipe from the console on
file descriptor GATE. It waits
for `run` on that pipe (sent once the console has recorded the step's start, with this
process's pid), then runs `SHELL -c COMMAND` in the same group and exits as it exits (the
same code, or killed by the same signal).

If the console goes away however it stops (kill -9 included), the pipe closes: the guard
notes the time in STATUS, sends SIGTERM to the whole group, and SIGKILL `GRACE` seconds
later. It writes the step's exit status to STATUS when the step ends, so the next console
can record how the step ended. It imports nothing but the standard library, and starts in
a few milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

NOT_RUN = 125


def _note(path: str, **fields: object) -> None:
    """Append one JSON line to the status file, on disk before going on."""
    record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask: it sits beside the step's output
            os.write(fd, (json.dumps(record) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # a full disk must not keep the step from being ended


def _others() -> list[int]:
    """The live processes of this group but the guard: the step and what it started."""
    me, group = os.getpid(), str(os.getpgrp())
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [-1]  # nothing to read: assume someone is there, never that nobody is
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == group and fields[0] != "Z":
            found.append(int(entry))
    return found


def _watch_console(gate: int, status: str, grace: float, gone: threading.Event, decided: threading.Event) -> None:
    """Block until the console's end of the gate closes; then end the whole group."""
    try:
        while os.read(gate, 4096):
            pass
    except OSError:
        pass
    if not _others():
        decided.set()
        return  # the step ended first: nothing to do
    gone.set()
    decided.set()
    _note(status, console_gone=True)
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _others() and time.monotonic() < deadline:
        time.sleep(0.05)
    if _others():  # what ignored SIGTERM (the shell, or anything it started)
        _note(status, killing="SIGKILL")
        os.killpg(0, signal.SIGKILL)  # the guard too: the step's end, if it came, is in STATUS


def main(argv: list[str]) -> int:
    gate, status, grace, shell, command = int(argv[1]), argv[2], float(argv[3]), argv[4], argv[5]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)  # the group's signals are for the step; the guard waits for it
    said = b""
    while not said.endswith(b"\n"):
        chunk = os.read(gate, 16)
        if not chunk:
            return NOT_RUN  # the console stopped, or could not record the start: nothing runs
        said += chunk
    if said.strip() != b"run":
        return NOT_RUN
    try:
        child = subprocess.Popen([shell, "-c", command], stdin=subprocess.DEVNULL, close_fds=True)
    except OSError as error:
        print(f"cannot start {shell}: {error.strerror or error}", file=sys.stderr, flush=True)
        _note(status, exit_code=127)
        return 127
    gone, decided = threading.Event(), threading.Event()
    watcher = threading.Thread(target=_watch_console, args=(gate, status, grace, gone, decided), daemon=True)
    watcher.start()
    code = child.wait()
    _note(status, exit_code=code if code >= 0 else None, signal=-code if code < 0 else None)
    if select.select([gate], [], [], 0)[0]:  # the console went as the step ended: let the watcher decide
        decided.wait()
    if gone.is_set():  # its console is gone: stay until everything the step started has ended
        watcher.join()
    if code < 0:  # die of the same signal, so the console reads the step's own end
        with contextlib.suppress(OSError, ValueError):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
