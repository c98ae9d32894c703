"""A console that runs one runbook step and is then killed by the test (kill -9), as a real
console would be. Run as: python -m tests.left_step_console DATA_DIR RUNBOOK FINGERPRINT GRACE

It declares an incident (or uses the open one), runs step 1 of RUNBOOK for an alert with
that fingerprint, prints `running` once the step's output has started, and waits.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from oncall_tui.core.config import RunbooksConfig
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.runbooks.library import parse_runbook
from oncall_tui.core.runbooks.step_runs import StepRun, prepare
from tests.runbook_world import model_alert


def main(data_dir: str, runbook_path: str, fingerprint: str, grace: str) -> None:
    desk = IncidentDesk(Path(data_dir), "alice").load()
    alert = model_alert("PodCrashLooping", fp=fingerprint, pod="ml-worker-1", namespace="ml")
    open_ones = desk.open_incidents()
    incident = open_ones[-1] if open_ones else desk.declare("Pods crash", [alert])
    path = Path(runbook_path)
    runbook = parse_runbook(path, path.read_text())
    run = StepRun(desk, incident.id, prepare(runbook, runbook.steps[0], alert, RunbooksConfig()), grace=float(grace))
    threading.Thread(target=run.run, daemon=True).start()
    while "started" not in run.output.since(0)[0]:
        run.finished.wait(0.02)
    print("running", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
