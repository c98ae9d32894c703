"""The console: wires the board, the widgets and the screens together, and owns every write."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.widgets import ContentSwitcher, Footer, Input, Static
from textual.worker import get_current_worker

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.matchers import Filter, MatcherError, parse_filter
from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.alerts.tracking import Presence
from oncall_tui.core.config import Config
from oncall_tui.core.durations import format_duration
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.following import PollFollower
from oncall_tui.core.incidents.incident import group_key
from oncall_tui.core.oncall.handoffs import Handoff, handoffs
from oncall_tui.core.oncall.roster import LevelNow, Roster, escalation_plan
from oncall_tui.core.pagerduty.incidents import PagerDutyProvider, sync
from oncall_tui.core.pagerduty.rest import PagerDutyApi, PagerDutyError
from oncall_tui.core.paging.pagers import LIFETIME, build_pager
from oncall_tui.core.private import recording_problem
from oncall_tui.core.runbooks.library import RunbookLibrary
from oncall_tui.core.runbooks.step_recovery import recover
from oncall_tui.core.runbooks.step_runs import Run, StepRun, recorded_runs
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now
from oncall_tui.ui.incident_keys import INCIDENT_ACTIONS, INCIDENT_BINDINGS, IncidentKeys
from oncall_tui.ui.runbook_keys import RUNBOOK_ACTIONS, RUNBOOK_BINDINGS, RunbookKeys, RunKey
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.silence_keys import SilenceKeys
from oncall_tui.ui.widgets.alert_detail import AlertDetail
from oncall_tui.ui.widgets.alert_list import AlertList
from oncall_tui.ui.widgets.incident_pane import IncidentPane
from oncall_tui.ui.widgets.oncall_pane import OnCallPane
from oncall_tui.ui.widgets.runbook_pane import RunbookPane, StepList
from oncall_tui.ui.widgets.status_line import StatusLine
from oncall_tui.ui.widgets.timeline_pane import TimelinePane

READ_ONLY = "Read-only: started with --read-only, so nothing is sent or recorded."


class OncallApp(IncidentKeys, SilenceKeys, RunbookKeys, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    """Below 120 columns the on-call pane goes under the incident, and the alerts get the room."""
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("s", "silence", "Silence", id="silence"),
        Binding("S", "silences", "Silences", id="silences"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False, id="refresh"),
        *INCIDENT_BINDINGS,
        *RUNBOOK_BINDINGS,
    ]

    def __init__(
        self,
        config: Config,
        read_only: bool = False,
        clock: Callable[[], datetime] = utc_now,
        dry_run: bool = False,
        is_demo: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.read_only = read_only
        self.dry_run = dry_run
        """Runbook steps are recorded and shown, never run."""
        self.is_demo = is_demo
        self.library = RunbookLibrary(config.runbooks.dir)
        self.runbook_alert: Alert | None = None
        """The alert whose runbook the pane shows."""
        self._runbook_key: tuple[str, ...] | None = None
        self.runbook_problem: str | None = None
        """Why that alert's runbook could not be read, when it could not."""
        self.step_runs: dict[RunKey, Run] = {}
        """The latest run of each step for each alert, by (alert fingerprint, runbook path, step number)."""
        self.starting_steps: set[RunKey] = set()
        self.last_run: StepRun | None = None
        """The latest run started, whatever its alert."""
        self.shown_runs: dict[str, Run] = {}
        """By alert fingerprint: the run its output pane shows (the one last started or picked)."""
        self.clock = clock
        self.board = Board(
            [AlertmanagerClient(source) for source in config.alertmanagers],
            clock=clock,
            resend_grace=config.alerts.resend_grace,
        )
        self.filter = Filter()
        self._confirmed_filter, self._confirmed_text = Filter(), ""
        """The filter last confirmed with enter: what an unreadable one typed after it leaves shown."""
        self._filter_error = ""
        self.created_silences: list[tuple[str, str]] = []
        """(source, silence ID) of every silence this console created, as the servers returned them."""
        self._wake: list[asyncio.Event] = []
        """One per source's poll loop: set, it polls now."""
        self._source_errors: dict[str, str | None] = {}
        self.pagerduty: PagerDutyApi | None = None
        """The PagerDuty client, when on-call or incidents come from PagerDuty (built before
        anything starts, so a bad token file or CA bundle stops the console with one line)."""
        if config.pagerduty and "pagerduty" in (config.incidents.provider, config.oncall.provider):
            self.pagerduty = PagerDutyApi(config.pagerduty, config.user.email, self._pagerduty_waiting, clock)
        self._pagerduty_error: str | None = None
        self._pagerduty_ok = False
        self._pagerduty_retrying: str | None = None
        self._background = threading.local()  # marks the PagerDuty sync thread
        self._stopping = threading.Event()
        provider = (
            PagerDutyProvider(self.pagerduty) if self.pagerduty and config.incidents.provider == "pagerduty" else None
        )
        pager = build_pager(config, self._pagerduty_waiting)
        self.desk = IncidentDesk(
            config.data_dir, config.user.name, provider=provider, clock=clock, pager=pager, read_only=read_only
        )
        self.desk.names |= {config.user.email} if config.user.email else set()
        self.desk.oncall = self.oncall_now
        self.follower = PollFollower(self.desk, config.incidents)
        self._storm_counted: tuple[tuple[str, int] | None, str] = (None, "")
        self.doubts: dict[str, dict[str, Presence]] = {}
        """By incident and fingerprint, after each poll: linked alerts their sources cannot vouch for."""
        self.roster = Roster(config.oncall)
        self._levels: list[LevelNow] = []
        self._levels_checked: datetime | None = None
        self.active_id: str | None = None
        """The incident chosen (with I, or declared or resolved here), until another alert is selected."""
        self.active_why = ""
        self.drawn_incident: str | None = None
        """The incident the pane last drew: keys act only on the one the user can see."""
        self.pending: dict[tuple[str, str], str] = {}
        """Actions sent but not yet recorded, by (incident, verb): a second press is refused."""
        self._recording_errors: set[str] = set()

    def compose(self) -> ComposeResult:
        # The main screen's widgets are kept by reference: `query_one` searches whichever
        # screen is on top (a form, the help), and polling goes on under every screen.
        self.status_line = StatusLine(self.config.user.name, self.read_only, self.clock, id="status")
        self.alerts_title = Static("ALERTS  waiting for the first poll…", id="alerts-title", classes="pane-title")
        self.alert_list = AlertList(self.config.alerts.labels, self.clock, id="alerts")
        self.alert_list.is_new = lambda alert: self.board.is_new(alert, self.config.alerts.highlight_new)
        self.alert_list.show_sources = len(self.config.alertmanagers) > 1
        self.alert_detail = AlertDetail(self.clock, id="detail", classes="pane")
        self.runbook_pane = RunbookPane(id="runbook", classes="pane")
        self.bottom_left = ContentSwitcher(initial="runbook", id="bottom-left")
        self.filter_box = Input(
            placeholder="filter: severity=critical service=~ml-.* or free text · enter keeps · esc clears", id="filter"
        )
        self.incident_pane = IncidentPane(self.clock, id="incident", classes="pane")
        self.oncall_pane = OnCallPane(id="oncall", classes="pane")
        self.timeline = TimelinePane(id="timeline", classes="pane")
        self.timeline.border_title = "TIMELINE"
        yield self.status_line
        with Horizontal(id="top"):
            with Vertical(id="alerts-pane", classes="pane"):
                yield self.alerts_title
                yield self.alert_list
            with Container(id="right"):  # beside each other when wide, stacked when narrow
                yield self.oncall_pane
                yield self.incident_pane
        with Horizontal(id="bottom"):
            with self.bottom_left:
                yield self.runbook_pane
                yield self.alert_detail
            yield self.timeline
        yield self.filter_box
        yield Footer()

    def on_mount(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        else:
            self.notify(f"Unknown theme {self.config.theme!r} in config.yaml; using the default.", severity="warning")
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        self.alert_list.focus()
        if not self.read_only:  # read-only records nothing
            self._check_data_dir()
        self._show_status()
        self._show_oncall()
        self.show_incident()
        self.load_incidents()
        self.set_interval(1.0, self._tick)
        self.set_interval(0.1, self._follow_output)
        self.find_runbook(None)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry label values, notes and server messages: plain text by default."""
        super().notify(clean_line(message, 500), title=title, severity=severity, timeout=timeout, markup=markup)

    async def on_unmount(self) -> None:
        self._stopping.set()
        await asyncio.to_thread(self._end_running_steps)
        if self.pagerduty:
            self.pagerduty.close()
        await self.board.aclose()

    MAIN_SCREEN_ACTIONS = (
        frozenset({"filter", "clear_filter", "silence", "silences"}) | INCIDENT_ACTIONS | RUNBOOK_ACTIONS
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The alert keys act on the alerts: not while another screen is on top."""
        if action in self.MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1:
            return None  # shown nowhere, does nothing
        return True

    # -- runbook steps --------------------------------------------------------------------
    def _follow_output(self) -> None:
        """Ten times a second, while a step runs or the pane has output still to show."""
        if self.running_steps() or self.runbook_pane.behind:
            self._show_steps()

    def _follow_alert(self, alert: Alert | None) -> None:
        """The runbook follows the selected alert; it is looked for again only when that changes."""
        key = (
            (alert.fingerprint, *(alert.annotations.get(k, "") for k in ("runbook_url", "runbook"))) if alert else None
        )
        if key != self._runbook_key:
            self._runbook_key = key
            self.find_runbook(alert)
        elif alert and self.runbook_alert and self.runbook_alert.fingerprint == alert.fingerprint:
            self.runbook_alert = alert  # the same alert as the latest poll has it; never one still being looked up

    def _end_running_steps(self) -> None:
        """On the way out: no step outlives the console; each is killed and recorded as such."""
        running = self.running_steps()
        for run in running:
            run.kill()
        for run in running:
            run.finished.wait(self.config.runbooks.kill_grace + 5)

    async def action_quit(self) -> None:
        """Quit, after asking if that would kill running steps or let standing pages lapse."""
        running = self.running_steps()
        lapsing = self._lapsing_pages()
        if not running and not lapsing:
            self.exit()
            return
        questions, details = [], []
        if running:
            questions.append(f"{len(running)} step(s) still running: quit and kill them?")
            details.append(", ".join(r.label for r in running))
        if lapsing:
            pager = self.desk.pager
            assert pager is not None and pager.repost_every is not None
            within = format_duration(pager.repost_every * LIFETIME)
            questions.append(f"{len(lapsing)} standing page(s) end within {within} unless a console posts them:")
            details.append(
                ", ".join(lapsing) + " (Alertmanager then tells their receivers they resolved; the next console "
                "to start posts them again)"
            )
        self.push_screen(
            ConfirmScreen(" ".join(questions), "\n".join(details), yes="Quit"), lambda yes: yes and self.exit()
        )

    def _lapsing_pages(self) -> list[str]:
        """The standing pages only this console's posts keep up (Alertmanager's), by whom they page."""
        pager = self.desk.pager
        if pager is None or pager.repost_every is None or self.read_only:
            return []
        return [
            f"{clean_line(', '.join(p.who), 60)} (level {p.level}, {incident.id})"
            for incident in self.desk.open_incidents()
            for p in incident.pages.values()
            if p.standing and not p.lapsed and p.via == pager.via
        ]

    # -- incidents ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load", description="Reading incident journals")
    def load_incidents(self) -> None:
        """Resume every open incident from its journal, then start polling."""
        self.desk.load()
        for problem in self.desk.problems:
            self.call_from_thread(self.notify, problem, severity="warning", timeout=15)
        found = None if self.read_only else recover(self.desk, self.config.runbooks.kill_grace)
        self.call_from_thread(self._take_recorded, recorded_runs(self.desk.incidents.values()))
        if found is not None:  # after the recorded runs: a step still running wins its place
            self.call_from_thread(self._take_in_left_steps, found)
        self.call_from_thread(self.show_incident)
        self.call_from_thread(self.poll_alerts)
        if self.pagerduty:
            self.call_from_thread(self.poll_pagerduty)
        if self.desk.pager and not self.read_only:
            self.call_from_thread(self.keep_pages)

    @work(thread=True, exclusive=True, group="pages", description="Keeping pages standing")
    def keep_pages(self) -> None:
        """Standing pages are posted again before Alertmanager lets them lapse, and pages due to
        end (acknowledged, escalated past, resolved) are ended, retried until their service
        accepts; each new problem is said once."""
        posted: dict[str, datetime] = {}
        told: set[str] = set()
        pager, worker = self.desk.pager, get_current_worker()
        assert pager is not None
        self._background.active = True  # PagerDuty Events retries say so in the header, not a notification each
        every = min(5.0, pager.repost_every or 5.0)
        while not worker.is_cancelled and not self._stopping.is_set():
            try:
                problems = set(self.desk.keep_pages(posted))
            except Exception as error:  # a worker that dies would leave pages to lapse unsaid
                problems = {f"Pages could not be kept: {type(error).__name__}: {error}"}
            for problem in sorted(problems - told):
                self.call_from_thread(self.notify, problem, severity="error", timeout=60)
            if told and not problems:
                self.call_from_thread(self.notify, "Pages: the problems above are cleared.")
            told = problems
            self.call_from_thread(self.show_incident)
            self._stopping.wait(every)

    def show_incident(self) -> None:
        incident, why = self.shown_incident()
        self.drawn_incident = incident.id if incident else None
        open_ids = [i.id for i in self.desk.open_incidents()]
        position = (open_ids.index(incident.id) + 1 if incident and incident.id in open_ids else 0, len(open_ids))
        doing = next((f"{what}…" for (iid, _), what in self.pending.items() if incident and iid == incident.id), None)
        doubts = self.doubts.get(incident.id, {}) if incident else {}
        self.incident_pane.show(incident, position, doing, doubts, why)
        self.timeline.show(incident)

    @property
    def oncall_from_pagerduty(self) -> bool:
        return self.config.oncall.provider == "pagerduty"

    def _show_oncall(self) -> None:
        """Who is on call: local schedules are recomputed at each handoff and once a minute
        (PagerDuty's come from its worker); handoffs go on the record."""
        now = self.clock()
        due = self._levels_checked is None or (now - self._levels_checked).total_seconds() >= 60
        if not self.oncall_from_pagerduty and (due or any(lv.until and now >= lv.until for lv in self._levels)):
            self._set_levels(self.roster.levels(now), now)
        me = self.config.user.name
        if self.oncall_from_pagerduty and self.config.user.email:  # PagerDuty knows people by name
            me = next((u for lv in self._levels for u in lv.users if u in (me, self.config.user.email)), me)
        self.oncall_pane.show(self._levels, now, me)

    def _set_levels(self, levels: list[LevelNow], now: datetime) -> None:
        changed = handoffs(self._levels, levels)
        self._levels, self._levels_checked = levels, now
        if changed and not self.read_only:
            self._record_handoffs(changed)

    @work(thread=True, group="incident", description="Recording on-call handoffs")
    def _record_handoffs(self, changed: list[Handoff]) -> None:
        agent = "pagerduty" if self.oncall_from_pagerduty else "schedule"
        for handoff in changed:
            for incident in self.desk.open_incidents():
                try:
                    self.desk.record(incident.id, "oncall.handoff", handoff.summary, handoff.data, agent=agent)
                except IncidentError as error:
                    self.call_from_thread(self.notify, f"Not recorded: {error}", severity="error")
        self.call_from_thread(self.show_incident)

    def escalation_plan(self, level: int) -> tuple[list[str], int] | str:
        """See `roster.escalation_plan`."""
        from_pagerduty = self._levels if self.oncall_from_pagerduty else None
        return escalation_plan(level, self.clock(), self.roster, from_pagerduty)

    def oncall_now(self) -> list[dict[str, object]] | None:
        """Who is on call at each level now, as a declaration records it (None: PagerDuty's
        levels are not loaded yet, so the record says nothing rather than "nobody")."""
        if self.oncall_from_pagerduty and not self._pagerduty_ok and not self._levels:
            return None
        return [{"level": lv.level, "users": list(lv.users), "source": lv.source} for lv in self._levels]

    # -- PagerDuty ------------------------------------------------------------------------
    def _pagerduty_waiting(self, message: str) -> None:
        """Called by the client, in a worker thread, before it sleeps to retry: an action
        the user is waiting for says so in a notification, the background sync in the header."""
        if threading.get_ident() == self._thread_id:
            return
        if getattr(self._background, "active", False):
            self.call_from_thread(self._show_retrying, message)
        else:
            self.call_from_thread(self.notify, message, severity="warning", timeout=5)

    @work(thread=True, exclusive=True, group="pagerduty", description="Syncing with PagerDuty")
    def poll_pagerduty(self) -> None:
        """On-call levels and incidents from PagerDuty, every poll interval and at each handoff."""
        api, worker = self.pagerduty, get_current_worker()
        assert api is not None
        self._background.active = True
        while not worker.is_cancelled and not self._stopping.is_set():
            try:
                if self.oncall_from_pagerduty:
                    self._learn_pagerduty_name(api)
                    levels = api.oncall_levels(self.clock())
                    self.call_from_thread(self._set_levels, levels, self.clock())
                if self.config.incidents.provider == "pagerduty" and not self.read_only:
                    for line in sync(api, self.desk):
                        self.call_from_thread(self.notify, line, severity="warning")
                error = None
            except (PagerDutyError, IncidentError) as failure:
                error = str(failure)
            self.call_from_thread(self._after_pagerduty, error)
            wait = self.config.pagerduty.poll_interval if self.config.pagerduty else 15.0
            handoffs = [(lv.until - self.clock()).total_seconds() for lv in self._levels if lv.until]
            self._stopping.wait(max(1.0, min([wait, *(h + 1 for h in handoffs)])))

    def _learn_pagerduty_name(self, api: PagerDutyApi) -> None:
        """Levels name people as PagerDuty does: a page to your PagerDuty name is yours. A failure
        is left for the next round (`me` keeps only an answer), never in the way of the levels."""
        try:
            me = api.me() or {}
        except PagerDutyError:
            return
        self.desk.names |= {str(me[k]) for k in ("name", "email") if me.get(k)}

    def _show_retrying(self, message: str) -> None:
        self._pagerduty_retrying = message
        self._show_status()

    def _after_pagerduty(self, error: str | None) -> None:
        """On the UI thread, after each sync: the state, the header and a notice when it changed."""
        if error and error != self._pagerduty_error:  # once, not once a poll
            self.notify(error, severity="error", timeout=15)
        elif self._pagerduty_error and not error:
            self.notify("PagerDuty: reachable again.")
        self._pagerduty_error, self._pagerduty_ok, self._pagerduty_retrying = error, error is None, None
        self._show_status()
        self._show_oncall()
        self.show_incident()

    def _record_alert_changes(self) -> None:
        """After a merged poll, in a thread: what it means for the incidents (core decides)."""
        try:
            shown = self.drawn_incident  # (set on the UI thread: this is a worker)
            if shown:
                self.desk.get(shown)  # pick up what other consoles recorded
        except IncidentError as error:
            self._say_once(str(error))
        followed = self.follower.follow(self.board.sightings, record=not self.read_only)  # one moment, whole
        self.doubts = followed.doubts  # replaced whole: the UI thread reads it
        for error in followed.errors:
            self._say_once(error)
        if followed.declared:
            self.call_from_thread(self._choose, followed.declared[-1].incident, "just declared")
        notice = followed.notice()
        if notice:  # one line a poll, however many a storm declared or joined
            self.call_from_thread(self.notify, notice, severity="warning", timeout=15)

    def _say_once(self, error: str) -> None:
        if error not in self._recording_errors:  # once, not once a poll
            self._recording_errors.add(error)
            self.call_from_thread(self.notify, f"Not recorded: {error}", severity="error", timeout=15)

    # -- polling --------------------------------------------------------------------------
    @work(exclusive=True, group="poll", description="Polling Alertmanager")
    async def poll_alerts(self) -> None:
        """Each source on a loop of its own, so one that hangs until its timeout holds up no
        other; every answer is merged and shown, and what it means recorded, each stage taking
        the latest of the one before (a slow one is caught up, never queued behind)."""
        answered, merged = asyncio.Event(), asyncio.Event()
        await asyncio.gather(
            *(self._poll_source(client, answered) for client in self.board.clients),
            self._show_polls(answered, merged),
            self._follow_polls(merged),
        )

    async def _poll_source(self, client: AlertmanagerClient, answered: asyncio.Event) -> None:
        wake = asyncio.Event()
        self._wake.append(wake)
        while True:
            try:
                await self.board.poll_source(client)
            except Exception as error:  # a bug must not stop the alerts from updating
                self.notify(f"Polling {client.name} failed: {clean_line(str(error), 200)}", severity="error")
            answered.set()
            with suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.config.poll_interval)
            wake.clear()

    async def _show_polls(self, answered: asyncio.Event, merged: asyncio.Event) -> None:
        while True:
            await answered.wait()
            answered.clear()
            try:
                await self.board.merge()
            except Exception as error:
                self.notify(f"Merging the alerts failed: {clean_line(str(error), 200)}", severity="error")
            self._show_alerts()
            self._announce_source_changes()
            merged.set()

    async def _follow_polls(self, merged: asyncio.Event) -> None:
        while True:
            await merged.wait()
            merged.clear()
            try:
                await asyncio.to_thread(self._record_alert_changes)
            except Exception as error:
                self.notify(f"Following the alerts failed: {clean_line(str(error), 200)}", severity="error")
            self.show_incident()
            self.alerts_title.update(self._alerts_title(len(self.alert_list.alerts)))  # with the doubts found

    def action_refresh_now(self) -> None:
        for wake in self._wake:
            wake.set()

    def _announce_source_changes(self) -> None:
        for name, status in self.board.status.items():
            before = self._source_errors.get(name)
            if status.error and status.error != before:
                kept = "showing its last known alerts as stale" if status.last_ok else "no data from it yet"
                self.notify(f"{status.error} — {kept}.", severity="warning")
            elif before and not status.error:
                self.notify(f"{name}: reachable again.")
            self._source_errors[name] = status.error

    def _tick(self) -> None:
        """Once a second: ages, staleness, countdowns and the clock move on."""
        self._show_oncall()
        self._show_status()
        self.alert_list.refresh()
        detail = self.alert_detail
        detail.show(detail.alert)
        if not any(w.group == "runbook" and not w.is_finished for w in self.workers):  # none piles up
            self.find_runbook(detail.alert)  # a runbook edited on disk shows within a second
        self.show_incident()

    @work(thread=True, group="data_dir", description="Checking that the data dir can be written")
    def _check_data_dir(self) -> None:
        """Said in the header from the start, rather than at the first incident key."""
        self.call_from_thread(self._cannot_record, recording_problem(self.config.data_dir))

    def _cannot_record(self, problem: str | None) -> None:
        self.status_line.cannot_record = problem
        self._show_status()

    def _show_status(self) -> None:
        pagerduty = None
        if self.pagerduty:
            if self._pagerduty_retrying:
                pagerduty = f"… {self._pagerduty_retrying.removeprefix('PagerDuty ')}"
            elif self._pagerduty_error:
                pagerduty = f"✗ {self._pagerduty_error}"
            else:
                pagerduty = "✓" if self._pagerduty_ok else "… connecting"
        self.status_line.show(list(self.board.status.values()), pagerduty, self._storm_marker())

    def _storm_marker(self) -> str | None:
        """The storm incident and what it holds, for the header, while the storm goes on."""
        storm = self.desk.raging_storm(self.config.incidents.auto_declare_window)
        if storm is None:
            return None
        key = (storm.id, len(storm.alerts))
        if self._storm_counted[0] != key:  # counted again only when it grew: it may hold thousands
            groups = len({group_key(a.labels, self.config.incidents.group_by) for a in storm.alerts.values()})
            self._storm_counted = (key, f"{storm.id}: {groups:,} groups · {len(storm.alerts):,} alerts")
        return self._storm_counted[1]

    def _show_alerts(self) -> None:
        shown = [a for a in self.board.alerts if self.filter.matches(a)] if self.filter else self.board.alerts
        alert_list = self.alert_list
        alert_list.show(shown)
        self.alert_detail.show(alert_list.current)
        self._follow_alert(alert_list.current)
        self.alerts_title.update(self._alerts_title(len(shown)))
        self._show_status()

    def _alerts_title(self, shown: int) -> Text:
        """The counts, and whether they are the whole truth: an empty list from a source that
        never answered, or one not answering now, is no all-clear."""
        counts, board = self.board.counts(), self.board
        title = Text.assemble(("ALERTS", "bold"))
        silent = board.silent_sources()
        if silent and len(silent) == len(board.status):
            title.append(f"  no data from {', '.join(silent)} yet", style="bold")
            return title
        # what makes the counts doubtful comes first: a narrow pane cuts the end of the line
        warnings = []
        if silent:
            warnings.append(f"no data from {', '.join(silent)}")
        if counts["stale"]:
            warnings.append(f"stale {counts['stale']}")
        if counts["unseen"]:
            warnings.append(f"unseen {counts['unseen']}")
        doubted = sum(len(d) for d in self.doubts.values())  # linked alerts no source vouches for
        if doubted:
            warnings.append(f"{doubted} linked alert(s) unknown (see the incident)")
        quiet = [name for name, status in board.status.items() if not status.answered]
        if quiet and not silent and not counts["active"]:
            warnings.append(f"{', '.join(quiet)} not answering: no all-clear")
        if warnings:
            title.append("  " + " · ".join(warnings), style="bold")
        if self.filter:
            filter_text = clean_line(self.filter_box.value, 60)
            shown_of = f"shown {shown} of {len(self.board.alerts)} (filter {filter_text})"
            title.append(f"{' ·' if warnings else ' '} {shown_of}", style="italic")
        title.append(
            f"{' ·' if warnings or self.filter else ' '} firing {counts['active']} · silenced {counts['silenced']}"
            f" · inhibited {counts['inhibited']}"
        )
        if counts["pages"]:
            title.append(f" · pages {counts['pages']}")
        if not warnings and not any(counts[k] for k in ("active", "stale", "unseen")):
            title.append(" · all clear")
        return title

    @on(AlertList.AlertHighlighted)
    def _alert_highlighted(self, event: AlertList.AlertHighlighted) -> None:
        self.alert_detail.show(event.alert)
        self._follow_alert(event.alert)
        chosen = self.desk.incidents.get(self.active_id or "")
        if chosen is not None and chosen.is_open:
            self.active_id = None  # a choice (I, a declaration) holds until another alert is selected
        self.show_incident()  # the incident follows the alert

    # -- filter ---------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.filter_box
        box.add_class("-visible")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        """A filter as typed shows at once; one that cannot be read shows the last confirmed one."""
        try:
            self.filter = parse_filter(event.value)
        except MatcherError as error:
            self._filter_error = clean_line(str(error), 100)
            event.input.border_subtitle = self._filter_error.replace("[", r"\[")
            event.input.add_class("-unreadable")
            self.filter = self._confirmed_filter
        else:
            self._filter_error = ""
            event.input.border_subtitle = ""
            event.input.remove_class("-unreadable")
        self._show_alerts()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_error:  # (not Input's own -invalid class: it validates again on enter)
            kept = clean_line(self._confirmed_text, 60) or "no filter"
            self.notify(f"Not applied: {self._filter_error}. Still showing: {kept}.", severity="warning")
            return
        self._confirmed_filter, self._confirmed_text = self.filter, event.value
        if not event.value.strip():
            event.input.remove_class("-visible")
        self.alert_list.focus()

    def action_clear_filter(self) -> None:
        box = self.filter_box
        box.value = ""
        box.remove_class("-visible", "-unreadable")
        self._filter_error = ""
        box.border_subtitle = ""
        self.filter = self._confirmed_filter = Filter()
        self._confirmed_text = ""
        self._show_alerts()
        self.alert_list.focus()

    # -- shared -----------------------------------------------------------------------------
    def _refuse_if_read_only(self) -> bool:
        if self.read_only:
            self.notify(READ_ONLY, severity="warning")
        return self.read_only

    # -- help -----------------------------------------------------------------------------
    def action_help(self) -> None:
        """Every key of the screen `?` was pressed on: its own, the app's, each pane's (whatever
        has the focus), and how to close the help; remapped as `keymap:` says."""
        active = [a.binding for a in self.screen.active_bindings.values()]
        panes = (
            [*AlertList.BINDINGS, *RunbookPane.BINDINGS, *StepList.BINDINGS]
            if self.screen is self.screen_stack[0]
            else []
        )
        remapped = getattr(self, "_keymap", {}) or {}
        extra = [
            replace(b, key=remapped[b.id]) if b.id in remapped else b
            for b in Binding.make_bindings([*panes, *HelpScreen.BINDINGS])
        ]
        self.push_screen(HelpScreen([*active, *extra]))
