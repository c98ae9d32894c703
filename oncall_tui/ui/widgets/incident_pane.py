"""The incident pane: which incident it shows and why, and the incident keys. Each key asks
where needed, runs off the UI thread, and reports done only once the desk has recorded
(fsynced) the event. It also follows each poll for the incidents, and keeps their pages up."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.worker import get_current_worker

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.alerts.tracking import Presence
from oncall_tui.core.durations import format_duration
from oncall_tui.core.incidents.desk import OF_THE_SELECTED_ALERT, THE_ONLY_OPEN, IncidentError, NotPagedError
from oncall_tui.core.incidents.incident import SEVERITIES, Incident, default_title
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.paging.pagers import LIFETIME, Page
from oncall_tui.core.text import clean_line
from oncall_tui.services import Services
from oncall_tui.ui.messages import DoubtsCounted, IncidentShown
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import SeverityPicker, TextPrompt
from oncall_tui.ui.widgets.incident_view import NARROW, describe
from oncall_tui.ui.widgets.redrawn import Redrawn, retitle

INCIDENT_BINDINGS = [
    Binding("i", "declare", "Declare", id="declare"),
    Binding("a", "acknowledge", "Ack", id="ack"),
    Binding("e", "escalate", "Escalate", id="escalate"),
    Binding("n", "note", "Note", id="note"),
    Binding("R", "resolve", "Resolve", id="resolve"),
    Binding("W", "reassign", "Reassign (who)", show=False, id="reassign"),
    Binding("v", "severity", "Severity", show=False, id="severity"),
    Binding("m", "advance_stage", "Next stage / mitigated", show=False, id="stage"),
    Binding("c", "take_command", "Take command", show=False, id="command"),
    Binding("x", "export", "Export postmortem", show=False, id="export"),
    Binding("I", "next_incident", "Next open incident", show=False, id="next_incident"),
    Binding("t", "timeline_filter", "Timeline: notes only / all", show=False, id="timeline_filter"),
]
"""The main screen's (the keys work wherever the focus is); their actions call this pane."""
NO_INCIDENT = "No open incident: press i on an alert to declare one."


class IncidentPane(Redrawn, can_focus=True):  # tab reaches it, so z can zoom it
    """Redrawn after every action, after each poll, and every second (the clock moves)."""

    @dataclass
    class Recorded(Message):
        """From an action's worker: it ended (`event`: what was recorded, if anything)."""

        key: tuple[str, str] | None
        event: TimelineEvent | None

    def __init__(self, services: Services, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.desk = services.desk
        self.selected: Alert | None = None
        """The selected alert, as the last `AlertSelected` said."""
        self.chosen: str | None = None
        """The incident chosen (with I, or declared or resolved here), until the user moves the
        cursor; open or not."""
        self.chosen_why = ""
        self.last_resolved: str | None = None
        """The incident last resolved here: shown, for x, while no other is open."""
        self.drawn: str | None = None
        """The incident the pane last drew: keys act only on the one the user can see."""
        self.pending: dict[tuple[str, str], str] = {}
        """Actions sent but not yet recorded, by (incident, verb): a second press is refused."""
        self._after: dict[tuple[str, str], Callable[[], None]] = {}
        """What to do once an action is recorded, by its pending key."""
        self.doubts: dict[str, dict[str, Presence]] = {}
        """By incident and fingerprint, after each poll: linked alerts their sources cannot vouch for."""
        self._polled = asyncio.Event()
        self._said: set[str] = set()
        self._last_drawn: tuple = ()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.show)
        self._follow_polls()

    def on_resize(self) -> None:
        self._last_drawn = ()
        self.show()  # laid out again for the new width

    # -- which incident -------------------------------------------------------------------
    def shown(self) -> tuple[Incident | None, str]:
        """(the incident the pane shows, why): see `IncidentDesk.to_show`; with none open, the
        one resolved here last, so its end stays in view."""
        group_by = self.services.config.incidents.group_by
        incident, why = self.desk.to_show(self.selected, self.chosen, self.chosen_why, group_by)
        if incident is None and self.last_resolved in self.desk.incidents:
            return self.desk.incidents[self.last_resolved], "just resolved"
        return incident, why

    def active(self) -> Incident | None:
        return self.shown()[0]

    def follow(self, alert: Alert | None, by_user: bool, draw: bool = True) -> None:
        """The incident follows the alert: a choice holds until the user moves the cursor (a
        refresh that takes the selected alert away keeps it). `draw=False`: heard of ahead of
        a key, which then refuses to act on an incident the pane has not drawn."""
        self.selected = alert
        if by_user:
            self.chosen = None
        if draw:
            self.show()

    def choose(self, incident_id: str, why: str) -> None:
        self.chosen, self.chosen_why = incident_id, why
        self.show()

    def show(self) -> None:
        incident, why = self.shown()
        self.drawn = incident.id if incident else None
        open_ids = [i.id for i in self.desk.open_incidents()]
        position = (open_ids.index(incident.id) + 1 if incident and incident.id in open_ids else 0, len(open_ids))
        doing = next((f"{what}…" for (iid, _), what in self.pending.items() if incident and iid == incident.id), None)
        doubts = self.doubts.get(incident.id, {}) if incident else {}
        for sev in SEVERITIES:
            self.set_class(incident is not None and incident.severity == sev, f"-{sev.lower()}")
        muted = {  # what the board says now of linked alerts the record has firing: silenced, inhibited
            a.fingerprint: a.state
            for a in (self.services.board.alerts if incident and incident.alerts else ())
            if a.state in ("silenced", "inhibited") and a.fingerprint in incident.alerts
        }
        self.update(describe(incident, position, self.services.clock(), self.size.width, doing, doubts, why, muted))
        narrow = 0 < self.size.width < NARROW  # the why has no room in the text: it goes on the border
        said = narrow and incident and why != THE_ONLY_OPEN  # as the wide header says it
        retitle(self, subtitle=clean_line(why, 60).replace("[", r"\[") if said else "")
        drawn = (incident.id if incident else None, len(incident.events) if incident else 0)
        if drawn != self._last_drawn:  # the timeline is told only what changed
            self._last_drawn = drawn
            self.post_message(IncidentShown(incident))

    def next_incident(self) -> None:
        open_ids = [i.id for i in self.desk.open_incidents()]
        if len(open_ids) < 2:
            self.notify("Only one incident is open." if open_ids else NO_INCIDENT)
            return
        at = open_ids.index(self.drawn) if self.drawn in open_ids else -1
        self.choose(open_ids[(at + 1) % len(open_ids)], "chosen with I")  # until the cursor moves

    # -- following the alerts -------------------------------------------------------------
    def polled(self) -> None:
        """A poll was merged: what it means for the incidents is decided next (the latest poll
        only, however many came while the last one was followed)."""
        self._polled.set()

    @work(exclusive=True, group="follow", description="Following the alerts for the incidents")
    async def _follow_polls(self) -> None:
        while True:
            await self._polled.wait()
            self._polled.clear()
            try:
                declared = await asyncio.to_thread(self._follow, self.drawn)
            except Exception as error:
                self.notify(f"Following the alerts failed: {clean_line(str(error), 200)}", severity="error")
            else:
                if declared and self.chosen is None and self.shown()[1] != OF_THE_SELECTED_ALERT:
                    # shown unless the user is on another incident (the notice says it either way)
                    self.chosen, self.chosen_why = declared, "declared by oncall-tui (auto_declare)"
            self.show()
            self.post_message(DoubtsCounted(sum(len(d) for d in self.doubts.values())))

    def _follow(self, shown: str | None) -> str | None:
        """In a thread: what the latest poll means for the incidents (core decides); the
        incident it declared last, if it declared one."""
        try:
            if shown:
                self.desk.get(shown)  # pick up what other consoles recorded
        except IncidentError as error:
            self._say_once(f"Not read again (what other consoles recorded may be missing): {error}")
        services = self.services
        followed = services.follower.follow(services.board.sightings, record=not services.read_only)
        self.doubts = followed.doubts  # replaced whole: the UI thread reads it
        for error in followed.errors:
            self._say_once(f"Not recorded: {error}")
        notice = followed.notice()
        if notice:  # one line a poll, however many a storm declared or joined
            self.notify(notice, severity="warning", timeout=15)
        return followed.declared[-1].incident if followed.declared else None

    def _say_once(self, problem: str) -> None:
        if problem not in self._said:  # once, not once a poll
            self._said.add(problem)
            self.notify(problem, severity="error", timeout=15)

    # -- keeping pages --------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="pages", description="Keeping pages standing")
    def keep_pages(self, stopping: threading.Event) -> None:
        """Standing pages are posted again before Alertmanager lets them lapse, and pages due to
        end (acknowledged, escalated past, resolved) are ended, retried until their service
        accepts; each new problem is said once, until `stopping` is set."""
        posted: dict[str, datetime] = {}
        told: set[str] = set()
        pager, worker = self.desk.pager, get_current_worker()
        assert pager is not None
        self.services.waiting.in_background()  # PagerDuty Events retries say so in the header
        every = min(5.0, pager.repost_every or 5.0)
        while not worker.is_cancelled:
            try:
                problems = set(self.desk.keep_pages(posted))
            except Exception as error:  # a worker that dies would leave pages to lapse unsaid
                problems = {f"Pages could not be kept: {type(error).__name__}: {error}"}
            for problem in sorted(problems - told):
                self.notify(problem, severity="error", timeout=60)
            if told and not problems:
                self.notify("The earlier page problems are over: pages are kept and ended as recorded.")
            told = problems
            self.post_message(self.Recorded(None, None))  # what was recorded shows now
            if stopping.wait(every):
                return

    def lapsing_pages(self) -> list[str]:
        """The standing pages only this console's posts keep up (Alertmanager's), by whom they page."""
        pager = self.desk.pager
        if pager is None or pager.repost_every is None or self.services.read_only:
            return []
        return [
            f"{clean_line(', '.join(p.who), 60)} (level {p.level}, {incident.id})"
            for incident in self.desk.open_incidents()
            for p in incident.pages.values()
            if p.standing and not p.lapsed and p.via == pager.via
        ]

    def lapsing_question(self) -> tuple[str, str] | None:
        """What `q` asks about the pages that lapse without this console, if any would."""
        lapsing = self.lapsing_pages()
        if not lapsing:
            return None
        pager = self.desk.pager
        assert pager is not None and pager.repost_every is not None
        within = format_duration(pager.repost_every * LIFETIME)
        return (
            f"{len(lapsing)} standing page(s) end within {within} unless a console posts them:",
            ", ".join(lapsing) + " (Alertmanager then tells their receivers they resolved; the next console "
            "to start posts them again)",
        )

    # -- running an action ----------------------------------------------------------------
    def _act(
        self,
        verb: str,
        doing: str,
        run: Callable[[Incident], TimelineEvent],
        ask: str | None = None,
        detail: str = "",
        on: Incident | None = None,
    ) -> None:
        """Refuse (read-only, no incident, already pending), ask if needed, then run in a thread.
        `on`: the incident a prompt named when its key was pressed (read again: never the one
        the pane may have moved to meanwhile)."""
        incident = self._writable() if on is None else self._still_open(on)
        if incident is None:
            return
        key = (incident.id, verb)
        if key in self.pending:
            self.notify(f"Still {self.pending[key]} {incident.id}: not sent twice.")
            return

        def go() -> None:
            self.pending[key] = doing
            self.show()
            self._run_action(key, lambda: run(incident))

        if ask:  # the question names the incident: with several open, which one is never a guess
            question = f"{ask.removesuffix('?')} · {incident.id}?"
            self.app.push_screen(ConfirmScreen(question, detail, yes=verb.capitalize()), lambda yes: yes and go())
        else:
            go()

    def _writable(self) -> Incident | None:
        """The open incident the pane shows, or None after telling the user why there is none to
        change; refused while the pane has not drawn it yet (a key right after moving the cursor
        would act on an incident the user has not seen)."""
        if self.services.refuses(self.notify):
            return None
        incident = self._drawn()
        if incident is None:
            return None
        if not incident.is_open:
            others = " (I shows the open ones)" if self.desk.open_incidents() else ""
            self.notify(f"{incident.id} is resolved: move the cursor to an alert of an open incident{others}.")
            return None
        return incident

    def _drawn(self) -> Incident | None:
        """The incident the pane shows, if it is the one the user has seen; else None, said."""
        incident = self.active()
        if incident is None:
            self.notify(NO_INCIDENT)
            return None
        if incident.id != self.drawn:
            self.notify(f"Not done: the pane changed to {incident.id} as you pressed. Check it, then press again.")
            self.show()
            return None
        return incident

    def _still_open(self, incident: Incident) -> Incident | None:
        try:
            incident = self.desk.get(incident.id)
        except IncidentError as error:
            self.notify(f"Not recorded: {error}", severity="error")
            return None
        if not incident.is_open:
            self.notify(f"Not recorded: {incident.id} was resolved meanwhile.", severity="warning")
            return None
        return incident

    def _ask_then_act(
        self, verb: str, doing: str, title: str, label: str, run: Callable[[Incident, str], TimelineEvent]
    ) -> None:
        incident = self._writable()
        if incident is None:
            return
        prompt = TextPrompt(f"{title} · {incident.id}", label)
        self.app.push_screen(prompt, lambda text: text and self._act(verb, doing, lambda i: run(i, text), on=incident))

    @work(thread=True, group="incident", description="Recording an incident action")
    def _run_action(self, key: tuple[str, str], run: Callable[[], TimelineEvent]) -> None:
        event = None
        try:
            event = run()
        except NotPagedError as error:  # recorded as failed; the incident pane keeps the red line
            self.notify(str(error), severity="error", timeout=30)
        except IncidentError as error:
            self.notify(f"Not recorded: {error}", severity="error", timeout=10)
        else:
            self.notify(f"Recorded: {clean_line(event.summary, 200)} · {event.incident}")
        finally:
            self.post_message(self.Recorded(key, event))

    def on_incident_pane_recorded(self, message: Recorded) -> None:
        message.stop()
        if message.key:
            self.pending.pop(message.key, None)
            after = self._after.pop(message.key, None)
            if after and message.event:
                after()
        event = message.event
        if event and event.kind == "incident.declared":
            self.chosen, self.chosen_why = event.incident, "just declared"
        elif event and event.kind == "incident.resolved":  # it stays in view, for x, until the cursor moves
            self.chosen, self.chosen_why = event.incident, "just resolved"
            self.last_resolved = event.incident
        self.show()

    # -- the verbs ------------------------------------------------------------------------
    def declare(self, marked: list[Alert], done: Callable[[], None]) -> None:
        """`i`: an incident for the `marked` alerts (or the one selected); `done` once asked."""
        if self.services.refuses(self.notify):
            return
        alerts = [a for a in marked if not a.is_page]  # a page already belongs to its incident
        if marked and not alerts:
            self.notify("Not declared: that row is oncall-tui's own page for an incident: select an alert.")
            return
        first = alerts[0] if alerts else None
        title = clean_line(default_title(first), 200) if first else ""
        names = ", ".join(sorted({clean_line(a.name, 40) for a in alerts}))
        if alerts and _declaring(alerts) in self.pending:
            self.notify(f"Still declaring an incident for {names}: not declared twice.")
            return
        label = f"Title (linking {len(alerts)} alert(s): {names})" if alerts else "Title (no alert linked)"

        def declare(text: str | None) -> None:
            if text:
                self._declare(text, alerts, done)

        self.app.push_screen(TextPrompt("Declare an incident", label, value=title), declare)

    def _declare(self, title: str, alerts: list[Alert], done: Callable[[], None]) -> None:
        key = _declaring(alerts) if alerts else ("new", title)
        if key in self.pending:
            these = " for these alerts" if alerts else ""
            self.notify(f"Still declaring {clean_line(title, 80)}{these}: not declared twice.")
            return
        self.pending[key] = "declaring"
        self._after[key] = done  # the marks go once the declaration is recorded, not before
        self._run_action(key, lambda: self.desk.declare(title, alerts).events[0])

    def acknowledge(self) -> None:
        incident = self.active()
        ends, left = self.desk.acknowledging(incident) if incident else ([], [])
        said = []
        if ends:
            said.append("Ends your page: " + ", ".join(_page(p) for p in ends) + ".")
        if left:
            said.append("Still paging (until they press a, or R resolves): " + ", ".join(_page(p) for p in left) + ".")
        self._act(
            "acknowledge",
            "acknowledging",
            lambda i: self.desk.acknowledge(i.id),
            ask="Acknowledge the incident?",
            detail=" ".join(said),
        )

    def escalate(self) -> None:
        incident = self._writable()
        if incident is None:
            return
        level = incident.escalation_level + 1
        plan = self.services.oncall.escalation_plan(level, self.services.clock())
        if isinstance(plan, str):  # refused before anything is asked: nothing to confirm
            self.notify(f"Not escalated: {plan}", severity="error", timeout=10)
            return
        targets, last_level = plan
        ask, detail = self._escalation_question(level, targets)
        self._act(
            "escalate",
            "paging" if self.desk.pager and targets else "escalating",
            lambda i: self.desk.escalate(i.id, targets, last_level, to_level=level),
            ask=ask,
            detail=detail,
            on=incident,
        )

    def _escalation_question(self, level: int, targets: list[str]) -> tuple[str, str]:
        """The confirmation says how the page will go, or plainly that nobody will be paged."""
        who = ", ".join(clean_line(t, 40) for t in targets)
        pager = self.desk.pager
        if self.services.config.incidents.provider == "pagerduty":
            return (
                f"Escalate to level {level} in PagerDuty?",
                f"PagerDuty's escalation policy pages level {level} (on call there now: {who or 'nobody'}).",
            )
        if pager is None:
            return (
                f"Escalate to level {level} ({who or 'nobody on call'})?",
                "Nobody will be paged: no paging is configured (add paging: to the config). Only the escalation is recorded.",
            )
        if not targets:
            return f"Escalate to level {level}?", f"Nobody will be paged: nobody is on call at level {level} now."
        route = (
            "PagerDuty's service routes it: its escalation policy decides who is notified."
            if pager.repost_every is None
            else f"Posted as alert OncallPage; the routes of {pager.how} deliver it."
        )
        return (
            f"Page {who} through {pager.how} (level {level})?",
            f"{route} It counts as paged only once {pager.how} accepts it.",
        )

    def advance_stage(self) -> None:
        self._act("stage", "moving on", lambda i: self.desk.advance_stage(i.id))

    def take_command(self) -> None:
        self._act("command", "taking command of", lambda i: self.desk.take_command(i.id), ask="Take command?")

    def note(self) -> None:
        if self.services.refuses(self.notify):
            return
        incident = self._drawn()  # notes are welcome on a resolved incident too
        if incident is None:
            return
        prompt = TextPrompt(f"Note · {incident.id}", "Note (start with TODO: for an action item)")
        key = (incident.id, "note")  # never pending: a second note while one is recorded is welcome
        self.app.push_screen(
            prompt, lambda text: text and self._run_action(key, lambda: self.desk.note(incident.id, text))
        )

    def resolve(self) -> None:
        incident = self.active()
        standing = [p for p in incident.pages.values() if p.standing] if incident else []
        ends = f" (ends the page(s) to {', '.join(_page(p) for p in standing)})" if standing else ""
        firing = sum(a.firing for a in incident.alerts.values()) if incident else 0
        still = f". {firing} of its {len(incident.alerts)} alert(s) still fire" if firing and incident else ""
        self._ask_then_act(
            "resolve",
            "resolving",
            "Resolve",
            f"Resolution, in one line{ends}{still}",
            lambda i, text: self.desk.resolve(i.id, text),
        )

    def reassign(self) -> None:
        self._ask_then_act(
            "reassign",
            "reassigning",
            "Reassign",
            "To whom (with PagerDuty: a user's email or name)",
            lambda i, who: self.desk.reassign(i.id, who),
        )

    def severity(self) -> None:
        incident = self._writable()
        if incident is None:
            return
        self.app.push_screen(
            SeverityPicker(incident.severity),
            lambda sev: (
                sev
                and self._act(
                    "severity", "changing severity of", lambda i: self.desk.set_severity(i.id, sev), on=incident
                )
            ),
        )

    def export(self) -> None:
        incident = self._drawn()
        if incident is not None:
            self._export(incident.id)

    @work(thread=True, group="incident", description="Exporting a postmortem")
    def _export(self, incident_id: str) -> None:
        try:
            path, unrecorded = self.desk.export(incident_id)
        except OSError as error:
            where = error.filename or self.services.config.data_dir / "exports"
            self.notify(f"Not exported: {error.strerror or error} ({where})", severity="error")
            return
        except IncidentError as error:
            self.notify(f"Not exported: {error}", severity="error")
            return
        if unrecorded:
            self.notify(f"Exported, but not recorded: {unrecorded}", severity="warning")
        self.notify(f"Postmortem written to {path}")
        self.post_message(self.Recorded(None, None))


def _declaring(alerts: list[Alert]) -> tuple[str, str]:
    """The pending key of a declaration for `alerts`: one at a time for the same alerts, whatever the title."""
    return ("new", " ".join(sorted(a.fingerprint for a in alerts)))


def _page(page: Page) -> str:
    return f"{clean_line(', '.join(page.who), 40)} L{page.level}"
