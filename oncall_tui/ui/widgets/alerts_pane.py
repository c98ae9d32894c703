"""The alerts pane: polls every source, shows what the filter lets through with counts that
say whether they are the whole truth, and silences (`s`, and the `S` screen's edits)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input

from oncall_tui.core.alerts.acks import AckKeeper, ack_request, extended, is_ack, lost
from oncall_tui.core.alerts.alertmanager import AlertmanagerClient, AlertmanagerError
from oncall_tui.core.alerts.matchers import Filter, MatcherError, format_matchers, matchers_for, parse_filter
from oncall_tui.core.alerts.models import Alert, Silence, SilenceRequest
from oncall_tui.core.alerts.schedule import SLOW_FLOOR, Outcome, PollSchedule, keep_polling
from oncall_tui.core.alerts.tracking import SourceStatus, clock_time
from oncall_tui.core.incidents.silencing import SilenceWritten, expire_silence, send_ack, send_silence
from oncall_tui.core.text import clean_line
from oncall_tui.services import Services
from oncall_tui.ui.messages import AlertsPolled, HistoryTrouble
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import TextPrompt
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.ui.widgets.alert_list import AlertList
from oncall_tui.ui.widgets.redrawn import Redrawn


class FilterBox(Input):
    """The filter as it is typed: letters are text here, so the key bar says the two keys that
    are not (the main screen's letter keys wait until enter or esc). Keys read in the same
    read as enter or esc (`⏎jj` over SSH) come after them here: they are not typed, but go on
    to the bindings, which by then are the list's again."""

    BINDINGS = [
        Binding("enter", "keep", "Keep filter", id="filter.keep"),
        Binding("escape", "screen.clear_filter", "Clear filter", id="filter.clear"),
    ]
    closing = False
    """Set by enter or esc: what follows them here is not the filter's."""

    def _on_key(self, event: events.Key) -> None:
        """Runs before Input's own handler, which `prevent_default` skips."""
        if event.key in ("enter", "escape"):
            self.closing = True
        elif self.closing:
            event.prevent_default()  # not typed: on to the bindings
        elif event.key.startswith("alt+") and event.is_printable:
            self.escape_then(event)

    def escape_then(self, event: events.Key) -> None:
        """esc then a key, in one read: a terminal sends them as alt+key. The filter goes, and
        the key is the list's."""
        event.prevent_default()
        event.stop()
        self.closing = True
        self.query_ancestor(AlertsPane).clear_filter()
        key = events.Key(event.key.removeprefix("alt+"), event.character)
        key.set_sender(self.app)
        self.app.post_message(key)

    def action_keep(self) -> None:
        self.query_ancestor(AlertsPane).keep_filter()

    def on_focus(self) -> None:
        self.closing = False  # clicked or tabbed into again: typing again


class AlertsPane(Vertical):
    """Owns the board's polling, the filter and the silences written from the console."""

    def __init__(self, services: Services, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.services = services
        config = services.config
        self.board = services.board
        self.title = Redrawn("ALERTS  waiting for the first poll…", id="alerts-title", classes="pane-title")
        self.list = AlertList(config.alerts.labels, services.clock, id="alerts")
        self.list.is_new = lambda alert: self.board.is_new(alert, config.alerts.highlight_new)
        self.list.new_now = lambda: self.board.new_now(config.alerts.highlight_new)
        self.list.show_sources = len(config.alertmanagers) > 1
        self.list.group_by = list(config.alerts.group_by)
        self.filter_box = FilterBox(
            placeholder="filter: severity=critical service=~ml-.* or free text · enter keeps · esc clears",
            id="filter",
            select_on_focus=False,  # / again adds to the filter, as it is, rather than wiping it
        )
        self.filter = Filter()
        self._confirmed_filter, self._confirmed_text = Filter(), ""
        """The filter last confirmed with enter: what an unreadable one typed after it leaves shown."""
        self._filter_error = ""
        self._applied = ""
        """The filter text last shown."""
        self.created_silences: list[tuple[str, str]] = []
        """(source, silence ID) of every silence this console created, as the servers returned them."""
        self.doubted = 0
        """Linked alerts no source vouches for (the incident pane finds them after each poll)."""
        self._wake: list[asyncio.Event] = []
        """One per source's poll loop: set, it polls now."""
        self._source_errors: dict[str, str | None] = {}
        self._busy: dict[str, bool] = {}
        self._said_refused: set[str] = set()
        self.schedules: dict[str, PollSchedule] = {}
        """Each source's, by name: when it is asked next, and whether it is busy."""
        acks = services.config.acks
        self.keeper = AckKeeper(config.user.name, acks.duration, acks.extend_before, acks.expire_after_resolved)
        self._ack_said = ""
        self._shows = 0
        """Counts each showing of the alerts: a poll's, grouped in a thread, gives way to a newer one."""

    def compose(self) -> ComposeResult:
        yield self.title
        yield self.list
        yield self.filter_box

    def on_mount(self) -> None:
        self.set_interval(1.0, self.list.refresh)  # the ages move
        self.keep_acks()
        recorder = self.services.recorder
        if recorder is not None:  # it says from its thread, without waiting for the screen
            recorder.on_problem = lambda problem: self.post_message(HistoryTrouble(problem))

    def on_history_trouble(self, trouble: HistoryTrouble) -> None:
        problem = trouble.problem
        if problem:
            self.notify(
                f"Not recorded: {problem} (the console goes on, and the history catches up once it can write)",
                severity="warning",
                timeout=15,
            )
        else:
            self.notify("Alert history: recording again.")

    @property
    def current(self) -> Alert | None:
        """The selected alert: the list's, which owns it."""
        return self.list.current

    # -- polling --------------------------------------------------------------------------
    @work(exclusive=True, group="poll", description="Polling Alertmanager")
    async def poll(self) -> None:
        """Each source on a loop of its own, so one that hangs until its timeout holds up no
        other; each answer is merged and shown, taking the latest (a slow merge is caught up,
        never queued behind), and `AlertsPolled` posted."""
        answered = asyncio.Event()
        await asyncio.gather(*(self._poll_source(c, answered) for c in self.board.clients), self._show_polls(answered))

    async def _poll_source(self, client: AlertmanagerClient, answered: asyncio.Event) -> None:
        """One poll at a time, on `PollSchedule`'s times: at once, then at a random offset
        within the interval (a team's consoles do not ask together), less often while busy."""
        wake = asyncio.Event()
        self._wake.append(wake)
        config = self.services.config
        schedule = self.schedules[client.name] = PollSchedule(config.poll_interval, config.alerts.max_poll_interval)

        async def poll() -> Outcome:
            try:
                shown = self.filter.for_alertmanager  # it sends only what is shown, every alert now and then
                return await self.board.poll_source(client, max(config.poll_interval, SLOW_FLOOR), shown)
            except Exception as error:  # a bug must not stop the alerts from updating
                self.notify(f"Polling {client.name} failed: {clean_line(str(error), 200)}", severity="error")
                return Outcome.FAILED
            finally:
                answered.set()

        await keep_polling(poll, schedule, lambda: self.board.status[client.name].retry_after, wake)

    async def _show_polls(self, answered: asyncio.Event) -> None:
        while True:
            await answered.wait()
            answered.clear()
            try:
                await self.board.merge()
            except Exception as error:
                self.notify(f"Merging the alerts failed: {clean_line(str(error), 200)}", severity="error")
            recorder = self.services.recorder
            if recorder is not None:  # written in its own thread, once the screen shows the poll
                recorder.saw(self.board.sightings, frozenset(self.list.acks), held=True)
            await self._show_polled()
            if recorder is not None:  # (the list is shown: its refresh is the next)
                self.call_after_refresh(recorder.go)
            self._announce_source_changes()
            self.post_message(AlertsPolled())

    # -- acknowledgements -------------------------------------------------------------------
    @work(exclusive=True, group="acks", description="Keeping acknowledgements")
    async def keep_acks(self) -> None:
        """Every poll interval (a second at least): the acks read again, for the list to show,
        and this user's extended or expired as `AckKeeper` decides; as seldom as the alerts
        are polled while an Alertmanager is busy."""
        config = self.services.config
        while True:
            try:
                await self._keep_acks()
            except AlertmanagerError as error:
                self._ack_trouble(f"Acknowledgements not read: {error}")
            backing_off = [s.ceiling for s in self.schedules.values() if s.busy]  # asked less often too,
            lapsing = config.acks.extend_before / 3  # but often enough to extend every ack in time
            await asyncio.sleep(max(1.0, config.poll_interval, min([*backing_off, lapsing]) if backing_off else 0))

    async def _keep_acks(self) -> None:
        silences = await self.board.silences()
        before, self.list.acks = self.list.acks, {s.id: s for s in silences if s.state == "active" and is_ack(s)}
        self.list.refresh()
        for gone in lost(before, silences, self.services.clock()):  # never silently unacked
            self.notify(
                f"Ack of {_matched(gone)} by {clean_line(gone.created_by, 40)} is gone: {gone.source} no longer has"
                f" its silence {gone.id} (restarted before saving it?). Not acknowledged now; A acknowledges again.",
                severity="warning",
                timeout=30,
            )
            if not self.services.read_only:  # the incidents that recorded the ack record its end
                problems = await asyncio.to_thread(
                    self.services.desk.record_silence,
                    "silence.lost",
                    gone.id,
                    gone.matchers,
                    f"Silence {gone.id} (the ack by {clean_line(gone.created_by, 40)}) is gone: {gone.source} no longer"
                    " has it; its alerts are not acknowledged now",
                    [],
                    agent=f"alertmanager:{gone.source}",
                )
                for problem in problems:
                    self.notify(problem, severity="error")
        if self.services.read_only:
            return  # read-only changes nothing, its own acks included
        now, lasting = self.services.clock(), self.services.config.acks.duration
        answered = {name for name, status in self.board.status.items() if status.last_ok and not status.error}
        plan = self.keeper.plan(silences, self.board.alerts, answered, now)
        troubled = False
        for silence in plan.extend:
            try:
                await self.board.create_silence(extended(silence, lasting, now), [silence.source])
            except AlertmanagerError as error:
                ends = clock_time(silence.ends_at)
                troubled = self._ack_trouble(f"Ack of {_matched(silence)} not extended (it ends {ends}): {error}")
        for silence in plan.expire:
            try:
                await self.board.expire_silence(silence)
            except AlertmanagerError as error:
                troubled = self._ack_trouble(f"Ack of {_matched(silence)} not expired: {error}")
        if not troubled:
            self._ack_said = ""

    def _ack_trouble(self, said: str) -> bool:
        if said != self._ack_said:  # once, not once a round
            self._ack_said = said
            self.notify(said, severity="warning", timeout=10)
        return True

    def acknowledge(self) -> None:
        """`A` (and `a` with no incident on the alert): ask for a comment, then acknowledge the
        selected alert, or all of the group under the cursor, until they resolve."""
        if self.services.refuses(self.notify):
            return
        alert, found = self.current, self.list.group_row
        if alert is None:
            self.notify("Select an alert to acknowledge first.")
            return
        if alert.is_page:
            self.notify("Not acknowledged here: a page ends when its person acknowledges the incident (a).")
            return
        alerts = list(found.alerts) if found else [alert]
        labels = found.common if found else alert.labels
        sources = sorted({s for a in alerts for s in a.sources})
        caught = sum(all(a.labels.get(k) == v for k, v in labels.items()) for a in self.board.alerts)
        prompt = TextPrompt(
            f"Acknowledge {clean_line(alert.name, 60)} ({len(alerts):,} alert{'' if len(alerts) == 1 else 's'})"
            " until it resolves?",
            f"Silences {clean_line(matchers_for(labels), 300)}"
            f" ({caught:,} {'alert matches' if caught == 1 else 'alerts match'} now) while they fire:"
            " alerts with these labels that fire meanwhile are silenced too.\n"
            "A comment, if you like (the silence says ACK! and it); enter acknowledges, esc cancels.",
            required=False,
        )
        self.app.push_screen(
            prompt, lambda comment: comment is not None and self._ack(alerts, labels, comment, sources)
        )

    @work(group="writes", description="Acknowledging")
    async def _ack(self, alerts: list[Alert], labels: dict[str, str], comment: str, sources: list[str]) -> None:
        config = self.services.config
        request = ack_request(labels, config.user.name, comment, config.acks.duration, self.services.clock())
        try:
            written = await send_ack(self.board, self.services.desk, alerts, request, sources)
        except AlertmanagerError as error:
            self.notify(f"Not acknowledged: {error}", severity="error", timeout=10)
            return
        self.created_silences.extend(written.created)
        self._written(written)
        self.keep_acks()  # shown as acked now, not a round later

    def refresh_now(self) -> None:
        for wake in self._wake:
            wake.set()

    def as_shown(self, status: SourceStatus) -> SourceStatus:
        """A source as the header and the notices have it: one answering in time again while its
        waits come back down is still busy; it keeps up only once they are back."""
        schedule = self.schedules.get(status.name)
        if schedule is None or not schedule.busy or status.busy or status.error:
            return status
        return replace(status, busy=f"{status.name}: in time again, asked less often until it keeps up")

    def _announce_source_changes(self) -> None:
        for _, refused in self.board.filter_refused.values():
            if refused not in self._said_refused:  # once: it is asked for every alert for this filter
                self._said_refused.add(refused)
                self.notify(f"{refused} — asking it for every alert instead; the filter applies here.")
        for name, status in self.board.status.items():
            was_busy = self._busy.get(name)
            busy = bool(self.as_shown(status).busy) and not status.error  # "keeping up" once the waits are back
            if busy and not was_busy:
                kept = "its last alerts stand meanwhile" if status.last_ok else "no data from it yet"
                self.notify(
                    f"{clean_line(status.busy or '', 200)} — asking it less often until it keeps up; {kept}.",
                    severity="warning",
                )
            elif was_busy and not busy and not status.error:
                self.notify(f"{name}: keeping up again.")
            self._busy[name] = bool(busy)
            before = self._source_errors.get(name)
            if status.error and status.error != before:
                kept = "showing its last known alerts as stale" if status.last_ok else "no data from it yet"
                self.notify(f"{status.error} — {kept}.", severity="warning")
            elif before and not status.error:
                self.notify(f"{name}: reachable again.")
            self._source_errors[name] = status.error

    def _shown(self) -> list[Alert]:
        return [a for a in self.board.alerts if self.filter.matches(a)] if self.filter else self.board.alerts

    def show_alerts(self, by_user: bool = False) -> None:
        """`by_user`: the user's filter moved the cursor, as a key would (the incident follows it)."""
        self._shows += 1
        self.list.show(self._shown(), by_user)
        self.show_title()

    async def _show_polled(self) -> None:
        """A poll's alerts, grouped in a thread (10,000 take tens of milliseconds, which keys
        should not wait for); dropped if the filter or the grouping changed meanwhile, as the
        user's own showing is newer."""
        self._shows += 1
        shows, shown, grouping = self._shows, self._shown(), self.list.grouping
        groups = await asyncio.to_thread(self.list.grouped, shown)
        if shows == self._shows and grouping == self.list.grouping:
            self.list.show(shown, groups=groups)
            self.show_title()

    def show_doubted(self, count: int) -> None:
        self.doubted = count
        self.show_title()

    def show_title(self) -> None:
        self.title.update(self._title(len(self.list.alerts)))

    def _title(self, shown: int) -> Text:
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
            warnings.append(f"stale {counts['stale']:,}")
        if counts["unseen"]:
            warnings.append(f"unseen {counts['unseen']:,}")
        if self.doubted:
            warnings.append(f"{self.doubted} linked alert(s) unknown (see the incident)")
        quiet = [name for name, status in board.status.items() if not status.answered]
        if quiet and not silent and not counts["active"]:
            warnings.append(f"{', '.join(quiet)} not answering: no all-clear")
        if warnings:
            title.append("  " + " · ".join(warnings), style="bold")
        if self.filter:
            applied = self._confirmed_text if self._filter_error else self.filter_box.value  # what is in force
            filter_text = clean_line(applied, 60)
            shown_of = f"shown {shown:,} of {len(self.board.alerts):,} (filter {filter_text})"
            title.append(f"{' ·' if warnings else ' '} {shown_of}", style="italic")
        title.append(
            f"{' ·' if warnings or self.filter else ' '} firing {counts['active']:,} · silenced {counts['silenced']:,}"
            f" · inhibited {counts['inhibited']:,}"
        )
        if counts["pages"]:
            title.append(f" · pages {counts['pages']:,}")
        if not warnings and not any(counts[k] for k in ("active", "stale", "unseen")):
            title.append(" · all clear")
        return title

    # -- filter ---------------------------------------------------------------------------
    @property
    def filtering(self) -> bool:
        """A filter is in force, or being typed."""
        return bool(self.filter) or bool(self.filter_box.value) or self.filter_box.has_class("-visible")

    def open_filter(self) -> None:
        """Focused now, not after the keys already read (`focus()` waits its turn): over SSH,
        `/sev` comes in one read, and its letters are the filter's, not keys of the list (those
        read before the focus moved reach no widget, and the app types them here)."""
        self.filter_box.closing = False
        self.filter_box.add_class("-visible")
        self.screen.set_focus(self.filter_box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        """As the box is now (a change heard late, after enter applied it, is no news)."""
        if event.input.value != self._applied:
            self._apply_filter(event.input.value)

    def _apply_filter(self, text: str) -> None:
        """A filter as typed shows at once; one that cannot be read shows the last confirmed one."""
        box, self._applied = self.filter_box, text
        try:
            self.filter = parse_filter(text)
        except MatcherError as error:
            self._filter_error = clean_line(str(error), 100)
            box.border_subtitle = self._filter_error.replace("[", r"\[")
            box.add_class("-unreadable")
            self.filter = self._confirmed_filter
        else:
            self._filter_error = ""
            box.border_subtitle = ""
            box.remove_class("-unreadable")
        self.show_alerts(by_user=True)

    def keep_filter(self) -> None:
        """enter in the filter box: the filter stays, and the keys are the list's again (shown
        now, not when the box's last change is heard: a key read with enter acts on it)."""
        box = self.filter_box
        if box.value != self._applied:
            self._apply_filter(box.value)
        if self._filter_error:  # (not Input's own -invalid class: it validates again on enter)
            kept = clean_line(self._confirmed_text, 60) or "no filter"
            self.notify(f"Not applied: {self._filter_error}. Still showing: {kept}.", severity="warning")
            box.closing = False  # still typing
            return
        self._confirmed_filter, self._confirmed_text = self.filter, box.value
        if not box.value.strip():
            box.remove_class("-visible")
        self.screen.set_focus(self.list)

    def clear_filter(self) -> None:
        box = self.filter_box
        box.value = self._applied = ""
        box.remove_class("-visible", "-unreadable")
        self._filter_error = ""
        box.border_subtitle = ""
        self.filter = self._confirmed_filter = Filter()
        self._confirmed_text = ""
        self.show_alerts(by_user=True)
        self.screen.set_focus(self.list)  # now: keys after esc in the same read are the list's

    # -- silences -------------------------------------------------------------------------
    def silence(self) -> None:
        """`s`: the form for a silence of the selected alert, filled from its labels."""
        if self.services.refuses(self.notify):
            return
        alert = self.current
        if alert is None:
            self.notify("Select an alert to silence first (or press S to manage silences).")
            return
        if alert.is_page:
            self.notify(
                f"Not silenced: it is oncall-tui's page to {clean_line(alert.labels.get('oncall', ''), 40) or 'its level'} "
                f"for {clean_line(alert.labels.get('incident', ''), 40)}: silencing it would stop the paging off the record. "
                "It ends when they acknowledge (a), or when R resolves the incident.",
                severity="warning",
                timeout=10,
            )
            return
        config, found = self.services.config, self.list.group_row
        # a group's row: what all its alerts share (the form says how many alerts that catches)
        sources = sorted({s for a in found.alerts for s in a.sources}) if found else alert.sources
        form = SilenceForm(
            matchers_for(found.common if found else alert.labels),
            config.silences.default_duration,
            config.user.name,
            self.services.clock,
            self.board.alerts,
        )
        self.app.push_screen(form, lambda request: request and self._send(request, sources))

    def silences(self) -> None:
        """`S`: every source's silences, to edit or expire."""
        self.app.push_screen(
            SilencesScreen(self.board, self.services.clock, self._edit, self._ask_expire, self.services.read_only)
        )

    def _edit(self, silence: Silence) -> None:
        if self.services.refuses(self.notify):
            return
        clock, config = self.services.clock, self.services.config
        form = SilenceForm(
            format_matchers(silence.matchers),
            max(60.0, (silence.ends_at - clock()).total_seconds()),
            config.user.name,
            clock,
            self.board.alerts,
            comment=silence.comment,
            silence_id=silence.id if silence.state != "expired" else None,
        )
        self.app.push_screen(form, lambda request: request and self._send(request, [silence.source]))

    def _ask_expire(self, silence: Silence) -> None:
        if self.services.refuses(self.notify):
            return
        question = f"Expire silence {silence.id}?"
        detail = (
            clean_line(format_matchers(silence.matchers), 300)
            + f"\nby {clean_line(silence.created_by, 60)}: {clean_line(silence.comment, 200)}"
        )
        self.app.push_screen(ConfirmScreen(question, detail, yes="Expire"), lambda yes: yes and self._expire(silence))

    @work(group="writes", description="Creating a silence")
    async def _send(self, request: SilenceRequest, sources: tuple[str, ...] | list[str]) -> None:
        try:
            written = await send_silence(self.board, self.services.desk, request, sources)
        except AlertmanagerError as error:
            self.notify(f"Silence not created: {error}", severity="error", timeout=10)
            return
        self.created_silences.extend(written.created)
        self._written(written)

    @work(group="writes", description="Expiring a silence")
    async def _expire(self, silence: Silence) -> None:
        try:
            written = await expire_silence(self.board, self.services.desk, silence)
        except AlertmanagerError as error:
            self.notify(f"Silence not expired: {error}", severity="error", timeout=10)
            return
        self._written(written)

    def _written(self, written: SilenceWritten) -> None:
        self.notify(written.said)
        for problem in written.problems:
            self.notify(problem, severity="error")
        self.refresh_now()
        if isinstance(self.app.screen, SilencesScreen):
            self.app.screen.action_reload()


def _matched(silence: Silence) -> str:
    """What an ack is of, in a few words: `HighErrorRate ml-api` (its matchers' values)."""
    return clean_line(" ".join(m.value for m in silence.matchers if m.name != "severity"), 60) or silence.id
