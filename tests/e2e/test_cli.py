"""The command line as a user runs it: real processes, a real pseudo-terminal for the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from oncall_tui.cli import default_config_path
from oncall_tui.sim.pagerduty import PagerDutyServer
from oncall_tui.sim.server import SimServer
from tests.alertmanager_process import free_port
from tests.conftest import ROOT, TOKEN, alert
from tests.terminal import Terminal


def oncall_tui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def write_config(tmp_path: Path, *urls: str) -> Path:
    sources = "".join(f"  - name: am{i}\n    url: {url}\n    timeout: 1s\n" for i, url in enumerate(urls))
    path = tmp_path / "config.yaml"
    path.write_text(f"user:\n  name: alice\nalertmanagers:\n{sources}")
    return path


def test_version_and_help() -> None:
    assert oncall_tui("--version").stdout.startswith("oncall-tui ")
    assert "demo" in oncall_tui("--help").stdout


def test_check_reaches_every_alertmanager(tmp_path: Path, sim: SimServer) -> None:
    path = write_config(tmp_path, sim.url)
    done = oncall_tui("check", env={"ONCALL_TUI_CONFIG": str(path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"config  ok {path}: 1 alertmanager(s), poll every 2s",
        f"alertmanager  ok am0: ready, version 0.25.0-oncall-tui-sim, cluster disabled  ({sim.url})",
        f"runbooks  none: {tmp_path / 'runbooks'} is not a directory (runbooks.dir)",
        f"data_dir  ok {tmp_path / 'xdg-data' / 'oncall-tui'} can be written",
        "paging  none: escalations are recorded and nobody is paged (add paging: to page)",
    ]
    path.write_text(path.read_text() + "paging: {alertmanager: am0}\n")
    done = oncall_tui("check", env={"ONCALL_TUI_CONFIG": str(path)})
    assert (
        done.returncode == 0
        and "paging  warning: Alertmanager am0's routes could not be read (its config has no route): "
        "pages are not known to go anywhere"
        in done.stdout
    )


def test_check_never_prints_a_value_from_the_environment(tmp_path: Path, sim: SimServer) -> None:
    path = tmp_path / "config.yaml"
    url = sim.url.replace("http://", "http://ops:${AM_PASSWORD}@")
    path.write_text(f"user:\n  name: alice\nalertmanagers:\n  - name: am0\n    url: {url}\n")
    done = oncall_tui("check", env={"ONCALL_TUI_CONFIG": str(path), "AM_PASSWORD": "SECRETSECRET"})
    assert done.returncode == 0, done.stderr
    assert "SECRETSECRET" not in done.stdout + done.stderr and "ops:${AM_PASSWORD}@" in done.stdout


def test_check_reads_every_runbook(tmp_path: Path, sim: SimServer) -> None:
    path = write_config(tmp_path, sim.url)
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "ok.md").write_text("# Ok\n\n```bash\necho ok\n```\n")
    done = oncall_tui("check", env={"ONCALL_TUI_CONFIG": str(path)})
    assert done.returncode == 0 and done.stdout.splitlines()[-3].startswith(
        f"runbooks  ok 1 runbook(s), 1 step(s) in {tmp_path / 'runbooks'}"
    )
    (tmp_path / "runbooks" / "bad.md").write_text("---\ntitle: [x\n---\n# Bad\n")
    done = oncall_tui("check", env={"ONCALL_TUI_CONFIG": str(path)})
    assert (
        done.returncode == 1 and "runbooks  FAILED" in done.stdout and "front matter is not valid YAML" in done.stdout
    )


def test_check_fails_with_1_and_names_the_unreachable_one(tmp_path: Path, sim: SimServer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    done = oncall_tui("--config", str(write_config(tmp_path, sim.url, dead)), "check")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[1].startswith("alertmanager  ok am0") and lines[2].startswith("alertmanager  FAILED am1: unreachable")
    assert "Traceback" not in done.stdout + done.stderr


def test_the_example_config_ships_with_the_demo() -> None:
    assert default_config_path().read_text() == (ROOT / "config.yaml").read_text()


def test_demo_runs_in_a_real_terminal_and_quits_on_q(tmp_path: Path) -> None:
    """A new user's first command: the console draws live alerts from the simulator, `q` quits."""
    with Terminal("demo", XDG_DATA_HOME=str(tmp_path)) as terminal:
        terminal.wait_for(b"SLOViolation")
        terminal.wait_for(b"HighErrorRate")
        terminal.press(b"q")
        assert terminal.exit_code() == 0


def test_a_new_critical_alert_rings_the_bell_and_asks_the_terminal_for_a_notification(
    tmp_path: Path, sim: SimServer
) -> None:
    """In a real terminal: never for the alert firing at start, once for the one that fires after."""
    sim.store.post_alerts([alert("SLOViolation", "critical", service="ml-api")])
    path = write_config(tmp_path, sim.url)
    path.write_text(path.read_text() + "poll_interval: 0.5s\n")
    with Terminal("--config", str(path), XDG_DATA_HOME=str(tmp_path)) as terminal:
        terminal.wait_for(b"SLOViolation")
        terminal.wait_for(b"firing 1")
        assert b"\x1b]9;" not in terminal.screen  # it fired before the console looked
        sim.store.post_alerts([alert("DiskFull", "critical", instance="db-1")])
        terminal.wait_for(b"\x1b]9;critical alert: DiskFull\x07")
        terminal.wait_for(b"\x1b]777;notify;critical alert;DiskFull\x07")
        assert b"\x07\x1b]9;critical alert: DiskFull" in terminal.screen  # the bell, then the notification
        assert terminal.screen.count(b"\x1b]9;") == 1  # once, though it keeps firing
        terminal.press(b"q")
        assert terminal.exit_code() == 0


def write_pagerduty_config(tmp_path: Path, am_url: str, pagerduty: PagerDutyServer, **ids: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "user: {name: alice, email: alice@example.com}\n"
        f"alertmanagers: [{{name: am0, url: {am_url}}}]\n"
        "incidents: {provider: pagerduty}\n"
        "pagerduty:\n"
        "  token: ${PAGERDUTY_API_KEY}\n"
        f"  base_url: {pagerduty.url}\n"
        f"  ca_bundle: {pagerduty.ca_path}\n"
        "  retries: 0\n"
        f"  escalation_policy_ids: [{ids.get('policy', 'PPOL1')}]\n"
        f"  schedule_ids: [{ids.get('schedule', 'PSCHED1')}]\n"
        f"  service_ids: [{ids.get('service', 'PSVC1')}]\n"
    )
    return path


def test_check_verifies_the_pagerduty_token_and_every_id(
    tmp_path: Path, sim: SimServer, pagerduty: PagerDutyServer
) -> None:
    path = write_pagerduty_config(tmp_path, sim.url, pagerduty)
    done = oncall_tui("--config", str(path), "check", env={"PAGERDUTY_API_KEY": TOKEN})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[2].startswith("runbooks  none: ")  # none in this test's config dir
    assert done.stdout.splitlines()[3].startswith("data_dir  ok ")
    assert done.stdout.splitlines()[4] == "paging  PagerDuty's escalation policy pages (incidents.provider: pagerduty)"
    assert done.stdout.splitlines()[5:] == [
        "pagerduty  ok PagerDuty 127.0.0.1: token accepted; From user alice@example.com found",
        "pagerduty  ok pagerduty.escalation_policy_ids: PPOL1 is 'ML Platform'",
        "pagerduty  ok pagerduty.schedule_ids: PSCHED1 is 'ML Platform On-Call'",
        "pagerduty  ok pagerduty.service_ids: PSVC1 is 'ml-api'",
    ]


def test_check_fails_on_a_wrong_token_or_a_missing_id(
    tmp_path: Path, sim: SimServer, pagerduty: PagerDutyServer
) -> None:
    path = write_pagerduty_config(tmp_path, sim.url, pagerduty, service="PNOPE")
    done = oncall_tui("--config", str(path), "check", env={"PAGERDUTY_API_KEY": TOKEN})
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == (
        "pagerduty  FAILED pagerduty.service_ids: PNOPE: PagerDuty GET /services/PNOPE: HTTP 404: Not Found (code 2100)"
    )
    done = oncall_tui("--config", str(path), "check", env={"PAGERDUTY_API_KEY": "wrong-" + TOKEN})
    assert done.returncode == 1
    assert done.stdout.splitlines()[5].startswith("pagerduty  FAILED PagerDuty token rejected (HTTP 401")
    assert TOKEN not in done.stdout + done.stderr
    unset = oncall_tui("--config", str(path), "check", env={"PAGERDUTY_API_KEY": ""})
    assert unset.returncode == 2
    assert unset.stderr == f"oncall-tui: {path}: pagerduty: token is empty (is $PAGERDUTY_API_KEY set to something?)\n"
