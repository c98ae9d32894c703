"""The main screen: composes the panes, holds their keys, and passes on what one pane's news
means for another. Each action is a call to the pane that owns the verb; a modal screen on
top cuts the keys off by itself."""

from __future__ import annotations

import asyncio
import threading

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from oncall_tui.core.bell import AlertBell, PageBell, ShiftBell
from oncall_tui.core.incidents.desk import IncidentError
from oncall_tui.core.pagerduty.incidents import sync
from oncall_tui.core.pagerduty.rest import PagerDutyError
from oncall_tui.core.private import recording_problem
from oncall_tui.core.runbooks.step_recovery import recover
from oncall_tui.core.runbooks.step_runs import recorded_runs
from oncall_tui.services import Services
from oncall_tui.ui.collecting import Collecting
from oncall_tui.ui.messages import (
    AlertSelected,
    AlertsPolled,
    DoubtsCounted,
    IncidentChosen,
    IncidentShown,
    IncidentsLoaded,
    LevelsChanged,
    PagerDutyStateChanged,
    StepFinished,
)
from oncall_tui.ui.widgets.alert_detail import AlertDetail
from oncall_tui.ui.widgets.alerts_pane import AlertsPane
from oncall_tui.ui.widgets.incident_pane import INCIDENT_BINDINGS, IncidentPane
from oncall_tui.ui.widgets.key_bar import KeyBar
from oncall_tui.ui.widgets.oncall_pane import OnCallPane
from oncall_tui.ui.widgets.runbook_pane import RUNBOOK_BINDINGS, RunbookPane
from oncall_tui.ui.widgets.status_line import StatusLine
from oncall_tui.ui.widgets.timeline_pane import TimelinePane

OLD_IDS = {"runbook.kill": "kill_step"}
WRITES = frozenset(
    {"declare", "acknowledge", "escalate", "note", "resolve", "reassign", "severity", "advance_stage"}
    | {"take_command", "silence", "acknowledge_alert", "run_step"}
)
"""The keys a read-only console does not offer in its key bar (pressed, they say why not)."""
"""Binding ids of earlier versions that `keymap:` still takes (the runbook pane's own kill key,
once `k`, is the screen's ctrl+c now)."""


def current_ids(keymap: dict[str, str]) -> dict[str, str]:
    """`keymap:` under today's binding ids."""
    return {OLD_IDS.get(binding_id, binding_id): keys for binding_id, keys in keymap.items()}


class MainScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    """Below 120 columns the on-call pane goes above the incident, and the alerts get the room."""
    ALLOW_IN_MAXIMIZED_VIEW = "#status, KeyBar"
    ESCAPE_TO_MINIMIZE = False  # esc clears a filter first (action_clear_filter), then unzooms
    """A zoomed pane (z) keeps the sources' health above it and the keys below."""

    BINDINGS = [
        # the app's own, first here so the key bar shows them at any width (it puts ? last)
        Binding("q", "app.quit", "Quit", id="quit"),
        Binding("question_mark", "app.help", "Help", key_display="?", id="help"),
        # then in the order a narrow key bar keeps them: the response first
        *INCIDENT_BINDINGS,
        *RUNBOOK_BINDINGS,
        Binding("s", "silence", "Silence", id="silence"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("A", "acknowledge_alert", "Ack alert", show=False, id="ack_alert"),
        Binding("S", "silences", "Silences", id="silences"),
        Binding("z", "zoom", "Zoom", id="zoom"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False, id="refresh"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        config = services.config
        self.stopping = threading.Event()
        """Set on the way out: the background threads end."""
        self.status_line = StatusLine(
            config.user.name, services.read_only, services.clock, self._sources_and_storm, id="status"
        )
        self.alerts = AlertsPane(services, id="alerts-pane", classes="pane")
        self.alert_list = self.alerts.list
        self.alert_detail = AlertDetail(
            services.clock,
            services.history,
            services.config.unsaid,
            services.recorder is not None,
            id="detail",
            classes="pane",
        )
        self.runbook_pane = RunbookPane(services, id="runbook", classes="pane")
        self.bottom_left = ContentSwitcher(initial="runbook", id="bottom-left")
        self.incident_pane = IncidentPane(services, id="incident", classes="pane")
        self.oncall_pane = OnCallPane(services, id="oncall", classes="pane")
        self.timeline = TimelinePane(id="timeline", classes="pane")
        self.timeline.border_title = "TIMELINE"
        self.footer = KeyBar(WRITES if services.read_only else frozenset())
        self.bell = AlertBell(config.notify.severity)
        """Rings for a new alert at or above notify.severity, never for those firing at start."""
        me = {config.user.name, *([config.user.email] if config.user.email else [])}
        self.shift_bell, self.page_bell = ShiftBell(me), PageBell(me)
        self.collecting = Collecting()
        self._pagerduty_error: str | None = None
        self._pagerduty_ok = False

    def compose(self) -> ComposeResult:
        yield self.status_line
        with Horizontal(id="top"):
            yield self.alerts
            with Container(id="right"):  # beside each other when wide, stacked when narrow
                yield self.oncall_pane
                yield self.incident_pane
        with Horizontal(id="bottom"):
            with self.bottom_left:
                yield self.runbook_pane
                yield self.alert_detail
            yield self.timeline
        yield self.footer

    def on_mount(self) -> None:
        self.set_interval(5.0, self._ring_for_shifts)
        self.alert_list.focus()
        self.services.waiting.listener = self._pagerduty_waiting
        if not self.services.read_only:  # read-only records nothing
            self._check_data_dir()
        self._show_pagerduty()
        self._load()

    def on_resize(self) -> None:
        self.footer.compact = self.has_class("-narrow")  # more keys in the bar (the palette hides)

    def _sources_and_storm(self) -> tuple[list, str | None]:
        config = self.services.config
        storm = self.services.desk.storm_summary(config.incidents.auto_declare_window, config.incidents.group_by)
        return [self.alerts.as_shown(s) for s in self.services.board.status.values()], storm

    # -- starting -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load", description="Reading incident journals")
    def _load(self) -> None:
        """Resume every open incident from its journal, then start polling."""
        desk = self.services.desk
        desk.load()
        for problem in desk.problems:
            self.notify(problem, severity="warning", timeout=15)
        left = None if self.services.read_only else recover(desk, self.services.config.runbooks.kill_grace)
        self.post_message(IncidentsLoaded(recorded_runs(desk.incidents.values()), left))

    def on_incidents_loaded(self, loaded: IncidentsLoaded) -> None:
        self.runbook_pane.take_recorded(loaded.recorded)
        if loaded.left is not None:  # after the recorded runs: a step still running wins its place
            self.runbook_pane.take_in_left(loaded.left)
        self.incident_pane.show()
        self.alerts.poll()
        if self.services.pagerduty:
            self._sync_pagerduty()
        if self.services.desk.pager and not self.services.read_only:
            self.incident_pane.keep_pages(self.stopping)

    @work(group="data_dir", description="Checking that the data dir can be written")
    async def _check_data_dir(self) -> None:
        """Said in the header from the start, rather than at the first incident key."""
        problem = await asyncio.to_thread(recording_problem, self.services.config.data_dir)
        self.status_line.cannot_record = problem
        self.status_line.show()

    # -- PagerDuty ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="pagerduty", description="Syncing with PagerDuty")
    def _sync_pagerduty(self) -> None:
        """On-call levels and incidents from PagerDuty, every poll interval and at each handoff."""
        services = self.services
        api, oncall, config = services.pagerduty, services.oncall, services.config
        assert api is not None
        services.waiting.in_background()
        while not self.stopping.is_set():
            try:
                if oncall.from_pagerduty:
                    try:  # a page to your PagerDuty name is yours; a failure waits for the next round
                        me = api.me() or {}
                        services.desk.names |= {str(me[k]) for k in ("name", "email") if me.get(k)}
                    except PagerDutyError:
                        pass
                    levels = api.oncall_levels(services.clock())
                    self.post_message(LevelsChanged(levels))
                if config.incidents.provider == "pagerduty" and not services.read_only:
                    for line in sync(api, services.desk):
                        self.notify(line, severity="warning")
                error = None
            except (PagerDutyError, IncidentError) as failure:
                error = str(failure)
            self.post_message(PagerDutyStateChanged(error))
            wait = config.pagerduty.poll_interval if config.pagerduty else 15.0
            handoff = oncall.next_handoff_in(services.clock())
            self.stopping.wait(max(1.0, min(wait, handoff + 1 if handoff is not None else wait)))

    def _pagerduty_waiting(self, message: str, background: bool) -> None:
        """The client, in a worker thread, before it sleeps to retry: an action the user waits
        for says so in a notification, the background sync in the header."""
        if threading.get_ident() == self.app._thread_id:
            return
        if background:
            self.post_message(PagerDutyStateChanged(self._pagerduty_error, retrying=message))
        else:
            self.notify(message, severity="warning", timeout=5)

    def on_levels_changed(self, changed: LevelsChanged) -> None:
        oncall = self.services.oncall
        self.oncall_pane.took(oncall.take(changed.levels, self.services.clock()))
        self.oncall_pane.show()

    def on_pager_duty_state_changed(self, state: PagerDutyStateChanged) -> None:
        if state.retrying is None:
            if state.error and state.error != self._pagerduty_error:  # once, not once a poll
                self.notify(state.error, severity="error", timeout=15)
            elif self._pagerduty_error and not state.error:
                self.notify("PagerDuty: reachable again.")
            self._pagerduty_error, self._pagerduty_ok = state.error, state.error is None
            self.services.oncall.pagerduty_answered = self._pagerduty_ok or self.services.oncall.pagerduty_answered
        self._show_pagerduty(state.retrying)
        self.incident_pane.show()

    def _show_pagerduty(self, retrying: str | None = None) -> None:
        if self.services.pagerduty:
            if retrying:
                shown = f"… {retrying.removeprefix('PagerDuty ')}"
            elif self._pagerduty_error:
                shown = f"✗ {self._pagerduty_error}"
            else:
                shown = "✓" if self._pagerduty_ok else "… connecting"
            self.status_line.pagerduty = shown
        self.status_line.show()

    # -- what one pane's news means for the others ------------------------------------------
    def on_alert_selected(self, selected: AlertSelected) -> None:
        self.alert_detail.show(selected.alert)
        self.runbook_pane.follow(selected.alert)
        self.incident_pane.follow(selected.alert, selected.by_user)  # the incident follows the alert

    def _ring_for_shifts(self) -> None:
        for level in self.shift_bell.due(self.services.oncall.levels, self.services.clock()):
            minutes = max(1, round((level.until - self.services.clock()).total_seconds() / 60))
            self.app.ring("on call soon", f"your shift at level {level.level} starts in {minutes} min")

    def on_alerts_polled(self, _: AlertsPolled) -> None:
        self.collecting.after_poll()  # a full garbage collection of 10,000 alerts would stall keys
        for event in self.page_bell.new(self.services.desk.open_incidents()):  # another console's, or PagerDuty's
            self.app.ring(f"{event.incident}", event.summary)
        self.status_line.show()
        self.incident_pane.polled()
        board = self.services.board
        new = self.bell.new(board.alerts, [name for name, status in board.status.items() if status.last_ok])
        if new:  # once per poll, however many
            more = f" and {len(new) - 1} more" if len(new) > 1 else ""
            self.app.ring(f"{new[0].severity} alert", f"{new[0].name}{more}")

    def on_doubts_counted(self, counted: DoubtsCounted) -> None:
        self.alerts.show_doubted(counted.count)

    def on_incident_shown(self, shown: IncidentShown) -> None:
        self.timeline.show(shown.incident)

    def on_incident_chosen(self, chosen: IncidentChosen) -> None:
        self.incident_pane.choose(chosen.incident_id, chosen.why)

    def on_step_finished(self, _: StepFinished) -> None:
        self.incident_pane.show()

    # -- the way out ----------------------------------------------------------------------
    def quit_question(self) -> tuple[str, str] | None:
        """What `q` asks first, if quitting would kill running steps or let pages lapse."""
        questions, details = [], []
        going = self.runbook_pane.steps_going()
        if going:
            starting = " or about to start" if self.runbook_pane.starting else ""
            questions.append(f"{len(going)} step(s) still running{starting}: quit and kill them?")
            details.append(f"Running: {', '.join(going)}")
        lapsing = self.incident_pane.lapsing_question()
        if lapsing:
            questions.append(lapsing[0].removesuffix(":") + ("." if going else ":"))  # its pages come below
            details.append(f"Pages: {lapsing[1]}" if going else lapsing[1])
        return ("\n".join(questions), "\n".join(details)) if questions else None  # one line each

    async def wind_down(self) -> None:
        self.stopping.set()
        await asyncio.to_thread(self.runbook_pane.end_running_steps)

    # -- the keys: each the owning pane's -------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`/` is text while the filter is typed: the key bar does not offer it then."""
        return not (action == "filter" and self.focused is self.alerts.filter_box)

    def action_filter(self) -> None:
        self.alerts.open_filter()

    def action_clear_filter(self) -> None:
        """esc: the filter goes, if there is one; else a zoomed pane goes back to its place."""
        if self.maximized is not None and not self.alerts.filtering:
            self.minimize()
        else:
            self.alerts.clear_filter()

    def action_silence(self) -> None:
        self.alerts.silence()

    def action_acknowledge_alert(self) -> None:
        self.alerts.acknowledge()

    def action_silences(self) -> None:
        self.alerts.silences()

    def action_refresh_now(self) -> None:
        self.alerts.refresh_now()

    def action_declare(self) -> None:
        marked = self.alert_list.marked_alerts()
        self.incident_pane.declare(marked, lambda: self.alert_list.unmark(marked))

    def action_acknowledge(self) -> None:
        """The incident shown; with none open, the alert (the guide's first step: accept the page)."""
        if self.incident_pane.active() is None and self.alert_list.current is not None:
            self.alerts.acknowledge()
        else:
            self._incidents().acknowledge()

    def action_escalate(self) -> None:
        self._incidents().escalate()

    def action_note(self) -> None:
        self._incidents().note()

    def action_resolve(self) -> None:
        self._incidents().resolve()

    def action_reassign(self) -> None:
        self._incidents().reassign()

    def action_severity(self) -> None:
        self._incidents().severity()

    def action_advance_stage(self) -> None:
        self._incidents().advance_stage()

    def action_take_command(self) -> None:
        self._incidents().take_command()

    def action_export(self) -> None:
        self._incidents().export()

    def action_next_incident(self) -> None:
        self._incidents().next_incident()

    def _incidents(self) -> IncidentPane:
        """The incident pane, told first of the alert selected now: a key pressed right after the
        cursor moved, before the pane heard of it, acts on nothing the user has not seen (the
        pane refuses: what it would act on is not what it drew)."""
        pane, current = self.incident_pane, self.alert_list.current
        if (current and current.fingerprint) != (pane.selected and pane.selected.fingerprint):
            pane.follow(current, by_user=self.alert_list.moved_by_user, draw=False)
        return pane

    def action_timeline_filter(self) -> None:
        self.timeline.toggle_notes_only()

    def _runbook_in_front(self) -> RunbookPane:
        self.bottom_left.current = "runbook"  # the step keys bring the runbook back from the details
        return self.runbook_pane

    def action_run_step(self) -> None:
        self._runbook_in_front().run_step(self.alert_list.current)

    def action_step(self, delta: int) -> None:
        self._runbook_in_front().step_by(delta)

    def action_kill_step(self) -> None:
        self.runbook_pane.action_kill_step()

    def action_contents(self) -> None:
        self._runbook_in_front().contents()

    def action_links(self, how: str) -> None:
        self.runbook_pane.links(how)

    def action_zoom(self) -> None:
        """The focused pane fills the screen, or stops filling it (esc too): at 80×24 a runbook
        is read in six lines otherwise."""
        if self.maximized is not None:
            self.minimize()
            return
        pane = next(
            (w for w in (self.focused, *(self.focused.ancestors if self.focused else ())) if w in self._panes()), None
        )
        if pane is not None:
            self.maximized = pane
            self.notify("Zoomed: z or esc puts it back.", timeout=3)

    def _panes(self) -> tuple[Widget, ...]:
        return (self.alerts, self.runbook_pane, self.alert_detail, self.incident_pane, self.oncall_pane, self.timeline)

    def action_toggle_detail(self) -> None:
        switcher = self.bottom_left
        zoomed = self.maximized in (self.runbook_pane, self.alert_detail)
        switcher.current = "detail" if switcher.current == "runbook" else "runbook"
        if zoomed:  # the zoom goes with it, or the screen would show the pane just hidden
            self.maximized = self.alert_detail if switcher.current == "detail" else self.runbook_pane
