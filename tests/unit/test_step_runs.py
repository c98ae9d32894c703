"""A step run on the record: the events, the saved output, the incident it lands in."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.config import RunbooksConfig
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.postmortem import render_markdown
from oncall_tui.core.runbooks.library import RunbookError, parse_runbook
from oncall_tui.core.runbooks.step_runs import (
    KilledBeforeStartError,
    OutputTail,
    StepRun,
    incident_for,
    incident_for_step,
    prepare,
    record_place,
    step_environment,
)
from tests.conftest import SteppedClock
from tests.runbook_world import model_alert, write

RUNBOOK = """# Pod Crash Looping

## Look at the pod

```bash {name=describe}
echo "pod=$1" {{ labels.pod }}; printf 'line %s\\n' 1 2 3; echo "env=$ALERT_LABEL_POD"
```

## Fail

```bash
echo failing >&2; exit 4
```
"""


@pytest.fixture
def desk(tmp_path: Path, clock: SteppedClock) -> IncidentDesk:
    return IncidentDesk(tmp_path / "data", "alice", clock=clock).load()


def runbook_at(tmp_path: Path, text: str = RUNBOOK):
    path = write(tmp_path / "runbooks", "pod-crash-looping.md", text)
    return parse_runbook(path, text)


def test_a_step_is_recorded_before_and_after_with_its_output_saved(tmp_path: Path, desk: IncidentDesk) -> None:
    runbook = runbook_at(tmp_path)
    alert = model_alert("PodCrashLooping", pod="ml-worker-1; rm -rf /")
    incident = desk.declare("Pods crash", [alert])
    prepared = prepare(runbook, runbook.steps[0], alert, RunbooksConfig())
    run = StepRun(desk, incident.id, prepared)
    finished = run.run()

    started = desk.get(incident.id).events[-2]
    assert started.kind == "runbook.step_started" and finished.kind == "runbook.step_finished"
    assert (
        started.summary == "Started step 1 “describe” of pod-crash-looping.md for PodCrashLooping ml-worker-1; rm -rf /"
    )
    assert started.data["command"] == prepared.command and "'ml-worker-1; rm -rf /'" in prepared.command
    assert started.data["params"] == {"labels.pod": "ml-worker-1; rm -rf /"}
    assert (started.data["runbook"], started.data["step"], started.data["name"]) == (str(runbook.path), 1, "describe")
    assert started.data["timeout"] == 300.0 and started.data["cwd"] == str(runbook.path.parent)

    expected = b"pod= ml-worker-1; rm -rf /\nline 1\nline 2\nline 3\nenv=ml-worker-1; rm -rf /\n"
    data = finished.data
    assert (data["exit_code"], data["signal"], data["timed_out"], data["killed"]) == (0, None, False, False)
    assert data["output_bytes"] == len(expected)
    assert data["output_sha256"] == hashlib.sha256(expected).hexdigest()
    assert data["output_tail"] == expected.decode()
    saved = Path(data["output_file"])
    assert saved.read_bytes() == expected
    assert saved.parent == desk.dir / f"{incident.id}.outputs"  # beside the journal
    assert finished.summary.startswith(
        "Finished step 1 “describe” for PodCrashLooping ml-worker-1; rm -rf /: exit 0 in "
    )

    journal = (desk.dir / f"{incident.id}.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in journal][-2:] == ["runbook.step_started", "runbook.step_finished"]


def test_failure_and_the_postmortem_response(tmp_path: Path, desk: IncidentDesk) -> None:
    runbook = runbook_at(tmp_path)
    incident = desk.declare("Pods crash")
    StepRun(desk, incident.id, prepare(runbook, runbook.steps[1], None, RunbooksConfig())).run()
    finished = desk.get(incident.id).events[-1]
    assert finished.data["exit_code"] == 4 and finished.data["output_tail"] == "failing\n"
    response = render_markdown(desk.get(incident.id)).split("## Response")[1].split("## Resolution")[0]
    assert "- 14:32:05 alice: step 2 “Fail” of pod-crash-looping.md: exit 4 in " in response
    assert "  ```sh\n  echo failing >&2; exit 4\n  ```" in response  # the command as it ran, in a block
    assert "  ```text\n  failing\n  ```" in response  # and what it printed


def test_backticks_in_a_label_cannot_break_the_postmortems_code(tmp_path: Path, desk: IncidentDesk) -> None:
    runbook = runbook_at(tmp_path)
    hostile = "a`b``c ``` **bold** | cell"
    incident = desk.declare("Pods crash")
    prepared = prepare(runbook, runbook.steps[0], model_alert("PodCrashLooping", pod=hostile), RunbooksConfig())
    StepRun(desk, incident.id, prepared, dry_run=True).run()
    response = render_markdown(desk.get(incident.id)).split("## Response")[1].split("## Resolution")[0]
    blocks = [t.content for t in MarkdownIt("commonmark").parse(response) if t.type == "fence"]
    assert blocks == [prepared.command.removesuffix("\n") + "\n"]  # one block, holding the whole command
    assert "`" * 4 + "sh\n" in response  # fenced by more backticks than any run inside


def test_dry_run_records_the_command_and_runs_nothing(tmp_path: Path, desk: IncidentDesk) -> None:
    marker = tmp_path / "ran"
    runbook = runbook_at(tmp_path, f"# X\n\n```bash\ntouch {marker}\n```\n")
    incident = desk.declare("Dry")
    run = StepRun(desk, incident.id, prepare(runbook, runbook.steps[0], None, RunbooksConfig()), dry_run=True)
    finished = run.run()
    assert not marker.exists()
    assert finished.summary == "Not run step 1 “X” (dry run)" and finished.data["dry_run"] is True
    assert desk.get(incident.id).events[-2].data["command"] == f"touch {marker}\n"


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_step_killed_before_it_started_never_runs_and_records_nothing(
    tmp_path: Path, desk: IncidentDesk, dry_run: bool
) -> None:
    marker = tmp_path / "ran"
    runbook = runbook_at(tmp_path, f"# Touch\n\n## Touch\n\n```bash\ntouch {marker}\n```\n")
    incident = desk.declare("Touch", [])
    run = StepRun(desk, incident.id, prepare(runbook, runbook.steps[0], None, RunbooksConfig()), dry_run=dry_run)
    run.kill()  # the way out, between the confirmation and the start
    with pytest.raises(KilledBeforeStartError, match="ended before it started"):
        run.run()
    assert not marker.exists() and run.started is None and not run.running
    assert [e.kind for e in desk.get(incident.id).events] == ["incident.declared"]


def test_a_shell_that_cannot_start_is_recorded_as_such(tmp_path: Path, desk: IncidentDesk) -> None:
    runbook = runbook_at(tmp_path)
    incident = desk.declare("No shell")
    config = RunbooksConfig(shell="/no/such/shell")
    finished = StepRun(desk, incident.id, prepare(runbook, runbook.steps[1], None, config)).run()
    assert finished.data["exit_code"] is None and "cannot start /no/such/shell" in finished.data["error"]


def test_prepare_refuses_an_unclosed_block_and_unsafe_placeholders(tmp_path: Path) -> None:
    unclosed = runbook_at(tmp_path, "# X\n\n```bash\necho one\n")
    with pytest.raises(RunbookError, match="never closed"):
        prepare(unclosed, unclosed.steps[0], None, RunbooksConfig())
    quoted = runbook_at(tmp_path, '# X\n\n```bash\necho "{{ labels.pod }}"\n```\n')
    with pytest.raises(RunbookError, match="inside"):
        prepare(quoted, quoted.steps[0], model_alert(pod="p"), RunbooksConfig())


def test_the_steps_timeout_overrides_the_default(tmp_path: Path) -> None:
    runbook = runbook_at(tmp_path, "# X\n\n```bash {timeout=7}\ntrue\n```\n\n```bash\ntrue\n```\n")
    config = RunbooksConfig(timeout="45s")
    assert [prepare(runbook, s, None, config).timeout for s in runbook.steps] == [7.0, 45.0]


def test_the_incident_a_step_lands_in(desk: IncidentDesk) -> None:
    pod = model_alert("PodCrashLooping", fp="fp-pod", service="ml-api")
    other = model_alert("HighLatency", fp="fp-lat", service="ml-api")
    assert incident_for(desk, pod, ["alertname", "service"]) is None  # none yet: the run declares one
    linked = desk.declare("Pods", [pod])
    assert incident_for(desk, pod, ["alertname", "service"]) is linked
    assert incident_for(desk, other, ["alertname", "service"]) is None
    assert incident_for(desk, other, ["service"]) is linked  # same group


def test_secrets_never_reach_the_steps_environment(tmp_path: Path) -> None:
    runbook = runbook_at(tmp_path)
    prepared = prepare(runbook, runbook.steps[1], None, RunbooksConfig(path=[tmp_path / "bin"]))
    env = step_environment(
        prepared, ["s3cret-token"], {"PAGERDUTY_API_KEY": "s3cret-token", "HOME": "/h", "PATH": "/bin"}
    )
    assert "PAGERDUTY_API_KEY" not in env and env["HOME"] == "/h"
    assert env["PATH"] == f"{tmp_path / 'bin'}:/bin"


def test_the_output_tail_for_the_screen_is_bounded() -> None:
    tail = OutputTail(keep=10)
    tail.feed("abc")
    assert tail.since(0) == ("abc", 0, 3)
    tail.feed("0123456789XYZ")
    text, skipped, total = tail.since(3)
    assert (text, skipped, total) == ("3456789XYZ", 3, 16)
    assert tail.since(16) == ("", 0, 16)


def test_recorded_runs_are_the_last_of_each_step_in_open_incidents(tmp_path: Path, desk: IncidentDesk) -> None:
    from oncall_tui.core.runbooks.step_runs import recorded_runs

    step = {"runbook": "/r/a.md", "alert": "fp", "exit_code": 0, "duration_s": 1.0}
    one, closed = desk.declare("open"), desk.declare("closed")
    desk.record(closed.id, "runbook.step_finished", "f", step | {"step": 3})
    desk.resolve(closed.id, "done")
    desk.record(one.id, "runbook.step_finished", "old", step | {"step": 1, "exit_code": 4})
    desk.record(one.id, "runbook.step_finished", "f", step | {"step": 2})
    desk.record(one.id, "runbook.step_finished", "new", step | {"step": 1})
    runs = recorded_runs(desk.incidents.values())
    assert [(r.number, r.outcome.exit_code) for r in runs] == [
        (2, 0),
        (1, 0),
    ]  # latest last; step 3's incident is closed
    assert not runs[-1].running and "(from the record: new at 2026-11-27 14:32:05 UTC" in runs[-1].output.since(0)[0]


def test_a_step_with_no_incident_open_declares_one_for_its_record(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path / "data", "alice", clock=clock).load()
    text = "# Pods\n\n```bash\necho hi\n```\n"
    runbook = parse_runbook(write(tmp_path / "runbooks", "pods.md", text), text)
    alert = Alert("fp1", {"alertname": "PodDown", "service": "api"}, {}, clock.now, None, "", "active")
    prepared = prepare(runbook, runbook.steps[0], alert, RunbooksConfig())
    assert record_place(desk, prepared, ["alertname", "service"]) == "a new incident, declared now: PodDown"
    incident, declared = incident_for_step(desk, prepared, ["alertname", "service"])
    assert declared and alert.fingerprint in incident.alerts
    assert incident_for_step(desk, prepared, ["alertname", "service"]) == (incident, False)  # it is its home now
    assert record_place(desk, prepared, ["alertname", "service"]) == incident.id
