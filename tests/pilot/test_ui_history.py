"""The selected alert's history in its detail: the 24 h and 7 d strips from the local record,
what the console records while it runs, and a Prometheus that cannot answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from oncall_tui.core.alerts.history_store import LocalHistory, history_path
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import oncall_app
from tests.conftest import SteppedClock, alert, make_config, notes, until
from tests.history_world import a_week_of_history
from tests.misbehaving import Misbehaving


def detail_text(app) -> str:
    return str(app.main.alert_detail.body.render())


async def test_the_detail_draws_a_week_of_the_alerts_history(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    await a_week_of_history(sim, clock, data)
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.press("d")
        await until(lambda: "history · local history" in detail_text(app), what="the history")
        lines = detail_text(app).splitlines()
        day = next(line for line in lines if line.startswith("  24h │"))
        week = next(line for line in lines if line.startswith("   7d │"))
        day_strip, week_strip = day.split("│")[1], week.split("│")[1]
        assert len(day_strip) == len(week_strip) == 48
        assert "·" in day_strip and any(block in day_strip for block in "▁▂▃▄▅▆▇█")
        assert " " * 15 in week_strip  # three days nobody watched: blank, never quiet
        assert day.endswith("│ 8 times")  # 4 of 20 minutes, 3 flaps and the one firing now
        assert "flapping (fired again within 30m of resolving)" in detail_text(app)
        assert "· blank: unwatched" in detail_text(app)


async def test_the_console_records_what_it_sees(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    sim.store.post_alerts([alert("Disk", "critical", service="db")])
    data = tmp_path / "data"
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    history = LocalHistory(history_path(data), 30, clock)
    async with app.run_test(size=(160, 45)):
        await until(lambda: app.services.recorder.written >= 1, what="a poll written")
        [episode] = history.episodes(clock.now - timedelta(hours=1), clock.now, "Disk").episodes
        assert episode.end is None and episode.labels["service"] == "db"
        sim.store.resolve({"alertname": "Disk", "severity": "critical", "service": "db"})
        written = app.services.recorder.written
        clock.advance(5)
        app.main.alerts.refresh_now()
        await until(lambda: app.services.recorder.written > written + 1, what="the resolution written")
        [episode] = history.episodes(clock.now - timedelta(hours=1), clock.now, "Disk").episodes
        assert episode.end is not None and not episode.unseen


async def test_a_poll_is_written_once_the_list_shows_it(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    """The history's writing (Python, in a thread) waits until the list shows the poll: it would
    share the interpreter with the grouping and the drawing."""
    sim.store.post_alerts([alert("Disk", "critical", service="db")])
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock)
    async with app.run_test(size=(160, 45)):
        recorder, rows = app.services.recorder, app.main.alert_list
        await until(lambda: recorder.written >= 1, what="a poll written")
        happened: list[str] = []
        show, go, record = rows.show, recorder.go, recorder.record
        rows.show = lambda alerts, *args, **kwargs: happened.append("shown") or show(alerts, *args, **kwargs)
        recorder.go = lambda: happened.append("let go") or go()
        recorder.record = lambda *args: happened.append("written") or record(*args)
        sim.store.post_alerts([alert("Disk", "critical", service="web")])
        written = recorder.written
        clock.advance(2)
        app.main.alerts.refresh_now()
        await until(lambda: recorder.written > written and len(rows.alerts) == 2, what="the new alert written")
        assert happened.index("shown") < happened.index("let go") < happened.index("written"), happened


async def test_read_only_records_nothing(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    sim.store.post_alerts([alert("Disk", "critical")])
    app = oncall_app(make_config(sim.url, data_dir=str(tmp_path / "data")), clock=clock, read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.press("d")
        await until(lambda: "history: alert history" in detail_text(app), what="the history's answer")
        assert "none yet (the console records it while it runs)" in detail_text(app)
    assert app.services.recorder is None and not history_path(tmp_path / "data").exists()


async def test_a_dead_prometheus_is_one_line_and_the_local_history_serves(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    await a_week_of_history(sim, clock, data)
    config = make_config(sim.url, data_dir=str(data), prometheus={"url": "http://127.0.0.1:9", "timeout": "1s"})
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.press("d")
        await until(lambda: "history · local history" in detail_text(app), what="the history")
        assert "prometheus: unreachable (" in detail_text(app)
        assert "from the local history instead" in detail_text(app)
        assert not [n for n in notes(app) if "Traceback" in n]


async def test_a_history_that_cannot_be_written_is_said_once_and_the_console_goes_on(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts([alert("Disk", "critical")])
    data = tmp_path / "data"
    data.mkdir()
    history_path(data).mkdir()  # a directory where the file should be
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    async with app.run_test(size=(160, 45)):
        await until(lambda: any("Not recorded: alert history" in n for n in notes(app)), what="the problem")
        [said] = [n for n in notes(app) if "Not recorded: alert history" in n]
        assert str(history_path(data)) in said and said.endswith(
            "(the console goes on, and the history catches up once it can write)"
        )
        history_path(data).rmdir()
        clock.advance(1)
        app.main.alerts.refresh_now()
        await until(lambda: any("recording again" in n for n in notes(app)), what="recording again")
        assert app.main.alert_list.alerts


async def test_a_hung_prometheus_holds_up_no_poll_and_is_left_alone_a_minute(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    sim.store.post_alerts([alert("Disk", "critical", service=f"s{i}") for i in range(3)])
    hung = Misbehaving()
    hung.mode = "hang"
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), prometheus={"url": hung.url, "timeout": "3s"})
    app = oncall_app(config, clock=clock)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(lambda: len(app.main.alert_list.alerts) == 3, what="the alerts")
            await pilot.press("d")
            polls = app.services.board.polls
            for key in "jkjkjk":  # every selection asks, one question at a time
                await pilot.press(key)
                await pilot.pause(0.3)
            await until(lambda: app.services.board.polls >= polls + 5, what="polls going on meanwhile")
            await until(lambda: "timed out after 3s" in detail_text(app), what="the timeout said")
            assert "from the local history instead" in detail_text(app)
            await pilot.press("j")  # within the minute: not asked again, the local history answers at once
            await until(lambda: "history · local history" in detail_text(app), timeout=2, what="at once")
    finally:
        hung.close()
