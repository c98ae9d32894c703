"""What the runbook pane draws: the selected alert's runbook, its numbered steps, and a step's output."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, OptionList
from textual.widgets.option_list import Option

from oncall_tui.core.runbooks.library import Runbook, RunbookMatch, RunbookStep
from oncall_tui.core.runbooks.step_runs import Run
from oncall_tui.core.text import clean_line, clean_output
from oncall_tui.ui.widgets.redrawn import Redrawn, retitle
from oncall_tui.ui.widgets.runbook_document import RunbookDocument

LONG_LINE = 1000
STEP_LIST_LIMIT = 500
"""Steps listed at most (a list of thousands would only slow the pane down)."""
PER_REFRESH = 16 * 1024
"""Characters added to the output pane per refresh (ten a second) at most."""


def run_status(run: Run | None) -> tuple[str, str]:
    """(mark, words) for a step's latest run."""
    if run is None:
        return " ", ""
    if run.running:
        return "⟳", f"running · {run.note}" if run.note else "running"
    if run.dry_run:
        return "◌", "dry run"
    if run.outcome is None:
        return "✗", "could not start" if run.error else "not recorded"
    return ("✓" if run.outcome.ok else "✗"), run.outcome.describe()


def no_runbook_text(name: str, match: RunbookMatch, directory: str) -> Text:
    text = Text()
    text.append(f"No runbook for {clean_line(name, 80) or 'this alert'}.\n\n", style="bold")
    text.append("Tried, in order, in ")
    text.append(f"{directory}:\n")
    for tried in match.tried:
        text.append(f"  · {clean_line(tried, 200)}\n")
    names = [t for t in match.tried if t.endswith(".md") and "→" not in t]
    if names:
        text.append("\nTo add one, create ")
        text.append(f"{directory}/{clean_line(names[min(1, len(names) - 1)], 200)}", style="bold")
        text.append(
            f" (or list {clean_line(name, 80)} under alerts: in a runbook's front matter, or point the rule's "
            "runbook_url annotation at it), with its commands in ```bash blocks."
        )
    return text


class StepList(OptionList):
    """The runbook's steps: j/k move, as in the alert list."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="steps.down"),
        Binding("k", "cursor_up", "Up", show=False, id="steps.up"),
    ]


class RunbookView(Vertical):
    """The runbook, its steps and the output of the run shown; `RunbookPane` adds the keys."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.title = Redrawn(Text("RUNBOOK", style="bold"), id="runbook-title", classes="pane-title")
        self.document = RunbookDocument(id="runbook-doc")
        self.steps = StepList(id="runbook-steps")
        self.output = Log(max_lines=2000, id="step-output")
        self.runbook: Runbook | None = None
        self.selected = 0
        """The selected step's number (0: none)."""
        self.shown_run: Run | None = None
        self._steps_shown: tuple = ()
        self._seen = 0

    def compose(self) -> ComposeResult:
        yield self.title
        with Horizontal(id="runbook-body"):
            yield self.document
            with Vertical(id="runbook-side"):
                yield self.steps
                yield self.output

    def show(self, match: RunbookMatch | None, alert_name: str, directory: str, problem: str | None = None) -> None:
        runbook = match.runbook if match else None
        title = Text.assemble(("RUNBOOK ", "bold"))
        if problem:
            title.append(f"unreadable for {clean_line(alert_name, 60)}", style="bold")
            self.document.show(
                None, Text(f"{clean_line(problem, 500)}\n\nFix the file; it is read again within a second.")
            )
        elif match is None:
            title.append("no alert selected", style="italic")
            self.document.show(None, Text("Select an alert: its runbook shows here.", style="italic"))
        elif runbook is None:
            title.append(f"none for {clean_line(alert_name, 60)}", style="italic")
            self.document.show(None, no_runbook_text(alert_name, match, directory))
        else:
            title.append(clean_line(runbook.title, 80), style="bold")
            title.append(f"  {runbook.path.name} · by {match.how} · {len(runbook.steps)} step(s)")
            if runbook.problems:
                title.append(f" · ⚠ {clean_line(runbook.problems[0], 200)}", style="bold")
            if len(runbook.headings) > 6:
                title.append(" · T contents")
            self.document.show(runbook)
        self.title.update(title)
        if runbook is not self.runbook:
            edited = runbook and self.runbook and runbook.path == self.runbook.path  # re-read: keep the place
            self.runbook = runbook
            steps = len(runbook.steps) if runbook else 0
            self.selected = max(1, min(self.selected, steps)) if edited and steps else (1 if steps else 0)
            self.document.select_step(self.selected, scroll=False)

    @property
    def step(self) -> RunbookStep | None:
        if self.runbook and 0 < self.selected <= len(self.runbook.steps):
            return self.runbook.steps[self.selected - 1]
        return None

    def select(self, number: int) -> None:
        if self.runbook and self.runbook.steps:
            self.selected = max(1, min(number, len(self.runbook.steps)))
            self.document.select_step(self.selected)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """A step moved to in the list (j/k, arrows, a click) is the selected step."""
        number = event.option_index + 1
        if event.option_list is not self.steps or event.option_index != self.steps.highlighted:
            return  # one already overtaken by a later move
        if self.runbook and number <= len(self.runbook.steps) and number != self.selected:
            self.select(number)

    def show_steps(self, runs: dict[tuple[str, int], Run]) -> None:
        """The steps with the state of their latest run (`runs`: one alert's, by (runbook path,
        step)); the selected one highlighted."""
        runbook = self.runbook
        path = str(runbook.path) if runbook else ""
        states = {number: run_status(run) for (where, number), run in runs.items() if where == path}
        options = self._step_options(runbook, states)
        signature = tuple((o.id, str(o.prompt)) for o in options)
        if signature != self._steps_shown:  # rebuilt only when what it says changed
            self._steps_shown = signature
            self.steps.set_options(options)
        highlighted = self.selected - 1 if runbook and 0 < self.selected <= STEP_LIST_LIMIT else None
        if self.steps.highlighted != highlighted and not self.steps.has_focus:  # focused, its cursor leads
            self.steps.highlighted = highlighted
        self.steps.display = bool(runbook and runbook.steps)

    @staticmethod
    def _step_options(runbook: Runbook | None, states: dict[int, tuple[str, str]]) -> list[Option]:
        options = []
        steps = runbook.steps if runbook else []
        for step in steps[:STEP_LIST_LIMIT]:
            mark, words = states.get(step.number, (" ", ""))
            prompt = Text.assemble(f"{mark} {step.number:>2} ", (clean_line(step.name, 60), "bold"))
            if words:
                prompt.append(f"  {words}", style="italic")
            if not step.closed:
                prompt.append("  ⚠ unclosed block", style="bold")
            options.append(Option(prompt, id=str(step.number)))
        if len(steps) > STEP_LIST_LIMIT:
            more = Text(f"… {len(steps) - STEP_LIST_LIMIT} more steps: ] and [ reach them", style="italic")
            options.append(Option(more, id="more", disabled=True))
        return options

    @property
    def behind(self) -> bool:
        """Output the shown run printed that the pane has yet to show (it shows 16 KiB a refresh)."""
        return self.shown_run is not None and self._seen < self.shown_run.output.total

    def show_output(self, run: Run | None) -> None:
        """Follow `run`'s output: what is new since the last call (a bounded tail)."""
        if run is not self.shown_run:
            self.shown_run, self._seen = run, 0
            self.output.clear()
        if run is None:
            retitle(self.output, title="OUTPUT")
            return
        text, skipped, self._seen = run.output.since(self._seen)
        if len(text) > PER_REFRESH:  # a flood: show its latest part, keep each refresh short
            skipped, text = skipped + len(text) - PER_REFRESH, text[-PER_REFRESH:]
        if skipped:
            self.output.write(f"\n… {skipped} characters not shown (the full output is saved) …\n")
        if text:
            lines = clean_output(text).split("\n")
            self.output.write("\n".join(line[:LONG_LINE] + ("…" if len(line) > LONG_LINE else "") for line in lines))
        mark, words = run_status(run)
        step = f"step {run.number}"
        if self.runbook is None or run.runbook_path != self.runbook.path:  # a run of another runbook
            step = f"{run.runbook_path.name} {step}"
        retitle(self.output, title=clean_line(f"OUTPUT {step} · {mark} {words}", 120))
