"""Runbook steps a console left behind when it stopped: found again from the record, and
their end put on it.

`runbook.step_started` names the step's guard (pid, start time, boot: see `runner`) and the
console that ran it. When a console opens the journals, each start without an end is:

- running in another console that is still there: left to that console;
- still running, its console gone (its guard is ending it, or something in it outlived the
  guard's SIGTERM): shown as running, "left running by a console that stopped at 14:32",
  killable, held to its timeout, and its end recorded when it ends;
- gone: its end is recorded now, with the exit status its guard noted, or as `unknown`, and why.

Every such end is the console's own (`agent: step_recovery`), recorded once however many
consoles look.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from oncall_tui.core.alerts.models import PayloadError, parse_time
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.incidents.timeline import CONSOLE, TimelineEvent
from oncall_tui.core.runbooks.runner import TAIL_BYTES, ProcessRef, StepOutcome, end_group
from oncall_tui.core.runbooks.step_runs import OutputTail, outcome_data
from oncall_tui.core.text import clean_line, clean_output

AGENT = "step_recovery"


def unfinished(incident: Incident) -> list[TimelineEvent]:
    """The steps started and never recorded as ended. An end names its start (`started_seq`);
    in older journals, it ends the earliest open start of the same runbook, step and alert."""
    open_starts: list[TimelineEvent] = []
    for event in incident.events:
        if event.kind == "runbook.step_started":
            open_starts.append(event)
        elif event.kind == "runbook.step_finished":
            ended = next((s for s in open_starts if _ends(s, event)), None)
            if ended is not None:
                open_starts.remove(ended)
    return open_starts


def _ends(start: TimelineEvent, end: TimelineEvent) -> bool:
    seq = end.data.get("started_seq")
    if seq is not None:
        return start.seq == seq
    return all(start.data.get(k) == end.data.get(k) for k in ("runbook", "step", "alert"))


@dataclass(frozen=True, slots=True)
class GuardNotes:
    """What a step's guard wrote down (see `step_guard`): when its console went, how it ended."""

    console_gone: datetime | None = None
    exit_code: int | None = None
    signal: int | None = None
    ended: datetime | None = None

    @classmethod
    def read(cls, path: str | None) -> GuardNotes:
        found: dict[str, Any] = {}
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines() if path else []
        except (OSError, UnicodeDecodeError):
            lines = []
        for line in lines:
            try:
                note = json.loads(line)
                at = parse_time(note.get("at"), "at")
            except (ValueError, PayloadError, AttributeError):
                continue  # a torn last line: the guard was killed mid-write
            if note.get("console_gone"):
                found["console_gone"] = at
            if note.get("killing") == "SIGKILL" and "ended" not in found:
                found |= {"signal": 9, "ended": at}  # the guard killed the whole group, itself too
            if "exit_code" in note or "signal" in note:
                found |= {"exit_code": note.get("exit_code"), "signal": note.get("signal"), "ended": at}
        return cls(**found)

    @property
    def known(self) -> bool:
        return self.ended is not None


def _stopped(notes: GuardNotes) -> str:
    when = notes.console_gone
    return f"a console that stopped at {when:%H:%M:%S} UTC" if when else "a console that stopped"


def _saved_output(path: str | None) -> dict[str, Any]:
    """What was saved of the output before its console stopped: all of it up to then."""
    if not path:
        return {}
    digest, size, tail = hashlib.sha256(), 0, b""
    try:
        with open(path, "rb") as saved:
            while chunk := saved.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                tail = (tail + chunk)[-TAIL_BYTES:]
    except OSError:
        return {}
    return {
        "output_saved_bytes": size,
        "output_sha256": digest.hexdigest(),
        "output_tail": clean_output(tail.decode("utf-8", errors="replace")),
        "output_complete": False,
    }


def _finish(
    desk: IncidentDesk, incident_id: str, start: TimelineEvent, summary: str, end: dict[str, Any], by: str = ""
) -> TimelineEvent | None:
    """Record the end of a step another console started, once (consoles that look at the same
    time record it once between them): the console's own, or `by` the person who ended it."""
    data = {**start.data, "started_seq": start.seq, **({} if by else {"agent": AGENT}), **end}
    for name in ("process", "console", "status_file"):
        data.pop(name, None)
    key = f"step_finished:{start.seq}"
    return desk.merge(incident_id, key, "runbook.step_finished", summary, data, by or CONSOLE)


def _label(start: TimelineEvent) -> str:
    data = start.data
    return f"step {data.get('step')} “{clean_line(str(data.get('name', '')), 80)}” of {Path(str(data.get('runbook', ''))).name}"


class LeftRunning:
    """A step whose console stopped while it ran, found still running: the runbook pane shows
    it as a run of its alert, `kill()` ends it, and `watch()` records its end."""

    def __init__(
        self, desk: IncidentDesk, incident_id: str, start: TimelineEvent, process: ProcessRef, grace: float
    ) -> None:
        self.desk, self.incident_id, self.start, self.process, self.grace = desk, incident_id, start, process, grace
        self.notes = GuardNotes.read(start.data.get("status_file"))
        self.note = f"left running by {_stopped(self.notes)}"
        self.output = OutputTail()
        self.output.feed(f"({self.note}: its output since then is not captured; ctrl+c ends it)\n")
        self.outcome: StepOutcome | None = None
        self.error = ""
        self.dry_run = False
        self.finished = threading.Event()
        self._kill = threading.Event()
        self._next_look = 0.0

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def alert_key(self) -> str:
        return str(self.start.data.get("alert") or "")

    @property
    def alert_name(self) -> str:
        return str(self.start.data.get("alert_name") or "")

    @property
    def number(self) -> int:
        return int(self.start.data.get("step", 0))

    @property
    def runbook_path(self) -> Path:
        return Path(str(self.start.data.get("runbook", "")))

    @property
    def label(self) -> str:
        return _label(self.start)

    def kill(self) -> None:
        self._kill.set()

    def _gone(self, wait: float) -> bool:
        """Whether the step's group has ended, after waiting up to `wait` seconds: a signal 0 to
        the group each time, the full look through /proc about once a second."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # someone else's group has that id now: /proc says whether any of it is ours
        now = time.monotonic()
        if now >= self._next_look:
            self._next_look = now + 1.0
            if not self.process.group_members():
                return True
        time.sleep(wait)
        return False

    def watch(self, poll: float = 0.2) -> TimelineEvent | None:
        """Until the step has ended (blocking: call from a thread), holding it to its timeout;
        then record its end; the event, unless another console recorded it first."""
        try:
            deadline = self.start.ts + timedelta(seconds=float(self.start.data.get("timeout") or 300))
            timed_out = killed = False
            while not self._gone(poll):
                if self._kill.is_set() or self.desk.clock() >= deadline:
                    timed_out, killed = not self._kill.is_set(), self._kill.is_set()
                    end_group(self.process.pid, self.grace, self._gone)
            notes = GuardNotes.read(self.start.data.get("status_file"))
            duration = ((notes.ended or self.desk.clock()) - self.start.ts).total_seconds()
            saved = _saved_output(self.start.data.get("output_file"))
            self.outcome = StepOutcome(
                notes.exit_code,
                notes.signal,
                timed_out,
                killed,
                max(0.0, duration),
                saved.get("output_saved_bytes", 0),
                saved.get("output_sha256", ""),
                b"",
                saved.get("output_saved_bytes", 0),
                unknown="" if notes.known else "its guard noted no end",
            )
            end = outcome_data(self.outcome) | saved
            end |= {"outcome": "console_stopped" if notes.known else "unknown", "reason": f"{self.note}; {self._how()}"}
            summary = f"Finished {self.label}: {self.outcome.describe()} ({self.note})"
            by = self.desk.actor if killed else ""  # ctrl+c was a person's; the rest the console saw
            return _finish(self.desk, self.incident_id, self.start, summary, end, by)
        finally:
            self.finished.set()

    def _how(self) -> str:
        if self.outcome and self.outcome.killed:
            return f"ended with ctrl+c by {self.desk.actor}"
        if self.outcome and self.outcome.timed_out:
            return "past its timeout, ended by the console that found it"
        return (
            "it ended on its own" if self.outcome and self.outcome.exit_code is not None else "how it ended is unknown"
        )


@dataclass
class Recovered:
    """What looking at the steps the last consoles left found."""

    running: list[LeftRunning]
    recorded: list[TimelineEvent]
    errors: list[str]


def recover(desk: IncidentDesk, grace: float) -> Recovered:
    """Every step started and never ended, in every incident: adopted, or its end recorded."""
    found = Recovered([], [], [])
    for incident in list(desk.incidents.values()):
        for start in unfinished(incident):
            if not incident.is_open and "process" not in start.data:
                continue  # a closed incident of an older console: its postmortem stays as it was
            try:
                left = _recover(desk, incident, start, grace)
            except IncidentError as error:
                found.errors.append(str(error))
                continue
            if isinstance(left, LeftRunning):
                found.running.append(left)
            elif left is not None:  # recorded now (not by another console first)
                found.recorded.append(left)
    return found


def _recover(
    desk: IncidentDesk, incident: Incident, start: TimelineEvent, grace: float
) -> LeftRunning | TimelineEvent | None:
    data = start.data
    console = ProcessRef.from_data(data.get("console"))
    if console is not None and console.alive() and console.pid != os.getpid():
        return None  # another console runs it, and will record its end
    label = _label(start)
    if data.get("dry_run"):
        reason = "a dry run, never run; its console stopped before recording that"
        return _finish(desk, incident.id, start, f"Not run {label} (dry run)", {"exit_code": None, "reason": reason})
    process = ProcessRef.from_data(data.get("process"))
    if process is not None and process.group_members():
        return LeftRunning(desk, incident.id, start, process, grace)
    notes = GuardNotes.read(data.get("status_file"))
    looked = f"{desk.clock():%H:%M:%S} UTC"
    if process is None:
        reason = "started by a console that did not record its process: whether and how it ended is unknown"
    elif not process.here:
        reason = "started before this machine restarted (or on another machine): how it ended is unknown"
    else:
        reason = f"{_stopped(notes)} before it ended; it was gone when this console looked at {looked}"
    saved = _saved_output(data.get("output_file"))
    if notes.known:
        outcome = StepOutcome(notes.exit_code, notes.signal, False, False, 0.0, 0, "", b"", 0)
        how = outcome.describe(timed=False)
        end = {"exit_code": notes.exit_code, "signal": notes.signal, "outcome": "console_stopped", "reason": reason}
        if notes.console_gone and notes.signal:
            end["reason"] = f"{reason}; its guard ended it when the console stopped"
        summary = f"Finished {label}: {how} ({_stopped(notes)}; its guard noted the end)"
    else:
        end = {"exit_code": None, "signal": None, "outcome": "unknown", "reason": reason}
        summary = f"Ended {label}: outcome unknown ({reason})"
    return _finish(desk, incident.id, start, summary, end | saved)
