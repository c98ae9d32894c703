"""The postmortem and the incident commands: a golden file, and what the CLI prints."""

from __future__ import annotations

import itertools
import json
import os
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from markdown_it import MarkdownIt

from oncall_tui.cli import main
from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.config import AlertmanagerSource, RunbooksConfig
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.incident import Incident, default_title
from oncall_tui.core.incidents.postmortem import render_json, render_markdown
from oncall_tui.core.incidents.postmortem_text import cell, visible
from oncall_tui.core.incidents.report import build as build_report
from oncall_tui.core.incidents.report import p90, since_ago
from oncall_tui.core.incidents.timeline import format_ts
from oncall_tui.core.paging.pagers import AlertmanagerPager
from oncall_tui.core.runbooks.library import parse_runbook
from oncall_tui.core.runbooks.step_runs import StepRun, prepare
from oncall_tui.core.text import clean_line
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager
from tests.conftest import ROOT, SteppedClock
from tests.runbook_world import write

GOLDEN = ROOT / "tests" / "golden" / "postmortem.md"


ONCALL = [
    {"level": 1, "users": ["alice"], "source": "ML Platform On-Call"},
    {"level": 2, "users": ["dana"], "source": "users"},
]
PAGE = {
    "key": "INC-20261127-0001-L2-dana",
    "who": ["dana"],
    "level": 2,
    "via": "alertmanager:prod",
    "how": "Alertmanager prod",
}
SILENCE_ID = "6b1c5e0a-3f47-4a8e-9d2b-7c1e0f3a9b55"
ROLLBACK = """# High Error Rate

## Roll back the recent deployment

```bash {name=rollback timeout=120}
kubectl -n {{ labels.namespace }} rollout undo deployment/{{ labels.service }}
kubectl -n {{ labels.namespace }} rollout status deployment/{{ labels.service }} --timeout=90s
kubectl -n {{ labels.namespace }} get pods -l app={{ labels.service }}
```
"""
KUBECTL = """#!/bin/sh
# Stands in for kubectl in the golden incident: says what a rollback says, touches no cluster.
case "$*" in
  *"rollout undo"*) echo 'deployment.apps/ml-api rolled back' ;;
  *"rollout status"*)
    echo 'Waiting for deployment "ml-api" rollout to finish: 3 of 4 updated replicas are available...'
    echo 'deployment "ml-api" successfully rolled out' ;;
  *"get pods"*)
    echo 'NAME                      READY   STATUS    RESTARTS   AGE'
    echo 'ml-api-6d9f7b8c5-4kx2p    1/1     Running   0          41s'
    echo 'ml-api-6d9f7b8c5-q8w7n    1/1     Running   0          38s' ;;
esac
"""
SAVED_IN = "/home/alice/.local/share/oncall-tui"
"""Where the golden file says the data dir is (each run has its own)."""


def ticking(clock: SteppedClock, seconds: float) -> Callable[[], datetime]:
    """A clock that moves `clock` on by `seconds` each time it is read: a step run on it takes time."""

    def now() -> datetime:
        clock.advance(seconds)
        return clock.now

    return now


def run_rollback(desk: IncidentDesk, incident_id: str, alert: Alert, clock: SteppedClock) -> None:
    """A real run of a three-line runbook step, with a stand-in kubectl on its PATH."""
    here = desk.dir.parent / "golden-runbook"
    runbook = parse_runbook(write(here, "high-error-rate.md", ROLLBACK), ROLLBACK)
    kubectl = write(here / "bin", "kubectl", KUBECTL)
    kubectl.chmod(0o755)
    prepared = prepare(runbook, runbook.steps[0], alert, RunbooksConfig(path=[kubectl.parent]))
    StepRun(desk, incident_id, prepared, clock=ticking(clock, 3)).run()


def fixed_incident(data_dir: Path, clock: SteppedClock) -> Incident:
    """The guide's incident: a high error rate on ml-api after deploy 42, rolled back within 20
    minutes. alice, on call, acknowledges, silences the alert and pages dana (level 2), who
    acknowledges her page; bob takes command; alice rolls back with a runbook step; the
    schedule hands level 1 to carol; the alert resolves; bob resolves the incident."""
    ids = itertools.count(0x3FA2B1C0 << 96)  # event ids, and so the journal's part of the page key
    with SimServer(SimAlertmanager(clock=clock)) as prod, patch.object(uuid, "uuid4", lambda: uuid.UUID(int=next(ids))):
        return _fixed_incident(
            data_dir, clock, AlertmanagerPager([AlertmanagerSource(name="prod", url=prod.url)], "prod", 60)
        )


def _fixed_incident(data_dir: Path, clock: SteppedClock, pager: AlertmanagerPager) -> Incident:
    desk = IncidentDesk(data_dir, "alice", clock=clock, pager=pager).load()
    alert = Alert(
        "63027957d6031f6a",
        {"alertname": "HighErrorRate", "severity": "critical", "service": "ml-api", "namespace": "ml"},
        {"summary": "ml-api error rate is 7.3%", "runbook_url": "https://runbooks.example.com/ml/high-error-rate.md"},
        clock.now - timedelta(minutes=3),
        None,
        "http://prometheus.example:9090/graph?g0.expr=job%3Aerrors%3Aratio5m%7Bservice%3D%22ml-api%22%7D+%3E+0.05",
        "active",
        sources=("prod",),
    )
    incident = desk.declare("ml-api returns 5xx", [alert], oncall=ONCALL)
    bob = IncidentDesk(data_dir, "bob", clock=clock, pager=pager).load()
    dana = IncidentDesk(data_dir, "dana", clock=clock, pager=pager).load()
    silenced = {
        "silence_id": SILENCE_ID,
        "matchers": ['alertname="HighErrorRate"', 'service="ml-api"'],
        "created_by": "alice",
        "comment": "rolling back deploy 42",
    }
    steps = [
        (45, lambda: desk.acknowledge(incident.id)),
        (30, lambda: desk.note(incident.id, "error rate started with deploy 42 | see #ml-api")),
        (60, lambda: desk.advance_stage(incident.id)),
        (
            40,
            lambda: desk.record(
                incident.id,
                "silence.created",
                f"Silence {SILENCE_ID} created for 1h",
                silenced | {"starts_at": format_ts(clock.now), "ends_at": format_ts(clock.now + timedelta(hours=1))},
            ),
        ),
        (80, lambda: desk.escalate(incident.id, ["dana"], last_level=2)),  # through the simulator's API
        (70, lambda: dana.acknowledge(incident.id)),  # her page: Alertmanager resolves it
        (30, lambda: bob.take_command(incident.id)),
        (40, lambda: run_rollback(desk, incident.id, alert, clock)),  # 14:38:40, 9 s on the step's clock
        (
            71,
            lambda: desk.record(
                incident.id,
                "oncall.handoff",
                "On-call handoff L1: alice → carol",
                {"level": 1, "source": "ML Platform On-Call", "from": ["alice"], "to": ["carol"]},
                agent="schedule",
            ),
        ),
        (20, lambda: desk.advance_stage(incident.id)),
        (1, lambda: desk.note(incident.id, "TODO: alert on deploys that raise 5xx")),
        (
            209,
            lambda: desk.record(
                incident.id,
                "alert.resolved",
                "Alert HighErrorRate resolved: prod returned it with endsAt in the past",
                {
                    "alerts": [{"fingerprint": alert.fingerprint, "name": alert.name}],
                    "reason": "prod returned it with endsAt in the past",
                },
                agent="alertmanager:prod",
            ),
        ),
        (91, lambda: bob.resolve(incident.id, "rolled back deploy 42")),
    ]
    for seconds, action in steps:
        clock.advance(seconds)
        action()
    return desk.get(incident.id)


def as_filed(rendered: str, data_dir: Path) -> str:
    """The postmortem with this run's data dir and output file name as the golden file has them."""
    rendered = rendered.replace(str(data_dir), SAVED_IN)
    return re.sub(r"-step-1-[0-9a-f]{6}\.log", "-step-1-5e1f0c.log", rendered)


def test_postmortem_matches_the_golden_file(tmp_path: Path, clock: SteppedClock) -> None:
    rendered = as_filed(render_markdown(fixed_incident(tmp_path, clock)), tmp_path)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text()


def test_json_export_is_the_raw_journal(tmp_path: Path, clock: SteppedClock) -> None:
    incident = fixed_incident(tmp_path, clock)
    records = json.loads(render_json(incident))
    journal = [json.loads(line) for line in (tmp_path / "incidents" / f"{incident.id}.jsonl").read_text().splitlines()]
    assert records == journal


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"user: {{name: alice}}\nalertmanagers: [{{name: prod, url: 'http://127.0.0.1:9093'}}]\ndata_dir: {tmp_path}\n"
    )
    return path


def test_cli_lists_prints_and_exports(tmp_path: Path, clock: SteppedClock, capsys: pytest.CaptureFixture[str]) -> None:
    incident = fixed_incident(tmp_path, clock)
    config = str(write_config(tmp_path))
    assert main(["incidents", "--config", config]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:6] == [incident.id, "resolved", "SEV-2", "Document", "3m45s", "16m16s"]
    assert main(["timeline", incident.id, "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + len(incident.events) and "Declared SEV-2" in lines[1]
    out = tmp_path / "pm.md"
    assert main(["export", incident.id, "-o", str(out), "--config", config]) == 0
    assert out.read_text() == render_markdown(incident)


def test_cli_unknown_incident_is_exit_2_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "INC-19700101-0001", "--config", str(write_config(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no incident 'INC-19700101-0001'" in err


def test_exporting_10000_events(tmp_path: Path, clock: SteppedClock, capsys: pytest.CaptureFixture[str]) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("long one")
    journal = desk.journals[incident.id]
    with journal.path.open("a") as f:  # 10,000 notes written as the journal writes them
        for seq in range(2, 10_002):
            event = journal.events[0].__class__(
                seq, f"id{seq}", clock.now, incident.id, "note", "alice", f"Note: {seq}", {"text": str(seq)}
            )
            f.write(event.to_line().decode())
    assert main(["export", incident.id, "--config", str(write_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.count("\n| ") >= 10_001 and "| 10001 |" in out


def test_report_across_incidents(tmp_path: Path, clock: SteppedClock, capsys: pytest.CaptureFixture[str]) -> None:
    fixed_incident(tmp_path, clock)  # SEV-2, acked after 3m45s, resolved after 16m16s
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    noisy = Alert("fp2", {"alertname": "DiskWillFill", "severity": "warning"}, {}, clock.now, None, "", "active")
    desk.auto_declare([noisy], ["warning"], ["alertname"])  # declared, then nobody acted
    latency = Alert("fp3", {"alertname": "HighLatency", "severity": "warning"}, {}, clock.now, None, "", "active")
    desk.declare("a cosmetic one", [latency], severity="SEV-4")  # declared by a person: acted on
    config = str(write_config(tmp_path))
    assert main(["report", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "incidents all time: 3" in out and "  SEV-2: 1" in out and "  SEV-4: 1" in out
    assert "time to acknowledge: mean 3m45s, p90 3m45s (1 incidents)" in out
    assert "time to resolve: mean 16m16s, p90 16m16s (1 incidents)" in out
    fatigue = out.split("nobody acted on")[1]
    assert "DiskWillFill" in fatigue and "HighErrorRate" not in fatigue and "HighLatency" not in fatigue
    assert "no runbook matches" not in out  # no runbooks dir: not looked at
    assert main(["report", "--since", "soon", "--config", config]) == 2


def test_report_lists_the_alerts_no_runbook_matches(
    tmp_path: Path, clock: SteppedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed_incident(tmp_path, clock)  # HighErrorRate, which no runbook below matches
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    certs = Alert(
        "fp3", {"alertname": "CertExpiry"}, {"runbook_url": "https://wiki/rb/tls.md"}, clock.now, None, "", "active"
    )
    disk = Alert("fp4", {"alertname": "DiskWillFill"}, {}, clock.now, None, "", "active")
    desk.declare("certs and disks", [certs, disk])
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "tls.md").write_text("# TLS\n")  # found only through the annotation
    (tmp_path / "runbooks" / "disk-will-fill.md").write_text("# Disk\n")  # found by its file name
    assert main(["report", "--config", str(write_config(tmp_path))]) == 0
    missing = capsys.readouterr().out.split("no runbook matches")[1].split("\n\n")[0]
    assert missing.splitlines()[1:] == [
        "     1  HighErrorRate  (tried runbook_url annotation → high-error-rate.md; front matter alerts: [HighErrorRate];"
        " HighErrorRate.md; high-error-rate.md; high_error_rate.md)"
    ]


def test_report_window(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    desk.declare("old", severity="SEV-1")
    clock.advance(40 * 86400)
    desk.declare("recent", severity="SEV-3")
    recent = build_report(desk.incidents.values(), since_ago(clock.now, "30d"))
    assert recent.incidents == 1 and recent.by_severity == {"SEV-3": 1}
    assert build_report(desk.incidents.values()).incidents == 2
    assert p90([float(n) for n in range(1, 11)]) == 9.0


def test_export_keeps_seq_order_and_shows_a_clock_that_went_back(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("clock trouble")
    clock.advance(-90)  # NTP stepped the clock back
    desk.note(incident.id, "written after, stamped before")
    rows = [
        line for line in render_markdown(incident).splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")
    ]
    assert rows == [
        "| 1 | 2026-11-27 14:32:05.000 | alice | Declared SEV-3: clock trouble |",
        "| 2 | 2026-11-27 14:30:35.000 (clock went back) | alice | Note: written after, stamped before |",
    ]


def test_hostile_text_cannot_break_the_markdown(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("x")
    desk.note(incident.id, "a | b\n## not a heading\x1b[2J [bold]y[/]")
    [row] = [line for line in render_markdown(incident).splitlines() if line.startswith("| 2 |")]
    assert (
        row
        == "| 2 | 2026-11-27 14:32:05.000 | alice | Note: a \\| b \\#\\# not a heading⟨ESC⟩\\[2J \\[bold\\]y\\[/\\] |"
    )


def test_text_from_an_alert_makes_no_link_image_or_html_in_the_postmortem(tmp_path: Path, clock: SteppedClock) -> None:
    """Annotations are untrusted: pasted into a wiki, the postmortem must not carry their links."""
    hostile = "[click](https://evil.example/) ![x](https://tracker.example/p.png) <img src=x onerror=alert(1)> `"
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    alert = Alert(
        "fp1", {"alertname": f"A{hostile}", "severity": "warning"}, {"summary": hostile}, clock.now, None, "", "active"
    )
    incident = desk.declare(default_title(alert), [alert])
    desk.note(incident.id, f"TODO: {hostile}")
    desk.resolve(incident.id, hostile)
    rendered = render_markdown(incident)
    tokens = MarkdownIt("commonmark").enable("table").parse(rendered)
    inline = [c for t in tokens for c in t.children or []]
    kinds = {t.type for t in tokens} | {c.type for c in inline}
    assert not kinds & {"link_open", "image", "html_inline", "html_block"}, kinds
    codes = {c.content for c in inline if c.type == "code_inline"}
    assert codes == {f'alertname="A{hostile}"', 'severity="warning"'}  # its labels, as code and nothing else
    assert "by alice: \\[click\\](https://evil.example/) !\\[x\\]" in rendered  # still reads the same


SECTIONS = [
    "Summary",
    "Responders and roles",
    "Timeline (UTC)",
    "Metrics",
    "Root Cause",
    "Impact",
    "The alerts",
    "Detection",
    "Response",
    "Resolution",
    "Lessons Learned",
    "Action Items",
]
HOSTILE = (
    "``` ~~~ <script>alert(1)</script> [x](javascript:alert(1)) a|b [bold]b[/] \x1b[31mred\x1b[0m \u200bzw \u202eevil"
)
EVIL_COMMAND = f"echo '````'\n~~~\ncat <<'EOF'\n{HOSTILE}\nEOF\n```"


def hostile_incident(data_dir: Path, clock: SteppedClock) -> Incident:
    """Hostile text in every place the journal has text: labels, annotations, notes, a step's
    name, command and output, a silence, pages, on-call names, the resolution."""
    desk = IncidentDesk(data_dir, "alice", clock=clock).load()
    evil = Alert(
        "fp-evil",
        {"alertname": f"Evil{HOSTILE}", "severity": "critical", "note": f"one\n## not a heading\n{HOSTILE}"},
        {"summary": HOSTILE, "runbook_url": "javascript:alert(1)"},
        clock.now,
        None,
        "https://prometheus.example/graph?g0.expr=up",
        "active",
    )
    other = Alert(
        "fp-other", {"alertname": "Other"}, {"runbook_url": "https://runbooks.example/other.md"}, clock.now, None,
        "http://prometheus.example/<script>", "active",
    )  # fmt: skip
    oncall = [{"level": 1, "users": [HOSTILE], "source": HOSTILE}]
    incident = desk.declare(f"title {HOSTILE}", [evil, other], oncall=oncall)
    desk.note(incident.id, f"```\n## fake heading\n{HOSTILE}")
    desk.note(incident.id, f"TODO: {HOSTILE}")
    step = {"runbook": f"/rb/{HOSTILE}.md", "step": 1, "name": HOSTILE, "command": EVIL_COMMAND, "alert": "fp-evil"}
    step["params"] = {"labels.note": HOSTILE}
    started = desk.record(incident.id, "runbook.step_started", f"Started {HOSTILE}", step)
    output = "".join(f"line {n}\n" for n in range(30)) + f"``````\n~~~~\n{HOSTILE}\n\x1b]0;retitled\x07done\r\n"
    end = {"started_seq": started.seq, "exit_code": 1, "signal": None, "timed_out": False, "killed": False}
    end |= {"duration_s": 0.5, "output_tail": output, "output_bytes": 9000, "output_file": f"/data/{HOSTILE}.log"}
    desk.record(incident.id, "runbook.step_finished", f"Finished {HOSTILE}", step | end)
    window = {"starts_at": format_ts(clock.now), "ends_at": format_ts(clock.now + timedelta(hours=2))}
    silence = {"silence_id": HOSTILE, "matchers": [f'note="{HOSTILE}"'], "created_by": HOSTILE, "comment": HOSTILE}
    desk.record(incident.id, "silence.created", f"Silence {HOSTILE} created for 2h", silence | window)
    page = {"key": HOSTILE, "who": [HOSTILE], "level": 2, "via": HOSTILE, "how": HOSTILE, "detail": HOSTILE}
    paged = {"level": 2, "targets": [HOSTILE], "paged": [page], "page_error": {HOSTILE: HOSTILE}}
    desk.record(incident.id, "incident.escalated", f"Escalated to level 2: {HOSTILE}", paged)
    handoff = {"level": 1, "source": HOSTILE, "from": [HOSTILE], "to": ["carol"]}
    desk.record(incident.id, "oncall.handoff", HOSTILE, handoff, agent="schedule")
    desk.resolve(incident.id, HOSTILE)
    return desk.get(incident.id)


def test_hostile_text_renders_cleanly_in_a_common_viewer(tmp_path: Path, clock: SteppedClock) -> None:
    rendered = render_markdown(hostile_incident(tmp_path, clock))
    tokens = MarkdownIt("commonmark").enable("table").parse(rendered)
    inline = [c for t in tokens for c in t.children or []]
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    assert headings == SECTIONS  # every fence closed: no block swallows the sections after it
    assert [t.tag for t in tokens if t.type == "heading_open"].count("h1") == 1
    assert not {t.type for t in [*tokens, *inline]} & {"html_block", "html_inline", "image"}
    links = [c.attrs["href"] for c in inline if c.type == "link_open"]
    assert links == ["https://prometheus.example/graph?g0.expr=up", "https://runbooks.example/other.md"]
    command, output = [t for t in tokens if t.type == "fence"]
    assert (command.info, output.info) == ("sh", "text")
    assert command.content == visible(EVIL_COMMAND) + "\n"  # as it ran, six lines; only the invisible made visible
    assert "\\x1b[31mred\\x1b[0m \\u200bzw \\u202eevil" in command.content
    shown = output.content.splitlines()
    assert len(shown) == 20 and shown[-4:-2] == ["``````", "~~~~"] and shown[-1] == "done"  # the last 20
    assert (
        shown[-2] == clean_line(HOSTILE).replace("⟨ESC⟩[31m", "").replace("⟨ESC⟩[0m", "") and output.markup == "```````"
    )  # cleaned, and no run inside closes it
    assert not any(c in rendered for c in "\x1b\x07\r\u202e")  # the terminal-moving and reordering ones are written out
    assert "javascript:alert(1)" not in {c.attrs.get("href") for c in inline}
    assert (
        "  - Runbook: javascript:alert(1)" in rendered
        and "  - Source: http://prometheus.example/\\<script\\>" in rendered
    )


def section(rendered: str, start: str, end: str) -> list[str]:
    """The lines of `rendered` between the headings `start` and `end`, blank ones left out."""
    return [line for line in rendered.split(f"\n{start}\n")[1].split(f"\n{end}\n")[0].splitlines() if line]


def test_pages_say_what_was_accepted_what_was_not_and_why_nobody_was_paged(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("paging", oncall=ONCALL)
    now = format_ts(clock.now)
    erin = {"erin": "Alertmanager prod: unreachable (connection refused)"}
    paged = {"level": 2, "targets": ["dana", "erin"], "paged": [PAGE | {"at": now}], "page_error": erin}
    desk.record(incident.id, "incident.escalated", "Escalated to level 2: dana, erin", paged)
    clock.advance(60)
    failed = {"action": "incident.escalated", "level": 3, "targets": ["frank"], "via": "alertmanager:prod"}
    failed |= {"how": "Alertmanager prod", "error": "Alertmanager prod: 503 Service Unavailable"}
    desk.record(incident.id, "incident.action_failed", "Failed: Escalated to level 3: frank (503)", failed)
    unpaged = {"level": 3, "targets": [], "paged": [], "unpaged": "no paging is configured"}
    desk.record(incident.id, "incident.escalated", "Escalated to level 3: nobody configured", unpaged)
    desk.record(incident.id, "incident.escalated", "Escalated to level 4: gus", {"level": 4, "targets": ["gus"]})
    in_pagerduty = {"level": 5, "targets": ["hal"], "escalated_in": "pagerduty"}
    desk.record(
        incident.id, "incident.escalated", "Escalated to level 5 in PagerDuty (on call there: hal)", in_pagerduty
    )
    stuck = PAGE | {"action": "page.resolved", "error": "Alertmanager prod: unreachable", "reason": "escalated"}
    desk.record(incident.id, "incident.action_failed", "Failed to end the page to dana", stuck, agent="paging")
    rendered = render_markdown(desk.get(incident.id))
    assert section(rendered, "### Pages", "### Acknowledged") == [
        "- 14:32:05 page to dana (level 2) via Alertmanager prod, on alice's escalation: accepted",
        "  - 14:33:05 could not be ended at Alertmanager prod by oncall-tui (paging): Alertmanager prod: unreachable",
        "- 14:32:05 page to erin (level 2), on alice's escalation: not sent: Alertmanager prod: unreachable"
        " (connection refused)",
        "- 14:33:05 page to frank (level 3) via Alertmanager prod, on alice's escalation: not sent: Alertmanager"
        " prod: 503 Service Unavailable; not escalated to level 3",
        "- 14:33:05 level 3 (nobody), escalated by alice: nobody was paged: no paging is configured",
        "- 14:33:05 level 4 (gus), escalated by alice: paging not recorded",
        "- 14:33:05 level 5 (hal), escalated by alice: escalated in PagerDuty, whose escalation policy pages (its log"
        " entries say whom)",
    ]
    response = section(rendered, "## Response", "## Resolution")
    assert response[0] == (
        "- 14:32:05 alice: Escalated to level 2 — page to dana via Alertmanager prod: accepted; page to"
        " erin: not sent: Alertmanager prod: unreachable (connection refused)"
    )
    assert response[1].startswith("- 14:33:05 alice: escalation to level 3 failed — page to frank via Alertmanager")


def test_an_older_journal_says_what_it_did_not_record(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    alert = Alert("fp1", {"alertname": "DiskWillFill"}, {}, clock.now, None, "", "active")
    incident = desk.declare("older", [alert])  # nobody said who was on call: a console before that, or the CLI
    desk.record(incident.id, "silence.created", "Silence s1 created for 2h", {"silence_id": "s1", "matchers": []})
    desk.record(incident.id, "export", "Exported the postmortem to /tmp/pm.md", {"path": "/tmp/pm.md"})
    rendered = render_markdown(desk.get(incident.id))
    assert section(rendered, "### On call when it was declared", "### Commander") == [
        "- Not recorded: this incident's journal does not say who was on call."
    ]
    assert section(rendered, "### Pages", "### Acknowledged") == [
        "- No escalation is recorded: nobody was paged from the console."
    ]
    assert section(rendered, "## The alerts", "## Detection")[1:] == [
        '  - Labels: `alertname="DiskWillFill"`',
        "  - Fired 2026-11-27 14:32:05 UTC; still firing: its source has not said it resolved",
        "  - Source: no generatorURL recorded",
        "  - Runbook: no runbook annotation",
    ]
    assert section(rendered, "## Response", "## Resolution") == ["- 14:32:05 alice: Silence s1 created for 2h"]
    assert "Exported" not in rendered and "| alice | 2 |" in rendered  # the export is no part of the incident
    assert "Exported" in render_json(desk.get(incident.id))  # but the raw journal has it


def test_each_way_a_step_can_end(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("steps")
    ends = {
        "slow": {"exit_code": None, "signal": 9, "timed_out": True, "killed": False, "duration_s": 120.0},
        "dry": {"exit_code": None, "dry_run": True},
        "absent": {"exit_code": None, "error": "cannot run bash: No such file or directory"},
        "lost": {
            "exit_code": None,
            "signal": None,
            "outcome": "unknown",
            "reason": "started before this machine restarted",
        },
        "left": None,
    }
    for number, (name, end) in enumerate(ends.items(), 1):
        step = {"runbook": "/rb/pods.md", "step": number, "name": name, "command": f"run {name}\nand check"}
        started = desk.record(incident.id, "runbook.step_started", f"Started {name}", step)
        if end is not None:
            desk.record(
                incident.id, "runbook.step_finished", f"Ended {name}", step | end | {"started_seq": started.seq}
            )
    response = render_markdown(desk.get(incident.id)).split("## Response")[1].split("## Resolution")[0]
    assert [line for line in response.splitlines() if line.startswith("- ")] == [
        "- 14:32:05 alice: step 1 “slow” of pods.md: timed out, killed by SIGKILL in 120.0 s",
        "- 14:32:05 alice: step 2 “dry” of pods.md: not run (dry run)",
        "- 14:32:05 alice: step 3 “absent” of pods.md: could not start: cannot run bash: No such file or directory",
        "- 14:32:05 alice: step 4 “lost” of pods.md: ended, exit unknown (started before this machine restarted)",
        "- 14:32:05 alice: step 5 “left” of pods.md: its end is not recorded: it may still be running, or its console"
        " stopped before recording it",
    ]
    assert response.count("  ```sh\n  run ") == 5 and "  and check\n  ```" in response  # each command, two lines


def test_the_readme_shows_the_golden_postmortem() -> None:
    excerpt = (ROOT / "README.md").read_text().split("`````markdown\n")[1].split("\n`````")[0]
    golden = GOLDEN.read_text().splitlines()
    assert [line for line in excerpt.splitlines() if line != "…" and line not in golden] == []


def test_emphasis_characters_in_prose_stay_as_written() -> None:
    html = MarkdownIt("commonmark").render(f"- {cell('rm -rf /tmp/*_old/* and ~~gone~~ __init__ # x')}")
    assert "<em>" not in html and "<strong>" not in html and "<h1>" not in html
    assert "rm -rf /tmp/*_old/* and ~~gone~~ __init__ # x" in html


def test_an_alert_still_firing_at_resolution_is_not_said_to_fire_forever(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    alert = Alert("f1", {"alertname": "DiskWillFill", "severity": "warning"}, {}, clock.now, None, "", "active")
    incident = desk.declare("disk", [alert])
    clock.advance(60)
    desk.resolve(incident.id, "grew the volume")
    assert "still firing when the incident was resolved (2026-11-27 14:33:05 UTC); not followed after" in (
        render_markdown(desk.get(incident.id))
    )


def test_a_lapsed_page_and_its_return_are_under_the_page(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("ml-api returns 5xx")
    page = {"key": "k2", "who": ["dana"], "level": 2, "via": "alertmanager:prod", "how": "Alertmanager prod"}
    desk.record(incident.id, "incident.escalated", "Escalated", {"level": 2, "targets": ["dana"], "paged": [page]})
    clock.advance(400)
    desk.record(incident.id, "page.lapsed", "lapsed", page | {"error": "prod: unreachable"}, agent="paging")
    clock.advance(60)
    desk.record(incident.id, "page.reposted", "again", page, agent="paging")
    text = render_markdown(desk.get(incident.id))
    assert (
        "  - 14:38:45 may have lapsed, not posted again at Alertmanager prod by oncall-tui (paging): prod: unreachable"
        in text
    )
    assert "  - 14:39:45 posted again after it lapsed at Alertmanager prod by oncall-tui (paging)" in text


def test_an_alert_acknowledged_with_an_ack_silence_is_an_acknowledgement_of_the_postmortem(
    tmp_path: Path, clock: SteppedClock
) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    incident = desk.declare("acked")
    data = {"silence_id": "3f2a", "fingerprints": ["f1", "f2"], "comment": "ACK! rolling back"}
    desk.record(incident.id, "alert.acknowledged", "Acknowledged HighErrorRate (silence 3f2a)", data)
    rendered = render_markdown(desk.get(incident.id))
    shown = rendered.split("\n### Acknowledged\n")[1].split("\n#")[0]
    assert "- 14:32:05 alice acknowledged 2 linked alert(s) with silence `3f2a`" in shown
    assert "Nobody acknowledged it" not in rendered
