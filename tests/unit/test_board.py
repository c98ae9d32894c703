"""Merging several Alertmanagers, staleness, and recovery, over real HTTP to simulators."""

from __future__ import annotations

from datetime import timedelta

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.models import SilenceMatcher, SilenceRequest
from oncall_tui.core.alerts.schedule import Outcome
from oncall_tui.sim.server import SimServer
from oncall_tui.sim.store import SimAlertmanager, fingerprint
from tests.conftest import SteppedClock, alert, make_config
from tests.contracts import alerts_asked

PROM = "http://prometheus:9090"


def sent(posted: dict, by: str = PROM) -> dict:
    """`posted` as a Prometheus at `by` sends it (its generatorURL tells the sender)."""
    return {**posted, "generatorURL": f"{by}/graph?g0.expr=up"}


async def test_dedupes_by_fingerprint_and_tags_sources(clock: SteppedClock) -> None:
    with SimServer(SimAlertmanager(clock=clock)) as one, SimServer(SimAlertmanager(clock=clock)) as two:
        one.store.post_alerts([alert("Shared", "critical"), alert("OnlyOne", "info")])
        two.store.post_alerts([alert("Shared", "critical"), alert("OnlyTwo", "warning")])
        config = make_config(one.url, two.url)
        board = Board([AlertmanagerClient(s) for s in config.alertmanagers], clock=clock)
        alerts = await board.poll_once()
        await board.aclose()
    assert [(a.name, a.sources) for a in alerts] == [
        ("Shared", ("prod", "am1")),
        ("OnlyTwo", ("am1",)),
        ("OnlyOne", ("prod",)),
    ]


async def test_sorted_by_severity_then_newest_first(sim, clock: SteppedClock) -> None:
    sim.store.post_alerts([alert("OldWarn", "warning"), alert("OldCrit", "critical")])
    clock.advance(60)
    sim.store.post_alerts([alert("NewWarn", "warning"), alert("Odd", "whatever"), alert("Info", "info")])
    board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock)
    assert [a.name for a in await board.poll_once()] == ["OldCrit", "NewWarn", "OldWarn", "Info", "Odd"]
    await board.aclose()


async def test_a_silence_in_one_cluster_does_not_hide_the_alert_firing_in_another(clock: SteppedClock) -> None:
    with SimServer(SimAlertmanager(clock=clock)) as one, SimServer(SimAlertmanager(clock=clock)) as two:
        for server in (one, two):
            server.store.post_alerts([alert("Shared", "critical")])
        board = Board([AlertmanagerClient(s) for s in make_config(one.url, two.url).alertmanagers], clock=clock)
        request = SilenceRequest(
            (SilenceMatcher("alertname", "Shared"),), clock.now, clock.now + timedelta(hours=1), "a", "c"
        )
        [(source, _)] = await board.create_silence(request, ["am1"])
        assert source == "am1"
        [shared] = await board.poll_once()
        assert shared.state == "active" and shared.sources == ("prod", "am1")
        await board.aclose()


async def test_stale_source_keeps_last_alerts_and_recovers(clock: SteppedClock) -> None:
    store = SimAlertmanager(clock=clock)
    server = SimServer(store).start()
    store.post_alerts([alert("X", "critical")])
    board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
    [fresh] = await board.poll_once()
    assert not fresh.stale and board.status["prod"].error is None
    server.stop()
    clock.advance(5)
    [kept] = await board.poll_once()
    status = board.status["prod"]
    assert kept.name == "X" and kept.stale
    assert not fresh.stale  # the alert already on the screen is not changed behind the UI's back
    assert status.error.startswith("prod: unreachable") and status.failing_since == clock.now
    clock.advance(5)
    await board.poll_once()
    assert board.status["prod"].failing_since == clock.now - timedelta(seconds=5)  # since the first failure
    with SimServer(store, port=server.port):
        clock.advance(1)
        [back] = await board.poll_once()
    assert not back.stale and board.status["prod"].error is None and board.status["prod"].failing_since is None
    await board.aclose()


async def test_ha_cluster_members_get_a_silence_once(clock: SteppedClock) -> None:
    with SimServer(SimAlertmanager(clock=clock)) as one, SimServer(SimAlertmanager(clock=clock)) as two:
        config = make_config(one.url, two.url)
        sources = [s.model_copy(update={"cluster": "eu"}) for s in config.alertmanagers]
        board = Board([AlertmanagerClient(s) for s in sources], clock=clock)
        request = SilenceRequest(
            (SilenceMatcher("alertname", "X"),), clock.now, clock.now + timedelta(hours=1), "a", "c"
        )
        created = await board.create_silence(request, ["prod", "am1"])
        assert len(created) == 1
        assert len(one.store.get_silences()) + len(two.store.get_silences()) == 1
        await board.aclose()


async def test_an_alert_a_restart_forgot_stays_shown_until_its_source_says(clock: SteppedClock) -> None:
    store = SimAlertmanager(clock=clock)
    with SimServer(store) as server:
        store.post_alerts([sent(alert("X", "critical")), sent(alert("Y", "warning"))])
        board = Board(
            [AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock, resend_grace=120
        )
        assert [a.held for a in await board.poll_once()] == ["", ""]
        clock.advance(10)
        store.restart()  # alerts gone until Prometheus resends them
        clock.advance(1)
        store.post_alerts([sent(alert("Y", "warning"))])  # one is resent at once
        alerts = await board.poll_once()
        assert [(a.name, a.held) for a in alerts] == [("X", "not seen since prod restarted at 14:32:15 UTC"), ("Y", "")]
        assert board.counts()["unseen"] == 1 and board.counts()["active"] == 1
        assert board.status["prod"].restarts == 1
        clock.advance(60)
        store.post_alerts([sent(alert("X", "critical")), sent(alert("Y", "warning"))])
        assert [a.held for a in await board.poll_once()] == ["", ""]  # resent: firing again, as if never gone
        store.resolve(alert("X", "critical")["labels"])
        clock.advance(1)
        assert [a.name for a in await board.poll_once()] == ["Y"]  # resolved by its source: gone at once
        clock.advance(10)
        store.restart()
        clock.advance(1)
        assert [a.name for a in await board.poll_once()] == ["Y"]  # held within the grace
        clock.advance(120)
        [y] = await board.poll_once()  # past the grace, but its sender has sent nothing since: it may be down
        assert (
            y.held == f"its sender {PROM} may be down: nothing from it since prod restarted at 2026-11-27 14:33:27 UTC"
        )
        assert board.sightings.presence(y.fingerprint, ["prod"]).state == "unknown"
        store.post_alerts([sent(alert("Z", "info"))])  # its sender is heard from, without Y: Y resolved
        assert [a.name for a in await board.poll_once()] == ["Z"]
        assert board.sightings.presence(y.fingerprint, ["prod"]).state == "resolved"
        await board.aclose()


async def test_past_a_restarts_grace_only_the_alerts_own_sender_vouches_for_its_absence(clock: SteppedClock) -> None:
    """Two Prometheus send to one Alertmanager; it restarts, and only b's is up to resend."""
    store = SimAlertmanager(clock=clock)
    of_a = {**alert("FromA", "critical"), "generatorURL": "http://prom-a:9090/graph?g0.expr=up"}
    of_b = {**alert("FromB", "warning"), "generatorURL": "http://prom-b:9090/graph?g0.expr=up"}
    with SimServer(store) as server:
        store.post_alerts([of_a, of_b])
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        await board.poll_once()
        clock.advance(10)
        store.restart()
        clock.advance(121)
        store.post_alerts([{**alert("OtherOfB", "info"), "generatorURL": "http://prom-b:9090/graph?g0.expr=x"}])
        alerts = await board.poll_once()
        assert [
            (a.name, a.held.startswith("its sender http://prom-a:9090 may be down: nothing from it")) for a in alerts
        ] == [
            ("FromA", True),
            ("OtherOfB", False),
        ]  # FromB: its sender sent again, without it; FromA: unknown, not resolved
        store.post_alerts([{**alert("Another", "info"), "generatorURL": "http://prom-a:9090/graph?g0.expr=y"}])
        assert [a.name for a in await board.poll_once()] == ["Another", "OtherOfB"]
        await board.aclose()


async def test_an_alert_unknown_past_a_restarts_grace_goes_at_its_last_ends_at(clock: SteppedClock) -> None:
    """Its sender silent since the restart: unknown, until the endsAt the old process had for it
    passes (it would have let it go then too), not for ever."""
    store = SimAlertmanager(clock=clock)
    with SimServer(store) as server:
        store.post_alerts([sent(alert("X", "critical"))])  # endsAt: five minutes on
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        [x] = await board.poll_once()
        clock.advance(10)
        store.restart()
        clock.advance(121)
        assert [a.held.startswith(f"its sender {PROM} may be down") for a in await board.poll_once()] == [True]
        clock.advance((x.ends_at - clock.now).total_seconds())
        assert await board.poll_once() == []
        reason = board.sightings.presence(x.fingerprint, ["prod"], None).reason
        assert reason.endswith("has passed: expired, as Alertmanager lets an alert go that its sender no longer sends")
        await board.aclose()


async def test_an_alert_held_for_days_keeps_what_showed_it(clock: SteppedClock) -> None:
    """What was last seen a day ago is forgotten, but not for an alert still held: its record
    of the process that showed it is what keeps its absence from reading as a resolution."""
    store = SimAlertmanager(clock=clock)
    with SimServer(store) as server:
        lasting = (clock.now + timedelta(days=7)).isoformat()
        store.post_alerts([{**sent(alert("X", "critical")), "endsAt": lasting}])
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        await board.poll_once()
        clock.advance(10)
        store.restart()
        clock.advance(2 * 86400)  # its sender silent for two days
        board.polls = 1000  # the daily forgetting is due
        await board.poll_once()
        [x] = await board.poll_once()  # judged after it
        assert x.held.startswith(f"its sender {PROM} may be down")
        assert board.sightings.presence(x.fingerprint, ["prod"]).state == "unknown"
        await board.aclose()


async def test_a_source_that_never_answered_is_not_an_empty_list(clock: SteppedClock) -> None:
    from tests.alertmanager_process import free_port

    config = make_config(f"http://127.0.0.1:{free_port()}")
    board = Board([AlertmanagerClient(s) for s in config.alertmanagers], clock=clock)
    assert await board.poll_once() == []
    assert board.silent_sources() == ["prod"]
    presence = board.sightings.presence("anything", ["prod"])
    assert presence.state == "unknown" and presence.reason.startswith("no data from prod: unreachable")
    await board.aclose()


async def test_a_status_that_cannot_be_read_keeps_the_alerts_and_makes_absent_ones_unknown(
    clock: SteppedClock,
) -> None:
    from oncall_tui.sim.store import SimError

    class NoStatus(SimAlertmanager):  # a proxy that lets only /api/v2/alerts and silences through
        def status(self) -> dict:
            raise SimError(403, "forbidden by the proxy")

    store = NoStatus(clock=clock)
    with SimServer(store) as server:
        store.post_alerts([alert("X", "critical"), alert("Y", "warning")])
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        assert [a.name for a in await board.poll_once()] == ["X", "Y"]  # good alerts, shown fresh
        status = board.status["prod"]
        assert status.answered and status.uptime_error == "prod: HTTP 403 from /api/v2/status: forbidden by the proxy"
        store.resolve(alert("X", "critical")["labels"])
        clock.advance(1)
        [held, shown] = await board.poll_once()  # X is gone, but a restart cannot be told from a resolution
        assert (
            shown.name == "Y"
            and held.name == "X"
            and held.held.startswith("absent from prod, which may have restarted")
        )
        await board.aclose()


async def test_a_source_clock_behind_the_console_does_not_shorten_the_grace(clock: SteppedClock) -> None:
    """Alertmanager and the console restart together; its clock is 3 minutes behind."""
    from datetime import timedelta

    store = SimAlertmanager(clock=lambda: clock.now - timedelta(minutes=3))
    with SimServer(store) as server:
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        await board.poll_once()
        presence = board.sightings.presence("fp", ["prod"])  # linked before: this process never showed it
        assert presence.state == "waiting", presence  # its start read on our clock: it just started
        assert abs((board.status["prod"].started - clock.now).total_seconds()) <= 1
        await board.aclose()


async def test_ends_at_is_read_on_the_sources_own_clock(clock: SteppedClock) -> None:
    """Its clock 10 minutes behind ours: an alert it says ends in 5 minutes still fires."""
    from datetime import timedelta

    store = SimAlertmanager(clock=lambda: clock.now - timedelta(minutes=10))
    with SimServer(store) as server:
        store.post_alerts([alert("X", "critical")])  # endsAt: its now + 5m, 5 minutes ago on our clock
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        [firing] = await board.poll_once()
        assert firing.name == "X" and board.sightings.firing.get(firing.fingerprint) == ("prod",)
        await board.aclose()


async def test_a_source_turning_polls_away_is_busy_speaks_for_nothing_and_is_stale_once_answers_stop(
    clock: SteppedClock,
) -> None:
    """Its last alerts stand, not stale; it is not 'answered' (no all-clear, nothing judged
    resolved by it); after busy_stale_after without an answer it is stale since its last one."""
    from tests.misbehaving import Misbehaving

    server = Misbehaving()
    server.mode = "one-alert"
    board = Board(
        [AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock, busy_stale_after=90
    )
    try:
        assert await board.poll_source(board.clients[0]) is Outcome.IN_TIME
        await board.merge()
        answered_at, status = clock.now, board.status["prod"]
        server.mode, server.headers = "status:503", {"Retry-After": "5"}
        clock.advance(30)
        assert await board.poll_source(board.clients[0]) is Outcome.BUSY
        [kept] = await board.merge()
        assert not kept.stale and status.error is None and status.retry_after == 5.0
        assert not status.answered and "HTTP 503, turned away" in (status.busy or "")
        assert board.sightings.presence("0000000000000002").state == "unknown"  # not resolved by its silence
        clock.advance(61)
        await board.poll_source(board.clients[0])
        assert status.error and status.failing_since == answered_at  # stale since its last answer
        server.mode, server.headers = "one-alert", {}
        assert await board.poll_source(board.clients[0], slow_after=3600) is Outcome.IN_TIME
        assert status.answered and not status.busy and status.retry_after is None and status.error is None
    finally:
        await board.aclose()
        server.close()


async def test_an_answer_the_console_fails_to_read_makes_the_source_stale_not_still_fine(clock: SteppedClock) -> None:
    from tests.misbehaving import Misbehaving

    server = Misbehaving()
    server.mode = "one-alert"
    board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
    try:
        await board.poll_once()
        board.clients[0].answer = lambda *_: (_ for _ in ()).throw(IndexError("index out of range"))  # a bug
        clock.advance(5)
        [kept] = await board.poll_once()
        status = board.status["prod"]
        assert kept.stale and status.error == "prod: its answer was not read (IndexError: index out of range)"
    finally:
        await board.aclose()
        server.close()


async def narrowed_poll(board: Board, *matchers: SilenceMatcher) -> None:
    await board.poll_source(board.clients[0], matchers=matchers)
    await board.merge()


def presence(board: Board, posted: dict) -> str:
    return board.sightings.presence(fingerprint(posted["labels"])).state


CRIT = SilenceMatcher("severity", "critical")


async def test_a_matcher_filter_asks_for_only_what_it_shows_and_for_every_alert_now_and_then(
    sim: SimServer, clock: SteppedClock
) -> None:
    x, y = alert("X", "critical", service="a"), alert("Y", "warning", service="b")
    sim.store.post_alerts([x, y])
    board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock, whole_every=3600)
    try:
        assert board.asks_whole("prod", [CRIT])  # nothing known yet: the first answer is whole
        await narrowed_poll(board, CRIT)
        assert alerts_asked(sim) == [{}] and board.narrowed("prod") == ()
        sim.store.resolve(x["labels"])
        sim.store.post_alerts([alert("Z", "critical", service="c"), alert("W", "warning", service="d")])
        clock.advance(2)
        await narrowed_poll(board, CRIT)
        assert alerts_asked(sim)[-1] == {"filter": ['severity="critical"']} and board.narrowed("prod") == (CRIT,)
        # what it matches is as Alertmanager says now; the rest as its last whole answer said
        assert sorted(a.name for a in board.alerts) == ["Y", "Z"]
        assert presence(board, y) == "firing"  # as of the whole answer
        gone = board.sightings.presence(fingerprint(x["labels"]))  # the narrowed answer speaks for what it matches
        assert gone.state == "resolved" and "absent from prod's answer" in gone.reason
        board.whole_every = 0  # a whole answer is due: W, which the filter does not match, is seen
        await narrowed_poll(board, CRIT)
        assert alerts_asked(sim)[-1] == {} and sorted(a.name for a in board.alerts) == ["W", "Y", "Z"]
        board.whole_every = 3600
        await narrowed_poll(board)  # the filter cleared: whole again
        assert alerts_asked(sim)[-1] == {} and board.narrowed("prod") == ()
    finally:
        await board.aclose()


async def test_a_filter_that_changes_asks_for_every_alert_before_it_narrows_again(
    sim: SimServer, clock: SteppedClock
) -> None:
    """X fired after the last whole answer and was seen by a narrowed one; the filter then
    leaves it out. That whole answer, older than X, must not be what says X is gone."""
    db = SilenceMatcher("team", "db")
    sim.store.post_alerts([alert("Web", "critical", team="web")])
    board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock, whole_every=3600)
    try:
        await narrowed_poll(board, db)
        x = alert("X", "warning", team="db")
        sim.store.post_alerts([x])
        clock.advance(2)
        await narrowed_poll(board, db)
        assert alerts_asked(sim)[-1] == {"filter": ['team="db"']} and presence(board, x) == "firing"
        clock.advance(2)
        await narrowed_poll(board, db, CRIT)  # typed on: severity=critical too
        assert alerts_asked(sim)[-1] == {} and presence(board, x) == "firing"  # whole, not narrowed
        clock.advance(2)
        await narrowed_poll(board, db, CRIT)
        assert alerts_asked(sim)[-1] == {"filter": ['team="db"', 'severity="critical"']}
        assert presence(board, x) == "firing"  # the whole answer that speaks for it now has it
    finally:
        await board.aclose()


async def test_a_narrowed_answer_from_another_process_is_set_aside_and_every_alert_asked_next(
    sim: SimServer, clock: SteppedClock
) -> None:
    """Replicas behind one URL: A restarted and was not sent Y yet, B (up since before) still
    has it. A narrowed answer from B says nothing of Y; were it read with A's whole answer, Y
    would be 'absent from B', resolved, though B holds it."""
    x, y = sent(alert("X", "critical")), sent(alert("Y", "warning"))
    sim.store.post_alerts([x, y])
    board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock, whole_every=3600)
    try:
        await narrowed_poll(board, CRIT)
        b_started = sim.store.started
        clock.advance(5)
        sim.store.restart()  # A, which forgot its alerts
        clock.advance(1)
        sim.store.post_alerts([x])  # Prometheus resends the critical one at once
        await narrowed_poll(board, CRIT)
        assert board.asks_whole("prod", [CRIT]) and board.status["prod"].restarts == 0  # set aside: not read
        assert presence(board, y) == "firing"  # as the last whole answer said
        await narrowed_poll(board, CRIT)
        assert alerts_asked(sim)[-1] == {}  # A's whole answer: Y is not there, within the grace
        held = board.sightings.presence(fingerprint(y["labels"]))
        assert held.state == "waiting" and held.reason == "not seen since prod restarted at 14:32:10 UTC"
        assert board.status["prod"].restarts == 1 and [(a.name, bool(a.held)) for a in board.alerts] == [
            ("X", False),
            ("Y", True),
        ]
        sim.store.started = b_started  # B answers the next narrowed question: it has Y, but Y is not asked of it
        sim.store.post_alerts([y])
        clock.advance(2)
        await narrowed_poll(board, CRIT)
        assert alerts_asked(sim)[-1] == {"filter": ['severity="critical"']}
        assert presence(board, y) == "waiting" and board.asks_whole("prod", [CRIT])
        await narrowed_poll(board, CRIT)  # B's whole answer
        assert alerts_asked(sim)[-1] == {} and presence(board, y) == "firing"
    finally:
        await board.aclose()


async def test_the_restart_grace_is_judged_when_the_whole_answer_was_asked_not_later(
    sim: SimServer, clock: SteppedClock
) -> None:
    """Y, which the filter does not match, is absent from a whole answer asked within the grace:
    narrowed answers after the grace say nothing of it, so it waits for the next whole one."""
    x, y = sent(alert("X", "critical")), sent(alert("Y", "warning"))
    sim.store.post_alerts([x, y])
    board = Board(
        [AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers],
        clock=clock,
        whole_every=3600,
        resend_grace=120,
    )
    try:
        await narrowed_poll(board, CRIT)
        clock.advance(1)
        sim.store.restart()
        sim.store.post_alerts([x])
        clock.advance(2)
        await narrowed_poll(board, CRIT)  # from another process than the whole answer's: set aside
        clock.advance(2)
        await narrowed_poll(board, CRIT)  # so every alert is asked for
        assert alerts_asked(sim)[-1] == {} and presence(board, y) == "waiting"
        clock.advance(125)  # past the grace
        await narrowed_poll(board, CRIT)
        assert alerts_asked(sim)[-1] == {"filter": ['severity="critical"']}
        assert presence(board, y) == "waiting"  # absent from an answer asked within it: no word since
        board.whole_every = 0
        await narrowed_poll(board, CRIT)
        gone = board.sightings.presence(fingerprint(y["labels"]))
        assert gone.state == "resolved" and gone.reason.startswith("not seen in the 2m since prod restarted")
    finally:
        await board.aclose()


async def test_an_alertmanager_that_refuses_to_filter_is_asked_for_every_alert(
    sim: SimServer, clock: SteppedClock
) -> None:
    """Another version may read the matchers otherwise and answer 400: that poll asks again for
    every alert at once (no stale source, no lost poll), and it is not asked to filter again."""
    from oncall_tui.sim.store import SimError

    sim.store.post_alerts([alert("X", "critical"), alert("Y", "warning")])
    answer = sim.store.get_alerts

    def strict(filters: list[str] | tuple[str, ...] = ()) -> list:
        if filters:
            raise SimError(400, 'bad matcher format: severity="critical"')
        return answer()

    sim.store.get_alerts = strict  # type: ignore[method-assign]
    board = Board([AlertmanagerClient(s) for s in make_config(sim.url).alertmanagers], clock=clock, whole_every=3600)
    try:
        await narrowed_poll(board, CRIT)
        clock.advance(2)
        assert await board.poll_source(board.clients[0], matchers=[CRIT]) is Outcome.IN_TIME
        await board.merge()
        assert alerts_asked(sim)[-2:] == [{"filter": ['severity="critical"']}, {}]
        matchers, why = board.filter_refused["prod"]
        assert matchers == (CRIT,) and "HTTP 400" in why and not board.status["prod"].stale
        assert board.narrowed("prod") == () and board.asks_whole("prod", [CRIT])  # read as the whole answer it is
        assert sorted(a.name for a in board.alerts) == ["X", "Y"] and not board.asks_whole("prod", [])
        sim.store.resolve(alert("Y", "warning")["labels"])
        clock.advance(2)
        await narrowed_poll(board, CRIT)  # whole again (for these matchers): Y gone, as every alert shows
        assert alerts_asked(sim)[-1] == {} and presence(board, alert("Y", "warning")) == "resolved"
    finally:
        await board.aclose()


async def test_a_restart_while_the_alerts_are_written_does_not_make_the_new_process_their_witness(
    clock: SteppedClock,
) -> None:
    """Alertmanager restarts between writing its alerts and the status that follows: the alerts
    are the old process's. Taken as the new one's, the next answer (the new process, which
    forgot them) would say they are gone: resolved, though only forgotten."""
    store = SimAlertmanager(clock=clock)
    armed = [False]

    def restart_after_the_alerts() -> None:
        asked = [target for _, target in server.asked]
        if armed[0] and asked[-1] == "/api/v2/status" and asked[-2].startswith("/api/v2/alerts"):
            armed[0] = False
            store.restart()

    x = alert("X", "critical")
    store.post_alerts([x])
    with SimServer(store, before_request=restart_after_the_alerts) as server:
        board = Board([AlertmanagerClient(s) for s in make_config(server.url).alertmanagers], clock=clock)
        try:
            await board.poll_once()
            clock.advance(5)
            armed[0] = True
            await board.poll_once()  # X, from the process before; the status after, the new one's
            assert not armed[0] and board.status["prod"].uptime_error.startswith(
                "prod: its start changed during the poll"
            )
            clock.advance(2)
            await board.poll_once()  # the new process: X not sent to it yet
            held = board.sightings.presence(fingerprint(x["labels"]))
            assert held.state == "waiting" and held.reason == "not seen since prod restarted at 14:32:10 UTC"
            assert board.status["prod"].restarts == 1  # the header says it restarted, too
        finally:
            await board.aclose()


def test_alerts_sorted_from_their_last_order_come_out_as_sorted_afresh() -> None:
    """`merge` sorts from the order the alerts last had (fast, nearly sorted): whatever that
    order was, with alerts gone from it and new ones not in it, the result is the same."""
    import random
    from datetime import UTC, datetime

    from oncall_tui.core.alerts.board import merge
    from oncall_tui.core.alerts.models import Alert

    rng = random.Random(3)
    at = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

    def made(n: int) -> Alert:
        severity = rng.choice(["critical", "warning", "info", "page", ""])
        started = at - timedelta(minutes=rng.randrange(5))  # many alike: the name, then the fingerprint decide
        return Alert(
            f"{n:04x}", {"alertname": rng.choice("ABC"), "severity": severity}, {}, started, None, "", "active"
        )

    now = [made(n) for n in range(300)]
    before = [*rng.sample(now, 200), *(made(n) for n in range(300, 340))]  # some gone since, some new now
    fresh = merge([("prod", list(now), False)])
    for made_now in now:
        made_now.sources = ()  # as fresh from the source again
    assert [a.fingerprint for a in merge([("prod", now, False)], before)] == [a.fingerprint for a in fresh]
    assert sorted(a.order for a in fresh) == [a.order for a in fresh]
