"""The incident keys of the console: each asks where needed, runs off the UI thread, and
reports done only once the desk has recorded (fsynced) the event."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding

from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError, NotPagedError
from oncall_tui.core.incidents.incident import Incident, default_title
from oncall_tui.core.incidents.postmortem import render_markdown
from oncall_tui.core.incidents.timeline import TimelineEvent
from oncall_tui.core.paging.pagers import Page
from oncall_tui.core.private import private_dir, write_private
from oncall_tui.core.text import clean_line
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import SeverityPicker, TextPrompt

if TYPE_CHECKING:
    from oncall_tui.ui.app import OncallApp

INCIDENT_BINDINGS = [
    Binding("i", "declare", "Declare", id="declare"),
    Binding("a", "acknowledge", "Ack", id="ack"),
    Binding("e", "escalate", "Escalate", id="escalate"),
    Binding("n", "note", "Note", id="note"),
    Binding("R", "resolve", "Resolve", id="resolve"),
    Binding("A", "reassign", "Reassign", show=False, id="reassign"),
    Binding("v", "severity", "Severity", show=False, id="severity"),
    Binding("m", "advance_stage", "Next stage / mitigated", show=False, id="stage"),
    Binding("c", "take_command", "Take command", show=False, id="command"),
    Binding("x", "export", "Export postmortem", show=False, id="export"),
    Binding("I", "next_incident", "Next open incident", show=False, id="next_incident"),
    Binding("t", "timeline_filter", "Timeline: notes only / all", show=False, id="timeline_filter"),
]
INCIDENT_ACTIONS = frozenset(b.action for b in INCIDENT_BINDINGS)
NO_INCIDENT = "No open incident: press i on an alert to declare one."


class IncidentKeys:
    """Mixed into OncallApp: the actions behind INCIDENT_BINDINGS."""

    desk: IncidentDesk
    active_id: str | None
    active_why: str
    drawn_incident: str | None
    pending: dict[tuple[str, str], str]

    # -- which incident -------------------------------------------------------------------
    def active_incident(self: OncallApp) -> Incident | None:
        """The incident the pane shows (see `IncidentDesk.to_show`); the last one resolved here
        while none is open, so its end stays in view."""
        return self.shown_incident()[0]

    def shown_incident(self: OncallApp) -> tuple[Incident | None, str]:
        """(the incident the pane shows, why): see `IncidentDesk.to_show`; with none open, the
        one chosen last (just resolved), so its end stays in view."""
        current, group_by = self.alert_list.current, self.config.incidents.group_by
        incident, why = self.desk.to_show(current, self.active_id, self.active_why, group_by)
        if incident is None and self.active_id in self.desk.incidents:
            return self.desk.incidents[self.active_id], self.active_why
        return incident, why

    def action_next_incident(self: OncallApp) -> None:
        open_ids = [i.id for i in self.desk.open_incidents()]
        if len(open_ids) < 2:
            self.notify("Only one incident is open." if open_ids else NO_INCIDENT)
            return
        shown = self.active_incident()
        at = open_ids.index(shown.id) if shown and shown.id in open_ids else -1
        self._choose(open_ids[(at + 1) % len(open_ids)], "chosen with I")  # until another alert is selected
        self.show_incident()

    def action_timeline_filter(self: OncallApp) -> None:
        self.timeline.toggle_notes_only(self.active_incident())

    # -- running an action ----------------------------------------------------------------
    def _act(
        self: OncallApp,
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
        incident = self._writable_incident() if on is None else self._still_open(on)
        if incident is None:
            return
        key = (incident.id, verb)
        if key in self.pending:
            self.notify(f"Still {self.pending[key]} {incident.id}: not sent twice.")
            return

        def go() -> None:
            self.pending[key] = doing
            self.show_incident()
            self._run_action(key, lambda: run(incident))

        if ask:  # the question names the incident: with several open, which one is never a guess
            question = f"{ask.removesuffix('?')} · {incident.id}?"
            self.push_screen(ConfirmScreen(question, detail, yes=verb.capitalize()), lambda yes: yes and go())
        else:
            go()

    def _writable_incident(self: OncallApp) -> Incident | None:
        """The open incident the pane shows, or None after telling the user why there is none to
        change; refused while the pane has not drawn it yet (a key right after moving the cursor
        would act on an incident the user has not seen)."""
        if self._refuse_if_read_only():
            return None
        incident = self.active_incident()
        if incident is None or not incident.is_open:
            self.notify(NO_INCIDENT)
            return None
        if incident.id != self.drawn_incident:
            self.notify(f"Not done: the incident pane is moving to {incident.id}. Look, then press the key again.")
            self.show_incident()
            return None
        return incident

    def _still_open(self: OncallApp, incident: Incident) -> Incident | None:
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
        self: OncallApp, verb: str, doing: str, title: str, label: str, run: Callable[[Incident, str], TimelineEvent]
    ) -> None:
        incident = self._writable_incident()
        if incident is None:
            return
        prompt = TextPrompt(f"{title} · {incident.id}", label)
        self.push_screen(prompt, lambda text: text and self._act(verb, doing, lambda i: run(i, text), on=incident))

    @work(thread=True, group="incident", description="Recording an incident action")
    def _run_action(self: OncallApp, key: tuple[str, str], run: Callable[[], TimelineEvent]) -> None:
        try:
            event = run()
        except NotPagedError as error:  # recorded as failed; the incident pane keeps the red line
            self.call_from_thread(self.notify, str(error), severity="error", timeout=30)
        except IncidentError as error:
            self.call_from_thread(self.notify, f"Not recorded: {error}", severity="error", timeout=10)
        else:
            self.call_from_thread(self.notify, f"Recorded: {clean_line(event.summary, 200)}")
            if event.kind == "incident.resolved":  # it stays in view, for x, until another is chosen
                self.call_from_thread(self._choose, event.incident, "just resolved")
        finally:
            self.call_from_thread(self._action_done, key)

    def _choose(self: OncallApp, incident_id: str, why: str) -> None:
        self.active_id, self.active_why = incident_id, why

    def _action_done(self: OncallApp, key: tuple[str, str]) -> None:
        self.pending.pop(key, None)
        self.show_incident()

    # -- the actions ----------------------------------------------------------------------
    def action_declare(self: OncallApp) -> None:
        if self._refuse_if_read_only():
            return
        marked = self.alert_list.marked_alerts()
        alerts = [a for a in marked if not a.is_page]  # a page already belongs to its incident
        if marked and not alerts:
            self.notify(
                "That is a page of the console's own, for its incident: it declares nothing.", severity="warning"
            )
            return
        first = alerts[0] if alerts else None
        title = clean_line(default_title(first), 200) if first else ""
        names = ", ".join(sorted({clean_line(a.name, 40) for a in alerts}))
        label = f"Title (linking {len(alerts)} alert(s): {names})" if alerts else "Title (no alert linked)"
        prompt = TextPrompt("Declare an incident", label, value=title)

        def declare(text: str | None) -> None:
            if text:
                self.alert_list.marked.clear()
                self._declare(text, alerts)

        self.push_screen(prompt, declare)

    def _declare(self: OncallApp, title: str, alerts: list) -> None:
        key = ("new", title)
        if key in self.pending:
            return
        self.pending[key] = "declaring"

        def run() -> TimelineEvent:
            incident = self.desk.declare(title, alerts)
            self.call_from_thread(self._choose, incident.id, "just declared")
            return incident.events[0]  # the declaration

        self._run_action(key, run)

    def action_acknowledge(self: OncallApp) -> None:
        incident = self.active_incident()
        ends, left = self.desk.acknowledging(incident) if incident else ([], [])
        said = []
        if ends:
            said.append("Ends your page: " + ", ".join(_page(p) for p in ends) + ".")
        if left:
            said.append("Left standing (their own a ends them, or R): " + ", ".join(_page(p) for p in left) + ".")
        self._act(
            "acknowledge",
            "acknowledging",
            lambda i: self.desk.acknowledge(i.id),
            ask="Acknowledge the incident?",
            detail=" ".join(said),
        )

    def action_escalate(self: OncallApp) -> None:
        if self._refuse_if_read_only():
            return
        incident = self.active_incident()
        level = (incident.escalation_level if incident else 1) + 1
        plan = self.escalation_plan(level)
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
        )

    def _escalation_question(self: OncallApp, level: int, targets: list[str]) -> tuple[str, str]:
        """The confirmation says how the page will go, or plainly that nobody will be paged."""
        who = ", ".join(clean_line(t, 40) for t in targets)
        pager = self.desk.pager
        if self.config.incidents.provider == "pagerduty":
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

    def action_advance_stage(self: OncallApp) -> None:
        self._act("stage", "moving on", lambda i: self.desk.advance_stage(i.id))

    def action_take_command(self: OncallApp) -> None:
        self._act("command", "taking command of", lambda i: self.desk.take_command(i.id), ask="Take command?")

    def action_note(self: OncallApp) -> None:
        incident = self.active_incident()
        if incident is None:  # notes are welcome on a resolved incident too, but there must be one
            self.notify(NO_INCIDENT)
            return
        if self._refuse_if_read_only():
            return
        prompt = TextPrompt(f"Note · {incident.id}", "Note (start with TODO: for an action item)")
        key = (incident.id, f"note-{len(incident.events)}")
        self.push_screen(prompt, lambda text: text and self._run_action(key, lambda: self.desk.note(incident.id, text)))

    def action_resolve(self: OncallApp) -> None:
        incident = self.active_incident()
        standing = [p for p in incident.pages.values() if p.standing] if incident else []
        ends = f" (ends the page(s) to {', '.join(_page(p) for p in standing)})" if standing else ""
        self._ask_then_act(
            "resolve",
            "resolving",
            "Resolve",
            f"Resolution, in one line{ends}",
            lambda i, text: self.desk.resolve(i.id, text),
        )

    def action_reassign(self: OncallApp) -> None:
        self._ask_then_act(
            "reassign",
            "reassigning",
            "Reassign",
            "To whom (with PagerDuty: a user's email or name)",
            lambda i, who: self.desk.reassign(i.id, who),
        )

    def action_severity(self: OncallApp) -> None:
        incident = self._writable_incident()
        if incident is None:
            return
        self.push_screen(
            SeverityPicker(incident.severity),
            lambda sev: (
                sev
                and self._act(
                    "severity", "changing severity of", lambda i: self.desk.set_severity(i.id, sev), on=incident
                )
            ),
        )

    def action_export(self: OncallApp) -> None:
        incident = self.active_incident()
        if incident is None:
            self.notify(NO_INCIDENT)
            return
        self._export(incident)

    @work(thread=True, group="incident", description="Exporting a postmortem")
    def _export(self: OncallApp, incident: Incident) -> None:
        path = self.config.data_dir / "exports" / f"{incident.id}-postmortem.md"
        try:
            private_dir(path.parent)  # 0600 in 0700: a postmortem is nobody else's to read
            write_private(path, render_markdown(incident))
        except OSError as error:
            self.call_from_thread(self.notify, f"Not exported: {error.strerror or error} ({path})", severity="error")
            return
        if not self.read_only:
            try:
                self.desk.record(incident.id, "export", f"Exported the postmortem to {path}", {"path": str(path)})
            except IncidentError as error:
                self.call_from_thread(self.notify, f"Exported, but not recorded: {error}", severity="warning")
        self.call_from_thread(self.notify, f"Postmortem written to {path}")
        self.call_from_thread(self.show_incident)


def _page(page: Page) -> str:
    return f"{clean_line(', '.join(page.who), 40)} L{page.level}"
