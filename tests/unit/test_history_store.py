"""The local alert history: what the record says after polls of a simulator, under a stepped clock."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.history import (
    Episode,
    Fallback,
    Found,
    HistoryError,
    Window,
    describe_found,
    summarize,
)
from oncall_tui.core.alerts.history_store import HistoryRecorder, LocalHistory
from oncall_tui.core.alerts.models import SilenceMatcher, SilenceRequest
from oncall_tui.core.incidents.fatigue import as_json as fatigue_json
from oncall_tui.core.incidents.fatigue import assess
from oncall_tui.core.incidents.fatigue import render as render_fatigue
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager
from tests.conftest import SteppedClock, alert, make_config, until

DAY = timedelta(days=1)


class World:
    def __init__(self, sim: SimServer, clock: SteppedClock, path: Path) -> None:
        self.sim, self.clock, self.path = sim, clock, path
        self.board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock)
        self.recorder = HistoryRecorder(path, keep=7 * 86400, gap=30)
        self.history = LocalHistory(path, gap=30, clock=clock)

    async def poll(self, acks: frozenset[str] = frozenset()) -> None:
        await self.board.poll_once()
        self.recorder.record(self.board.sightings, acks)

    def episodes(self, name: str = "Disk"):
        return self.history.episodes(self.clock() - 7 * DAY, self.clock(), name).episodes

    def kinds(self) -> list[str]:
        with sqlite3.connect(self.path) as db:
            return [kind for (kind,) in db.execute("SELECT kind FROM changes ORDER BY rowid")]


@pytest.fixture
async def world(sim: SimServer, clock: SteppedClock, tmp_path: Path):
    made = World(sim, clock, tmp_path / "data" / "history.sqlite3")
    yield made
    await made.board.aclose()


async def test_an_alert_that_fires_and_resolves_is_one_episode_from_its_start(world: World) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical", service="db")])
    started = world.clock()
    world.clock.advance(60)
    await world.poll()
    [episode] = world.episodes()
    assert (episode.start, episode.end, episode.labels["service"]) == (started, None, "db")
    world.clock.advance(10)
    await world.poll()
    last_seen = world.clock()
    world.clock.advance(10)
    world.sim.store.resolve({"alertname": "Disk", "severity": "critical", "service": "db"})
    await world.poll()
    [episode] = world.episodes()
    assert (episode.start, episode.end, episode.unseen) == (started, last_seen, False)
    assert world.kinds() == ["fired", "resolved"]


async def test_firing_again_is_a_new_episode_and_counts_as_a_flap(world: World) -> None:
    labels = {"alertname": "Disk", "severity": "critical"}
    for _ in range(3):
        world.sim.store.post_alerts([alert("Disk", "critical")])
        await world.poll()
        world.clock.advance(60)
        world.sim.store.resolve(labels)
        await world.poll()
        world.clock.advance(600)  # back within 30 minutes
    episodes = world.episodes()
    assert len(episodes) == 3 and all(e.end for e in episodes)
    assert summarize(episodes, world.clock()).flaps == 2 and summarize(episodes, world.clock()).flapping


async def test_silenced_and_acked_are_recorded_as_they_change(world: World) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    now = world.clock()
    request = SilenceRequest(
        (SilenceMatcher("alertname", "Disk"),), now, now + timedelta(hours=1), "alice", "ACK! mine"
    )
    [(_, ack)] = await world.board.create_silence(request, ["prod"])
    await world.poll(frozenset({ack}))
    world.sim.store.expire_silence(ack)
    await world.poll()
    assert world.kinds() == ["fired", "acked", "active"]
    acted = world.history.acted(now - DAY, world.clock() + DAY)
    assert [kind for _, kind in next(iter(acted.values()))] == ["acked"]


async def test_a_silence_known_later_as_an_ack_is_recorded_on_the_same_alert(world: World) -> None:
    """The alert is as it was (not decoded again); the acks changed: that is recorded."""
    world.sim.store.post_alerts([alert("Disk", "critical")])
    now = world.clock()
    request = SilenceRequest((SilenceMatcher("alertname", "Disk"),), now, now + timedelta(hours=1), "alice", "ACK!")
    [(_, ack)] = await world.board.create_silence(request, ["prod"])
    await world.poll()
    world.recorder.record(world.board.sightings, frozenset())
    world.recorder.record(world.board.sightings, frozenset({ack}))
    assert world.kinds() == ["fired", "silenced", "acked"]


async def test_a_source_that_stops_answering_resolves_nothing(world: World, sim: SimServer) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    seen = world.clock()
    sim.stop()
    world.clock.advance(120)
    await world.poll()
    [episode] = world.episodes()
    assert episode.end == seen and episode.unseen  # last seen then; whether it resolved is not known
    assert world.kinds() == ["fired"]


async def test_the_console_away_leaves_the_end_between_last_seen_and_learned(world: World, tmp_path: Path) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    world.clock.advance(40)
    await world.poll()
    seen = world.clock()
    world.recorder.close()  # the console stops: what was seen is written
    world.sim.store.resolve({"alertname": "Disk", "severity": "critical"})
    world.clock.advance(3600)
    again = HistoryRecorder(world.path, keep=7 * 86400, gap=30)
    again.record((await world.board.poll_once(), world.board.sightings)[1])
    [episode] = world.episodes()
    assert (episode.end, episode.resolved_by) == (seen, world.clock())
    found = world.history.episodes(world.clock() - DAY, world.clock(), "Disk")
    assert len(found.window.watched) == 2  # an hour nobody watched, between


async def test_the_record_is_private_and_a_missing_one_is_one_line(world: World, tmp_path: Path) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    assert stat.S_IMODE(os.stat(world.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(world.path.parent).st_mode) == 0o700
    with pytest.raises(HistoryError, match=r"none yet \(the console records it while it runs\)"):
        LocalHistory(tmp_path / "nowhere.sqlite3", 30).episodes(world.clock() - DAY, world.clock())


async def test_a_failed_write_loses_nothing_once_it_can_write(world: World) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    said: list[str | None] = []
    world.recorder.on_problem = said.append
    await world.board.poll_once()
    world.path.parent.mkdir(parents=True)
    world.path.mkdir()  # a directory where the file should be: nothing can be written
    world.recorder.saw(world.board.sightings)
    await until(lambda: bool(said), what="the problem said")
    assert said[0] and said[0].startswith(f"alert history {world.path}: ")
    world.path.rmdir()
    world.clock.advance(2)
    await world.board.poll_once()
    world.recorder.saw(world.board.sightings)  # the next poll's changes: from what was last written
    await until(lambda: world.recorder.written == 1, what="written")
    world.recorder.close()
    assert said[-1] is None and len(world.episodes()) == 1


async def test_a_poll_held_until_the_screen_shows_it_is_written_on_go_and_at_close_all_the_same(
    world: World,
) -> None:
    """The console holds each poll's writing until its screen is drawn; one it never lets go
    (it quit first) is written when the recorder closes: nothing seen is lost."""
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.board.poll_once()
    world.recorder.saw(world.board.sightings, held=True)
    await asyncio.sleep(0.3)  # a thing that must not happen cannot be waited for: unheld, it takes ms
    assert world.recorder.written == 0
    world.recorder.go()
    await until(lambda: world.recorder.written == 1, what="the first poll written once let go")
    world.sim.store.post_alerts([alert("Disk", "critical", service="other")])
    world.clock.advance(2)
    await world.board.poll_once()
    world.recorder.saw(world.board.sightings, held=True)  # never let go
    world.recorder.close()
    assert world.recorder.written == 2 and len(world.episodes()) == 2


async def test_an_alert_in_prometheuss_answer_is_not_added_again_from_the_local_history(world: World) -> None:
    """Asked of every alert, the answer is Prometheus's and the local history's for alerts not in
    it. An alert as Alertmanager has it carries Prometheus's external labels (`cluster`), and
    may have lost one to relabelling (`replica`), so its fingerprint is not the series': it is
    Prometheus's all the same when its labels include the series'."""
    world.sim.store.post_alerts([alert("Disk", "critical", cluster="eu"), alert("Other", "warning")])
    await world.poll()
    world.clock.advance(60)
    await world.poll()
    start, end = world.clock() - DAY, world.clock()
    series = Episode("f" * 16, {"alertname": "Disk", "severity": "critical"}, start, None)  # as ALERTS has it

    class Prometheus:
        source = "prometheus"

        def episodes(self, *asked: object) -> Found:
            return Found([series], Window(start, end, ((start, end),)), "prometheus", "in steps of 9s")

        def close(self) -> None: ...

    found = Fallback(Prometheus(), world.history).episodes(start, end)
    assert sorted(e.name for e in found.episodes) == ["Disk", "Other"] and series in found.episodes
    said = (
        "in steps of 9s; 1 alert(s) not in Prometheus's answer: from the local history (the console watched 0% of it)"
    )
    assert found.caveat == said  # a minute of the day
    assert [(e.name, e.added) for e in sorted(found.episodes, key=lambda e: e.name)] == [
        ("Disk", False),
        ("Other", True),
    ]  # each alert says where it came from, in the report too
    fatigue = assess(found, end, ZoneInfo("UTC"))
    assert {a["alertname"]: a["fires_from_local_history"] for a in fatigue_json(fatigue)["alerts"]} == {
        "Disk": 0,
        "Other": 1,
    }
    lines = render_fatigue(fatigue)
    assert sum(line.endswith("Other (1 of the fires from the local history)") for line in lines) == 1, lines
    printed = describe_found(found, "every alert", end).splitlines()  # `oncall-tui history`, episode by episode
    assert [line.endswith("(from the local history)") for line in printed if "severity=" in line] == [False, True]

    world.recorder.close()
    world.path.write_bytes(b"not a database" * 100)  # unreadable now: what it may leave out is said
    broken = Fallback(Prometheus(), LocalHistory(world.path, gap=30, clock=world.clock)).episodes(start, end)
    assert broken.episodes == [series]
    assert broken.caveat.startswith(
        f"in steps of 9s; alerts Prometheus has none of may be missing: alert history {world.path}"
    )


async def test_retention_forgets_what_ended_before_keep(world: World) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    world.sim.store.resolve({"alertname": "Disk", "severity": "critical"})
    await world.poll()
    world.clock.advance(8 * 86400)
    world.recorder._pruned = 0  # the hourly pruning is due
    world.sim.store.post_alerts([alert("Other", "warning")])
    await world.poll()
    assert world.history.episodes(world.clock() - 30 * DAY, world.clock()).episodes[0].name == "Other"
    assert len(world.history.episodes(world.clock() - 30 * DAY, world.clock()).episodes) == 1


async def test_watched_is_while_the_alerts_own_alertmanager_answered(clock: SteppedClock, tmp_path: Path) -> None:
    with SimServer(SimAlertmanager(clock=clock)) as prod, SimServer(SimAlertmanager(clock=clock)) as other:
        prod.store.post_alerts([alert("Disk", "critical")])
        config = make_config(prod.url, other.url)
        board = Board([AlertmanagerClient(s) for s in config.alertmanagers], clock=clock)
        path = tmp_path / "history.sqlite3"
        recorder = HistoryRecorder(path, keep=86400, gap=120)  # polls a minute apart are one watch
        await board.poll_once()
        recorder.record(board.sightings)
        start = clock.now
        prod.stop()
        for _ in range(10):  # ten minutes: only the other one answers
            clock.advance(60)
            await board.poll_once()
            recorder.record(board.sightings)
        await board.aclose()
    history = LocalHistory(path, 120, clock)
    found = history.episodes(start, clock.now, "Disk")
    assert found.window.watched_seconds(start, clock.now) == 60  # prod's one answer (and half a gap)
    assert history.episodes(start, clock.now, "Nothing").window.watched_seconds(start, clock.now) == 600


async def test_two_consoles_on_one_record_watch_no_more_than_all_of_it(world: World) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    second = HistoryRecorder(world.path, keep=86400, gap=30)
    start = world.clock()
    for _ in range(5):
        await world.poll()
        second.record(world.board.sightings)
        world.clock.advance(10)
    found = world.history.episodes(start, world.clock(), "Disk")
    assert len(found.window.watched) == 1 and found.window.watched_seconds(start, world.clock()) <= 50


async def test_an_episode_reopened_with_its_start_is_seen_now(world: World) -> None:
    labels = {"alertname": "Disk", "severity": "critical"}
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    world.recorder._open.clear()  # as if it had been judged resolved (a restart past the grace)
    world.clock.advance(600)
    world.sim.store.post_alerts([{"labels": labels, "startsAt": (world.clock() - timedelta(seconds=600)).isoformat()}])
    await world.poll()
    [episode] = world.episodes()
    assert episode.end is None  # firing now, not "last seen" ten minutes ago


async def test_retention_forgets_episodes_never_seen_to_resolve(world: World) -> None:
    world.sim.store.post_alerts([alert("Disk", "critical")])
    await world.poll()
    world.sim.stop()  # its source goes: nobody ever says it resolved
    world.clock.advance(8 * 86400)
    world.recorder._pruned = 0
    await world.poll()
    assert world.history.episodes(world.clock() - 30 * DAY, world.clock()).episodes == []


async def test_a_start_put_earlier_is_the_same_episode(world: World) -> None:
    labels = {"alertname": "Disk", "severity": "critical"}
    later = world.clock() + timedelta(hours=2)
    world.sim.store.post_alerts(
        [{"labels": labels, "startsAt": later.isoformat(), "endsAt": (later + timedelta(hours=1)).isoformat()}]
    )
    await world.poll()
    world.sim.store.post_alerts([{"labels": labels, "startsAt": world.clock().isoformat()}])  # corrected
    await world.poll()
    [episode] = world.episodes()
    assert (episode.start, episode.end) == (world.clock(), None)


async def test_a_later_start_while_it_was_still_seen_is_the_same_episode(world: World) -> None:
    """A restarted sender (an HA pair of Prometheus) may give a firing alert a later startsAt."""
    labels = {"alertname": "Disk", "severity": "critical"}
    first = world.clock()
    world.sim.store.post_alerts([{"labels": labels, "startsAt": first.isoformat()}])
    await world.poll()
    world.clock.advance(60)
    await world.poll()  # seen firing at first + 60 s
    world.sim.store.restart()  # forgets it; then it is sent again, with a start 7 s later
    world.sim.store.post_alerts([{"labels": labels, "startsAt": (first + timedelta(seconds=7)).isoformat()}])
    world.clock.advance(10)
    await world.poll()
    [episode] = world.episodes()
    assert (episode.start, episode.end) == (first, None)
    assert "resolved" not in world.kinds()


async def test_an_alert_the_filter_hides_ends_when_the_whole_answer_last_showed_it(world: World) -> None:
    """Narrowed polls speak only for what the filter matches: Disk (a warning) was last seen by
    the whole answer, and its episode ends then, not at the narrowed polls after it."""
    crit = SilenceMatcher("severity", "critical")
    world.board.whole_every = 3600
    world.sim.store.post_alerts([alert("Disk", "warning", service="db"), alert("Page", "critical")])

    async def poll() -> None:
        await world.board.poll_source(world.board.clients[0], matchers=[crit])
        await world.board.merge()
        world.recorder.record(world.board.sightings)

    await poll()  # whole
    last_seen = world.clock()
    for _ in range(3):
        world.clock.advance(10)
        await poll()  # narrowed: Disk stands as the whole answer showed it
    world.board.whole_every = 0
    world.sim.store.resolve({"alertname": "Disk", "severity": "warning", "service": "db"})
    world.clock.advance(10)
    await poll()  # whole: Disk gone
    [episode] = world.episodes()
    assert episode.end == last_seen  # not 30 s later: no answer showed it then
