"""The runbook pane and its keys: it finds the selected alert's runbook, and runs its steps one
by one, each asked for, confirmed, recorded and killable, while the console stays responsive."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.config import ConfigError
from oncall_tui.core.incidents.desk import IncidentError
from oncall_tui.core.runbooks.library import Runbook, RunbookError, RunbookMatch, RunbookStep, links_of
from oncall_tui.core.runbooks.step_recovery import LeftRunning, Recovered
from oncall_tui.core.runbooks.step_runs import (
    PreparedStep,
    RecordedRun,
    Run,
    StepRun,
    confirmation,
    incident_for_step,
    prepare,
)
from oncall_tui.core.text import clean_line
from oncall_tui.services import Services
from oncall_tui.ui.messages import IncidentChosen, StepFinished
from oncall_tui.ui.screens.choice import ChoiceScreen
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import TextPrompt
from oncall_tui.ui.widgets.runbook_view import RunbookView


def graphical_browser() -> bool:
    """Whether `o` can open a browser beside the console (not a text one inside this terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


SETTLE = 0.15
"""Seconds: a move this soon after the last one is followed once the cursor rests this long."""
_now = time.monotonic

RUNBOOK_BINDINGS = [
    Binding("r", "run_step", "Run step", id="run_step"),
    Binding("right_square_bracket", "step(1)", "Next step", key_display="]", show=False, id="next_step"),
    Binding("left_square_bracket", "step(-1)", "Previous step", key_display="[", show=False, id="previous_step"),
    Binding("ctrl+c", "kill_step", "Kill step", show=False, id="kill_step"),
    Binding("o", "links('open')", "Open link", show=False, id="open_link"),
    Binding("y", "links('copy')", "Copy link", show=False, id="copy_link"),
    Binding("T", "contents", "Runbook contents", show=False, id="contents"),
    Binding("d", "toggle_detail", "Alert details / runbook", show=False, id="toggle_detail"),
]
"""The main screen's (the keys work wherever the focus is); their actions call this pane."""

RunKey = tuple[str, str, int]
"""A step's runs belong to the alert they ran for: (alert fingerprint, runbook path, step)."""


def run_key(alert: Alert | None, runbook: Runbook, number: int) -> RunKey:
    """The key of a run of `runbook`'s step `number` for `alert` (as `_take_run` files it)."""
    return (alert.fingerprint if alert else "", str(runbook.path), number)


def run_key_of(run: Run) -> RunKey:
    return (run.alert_key, str(run.runbook_path), run.number)


class RunbookPane(RunbookView):
    """`r` runs the selected step, `]`/`[` move, ctrl+c kills a running step, `T` contents."""

    @dataclass
    class Found(Message):
        """From the worker that looked for `alert`'s runbook."""

        alert: Alert | None
        match: RunbookMatch | None
        problem: str | None

    @dataclass
    class Started(Message):
        """From a step's worker: its run is about to begin (or did not, with `error`)."""

        key: RunKey
        run: StepRun | None
        error: str = ""

    def __init__(self, services: Services, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.library = services.library
        self.selected_alert: Alert | None = None
        """The selected alert, as the last `AlertSelected` said."""
        self.alert: Alert | None = None
        """The alert whose runbook the pane shows (behind the selected one while it is looked up)."""
        self._alert_key: tuple[str, ...] | None = None
        self._moved_at = -SETTLE
        self._settling: Timer | None = None
        """Set while the cursor moves quickly: the runbook is looked for once it rests."""
        self.problem: str | None = None
        """Why that alert's runbook could not be read, when it could not."""
        self.step_runs: dict[RunKey, Run] = {}
        """The latest run of each step for each alert, by (alert fingerprint, runbook path, step number)."""
        self.starting: dict[RunKey, str] = {}
        """Confirmed steps whose worker has not started them yet, with their labels."""
        self._replaced: dict[Run, Run | None] = {}
        """For each run starting, the step's run it took the place of (back if it never starts)."""
        self._live: set[StepRun] = set()
        """Every run a worker holds, started or about to be (read on the way out, from a thread)."""
        self._live_lock = threading.Lock()
        self.quitting = False
        """Set (under the lock) on the way out: a step confirmed but not started never starts."""
        self.last_run: StepRun | None = None
        """The latest run started, whatever its alert."""
        self.shown_runs: dict[str, Run] = {}
        """By alert fingerprint: the run its output pane shows (the one last started or picked)."""

    def on_mount(self) -> None:
        self.set_interval(1.0, self._read_again)
        self.set_interval(0.1, self._follow_output)
        self.find(None)

    # -- finding and showing ----------------------------------------------------------------
    def follow(self, alert: Alert | None, at_once: bool = False) -> None:
        """The runbook follows the selected alert; it is looked for again only when that changes.
        A move hard on the heels of the last (a key held down, a fast typist) is followed once the
        cursor rests, unless `at_once`: another runbook laid out at every row would hold up the keys."""
        self.selected_alert = alert
        key = (
            (alert.fingerprint, *(alert.annotations.get(k, "") for k in ("runbook_url", "runbook"))) if alert else None
        )
        if key != self._alert_key:
            self._alert_key = key
            moved, self._moved_at = self._moved_at, _now()
            if self._moved_at - moved < SETTLE and not at_once:
                if self._settling is not None:
                    self._settling.stop()
                self._settling = self.set_timer(SETTLE, self._settled)
            else:
                self._settled()
        elif at_once and self._settling is not None:
            self._settled()
        elif alert and self.alert and self.alert.fingerprint == alert.fingerprint:
            self.alert = alert  # the same alert as the latest poll has it; never one still being looked up

    def _settled(self) -> None:
        if self._settling is not None:
            self._settling.stop()
            self._settling = None
        self.find(self.selected_alert)

    def _read_again(self) -> None:
        """Once a second: a runbook edited on disk shows within a second."""
        if self._settling is None and not any(
            w.group == "runbook" and not w.is_finished for w in self.workers
        ):  # none piles up
            self.find(self.selected_alert)

    def _follow_output(self) -> None:
        """Ten times a second, while a step runs or the pane has output still to show."""
        if self.running_steps() or self.behind:
            self._show_steps()

    @work(thread=True, exclusive=True, group="runbook", description="Finding the runbook")
    def find(self, alert: Alert | None) -> None:
        """Match in a thread: the first read of a big runbook must not hold up the keys."""
        try:
            match, problem = (self.library.match(alert) if alert else None), None
        except RunbookError as error:
            match, problem = None, str(error)
        self.post_message(self.Found(alert, match, problem))

    def on_runbook_pane_found(self, found: Found) -> None:
        """`problem`: why the runbook could not be read (said once, however often it is looked for)."""
        found.stop()
        alert, shown = found.alert, self.selected_alert
        if (shown.fingerprint if shown else None) != (alert.fingerprint if alert else None):
            return  # the cursor moved on meanwhile
        if found.problem and found.problem != self.problem:
            self.notify(clean_line(found.problem, 300), severity="error", timeout=10)
        self.alert, self.problem = alert, found.problem
        self.show(found.match, alert.name if alert else "", str(self.library.dir), found.problem)
        self._show_steps()

    def _why_no_steps(self) -> str:
        if self.problem:
            return f"No steps to run: {clean_line(self.problem, 300)}"
        return "This runbook has no steps to run." if self.runbook else "No runbook for this alert."

    def _alert_runs(self) -> dict[tuple[str, int], Run]:
        """The runs of the alert the pane shows, by (runbook path, step): another alert's runs of
        the same runbook are its own (another service, other values)."""
        fingerprint = self.alert.fingerprint if self.alert else ""
        return {(path, number): run for (fp, path, number), run in self.step_runs.items() if fp == fingerprint}

    def _show_steps(self) -> None:
        self.show_steps(self._alert_runs())
        fingerprint = self.alert.fingerprint if self.alert else ""
        self.show_output(self.shown_runs.get(fingerprint))  # the run last started or picked for this alert

    def step_by(self, delta: int) -> None:
        if not self.runbook or not self.runbook.steps:
            self.notify(self._why_no_steps())
            return
        self.select(self.selected + delta)
        run = self._alert_runs().get((str(self.runbook.path), self.selected))
        if run is not None:  # a step that ran for this alert: its output
            self.shown_runs = {**self.shown_runs, run.alert_key: run}
        self._show_steps()

    def contents(self) -> None:
        runbook = self.runbook
        if not runbook or not runbook.headings:
            self.notify("This runbook has no headings." if runbook else "No runbook for this alert.")
            return
        titles = [f"{'  ' * (h.level - 1)}{clean_line(h.text, 100)}" for h in runbook.headings]

        def jump(index: int | None) -> None:
            if index is not None and not self.document.jump_to_heading(index):
                self.notify("That part of the runbook is not shown yet (still rendering, or past the part shown).")

        self.app.push_screen(ChoiceScreen(f"Contents · {runbook.path.name}", titles), jump)

    def links(self, how: str) -> None:
        """Every http(s) link: the alert's runbook_url and generatorURL, then the runbook's (the
        alert whose runbook the pane shows)."""
        links = links_of(self.alert, self.runbook)
        if not links:
            self.notify("No http(s) link in this alert or its runbook.")
            return
        verb = "Open in the browser" if how == "open" else "Copy to the clipboard"

        def chosen(index: int | None) -> None:
            if index is None:
                return
            url = clean_line(links[index])  # a URL with a control character is not a URL
            if how == "open" and graphical_browser():
                self.app.open_url(url)
                self.notify(f"Opening {url}")
                return
            self.app.copy_to_clipboard(url)
            if how == "open":  # a text browser would take over this terminal: never start one
                self.notify(f"No graphical browser here (no $DISPLAY or $BROWSER): copied instead: {url}")
            else:
                self.notify(f"Copied {url}")

        self.app.push_screen(ChoiceScreen(verb, [clean_line(u, 300) for u in links]), chosen)

    # -- running ----------------------------------------------------------------------------
    def run_step(self, selected: Alert | None) -> None:
        """`r` on the alert `selected` now (the alert list's: the key may have moved it just
        before, and this pane not heard of it yet)."""
        if self.services.refuses(self.notify):
            return
        if selected is not None and selected.is_page:
            self.notify(
                "Not run: this is an oncall-tui page, not an alert: select the incident's alert to run its "
                "runbook's steps with that alert's labels.",
                severity="warning",
            )
            return
        if (selected and selected.fingerprint) != (self.alert and self.alert.fingerprint):
            # the pane still shows the previous alert's runbook, filled from its labels
            name = clean_line(selected.name, 80) if selected else "no alert"
            self.follow(selected, at_once=True)  # looked for now, not once the cursor rests
            self.notify(f"Not run: still finding the runbook for {name}. Press r again in a moment.")
            return
        step = self.step
        if self.runbook is None or step is None:
            self.notify(self._why_no_steps())
            return
        running = self.step_runs.get(run_key(self.alert, self.runbook, step.number))
        if running and running.running:
            self.notify(f"Step {step.number} is still running for this alert: ctrl+c kills it.")
            return
        self._prepare(self.runbook, step, self.alert, {})

    def _prepare(self, runbook: Runbook, step: RunbookStep, alert: Alert | None, given: dict[str, str]) -> None:
        try:
            prepared = prepare(runbook, step, alert, self.services.config.runbooks, given)
        except RunbookError as error:
            self.notify(f"Not run: {error}", severity="error", timeout=10)
            return
        if prepared.filled.missing:
            missing = prepared.filled.missing[0]

            def answered(value: str | None) -> None:
                if value:
                    self._prepare(runbook, step, alert, {**given, missing.placeholder: value})

            prompt = TextPrompt(
                f"Step {step.number} · a value for {{{{ {missing.placeholder} }}}}",
                f"{clean_line(missing.reason, 300)}. Type the value to use (it is shell-quoted for you):",
            )
            self.app.push_screen(prompt, answered)
            return
        services = self.services
        facts = confirmation(
            prepared,
            services.desk,
            services.config.runbooks,
            services.config.incidents.group_by,
            dry_run=services.dry_run,
            demo=services.is_demo,
        )
        self.app.push_screen(
            ConfirmScreen(
                f"Run {prepared.label} of {prepared.runbook.path.name}?",
                "\n".join(facts),
                yes="Dry run" if services.dry_run else "Run",
            ),
            lambda yes: yes and self._start(prepared),
        )

    def _start(self, prepared: PreparedStep) -> None:
        key = run_key(prepared.alert, prepared.runbook, prepared.step.number)
        if key in self.starting or (key in self.step_runs and self.step_runs[key].running):
            self.notify(f"Step {prepared.step.number} is still running for this alert: not started twice.")
            return
        self.starting[key] = prepared.label
        self._run(prepared, key)

    @work(thread=True, group="steps", description="Running a runbook step")
    def _run(self, prepared: PreparedStep, key: RunKey) -> None:
        services = self.services
        run = None
        quitting = self.Started(key, None, f"Not run {prepared.label}: the console is quitting.")
        if self.quitting:  # `q` came between the confirmation and here: no incident declared for it
            self.post_message(quitting)
            return
        try:
            incident, declared = incident_for_step(services.desk, prepared, services.config.incidents.group_by)
            if declared:
                self.notify(f"{incident.id}: declared for this step's record")
            run = StepRun(
                services.desk,
                incident.id,
                prepared,
                dry_run=services.dry_run,
                secrets=self._secrets(),
                grace=services.config.runbooks.kill_grace,
                clock=services.clock,
            )
            with self._live_lock:
                if self.quitting:  # `q` came while its incident was being found or declared
                    self.post_message(quitting)
                    return
                self._live.add(run)
            self.post_message(self.Started(key, run))  # filed on the UI thread, which reads the runs
            self.post_message(IncidentChosen(incident.id, "a step ran on it"))
            event = run.run()
        except IncidentError as error:
            if run is None or run.started is None:  # nothing ran
                self.post_message(self.Started(key, run, f"Not run: {error}"))
            else:  # its start is on the record: only how it ended is missing
                how = (
                    f"ended ({run.outcome.describe()})"
                    if run.outcome
                    else "did not run (dry run, or it could not start)"
                )
                self.post_message(
                    StepFinished(run, f"{run.label} {how}, but that is NOT recorded: {error}", recorded=False)
                )
            return
        finally:
            with self._live_lock:
                self._live.discard(run)
        self.post_message(StepFinished(run, event.summary))

    def on_runbook_pane_started(self, started: Started) -> None:
        started.stop()
        if started.error:
            self.starting.pop(started.key, None)
            if started.run is not None and self.step_runs.get(started.key) is started.run:
                self._file(self._replaced.pop(started.run, None), started.run)  # the earlier run shows again
            self.notify(started.error, severity="error", timeout=10)
            self._show_steps()
        else:
            assert started.run is not None
            self._take_run(started.run)

    def _take_run(self, run: Run) -> None:
        """A run starting: its alert's, shown in the output pane."""
        key = run_key_of(run)
        self._replaced[run] = self.step_runs.get(key)
        self._file(run)
        self.starting.pop(key, None)
        if isinstance(run, StepRun):
            self.last_run = run
        self._show_steps()

    def _file(self, run: Run | None, instead_of: Run | None = None) -> None:
        """`run` as its step's and its alert's (`instead_of`, a run that never started, goes)."""
        gone = instead_of or run
        assert gone is not None
        key = run_key_of(gone)
        runs = {k: r for k, r in self.step_runs.items() if k != key}  # new dicts: a worker may hold the old ones
        shown = {k: r for k, r in self.shown_runs.items() if r is not instead_of}
        if run is not None:
            runs[key] = run
            shown[run.alert_key] = run
        self.step_runs, self.shown_runs = runs, shown

    def _secrets(self) -> list[str]:
        pagerduty = self.services.config.pagerduty
        if pagerduty is None:
            return []
        try:
            return [pagerduty.read_token()]
        except ConfigError:
            return []

    def on_step_finished(self, finished: StepFinished) -> None:
        """Said, and on to the next step; it goes on to the screen (the incident shows it)."""
        run = finished.run
        self._replaced.pop(run, None)
        ok = run.dry_run or (run.outcome is not None and run.outcome.ok)
        severity = "information" if ok and finished.recorded else "warning" if finished.recorded else "error"
        self.notify(clean_line(finished.summary, 300), severity=severity, timeout=10 if finished.recorded else 30)
        here = self.alert.fingerprint if self.alert else ""
        if (
            ok
            and here == run.alert_key
            and self.runbook is not None
            and self.runbook.path == run.runbook_path
            and self.selected == run.number
        ):
            self.select(self.selected + 1)  # on to the next step, as runme does (the output stays on this run)
        self._show_steps()

    def action_kill_step(self) -> None:
        """Kill the selected step's run for this alert, or this alert's only running one."""
        mine = self._alert_runs()
        running = [r for r in mine.values() if r.running]
        selected = mine.get((str(self.runbook.path), self.selected)) if self.runbook else None
        run = selected if selected and selected.running else (running[0] if len(running) == 1 else None)
        if run is None:
            elsewhere = len(self.running_steps()) - len(running)
            if running:
                self.notify("Several steps are running for this alert: select the one to kill.")
            else:
                others = f" ({elsewhere} running for other alerts: select the alert)" if elsewhere else ""
                self.notify(f"No step is running for this alert{others}.")
            return
        run.kill()
        self.notify(f"Killing {run.label}: SIGTERM to its process group, then SIGKILL.")

    # -- steps of earlier consoles ----------------------------------------------------------
    def take_recorded(self, runs: list[RecordedRun]) -> None:
        """At start: each step's last recorded run for its alert, as the record has it (a run of
        this console, or one a stopped console left running, comes after and wins)."""
        taken = {run_key_of(r): r for r in runs}
        self.step_runs = {**taken, **self.step_runs}
        latest = {r.alert_key: r for r in runs}
        self.shown_runs = {**latest, **self.shown_runs}
        self._show_steps()

    def take_in_left(self, found: Recovered) -> None:
        """At start: steps still running from a console that stopped show as their alert's runs,
        killable; the ends recorded for the others are said once."""
        for run in found.running:
            self._file(run)
            self._watch_left(run)
        if found.running:
            names = ", ".join(r.label for r in found.running)
            self.notify(
                f"Still running, {found.running[0].note}: {names}. Select its alert; ctrl+c ends it.",
                severity="warning",
                timeout=30,
            )
        if found.recorded:
            self.notify(
                f"Recorded the end of {len(found.recorded)} step(s) a stopped console left: "
                + "; ".join(clean_line(e.summary, 160) for e in found.recorded[:3]),
                severity="warning",
                timeout=30,
            )
        for error in found.errors:
            self.notify(f"Not recorded: {error}", severity="error", timeout=15)
        self._show_steps()

    @work(thread=True, group="steps", description="Watching a step a stopped console left running")
    def _watch_left(self, run: LeftRunning) -> None:
        try:
            event = run.watch()
        except IncidentError as error:
            self.notify(f"Not recorded: {error}", severity="error", timeout=15)
            return
        summary = event.summary if event else f"{run.label} ended (recorded by another console)"
        self.post_message(StepFinished(run, summary))

    def running_steps(self) -> list[Run]:
        return [r for r in self.step_runs.values() if r.running]

    def steps_going(self) -> list[str]:
        """What quitting would kill: the steps running, and those confirmed but not started yet."""
        return [r.label for r in self.running_steps()] + list(self.starting.values())

    def end_running_steps(self) -> None:
        """On the way out (in a thread): no step outlives the console; each is killed, and
        recorded as such, and a step confirmed but not started yet never starts."""
        with self._live_lock:
            self.quitting = True
            running = {*self.running_steps(), *self._live}
        for run in running:
            run.kill()
        for run in running:
            run.finished.wait(self.services.config.runbooks.kill_grace + 5)
