"""A console that dies mid-step: the step dies with it (its guard ends it), and the next
console records how it ended; a step that outlives the guard's SIGTERM is found again,
shown, killable; a step whose console is still there is left to it. Real processes, real
kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.postmortem import render_markdown
from oncall_tui.core.runbooks.runner import ProcessRef
from oncall_tui.core.runbooks.step_recovery import GuardNotes, LeftRunning, recover, unfinished
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import fingerprint
from oncall_tui.ui.app import oncall_app
from tests.conftest import ROOT, SteppedClock, make_config, notes, steps_settled, until
from tests.runbook_world import write

FOREVER = "---\nalerts: [PodCrashLooping]\n---\n# Pods\n\n## Wait\n\n```bash {name=wait}\necho started; sleep 600 & sleep 600\n```\n"
STUBBORN = (
    "---\nalerts: [PodCrashLooping]\n---\n# Pods\n\n## Stubborn\n\n"
    "```bash {name=stubborn}\ntrap '' TERM; echo started; sleep 600\n```\n"
)


class DyingConsole:
    """tests/left_step_console.py in its own process: runs step 1, then is killed -9."""

    def __init__(self, tmp_path: Path, runbook: str, grace: float, fingerprint: str = "fp-pods") -> None:
        self.data = tmp_path / "data"
        path = write(tmp_path / "runbooks", "pods.md", runbook)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.left_step_console", str(self.data), str(path), fingerprint, str(grace)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "running", "the step did not start"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def start(self) -> dict:
        [incident] = IncidentDesk(self.data, "bob").load().incidents.values()
        [started] = unfinished(incident)
        return started.data


def group_of(data: dict) -> ProcessRef:
    ref = ProcessRef.from_data(data["process"])
    assert ref is not None
    return ref


async def test_a_console_killed_mid_step_takes_the_step_with_it(tmp_path: Path, clock: SteppedClock) -> None:
    console = DyingConsole(tmp_path, FOREVER, grace=1)
    data = console.start()
    guard = group_of(data)
    assert guard.alive() and len(guard.group_members()) >= 3  # the guard, bash, and two sleeps
    assert data["console"]["pid"] == console.process.pid
    console.kill()
    await until(lambda: not guard.group_members(), what="the guard to end the step's whole group")
    desk = IncidentDesk(console.data, "bob", clock=clock).load()
    found = recover(desk, grace=1)
    assert found.running == [] and len(found.recorded) == 1
    [end] = found.recorded
    assert (end.kind, end.actor, end.data["agent"]) == ("runbook.step_finished", "oncall-tui", "step_recovery")
    assert end.data["started_seq"] == unfinished_seq(desk) and end.data["signal"] == signal.SIGTERM
    assert end.data["outcome"] == "console_stopped" and end.data["exit_code"] is None
    assert "its guard ended it when the console stopped" in end.data["reason"]
    assert end.summary.startswith("Finished step 1 “wait” of pods.md: ended by SIGTERM (a console that stopped at ")
    assert end.data["output_tail"] == "started\n" and end.data["output_complete"] is False
    assert recover(desk, grace=1).recorded == []  # once, however often it is looked at
    [incident] = desk.incidents.values()
    assert "ended by SIGTERM" in render_markdown(incident)  # the postmortem has it


def unfinished_seq(desk: IncidentDesk) -> int:
    [incident] = desk.incidents.values()
    return next(e.seq for e in incident.events if e.kind == "runbook.step_started")


async def test_a_step_that_outlives_the_sigterm_is_found_running_and_killable(
    tmp_path: Path, clock: SteppedClock
) -> None:
    console = DyingConsole(tmp_path, STUBBORN, grace=60)  # the guard would SIGKILL only a minute later
    start = console.start()
    group = group_of(start)
    console.kill()
    await until(
        lambda: GuardNotes.read(start.get("status_file")).console_gone, what="the guard to note its console gone"
    )
    desk = IncidentDesk(console.data, "bob", clock=clock).load()
    found = recover(desk, grace=0.5)
    [left] = found.running
    assert isinstance(left, LeftRunning) and left.running and left.alert_key == "fp-pods"
    assert left.note.startswith("left running by a console that stopped at ")
    assert (left.number, left.runbook_path.name) == (1, "pods.md")
    events: list = []
    watcher = threading.Thread(target=lambda: events.append(left.watch(poll=0.05)))
    watcher.start()
    left.kill()
    watcher.join(30)
    [end] = events
    assert not group.group_members() and not left.running
    assert end.data["killed"] is True and end.data["outcome"] == "unknown"  # the guard died with it: no note
    assert "ended with ctrl+c by bob" in end.data["reason"] and end.who == "bob"  # his key, his record
    assert end.summary.startswith("Finished step 1 “stubborn” of pods.md: killed, exit unknown after")


def test_a_step_whose_console_is_still_there_is_left_to_it(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("x")
    other = subprocess.Popen(["sleep", "60"])  # stands for another console, alive
    try:
        console = ProcessRef.of(other.pid)
        data = {
            "runbook": "/r/pods.md",
            "step": 1,
            "name": "wait",
            "process": {"pid": 1, "start_ticks": 0, "boot_id": "x"},
        }
        desk.record(incident.id, "runbook.step_started", "Started step 1", data | {"console": console.as_data()})
        found = recover(desk, grace=1)
        assert (found.running, found.recorded) == ([], [])
        assert [e.kind for e in desk.get(incident.id).events] == ["incident.declared", "runbook.step_started"]
    finally:
        other.kill()
        other.wait()


def test_a_step_gone_without_a_word_is_unknown_and_why(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("x")
    done = subprocess.Popen(["true"], start_new_session=True)
    ref = ProcessRef.of(done.pid)
    done.wait()  # its group is gone; the pid may even be reused: its start time tells
    assert ref is not None and not ref.alive() and ref.group_members() == []
    data = {"runbook": "/r/pods.md", "step": 2, "name": "logs", "alert": "fp", "process": ref.as_data()}
    desk.record(incident.id, "runbook.step_started", "Started step 2", data)
    older = {"runbook": "/r/pods.md", "step": 3, "name": "old", "alert": "fp"}  # before processes were recorded
    desk.record(incident.id, "runbook.step_started", "Started step 3", older)
    found = recover(desk, grace=1)
    assert [e.summary for e in found.recorded] == [
        "Ended step 2 “logs” of pods.md: outcome unknown (a console that stopped before it ended; "
        "it was gone when this console looked at 14:32:05 UTC)",
        "Ended step 3 “old” of pods.md: outcome unknown (started by a console that did not record its process: "
        "whether and how it ended is unknown)",
    ]
    assert all(e.data["outcome"] == "unknown" and e.data["exit_code"] is None for e in found.recorded)


def test_an_end_is_matched_to_its_start(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("x")
    step = {"runbook": "/r/a.md", "step": 1, "alert": "fp"}
    first = desk.record(incident.id, "runbook.step_started", "s", step)
    second = desk.record(incident.id, "runbook.step_started", "s", step)
    desk.record(incident.id, "runbook.step_finished", "f", step | {"started_seq": second.seq})
    assert [e.seq for e in unfinished(incident)] == [first.seq]
    desk.record(incident.id, "runbook.step_finished", "f", step)  # an older journal: by runbook, step, alert
    assert unfinished(incident) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_this_process_can_be_found_again() -> None:
    me = ProcessRef.of(os.getpid())
    assert me is not None and me.alive() and me.here
    assert not ProcessRef(me.pid, me.start_ticks + 1, me.boot_id).alive()  # a reused pid is not it


async def test_the_console_shows_a_step_left_running_and_ctrl_c_ends_it(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    labels = {"alertname": "PodCrashLooping", "severity": "critical", "pod": "ml-worker-1", "namespace": "ml"}
    sim.store.post_alerts([{"labels": labels, "annotations": {}}])
    console = DyingConsole(tmp_path, STUBBORN, grace=60, fingerprint=fingerprint(labels))
    group = group_of(console.start())
    console.kill()
    runbooks = {"dir": str(tmp_path / "runbooks"), "kill_grace": "0.5s"}
    app = oncall_app(make_config(sim.url, data_dir=str(console.data), runbooks=runbooks), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(
            lambda: app.main.runbook_pane.step_runs and app.main.runbook_pane.runbook is not None,
            what="the left step and its runbook",
        )
        await pilot.pause()
        prompt = str(app.main.runbook_pane.steps.get_option_at_index(0).prompt)
        assert "⟳" in prompt and "running · left running by a console that stopped at" in prompt
        assert "left running by a console that stopped at" in "\n".join(app.main.runbook_pane.output.lines)
        await until(lambda: any(n.startswith("Still running, left running by") for n in notes(app)), what="the notice")
        await pilot.press("r")
        assert notes(app)[-1] == "Step 1 is still running for this alert: ctrl+c kills it."
        await pilot.press("ctrl+c")
        await until(lambda: not group.group_members(), what="the kill")
        await steps_settled(app)
        incident = app.main.incident_pane.active()
        assert incident.events[-1].kind == "runbook.step_finished" and incident.events[-1].data["killed"] is True
        assert str(app.main.runbook_pane.steps.get_option_at_index(0).prompt).startswith(
            "✗  1 stubborn  killed, exit unknown"
        )


ESCAPE = (
    "---\nalerts: [PodCrashLooping]\n---\n# Pods\n\n## Escape\n\n"
    "```bash {name=escape}\n(trap '' TERM; exec sleep 600) & echo started; sleep 600\n```\n"
)


async def test_a_child_that_ignores_sigterm_is_killed_by_the_guard_after_the_grace(tmp_path: Path) -> None:
    console = DyingConsole(tmp_path, ESCAPE, grace=1)
    group = group_of(console.start())
    console.kill()
    await until(lambda: not group.group_members(), timeout=15, what="the guard's SIGKILL after its grace")
    notes = (Path(console.start()["status_file"])).read_text()
    assert '"console_gone": true' in notes and '"killing": "SIGKILL"' in notes


def test_a_group_whose_leader_is_gone_is_the_steps_only_if_it_carries_its_id(tmp_path: Path) -> None:
    """The guard's pid may lead another group after it is gone (a pid reused once the group was
    empty): a process whose environment says it is not the step does not count; one carrying the
    step's id does, and so does one whose environment was cleared (env -i): never left unseen."""
    for command, env, expected in (
        ("sleep 30 & echo $!", {}, 0),
        ("sleep 30 & echo $!", {"ONCALL_STEP_ID": "abc"}, 1),
        ("env -i /bin/sleep 30 & echo $!", {}, 1),
    ):
        leader = subprocess.Popen(
            ["bash", "-c", command],
            start_new_session=True,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        child = int(leader.stdout.readline())
        leader.wait()
        deadline = time.monotonic() + 30  # until the forked shell has become sleep: its environ is then sleep's
        while not Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0].endswith(b"sleep"):
            assert time.monotonic() < deadline, "the child never became sleep"
            time.sleep(0.01)
        try:
            ref = ProcessRef(leader.pid, 1, ProcessRef.of(os.getpid()).boot_id, step_id="abc")
            assert len(ref.group_members()) == expected
        finally:
            os.kill(child, signal.SIGKILL)


def test_a_closed_incident_of_an_older_console_is_left_as_it_was(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("x")
    desk.record(incident.id, "runbook.step_started", "Started step 1", {"runbook": "/r/a.md", "step": 1})
    desk.resolve(incident.id, "done")
    assert recover(desk, grace=1).recorded == []  # its postmortem, exported long ago, stays true
    assert desk.get(incident.id).events[-1].kind == "incident.resolved"


def test_the_guards_sigkill_note_is_how_the_step_ended(tmp_path: Path) -> None:
    from oncall_tui.core.runbooks.step_recovery import GuardNotes

    notes = tmp_path / "step.status"
    notes.write_text(
        '{"at": "2026-11-27T14:32:05.000+00:00", "console_gone": true}\n'
        '{"at": "2026-11-27T14:32:10.000+00:00", "killing": "SIGKILL"}\n'
        '{"at": "2026-11-27T14:32:1'  # torn: the guard died writing, of its own SIGKILL
    )
    read = GuardNotes.read(str(notes))
    assert (read.signal, read.exit_code, read.known) == (signal.SIGKILL, None, True)
    assert read.console_gone is not None and read.console_gone.second == 5
