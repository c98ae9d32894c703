"""The runbook keys: find the selected alert's runbook, and run its steps one by one, each
asked for, confirmed, recorded and killable, while the console stays responsive."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.config import ConfigError
from oncall_tui.core.incidents.desk import IncidentError
from oncall_tui.core.runbooks.library import Runbook, RunbookError, RunbookLibrary, RunbookMatch, links_of
from oncall_tui.core.runbooks.step_recovery import LeftRunning, Recovered
from oncall_tui.core.runbooks.step_runs import (
    PreparedStep,
    RecordedRun,
    Run,
    StepRun,
    incident_for_step,
    prepare,
    record_place,
)
from oncall_tui.core.text import clean_line, visible_controls
from oncall_tui.ui.screens.choice import ChoiceScreen
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import TextPrompt

if TYPE_CHECKING:
    from oncall_tui.ui.app import OncallApp


def clip(value: str, limit: int = 200) -> str:
    """A value as listed in the confirmation: the command above it has all of it."""
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters, all in the command)"


def graphical_browser() -> bool:
    """Whether `o` can open a browser beside the console (not a text one inside this terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


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
RUNBOOK_ACTIONS = frozenset(b.action.split("(")[0] for b in RUNBOOK_BINDINGS)

RunKey = tuple[str, str, int]
"""A step's runs belong to the alert they ran for: (alert fingerprint, runbook path, step)."""


def run_key(alert: Alert | None, runbook: Runbook, number: int) -> RunKey:
    """The key of a run of `runbook`'s step `number` for `alert` (as `_take_run` files it)."""
    return (alert.fingerprint if alert else "", str(runbook.path), number)


class RunbookKeys:
    """Mixed into OncallApp: the actions behind RUNBOOK_BINDINGS."""

    library: RunbookLibrary
    step_runs: dict[RunKey, Run]
    starting_steps: set[RunKey]
    last_run: StepRun | None
    shown_runs: dict[str, Run]
    runbook_problem: str | None
    dry_run: bool

    # -- finding and showing ----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="runbook", description="Finding the runbook")
    def find_runbook(self: OncallApp, alert: Alert | None) -> None:
        """Match in a thread: the first read of a big runbook must not hold up the keys."""
        try:
            match, problem = (self.library.match(alert) if alert else None), None
        except RunbookError as error:
            match, problem = None, str(error)
        self.call_from_thread(self._show_runbook, alert, match, problem)

    def _show_runbook(
        self: OncallApp, alert: Alert | None, match: RunbookMatch | None, problem: str | None = None
    ) -> None:
        """`problem`: why the runbook could not be read (said once, however often it is looked for)."""
        shown = self.alert_detail.alert
        if (shown.fingerprint if shown else None) != (alert.fingerprint if alert else None):
            return  # the cursor moved on meanwhile
        if problem and problem != self.runbook_problem:
            self.notify(clean_line(problem, 300), severity="error", timeout=10)
        self.runbook_alert, self.runbook_problem = alert, problem
        self.runbook_pane.show(match, alert.name if alert else "", str(self.library.dir), problem)
        self._show_steps()

    def _why_no_steps(self: OncallApp) -> str:
        if self.runbook_problem:
            return f"No steps to run: {clean_line(self.runbook_problem, 300)}"
        return "This runbook has no steps to run." if self.runbook_pane.runbook else "No runbook for this alert."

    def _alert_runs(self: OncallApp) -> dict[tuple[str, int], Run]:
        """The runs of the alert the runbook pane shows, by (runbook path, step): another alert's
        runs of the same runbook are its own (another service, other values)."""
        fingerprint = self.runbook_alert.fingerprint if self.runbook_alert else ""
        return {(path, number): run for (fp, path, number), run in self.step_runs.items() if fp == fingerprint}

    def _show_steps(self: OncallApp) -> None:
        pane = self.runbook_pane
        pane.show_steps(self._alert_runs())
        fingerprint = self.runbook_alert.fingerprint if self.runbook_alert else ""
        pane.show_output(self.shown_runs.get(fingerprint))  # the run last started or picked for this alert

    def action_step(self: OncallApp, delta: int) -> None:
        self.bottom_left.current = "runbook"  # the step keys bring the runbook back from the details
        pane = self.runbook_pane
        if not pane.runbook or not pane.runbook.steps:
            self.notify(self._why_no_steps())
            return
        pane.select(pane.selected + delta)
        run = self._alert_runs().get((str(pane.runbook.path), pane.selected))
        if run is not None:  # a step that ran for this alert: its output
            self.shown_runs = {**self.shown_runs, run.alert_key: run}
        self._show_steps()

    def action_toggle_detail(self: OncallApp) -> None:
        switcher = self.bottom_left
        switcher.current = "detail" if switcher.current == "runbook" else "runbook"

    def action_contents(self: OncallApp) -> None:
        self.bottom_left.current = "runbook"
        runbook = self.runbook_pane.runbook
        if not runbook or not runbook.headings:
            self.notify("This runbook has no headings." if runbook else "No runbook for this alert.")
            return
        titles = [f"{'  ' * (h.level - 1)}{clean_line(h.text, 100)}" for h in runbook.headings]

        def jump(index: int | None) -> None:
            if index is not None and not self.runbook_pane.document.jump_to_heading(index):
                self.notify("That part of the runbook is not shown yet (still rendering, or past the part shown).")

        self.push_screen(ChoiceScreen(f"Contents · {runbook.path.name}", titles), jump)

    def action_links(self: OncallApp, how: str) -> None:
        """Every http(s) link: the alert's runbook_url and generatorURL, then the runbook's."""
        links = links_of(self.alert_detail.alert, self.runbook_pane.runbook)
        if not links:
            self.notify("No http(s) link in this alert or its runbook.")
            return
        verb = "Open in the browser" if how == "open" else "Copy to the clipboard"

        def chosen(index: int | None) -> None:
            if index is None:
                return
            url = clean_line(links[index])  # a URL with a control character is not a URL
            if how == "open" and graphical_browser():
                self.open_url(url)
                self.notify(f"Opening {url}")
                return
            self.copy_to_clipboard(url)
            if how == "open":  # a text browser would take over this terminal: never start one
                self.notify(f"No graphical browser here (no $DISPLAY or $BROWSER): copied instead: {url}")
            else:
                self.notify(f"Copied {url}")

        self.push_screen(ChoiceScreen(verb, [clean_line(u, 300) for u in links]), chosen)

    # -- running ----------------------------------------------------------------------------
    def action_run_step(self: OncallApp) -> None:
        if self._refuse_if_read_only():
            return
        self.bottom_left.current = "runbook"
        selected = self.alert_list.current  # moved by the key just before, maybe
        if selected is not None and selected.is_page:
            self.notify(
                "Not run: this is an oncall-tui page, not an alert: select the incident's alert to run its "
                "runbook's steps with that alert's labels.",
                severity="warning",
            )
            return
        if (selected and selected.fingerprint) != (self.runbook_alert and self.runbook_alert.fingerprint):
            # the pane still shows the previous alert's runbook, filled from its labels
            name = clean_line(selected.name, 80) if selected else "no alert"
            self.notify(f"Not run: still finding the runbook for {name}. Press r again in a moment.")
            return
        pane = self.runbook_pane
        step = pane.step
        if pane.runbook is None or step is None:
            self.notify(self._why_no_steps())
            return
        running = self.step_runs.get(run_key(self.runbook_alert, pane.runbook, step.number))
        if running and running.running:
            self.notify(f"Step {step.number} is still running for this alert: ctrl+c kills it.")
            return
        self._prepare_step(pane.runbook, step, self.runbook_alert, {})

    def _prepare_step(self: OncallApp, runbook, step, alert: Alert | None, given: dict[str, str]) -> None:
        try:
            prepared = prepare(runbook, step, alert, self.config.runbooks, given)
        except RunbookError as error:
            self.notify(f"Not run: {error}", severity="error", timeout=10)
            return
        if prepared.filled.missing:
            missing = prepared.filled.missing[0]

            def answered(value: str | None) -> None:
                if value:
                    self._prepare_step(runbook, step, alert, {**given, missing.placeholder: value})

            prompt = TextPrompt(
                f"Step {step.number} · a value for {{{{ {missing.placeholder} }}}}",
                f"{clean_line(missing.reason, 300)}. Type the value to use (it is shell-quoted for you):",
            )
            self.push_screen(prompt, answered)
            return
        self._confirm_step(prepared)

    def _confirm_step(self: OncallApp, prepared: PreparedStep) -> None:
        record = f"recorded in   {record_place(self.desk, prepared, self.config.incidents.group_by)}"
        lines = [
            f"directory     {prepared.cwd}",
            f"shell         {prepared.shell}",
            f"timeout       {prepared.timeout:g} s (then SIGTERM; SIGKILL {self.config.runbooks.kill_grace:g} s later)",
        ]
        if prepared.filled.params:
            values = " · ".join(f"{k}={clip(visible_controls(v))}" for k, v in prepared.filled.params.items())
            lines.append(f"values        {values}")
            lines += [f"CAUTION       {visible_controls(c)}" for c in prepared.filled.cautions]
        lines.append(record)
        if prepared.path:
            lines.append(f"PATH first    {', '.join(map(str, prepared.path))}")
            if self.is_demo:
                lines.append("DEMO          kubectl, curl and ssh are stand-ins that print canned output")
        if self.dry_run:
            lines.append("DRY RUN       recorded and shown, not run (--dry-run)")
        command = prepared.command.rstrip("\n")
        long = f"; {len(command)} characters: tab, then the arrows scroll" if len(command) > 500 else ""
        lines += [  # last: however long a label makes it, everything above stays in view
            "",
            f"command (run as `SHELL -c`, in its own process group, no stdin{long}):",
            *(f"  {line}" for line in visible_controls(command).split("\n")),
        ]
        question = f"Run {prepared.label} of {prepared.runbook.path.name}?"
        self.push_screen(
            ConfirmScreen(question, "\n".join(lines), yes="Dry run" if self.dry_run else "Run"),
            lambda yes: yes and self._start_step(prepared),
        )

    def _start_step(self: OncallApp, prepared: PreparedStep) -> None:
        key = run_key(prepared.alert, prepared.runbook, prepared.step.number)
        if key in self.starting_steps or (key in self.step_runs and self.step_runs[key].running):
            self.notify(f"Step {prepared.step.number} is still running for this alert: not started twice.")
            return
        self.starting_steps.add(key)
        self._run_step(prepared, key)

    @work(thread=True, group="steps", description="Running a runbook step")
    def _run_step(self: OncallApp, prepared: PreparedStep, key: RunKey) -> None:
        try:
            incident, declared = incident_for_step(self.desk, prepared, self.config.incidents.group_by)
            if declared:
                self.call_from_thread(self.notify, f"{incident.id}: declared for this step's record")
            self.call_from_thread(self._choose, incident.id, "its step ran")
            secrets = self._secrets()
            run = StepRun(
                self.desk,
                incident.id,
                prepared,
                dry_run=self.dry_run,
                secrets=secrets,
                grace=self.config.runbooks.kill_grace,
                clock=self.clock,
            )
            self.call_from_thread(self._take_run, run)  # written on the UI thread, which reads them
            event = run.run()
        except IncidentError as error:
            self.starting_steps.discard(key)
            self.call_from_thread(self.notify, f"Not run: {error}", severity="error", timeout=10)
            self.call_from_thread(self._show_steps)
            return
        self.call_from_thread(self._step_done, run, event.summary)

    def _take_run(self: OncallApp, run: Run) -> None:
        """A run starting (or one a stopped console left): its alert's, shown in the output pane."""
        key = (run.alert_key, str(run.runbook_path), run.number)
        self.step_runs = {**self.step_runs, key: run}  # new dicts: a worker may hold the old ones
        self.shown_runs = {**self.shown_runs, run.alert_key: run}
        self.starting_steps.discard(key)
        if isinstance(run, StepRun):
            self.last_run = run
        self._show_steps()

    def _secrets(self: OncallApp) -> list[str]:
        if self.config.pagerduty is None:
            return []
        try:
            return [self.config.pagerduty.read_token()]
        except ConfigError:
            return []

    def _step_done(self: OncallApp, run: Run, summary: str) -> None:
        ok = run.dry_run or (run.outcome is not None and run.outcome.ok)
        self.notify(clean_line(summary, 200), severity="information" if ok else "warning")
        pane = self.runbook_pane
        here = self.runbook_alert.fingerprint if self.runbook_alert else ""
        if (
            ok
            and here == run.alert_key
            and pane.runbook is not None
            and pane.runbook.path == run.runbook_path
            and pane.selected == run.number
        ):
            pane.select(pane.selected + 1)  # on to the next step, as runme does (the output stays on this run)
        self._show_steps()
        self.show_incident()

    def action_kill_step(self: OncallApp) -> None:
        """Kill the selected step's run for this alert, or this alert's only running one."""
        pane = self.runbook_pane
        mine = self._alert_runs()
        running = [r for r in mine.values() if r.running]
        selected = mine.get((str(pane.runbook.path), pane.selected)) if pane.runbook else None
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
    def _take_recorded(self: OncallApp, runs: list[RecordedRun]) -> None:
        """At start: each step's last recorded run for its alert, as the record has it (a run of
        this console, or one a stopped console left running, comes after and wins)."""
        taken = {(r.alert_key, str(r.runbook_path), r.number): r for r in runs}
        self.step_runs = {**taken, **self.step_runs}
        latest = {r.alert_key: r for r in runs}
        self.shown_runs = {**latest, **self.shown_runs}
        self._show_steps()

    def _take_in_left_steps(self: OncallApp, found: Recovered) -> None:
        """On the UI thread, at start: steps still running from a console that stopped show as
        their alert's runs, killable; the ends recorded for the others are said once."""
        for run in found.running:
            key = (run.alert_key, str(run.runbook_path), run.number)
            self.step_runs = {**self.step_runs, key: run}
            self.shown_runs = {**self.shown_runs, run.alert_key: run}
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
    def _watch_left(self: OncallApp, run: LeftRunning) -> None:
        try:
            event = run.watch()
        except IncidentError as error:
            self.call_from_thread(self.notify, f"Not recorded: {error}", severity="error", timeout=15)
            return
        summary = event.summary if event else f"{run.label} ended (recorded by another console)"
        self.call_from_thread(self._step_done, run, summary)

    def running_steps(self: OncallApp) -> list[Run]:
        return [r for r in self.step_runs.values() if r.running]
