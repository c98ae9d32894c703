"""A runbook step run on the record: prepared from the alert, started and finished as
timeline events, its full output saved beside the incident's journal.

`runbook.step_started` is fsynced before the process starts and `runbook.step_finished`
after it has ended, so a crash in between still shows that the step was started, with the
exact command. Secrets never reach the step: environment variables holding one (the
PagerDuty token) are left out of its environment.
"""

from __future__ import annotations

import functools
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.config import RunbooksConfig
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.incident import Incident, default_title
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.runbooks.library import Runbook, RunbookError, RunbookStep
from oncall_tui.core.runbooks.parameters import FilledCommand, fill
from oncall_tui.core.runbooks.runner import ProcessRef, StepError, StepOutcome, StepProcess
from oncall_tui.core.text import clean_line, clean_output, visible_controls
from oncall_tui.core.timefmt import utc_now

KEEP_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class PreparedStep:
    """Everything the confirmation shows, and exactly what will run."""

    runbook: Runbook
    step: RunbookStep
    filled: FilledCommand
    cwd: Path
    timeout: float
    shell: str
    alert: Alert | None
    path: tuple[Path, ...] = ()
    """Directories put first on PATH."""

    @property
    def command(self) -> str:
        return self.filled.command

    @property
    def label(self) -> str:
        return f"step {self.step.number} “{clean_line(self.step.name, 80)}”"


def prepare(
    runbook: Runbook,
    step: RunbookStep,
    alert: Alert | None,
    config: RunbooksConfig,
    given: dict[str, str] | None = None,
) -> PreparedStep:
    """The step's final command for `alert`. Raises RunbookError if it must not run as written."""
    if not step.closed:
        raise RunbookError(
            f"step {step.number}'s code block (line {step.line} of {runbook.path.name}) is never closed: fix the runbook"
        )
    filled = fill(step.command, alert, given)
    if filled.unsafe:
        raise RunbookError(f"step {step.number} of {runbook.path.name}: {filled.unsafe[0]}")
    if not filled.command.strip():
        raise RunbookError(f"step {step.number} of {runbook.path.name} has no command to run")
    timeout = step.timeout or config.timeout
    return PreparedStep(runbook, step, filled, runbook.path.parent, timeout, config.shell, alert, tuple(config.path))


def incident_for(desk: IncidentDesk, alert: Alert | None, group_by: list[str]) -> Incident | None:
    """The open incident a step for `alert` belongs to (`IncidentDesk.of_alert`: the one the
    pane shows for it); for no alert, the most urgent open; None if there is none (the step
    run then declares one)."""
    if alert is None:
        return desk.to_show(None)[0]
    return desk.of_alert(alert, group_by)


def incident_for_step(desk: IncidentDesk, prepared: PreparedStep, group_by: list[str]) -> tuple[Incident, bool]:
    """The incident a step's run goes on the record of (`incident_for`), declared now from its
    alert (or its runbook) when there is none: a step never runs off the record. (incident,
    whether it was declared now). Raises IncidentError."""
    incident = incident_for(desk, prepared.alert, group_by)
    if incident is not None:
        return incident, False
    title = default_title(prepared.alert) if prepared.alert else f"Runbook {prepared.runbook.title}"
    return desk.declare(title, [prepared.alert] if prepared.alert else []), True


def record_place(desk: IncidentDesk, prepared: PreparedStep, group_by: list[str]) -> str:
    """Where the step's confirmation says its run will be recorded."""
    incident = incident_for(desk, prepared.alert, group_by)
    if incident:
        return incident.id
    if prepared.alert:
        return f"a new incident, declared now: {clean_line(default_title(prepared.alert), 100)}"
    return "a new incident, declared now"


def clip(value: str, limit: int = 200) -> str:
    """A value as listed in the confirmation: the command below it has all of it."""
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters, all in the command)"


SHORT_COMMAND_LINES = 4
"""A command of at most this many lines is shown first in its confirmation."""


def confirmation(
    prepared: PreparedStep,
    desk: IncidentDesk,
    config: RunbooksConfig,
    group_by: list[str],
    dry_run: bool = False,
    demo: bool = False,
) -> list[str]:
    """What the user is shown before a step runs, a fact a line: the command first when it is
    short (what runs matters most, and a small terminal shows a few lines), then where, how,
    for how long, with which values (and the cautions about them), where it is recorded; a long
    command last, so however long a label makes it, everything above stays in view. Control
    characters are shown, never sent to the terminal."""
    command = prepared.command.rstrip("\n")
    long = f"; {len(command)} characters: the arrows scroll" if len(command) > 500 else ""
    shown = [
        f"command (run as `SHELL -c`, in its own process group, no stdin{long}):",
        *(f"  {line}" for line in visible_controls(command).split("\n")),
    ]
    first = len(shown) <= SHORT_COMMAND_LINES + 1 and len(command) <= 300
    size = f"{len(shown) - 1} lines" if len(shown) > SHORT_COMMAND_LINES + 1 else f"{len(command):,} characters"
    lines = [*shown, ""] if first else [f"command       {size}, last (the arrows scroll)"]
    lines += [
        f"directory     {prepared.cwd}",
        f"shell         {prepared.shell}",
        f"timeout       {prepared.timeout:g} s (then SIGTERM; SIGKILL {config.kill_grace:g} s later)",
    ]
    if prepared.filled.params:
        values = " · ".join(f"{k}={clip(visible_controls(v))}" for k, v in prepared.filled.params.items())
        lines.append(f"values        {values}")
        lines += [f"CAUTION       {visible_controls(c)}" for c in prepared.filled.cautions]
    lines.append(f"recorded in   {record_place(desk, prepared, group_by)}")
    if prepared.path:
        lines.append(f"PATH first    {', '.join(map(str, prepared.path))}")
        if demo:
            lines.append("DEMO          kubectl, curl and ssh are stand-ins that print canned output")
    if dry_run:
        lines.append("DRY RUN       recorded and shown, not run (--dry-run)")
    return lines if first else [*lines, "", *shown]


def step_environment(
    prepared: PreparedStep, secrets: Iterable[str], base: dict[str, str] | None = None
) -> dict[str, str]:
    """The console's environment without any variable holding a secret, plus the alert's."""
    hidden = {s for s in secrets if s}
    env = {k: v for k, v in (os.environ if base is None else base).items() if v not in hidden}
    if prepared.path:
        env["PATH"] = os.pathsep.join([*map(str, prepared.path), env.get("PATH", os.defpath)])
    return env | prepared.filled.env


IDENTIFYING = ("pod", "instance", "service", "container", "job", "namespace")
"""Labels that tell one alert of a rule from another, most telling first."""


def for_alert(alert: Alert | None) -> str:
    """` for PodDown shop-a`: which alert a step ran for, as the timeline says it (two alerts
    that share a runbook differ by their labels)."""
    if alert is None:
        return ""
    rest = sorted(k for k in alert.labels if k not in IDENTIFYING and k not in ("alertname", "severity"))
    values = list(dict.fromkeys(alert.labels[k] for k in (*IDENTIFYING, *rest) if alert.labels.get(k)))[:2]
    return clean_line(" ".join([" for", alert.name, *values]), 120)


class RecordedRun:
    """A step's last run as the journal has it, from before this console started: its mark in
    the step list and its recorded tail in the output pane (it is not running)."""

    def __init__(self, finished: TimelineEvent) -> None:
        data = finished.data
        self.data = data
        self.finished = threading.Event()
        self.finished.set()
        self.output = OutputTail()
        saved = data.get("output_file")
        self.output.feed(
            f"(from the record: {finished.summary} at {finished.ts:%Y-%m-%d %H:%M:%S} UTC"
            + (f"; all of its output is in {saved}" if saved else "")
            + ")\n"
            + str(data.get("output_tail") or "")
        )
        self.dry_run = bool(data.get("dry_run"))
        self.error = str(data.get("error") or "")
        self.note = ""
        self.outcome: StepOutcome | None = None
        if not self.dry_run and not self.error:
            self.outcome = StepOutcome(
                data.get("exit_code"),
                data.get("signal"),
                bool(data.get("timed_out")),
                bool(data.get("killed")),
                float(data.get("duration_s") or 0.0),
                int(data.get("output_bytes") or data.get("output_saved_bytes") or 0),
                str(data.get("output_sha256") or ""),
                b"",
                int(data.get("output_saved_bytes") or 0),
                unknown=str(data.get("reason") or "") if data.get("outcome") == "unknown" else "",
            )

    running = False

    @property
    def alert_key(self) -> str:
        return str(self.data.get("alert") or "")

    @property
    def number(self) -> int:
        return int(self.data.get("step") or 0)

    @property
    def runbook_path(self) -> Path:
        return Path(str(self.data.get("runbook", "")))

    @property
    def label(self) -> str:
        return f"step {self.number} “{clean_line(str(self.data.get('name', '')), 80)}”"

    def kill(self) -> None:
        """It has ended already."""


def recorded_runs(incidents: Iterable[Incident]) -> list[RecordedRun]:
    """The last recorded run of each step for each alert, in the open incidents, oldest first."""
    last: dict[tuple[str, str, int], TimelineEvent] = {}
    for incident in incidents:
        if not incident.is_open:
            continue
        for event in incident.events:
            if event.kind == "runbook.step_finished":
                data = event.data
                last[(str(data.get("alert") or ""), str(data.get("runbook", "")), int(data.get("step") or 0))] = event
    return [RecordedRun(event) for event in sorted(last.values(), key=lambda e: (e.ts, e.seq))]  # the latest last


class OutputTail:
    """The last `keep` characters of a step's output, for the screen, and how many came in all."""

    def __init__(self, keep: int = KEEP_CHARS) -> None:
        self.keep = keep
        self.total = 0
        self._text = ""
        self._lock = threading.Lock()

    def feed(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self.total += len(text)
            self._text = (self._text + text[-self.keep :])[-self.keep :]

    def since(self, seen: int) -> tuple[str, int, int]:
        """(new text, characters skipped because they no longer fit, new total)."""
        with self._lock:
            new = self.total - seen
            if new <= len(self._text):
                return (self._text[len(self._text) - new :] if new else ""), 0, self.total
            return self._text, new - len(self._text), self.total


class Run(Protocol):
    """A step run as the console shows it: one it started (`StepRun`), or one a stopped console
    left running (`step_recovery.LeftRunning`)."""

    finished: threading.Event
    output: OutputTail
    outcome: StepOutcome | None
    error: str
    dry_run: bool
    note: str

    @property
    def running(self) -> bool: ...
    @property
    def alert_key(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def runbook_path(self) -> Path: ...
    @property
    def label(self) -> str: ...
    def kill(self) -> None: ...


class KilledBeforeStartError(IncidentError):
    """`kill()` came before the step's process started: nothing ran, nothing was recorded."""


class StepRun:
    """One run of a prepared step on an incident's record. `run()` blocks (call it from a
    thread); `kill()` may be called from any thread."""

    def __init__(
        self,
        desk: IncidentDesk,
        incident_id: str,
        prepared: PreparedStep,
        *,
        dry_run: bool = False,
        secrets: Iterable[str] = (),
        grace: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.desk, self.incident_id, self.prepared = desk, incident_id, prepared
        self.dry_run, self.secrets, self.grace = dry_run, list(secrets), grace
        self.clock = clock
        """When given, durations are measured on it (the console's clock, frozen in tests)."""
        self.output = OutputTail()
        self.process: StepProcess | None = None
        self.outcome: StepOutcome | None = None
        self.error = ""
        self.started: TimelineEvent | None = None
        """Its `runbook.step_started`, once recorded (before that, nothing has run)."""
        self.finished = threading.Event()
        self._kill_requested = threading.Event()

    def kill(self) -> None:
        self._kill_requested.set()
        if self.process:
            self.process.kill()

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def alert_key(self) -> str:
        """The fingerprint of the alert it ran for ("" for none): its runs are that alert's."""
        return self.prepared.alert.fingerprint if self.prepared.alert else ""

    @property
    def number(self) -> int:
        return self.prepared.step.number

    @property
    def runbook_path(self) -> Path:
        return self.prepared.runbook.path

    @property
    def label(self) -> str:
        return self.prepared.label

    note = ""
    """Said beside its state in the step list (a step another console left running says so)."""

    def _data(self) -> dict[str, Any]:
        p = self.prepared
        return {
            "runbook": str(p.runbook.path),
            "step": p.step.number,
            "name": p.step.name,
            "command": p.command,
            "params": p.filled.params,
            "cwd": str(p.cwd),
            "timeout": p.timeout,
            "shell": p.shell,
            "alert": p.alert.fingerprint if p.alert else None,
            "alert_name": p.alert.name if p.alert else "",
            "dry_run": self.dry_run,
        }

    def run(self) -> TimelineEvent:
        """Record the start, run, record the end; returns the `runbook.step_finished` event.
        Raises IncidentError if the start cannot be recorded, or KilledBeforeStartError: then
        nothing runs."""
        try:
            return self._run()
        finally:
            self.finished.set()

    def _not_killed(self) -> None:
        if self._kill_requested.is_set():
            raise KilledBeforeStartError(f"{self.prepared.label} was ended before it started")

    def _run(self) -> TimelineEvent:
        p, data = self.prepared, self._data()
        summary = f"Started {p.label} of {p.runbook.path.name}{for_alert(p.alert)}"
        self._not_killed()
        if self.dry_run:
            started = self._record_start(f"{summary} (dry run: not run)", data)
            self.output.feed(f"(dry run) would run in {p.cwd} with {p.shell}, timeout {p.timeout:g} s:\n{p.command}")
            return self._finish(started, f"Not run {p.label} (dry run)", {"exit_code": None})
        moment = (self.clock or utc_now)()
        name = f"{moment:%Y%m%dT%H%M%S}-step-{p.step.number}-{uuid.uuid4().hex[:6]}.log"
        output_path = self.desk.dir / f"{self.incident_id}.outputs" / name
        process = self.process = StepProcess(
            p.command,
            shell=p.shell,
            cwd=p.cwd,
            env=step_environment(p, self.secrets)
            | {"ONCALL_INCIDENT": self.incident_id, "ONCALL_RUNBOOK": str(p.runbook.path)},
            timeout=p.timeout,
            output=output_path,
            on_output=self.output.feed,
            grace=self.grace,
        )
        recorded: list[TimelineEvent] = []

        def record_start(ref: ProcessRef) -> None:
            """Before the step runs: where to find it again if this console stops before it ends."""
            self._not_killed()  # the last moment a kill can keep it from running at all
            found = {
                "process": ref.as_data(),
                "console": this_console().as_data(),
                "output_file": str(output_path),
                "status_file": str(process.status_file),
            }
            recorded.append(self._record_start(summary, data | found))

        try:
            process.start(record_start)
        except StepError as error:  # nothing ran: its start and why, on the record
            self.error = str(error)
            self.output.feed(f"{error}\n")
            started = self._record_start(summary, data)
            return self._finish(
                started, f"Could not start {p.label}: {error}", {"exit_code": None, "error": str(error)}
            )
        if self._kill_requested.is_set():  # cancelled while it was being recorded
            process.kill()
        began = self.clock() if self.clock else None
        outcome = process.wait()
        if began is not None and self.clock:
            outcome = replace(outcome, duration=max(0.0, (self.clock() - began).total_seconds()))
        self.outcome = outcome
        summary = f"Finished {p.label}{for_alert(p.alert)}: {outcome.describe()}, {outcome.size} bytes of output"
        return self._finish(recorded[0], summary, outcome_data(outcome) | {"output_file": str(output_path)})

    def _record_start(self, summary: str, data: dict[str, Any]) -> TimelineEvent:
        self.started = self.desk.record(self.incident_id, "runbook.step_started", summary, data)
        return self.started

    def _finish(self, started: TimelineEvent, summary: str, outcome: dict[str, Any]) -> TimelineEvent:
        data = {**self._data(), "started_seq": started.seq, **outcome}
        return self.desk.record(self.incident_id, "runbook.step_finished", summary, data)


def outcome_data(outcome: StepOutcome) -> dict[str, Any]:
    """How a step ended, as `runbook.step_finished` records it."""
    return {
        "exit_code": outcome.exit_code,
        "signal": outcome.signal,
        "timed_out": outcome.timed_out,
        "killed": outcome.killed,
        "duration_s": round(outcome.duration, 3),
        "output_bytes": outcome.size,
        "output_sha256": outcome.sha256,
        "output_tail": clean_output(outcome.tail.decode("utf-8", errors="replace")),
        "output_saved_bytes": outcome.saved,
    }


@functools.cache
def this_console() -> ProcessRef:
    """This console's process, as a step's record names it: a later console can tell whether
    the one that ran a step is still there."""
    return ProcessRef.of(os.getpid()) or ProcessRef(os.getpid(), 0, "")
