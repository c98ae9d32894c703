"""The alert-fatigue score: what counts as acted on, flaps, outside business hours, a runbook;
the ranking; and `history` and `report` on the command line over the local history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.cli import main
from oncall_tui.core.alerts.history import Episode, Found, Window
from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.fatigue import assess, off_hours, render
from oncall_tui.core.runbooks.library import RunbookLibrary
from oncall_tui.sim.server import SimServer
from tests.conftest import SteppedClock
from tests.history_world import a_week_of_history

MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


def episode(name: str, start: datetime, minutes: float, fp: str = "") -> Episode:
    return Episode(fp or name, {"alertname": name}, start, start + timedelta(minutes=minutes))


def found(*episodes: Episode) -> Found:
    return Found(
        list(episodes), Window(MONDAY_NOON - timedelta(days=7), MONDAY_NOON + timedelta(days=1)), "local history"
    )


def test_an_alert_never_acted_on_that_flaps_at_night_ranks_first() -> None:
    night = MONDAY_NOON.replace(hour=3)
    noisy = [episode("Flappy", night + timedelta(minutes=20 * i), 5) for i in range(4)]  # back within 15 minutes
    quiet = [episode("Steady", MONDAY_NOON.replace(hour=9) + timedelta(hours=2 * i), 30) for i in range(4)]
    fatigue = assess(found(*noisy, *quiet), MONDAY_NOON + timedelta(days=1), UTC_ZONE)
    flappy, steady = fatigue.alerts
    assert flappy.name == "Flappy" and (flappy.fires, flappy.flaps, flappy.off_hours) == (4, 3, 1.0)
    assert flappy.score == pytest.approx(4 * (1 + 3 / 4) * 2)
    assert (steady.flaps, steady.off_hours, steady.score) == (0, 0.0, 4.0)
    assert (flappy.median, flappy.p90) == (300.0, 300.0)


def test_an_alert_always_acted_on_scores_zero(tmp_path: Path, clock: SteppedClock) -> None:
    desk = IncidentDesk(tmp_path, "alice", clock=clock).load()
    alert = Alert("fp-incident", {"alertname": "Declared"}, {}, clock.now, None, "", "active")
    desk.declare("it", [alert])
    declared = episode("Declared", clock.now - timedelta(minutes=1), 10, "fp-incident")
    silenced = episode("Silenced", clock.now, 10, "fp-silenced")
    ignored = episode("Ignored", clock.now, 10, "fp-ignored")
    marks = {
        "fp-silenced": [(clock.now + timedelta(minutes=2), "acked")],
        "fp-ignored": [(clock.now + timedelta(hours=1), "silenced")],
    }
    fatigue = assess(
        found(declared, silenced, ignored), clock.now + timedelta(hours=2), UTC_ZONE, desk.incidents.values(), marks
    )
    by_name = {n.name: n for n in fatigue.alerts}
    assert by_name["Declared"].acted == by_name["Silenced"].acted == 1.0
    assert by_name["Declared"].score == by_name["Silenced"].score == 0
    assert by_name["Ignored"].acted == 0  # silenced an hour after it resolved: not acted on while it fired
    assert fatigue.alerts[0].name == "Ignored"
    auto = Alert("fp-auto", {"alertname": "Auto", "severity": "critical"}, {}, clock.now, None, "", "active")
    desk.auto_declare([auto], ["critical"], ["alertname"])  # the console's own declaration: nobody acted
    fatigue = assess(
        found(episode("Auto", clock.now, 10, "fp-auto")),
        clock.now + timedelta(hours=2),
        UTC_ZONE,
        desk.incidents.values(),
    )
    assert fatigue.alerts[0].acted == 0


def test_business_hours_are_the_schedules_own() -> None:
    los_angeles = ZoneInfo("America/Los_Angeles")
    assert not off_hours(MONDAY_NOON, UTC_ZONE)
    assert off_hours(MONDAY_NOON, los_angeles)  # 04:00 there
    assert off_hours(MONDAY_NOON - timedelta(days=1), UTC_ZONE)  # a Sunday


def test_without_a_runbook_scores_half_again(tmp_path: Path) -> None:
    (tmp_path / "disk-will-fill.md").write_text("# Disk\n")
    fatigue = assess(
        found(episode("DiskWillFill", MONDAY_NOON, 5), episode("Unwritten", MONDAY_NOON, 5)),
        MONDAY_NOON + timedelta(days=1),
        UTC_ZONE,
        library=RunbookLibrary(tmp_path),
    )
    by_name = {n.name: n for n in fatigue.alerts}
    assert (by_name["DiskWillFill"].runbook, by_name["DiskWillFill"].score) == (True, 1.0)
    assert (by_name["Unwritten"].runbook, by_name["Unwritten"].score) == (False, 1.5)
    lines = render(fatigue)
    assert lines[0].startswith(
        "alert fatigue, 2026-11-16 12:00 to 2026-11-24 12:00 UTC (local history): 2 alert(s) fired 2 time(s)"
    )
    assert lines[-2].split()[-2:] == ["no", "Unwritten"] or lines[-1].split()[-2:] == ["no", "Unwritten"]


def test_hostile_names_are_written_out(tmp_path: Path) -> None:
    fatigue = assess(found(episode("\x1b]0;pwned\x07Bad", MONDAY_NOON, 5)), MONDAY_NOON + timedelta(days=1), UTC_ZONE)
    assert "⟨ESC⟩]0;pwned⟨U+0007⟩Bad" in render(fatigue)[-1]


async def test_history_and_report_from_the_local_history(
    sim: SimServer,
    clock: SteppedClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await a_week_of_history(sim, clock, tmp_path / "data")
    monkeypatch.setattr("oncall_tui.cli.utc_now", clock)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"user: {{name: alice}}\nalertmanagers: [{{name: prod, url: 'http://127.0.0.1:9'}}]\ndata_dir: {tmp_path / 'data'}\n"
        f"runbooks: {{dir: {tmp_path / 'none'}}}\n"
    )
    assert main(["history", "DiskWillFill", "--since", "1d", "--labels", "service=db", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "DiskWillFill: 8 episode(s) since 2026-11-26 14:32:05 UTC (local history)"
    assert lines[1].split() == ["start", "end", "duration", "labels"]
    assert lines[2].startswith(
        "2026-11-26 14:32:05 UTC  2026-11-26 14:48:05 UTC (resolved by 2026-11-26 14:52:05 UTC, unseen between)"
    )  # polled every 4 minutes, so the end lies between
    assert lines[-3].startswith("2026-11-27 14:32:05 UTC  firing now")
    assert lines[-2] == "longest 16m, 3 flap(s), flapping (fired again within 30m of resolving)"
    assert lines[-1] == "the console watched 100% of the 1d asked about: the rest is not in its record"
    assert main(["history", "DiskWillFill", "--since", "7d", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("the console watched 5")  # 4 of 7 days
    assert main(["report", "--since", "7d", "--format", "json", "--config", str(config)]) == 0
    [disk] = json.loads(capsys.readouterr().out)["fatigue"]["alerts"]
    assert (disk["alertname"], disk["fires"], disk["flaps"], disk["acted_on"]) == ("DiskWillFill", 20, 3, 0)
    assert main(["history", "DiskWillFill", "--since", "soon", "--config", str(config)]) == 2
    assert "--since: 'soon' is not a duration" in capsys.readouterr().err
