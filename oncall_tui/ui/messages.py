"""What the panes and their workers tell the main screen, in the past tense. The screen
passes on what a sibling needs to know by calling it (messages up, attributes down).

Workers post these from their threads (`post_message` is thread-safe): none of them writes
another pane's state."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.oncall.roster import LevelNow
from oncall_tui.core.runbooks.step_recovery import Recovered
from oncall_tui.core.runbooks.step_runs import RecordedRun, Run


@dataclass
class AlertSelected(Message):
    """The alert under the cursor changed, or changed value (None: the list is empty). The
    only way the detail, the runbook and the incident panes learn which alert is selected."""

    alert: Alert | None
    by_user: bool
    """Moved by a key or a click; not by a refresh that took the alert under the cursor away."""


@dataclass
class AlertsPolled(Message):
    """A poll was merged into the board: the alerts shown are new."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AlertsPolled)  # the latest says all an earlier one would


@dataclass
class IncidentShown(Message):
    """The incident pane drew this incident (None: none)."""

    incident: Incident | None


@dataclass
class DoubtsCounted(Message):
    """After following a poll: how many linked alerts no source can vouch for now."""

    count: int


@dataclass
class IncidentChosen(Message):
    """An incident the pane should show, and why: declared here, a step ran for it, …"""

    incident_id: str
    why: str


@dataclass
class StepFinished(Message):
    """A runbook step's run ended, and is recorded (unless `recorded` is false: it ran, but
    recording its end failed)."""

    run: Run
    summary: str
    recorded: bool = True


@dataclass
class IncidentsLoaded(Message):
    """The journals are read: the runs they record, and the steps a stopped console left."""

    recorded: list[RecordedRun]
    left: Recovered | None


@dataclass
class LevelsChanged(Message):
    """PagerDuty's worker took a new reading of who is on call."""

    levels: list[LevelNow]


@dataclass
class PagerDutyStateChanged(Message):
    """After each PagerDuty sync, or while a request waits to retry."""

    error: str | None
    retrying: str | None = None


@dataclass
class HistoryTrouble(Message):
    """The alert history could not be written (None: it is written again)."""

    problem: str | None
