"""kill -9 in the middle of recording: every event reported as recorded survives the restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from oncall_tui.core.incidents.desk import IncidentDesk
from tests.terminal import Terminal

WRITER = r"""
import sys
from pathlib import Path
from oncall_tui.core.incidents.desk import IncidentDesk
from tests.terminal import Terminal

desk = IncidentDesk(Path(sys.argv[1]), "alice").load()
incident = desk.declare("crash test")
print("declared", incident.id, flush=True)
n = 0
while True:
    n += 1
    event = desk.note(incident.id, f"note {n} " + "x" * 20000)  # big lines: the kill often lands mid-write
    print("recorded", event.seq, flush=True)  # what the console would now show as recorded
"""


def test_kill_9_between_and_during_writes_loses_nothing_shown_as_recorded(tmp_path: Path) -> None:
    for round_ in range(3):
        data = tmp_path / f"round{round_}"
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE, text=True)
        shown = []
        assert child.stdout is not None
        incident_id = child.stdout.readline().split()[1]
        for line in child.stdout:
            shown.append(int(line.split()[1]))
            if len(shown) >= 40 + 17 * round_:
                break
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        desk = IncidentDesk(data, "alice").load()  # the restart
        seqs = [e.seq for e in desk.get(incident_id).events]
        assert set(shown) <= set(seqs), "an event shown as recorded was lost"
        assert seqs == list(range(1, len(seqs) + 1))
        assert all("repaired a torn last line" in p for p in desk.problems)
        desk.note(incident_id, "after the crash")  # and it goes on
        assert desk.get(incident_id).events[-1].seq == len(seqs) + 1


def test_kill_9_of_the_console_keeps_every_action_it_showed_as_recorded(tmp_path: Path) -> None:
    """The real console in a terminal: declare, ack, note; kill -9 right after the note shows."""
    with Terminal("demo", XDG_DATA_HOME=str(tmp_path / "xdg")) as terminal:
        terminal.wait_for(b"SLOViolation")
        for keys, shown in [
            (b"i", b"Declare an incident"),
            (b"\r", b"Recorded: Declared"),
            (b"a", b"Acknowledge the incident"),
            (b"y", b"Recorded: Acknowledged"),
            (b"n", b"Note (start with TODO:"),
            (b"TODO: last words\r", b"Recorded: Action item: last words"),
        ]:
            terminal.press(keys)
            terminal.wait_for(shown)
        terminal.kill()
    desk = IncidentDesk(tmp_path / "xdg" / "oncall-tui" / "demo", "alice").load()
    [incident] = desk.incidents.values()
    assert [e.kind for e in incident.events] == ["incident.declared", "incident.acknowledged", "note"]
    assert incident.action_items == ["last words"] and desk.problems == []
