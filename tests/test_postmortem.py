"""The postmortem and the incident commands: a golden file, and what the CLI prints."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.cli import main
from oncall_tui.core.incidents import Incident, IncidentDesk, default_title
from oncall_tui.core.models import Alert
from oncall_tui.core.postmortem import render_json, render_markdown
from oncall_tui.core.report import build as build_report
from oncall_tui.core.report import p90, since_ago
from tests.conftest import ROOT, SteppedClock

GOLDEN = ROOT / "tests" / "golden" / "postmortem.md"


def fixed_incident(data_dir: Path, clock: SteppedClock) -> Incident:
    """The guide's incident: a high error rate on ml-api, rolled back within 20 minutes."""
    desk = IncidentDesk(data_dir, "alice", clock=clock).load()
    alert = Alert(
        "63027957d6031f6a",
        {"alertname": "HighErrorRate", "severity": "critical", "service": "ml-api"},
        {"summary": "ml-api error rate is 7.3%"},
        clock.now - timedelta(minutes=3),
        None,
        "",
        "active",
    )
    incident = desk.declare("ml-api returns 5xx", [alert])
    steps = [
        (45, lambda: desk.acknowledge(incident.id)),
        (30, lambda: desk.note(incident.id, "error rate started with deploy 42 | see #ml-api")),
        (60, lambda: desk.advance_stage(incident.id)),
        (120, lambda: desk.escalate(incident.id, ["dana"])),
        (240, lambda: desk.advance_stage(incident.id)),
        (1, lambda: desk.note(incident.id, "TODO: alert on deploys that raise 5xx")),
        (300, lambda: desk.resolve(incident.id, "rolled back deploy 42")),
    ]
    for seconds, action in steps:
        clock.advance(seconds)
        action()
    return incident


def test_postmortem_matches_the_golden_file(tmp_path: Path, clock: SteppedClock) -> None:
    rendered = render_markdown(fixed_incident(tmp_path, clock))
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
    desk.declare("a cosmetic one", severity="SEV-4")
    config = str(write_config(tmp_path))
    assert main(["report", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "incidents all time: 3" in out and "  SEV-2: 1" in out and "  SEV-4: 1" in out
    assert "time to acknowledge: mean 3m45s, p90 3m45s (1 incidents)" in out
    assert "time to resolve: mean 16m16s, p90 16m16s (1 incidents)" in out
    fatigue = out.split("nobody acted on")[1]
    assert "DiskWillFill" in fatigue and "HighErrorRate" not in fatigue and "(no alert)" in fatigue
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
    missing = capsys.readouterr().out.split("no runbook matches")[1]
    assert missing.splitlines()[1:] == [
        "     1  HighErrorRate  (tried front matter alerts: [HighErrorRate]; HighErrorRate.md; high-error-rate.md; "
        "high_error_rate.md)"
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
    assert row == "| 2 | 2026-11-27 14:32:05.000 | alice | Note: a \\| b ## not a heading \\[bold\\]y\\[/\\] |"


def test_text_from_an_alert_makes_no_link_image_or_html_in_the_postmortem(tmp_path: Path, clock: SteppedClock) -> None:
    """Annotations are untrusted: pasted into a wiki, the postmortem must not carry their links."""
    from markdown_it import MarkdownIt

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
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "code_inline"}, kinds
    assert "Resolution\n\n\\[click\\](https://evil.example/) !\\[x\\]" in rendered  # still reads the same
