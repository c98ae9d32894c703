"""Escalation pages for real: the console posts its page to the real Alertmanager 0.25, whose
route delivers it to a webhook (what Slack or PagerDuty would be sent); acknowledging or
resolving delivers its resolution. A page Alertmanager did not accept is never "paged"."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.screen import ModalScreen

from oncall_tui.cli import run_check
from oncall_tui.core.alerts.models import parse_time
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError, NotPagedError
from oncall_tui.core.incidents.incident import Incident
from oncall_tui.core.incidents.timeline import format_ts
from oncall_tui.core.paging.pagers import AlertmanagerPager
from oncall_tui.core.timefmt import utc_now
from oncall_tui.ui.app import oncall_app
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.widgets.incident_view import describe
from tests.alertmanager_process import BINARY, RealAlertmanager
from tests.conftest import alert, make_config, notes, until
from tests.integration.conftest import _require
from tests.misbehaving import Misbehaving
from tests.webhook import WebhookReceiver, paging_config

CRIT = alert(
    "HighErrorRate", "critical", {"summary": "ml-api errors", "runbook_url": "high-error-rate.md"}, service="ml-api"
)
ESCALATION = {"escalation": [{"level": 1, "users": ["alice"]}, {"level": 2, "users": ["dana"]}]}


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def routed(tmp_path: Path, hook: WebhookReceiver) -> Iterator[RealAlertmanager]:
    """The real Alertmanager, routing OncallPage to the webhook."""
    _require(BINARY, "prometheus-alertmanager")
    am = (
        RealAlertmanager(tmp_path / "am", config=paging_config(hook.url)) if (tmp_path / "am").mkdir() is None else None
    )
    assert am is not None
    am.start()
    yield am
    am.stop()


def _config(url: str, tmp_path: Path, **overrides: object):
    return make_config(
        url, data_dir=str(tmp_path / "data"), oncall=ESCALATION, paging={"alertmanager": "prod"}, **overrides
    )


def _desk(config, actor: str, tmp_path: Path) -> IncidentDesk:
    pager = AlertmanagerPager(config.alertmanagers, "prod", config.paging.repost_interval)
    return IncidentDesk(tmp_path / "data", actor, pager=pager).load()


def test_a_page_is_delivered_and_its_acknowledgement_resolves_it(
    routed: RealAlertmanager, hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = _config(routed.url, tmp_path)
    alice = _desk(config, "alice", tmp_path)
    incident = alice.declare("ml-api returns 5xx", severity="SEV-2")
    event = alice.escalate(incident.id, ["dana"], last_level=2)

    firing = hook.wait_for("firing", alertname="OncallPage", oncall="dana")
    assert firing["labels"] == {
        "alertname": "OncallPage",
        "incident": incident.id,
        "level": "2",
        "oncall": "dana",
        "severity": "critical",
        "page": f"{incident.id}-{incident.uid}-L2-dana",
    }
    assert "Escalated to level 2 by alice" in firing["annotations"]["description"]
    assert event.summary == "Escalated to level 2: page for dana accepted by Alertmanager prod"
    [paged] = event.data["paged"]
    assert (paged["who"], paged["via"], paged["detail"]) == (["dana"], "alertmanager:prod", "accepted by prod")

    dana = _desk(config, "dana", tmp_path)  # dana's console, on the same journals
    ends, left = dana.acknowledging(dana.get(incident.id))  # what her a's question says
    assert [p.who for p in ends] == [("dana",)] and left == []
    ack = dana.acknowledge(incident.id)
    assert ack.summary == "Acknowledged (the level 2 page)" and ack.who == "dana"
    resolved = hook.wait_for("resolved", alertname="OncallPage", oncall="dana")
    assert resolved["labels"]["incident"] == incident.id
    ended = dana.get(incident.id).events[-1]
    assert (ended.kind, ended.who) == ("page.resolved", "oncall-tui (paging)")
    assert ended.summary == "Ended the page to dana (level 2) through Alertmanager prod: acknowledged by dana"
    assert not dana.get(incident.id).pages[paged["key"]].standing


def test_resolving_the_incident_resolves_its_page(
    routed: RealAlertmanager, hook: WebhookReceiver, tmp_path: Path
) -> None:
    desk = _desk(_config(routed.url, tmp_path), "alice", tmp_path)
    incident = desk.declare("ml-api returns 5xx", severity="SEV-3")
    desk.escalate(incident.id, ["dana"], last_level=2)
    assert hook.wait_for("firing", oncall="dana")["labels"]["severity"] == "warning"  # SEV-3 pages as a warning
    desk.resolve(incident.id, "rolled back")
    hook.wait_for("resolved", oncall="dana")
    assert [e.kind for e in incident.events][-2:] == ["incident.resolved", "page.resolved"]


def test_a_stopped_alertmanager_is_a_failure_on_the_record_and_no_page(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    desk = _desk(_config(routed.url, tmp_path), "alice", tmp_path)
    incident = desk.declare("ml-api returns 5xx")
    routed.stop()
    with pytest.raises(NotPagedError, match=r"^Not paged: dana through Alertmanager prod: prod: unreachable"):
        desk.escalate(incident.id, ["dana"], last_level=2)
    assert incident.escalation_level == 1 and not incident.pages  # the level is not claimed
    failed = incident.events[-1]
    assert (failed.kind, failed.who, failed.data["action"]) == ("incident.action_failed", "alice", "incident.escalated")
    assert "dana" in failed.data["page_error"] and "paged" not in failed.data
    assert incident.page_failure is failed


def test_a_400_is_a_failure_with_its_reason(tmp_path: Path) -> None:
    broken = Misbehaving()
    broken.mode = "status:400"
    try:
        desk = _desk(_config(broken.url, tmp_path), "alice", tmp_path)
        incident = desk.declare("ml-api returns 5xx")
        with pytest.raises(NotPagedError, match="HTTP 400 from /api/v2/alerts"):
            desk.escalate(incident.id, ["dana"], last_level=2)
        assert incident.escalation_level == 1 and incident.events[-1].kind == "incident.action_failed"
    finally:
        broken.close()


def test_escalating_past_the_last_level_is_refused(routed: RealAlertmanager, tmp_path: Path) -> None:
    desk = _desk(_config(routed.url, tmp_path), "alice", tmp_path)
    incident = desk.declare("ml-api returns 5xx")
    desk.escalate(incident.id, ["dana"], last_level=2)
    with pytest.raises(IncidentError, match="level 2 is the last escalation level: there is nobody further to page"):
        desk.escalate(incident.id, [], last_level=2)
    assert [e.kind for e in incident.events] == ["incident.declared", "incident.escalated"]


async def test_the_console_pages_shows_its_page_and_never_declares_from_it(
    routed: RealAlertmanager, hook: WebhookReceiver, tmp_path: Path
) -> None:
    routed.post_alerts([CRIT])
    config = _config(routed.url, tmp_path, incidents={"auto_declare": ["critical"]})
    app = oncall_app(config)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.services.desk.open_incidents(), what="the auto-declared incident")
        [incident] = app.services.desk.open_incidents()
        await until(lambda: incident.id in str(app.main.incident_pane.render()), what="the incident on screen")
        await pilot.press("e")  # (a key before the pane shows the incident is refused: it acts on what is seen)
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question").render())
        assert question == f"Page dana through Alertmanager prod (level 2) · {incident.id}?"
        await pilot.press("y")
        firing = await asyncio.to_thread(hook.wait_for, "firing", oncall="dana")
        assert firing["labels"]["incident"] == incident.id
        assert "Runbook: high-error-rate.md" in firing["annotations"]["description"]
        await until(
            lambda: incident.escalation_level == 2 and not app.main.incident_pane.pending,
            what="the escalation recorded",
        )
        assert "paged dana L2 through Alertmanager prod" in str(app.main.incident_pane.render())
        await pilot.press("q")  # quitting would let the page lapse: asked first, not done silently
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question").render())
        assert question == "1 standing page(s) end within 5m unless a console posts them:"
        assert f"dana (level 2, {incident.id})" in str(app.screen.query_one("#confirm-detail").render())
        await pilot.press("escape")

        # the page comes back in the alert list: shown as a page of its incident, and nothing declared from it
        await until(lambda: any(a.is_page for a in app.main.alert_list.alerts), what="the page in the alert list")
        [page] = [a for a in app.main.alert_list.alerts if a.is_page]
        row = app.main.alert_list.render_alert(page, 120).plain
        assert "page L2 dana" in row and incident.id in row
        assert " · pages 1" in str(app.main.alerts.title.render())  # counted apart from the firing alerts
        await until(
            lambda: app.services.follower is not None and len(app.services.board.alerts) == 2, what="both alerts merged"
        )
        app.main.action_refresh_now()
        await pilot.pause()
        assert len(app.services.desk.incidents) == 1  # a critical page declared no second incident
        assert page.fingerprint not in incident.alerts

        def selected(alert) -> bool:
            return alert is not None and alert.fingerprint == page.fingerprint

        app.main.alert_list.action_jump(next(i for i, a in enumerate(app.main.alert_list.alerts) if selected(a)))
        await until(lambda: selected(app.main.alert_list.current), what="the page selected")
        await pilot.press("s")  # silencing it would stop the paging off the record
        assert not isinstance(app.screen, ModalScreen)
        assert any(n.startswith(f"Not silenced: it is oncall-tui's page to dana for {incident.id}") for n in notes(app))
        await until(lambda: selected(app.main.runbook_pane.alert), what="the page's runbook shown")
        await pilot.press("r")  # its labels are the page's, not the alert's: a step would run on the wrong ones
        assert not isinstance(app.screen, ModalScreen)
        assert any(n.startswith("Not run: this is an oncall-tui page") for n in notes(app))

        await pilot.press("a")  # alice was not paged: her acknowledgement leaves dana's page standing, and says so
        assert isinstance(app.screen, ConfirmScreen)
        detail = str(app.screen.query_one("#confirm-detail").render())
        assert detail == "Still paging (until they press a, or R resolves): dana L2."
        await pilot.press("escape")
        await pilot.press("R")
        label = str(app.screen.query_one("#prompt-label").render())
        assert label == "Resolution, in one line (ends the page(s) to dana L2). 1 of its 1 alert(s) still fire"
        await pilot.press(*"rolled back", "enter")
        await asyncio.to_thread(hook.wait_for, "resolved", oncall="dana")
        await until(lambda: incident.events[-1].kind == "page.resolved", what="the page's end recorded")


def test_a_standing_page_is_posted_again_and_a_late_post_is_ended_again(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    offset = [0.0]

    def clock() -> datetime:  # Alertmanager reads endsAt on its own (real) clock: step from now
        return utc_now() + timedelta(seconds=offset[0])

    config = _config(routed.url, tmp_path)
    pager = AlertmanagerPager(config.alertmanagers, "prod", 60.0)
    desk = IncidentDesk(tmp_path / "data", "alice", pager=pager, clock=clock).load()
    incident = desk.declare("ml-api returns 5xx")
    desk.escalate(incident.id, ["dana"], last_level=2)

    def ends_at() -> datetime | None:
        found = [
            a for a in httpx.get(f"{routed.url}/api/v2/alerts", timeout=5).json() if a["labels"].get("oncall") == "dana"
        ]
        return parse_time(found[0]["endsAt"], "endsAt") if found else None

    first = ends_at()
    assert first is not None and 290 <= (first - utc_now()).total_seconds() <= 300  # five repost intervals
    posted: dict[str, datetime] = {}
    assert desk.keep_pages(posted) == []  # a console that just started posts every standing page at once
    offset[0] = 30.0
    desk.keep_pages(posted)
    assert abs((ends_at() - first).total_seconds()) < 2  # not due yet: not posted again
    offset[0] = 61.0
    desk.keep_pages(posted)
    assert 59 <= (ends_at() - first).total_seconds() <= 63  # posted again: it ends a minute later

    other = IncidentDesk(tmp_path / "data", "dana", pager=pager, clock=lambda: utc_now()).load()
    other.acknowledge(incident.id)  # dana's console ends the page...
    assert ends_at() is None
    [key] = incident.pages
    assert key in posted  # this console had posted it: a post of it that was under way lands after the end
    routed.post_alerts([{**incident.pages[key].body, "endsAt": format_ts(utc_now() + timedelta(minutes=5))}])
    assert ends_at() is not None  # dana is being paged again, though her page is ended on the record
    offset[0] = 0.0  # the console's clock agrees with Alertmanager's again (the end is posted as "now")
    assert desk.keep_pages(posted) == []
    assert ends_at() is None and key not in posted  # ended once more, and no longer posted
    assert desk.keep_pages(posted) == []  # and nothing more is sent for it
    assert [e.kind for e in desk.get(incident.id).events].count("page.resolved") == 1


def test_a_page_that_cannot_be_ended_is_said_once_and_ended_when_alertmanager_is_back(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    desk = _desk(_config(routed.url, tmp_path), "dana", tmp_path)
    incident = desk.declare("ml-api returns 5xx")
    desk.escalate(incident.id, ["dana"], last_level=2)
    routed.stop()
    desk.acknowledge(incident.id)  # recorded: dana did acknowledge; the page's end is what failed
    kinds = [e.kind for e in incident.events]
    assert kinds[-2:] == ["incident.acknowledged", "incident.action_failed"]
    failed = incident.events[-1]
    assert failed.who == "oncall-tui (paging)" and failed.summary.startswith("Failed to end the page to dana (level 2)")
    posted: dict[str, datetime] = {}
    [problem] = desk.keep_pages(posted)
    assert problem.startswith(
        f"{incident.id}: the page to dana (level 2) through Alertmanager prod is still standing: "
    )
    assert [e.kind for e in incident.events] == kinds  # retried, not recorded again
    routed.start()
    assert desk.keep_pages(posted) == []
    assert incident.events[-1].kind == "page.resolved" and not any(p.standing for p in incident.pages.values())


def test_check_says_whether_pages_have_a_route(routed: RealAlertmanager, tmp_path: Path, capsys) -> None:
    config = _config(routed.url, tmp_path)
    run_check(tmp_path / "config.yaml", config)
    assert (
        "paging  ok through Alertmanager prod: pages for dana to pages (webhook) (routes walked, nothing sent)"
        in capsys.readouterr().out
    )
    routed.stop()
    assert run_check(tmp_path / "config.yaml", config) == 1
    assert (
        "paging  FAILED through Alertmanager prod, which did not answer: nobody could be paged now"
        in capsys.readouterr().out
    )


def _paged_on_a_stepped_clock(routed: RealAlertmanager, tmp_path: Path) -> tuple[IncidentDesk, Incident, list, dict]:
    """alice's console, its clock `offset[0]` seconds ahead, has paged dana and posted it once."""
    offset = [0.0]
    config = _config(routed.url, tmp_path)
    pager = AlertmanagerPager(config.alertmanagers, "prod", 60.0)
    desk = IncidentDesk(tmp_path / "data", "alice", pager=pager, clock=lambda: utc_now() + timedelta(seconds=offset[0]))
    incident = desk.load().declare("ml-api returns 5xx")
    desk.escalate(incident.id, ["dana"], last_level=2)
    posted: dict[str, datetime] = {}
    assert desk.keep_pages(posted) == []
    return desk, incident, offset, posted


def test_a_page_not_posted_again_in_time_lapses_on_the_record(routed: RealAlertmanager, tmp_path: Path) -> None:
    desk, incident, offset, posted = _paged_on_a_stepped_clock(routed, tmp_path)
    routed.stop()  # the console cannot post it again...
    offset[0] = 120.0
    [problem] = desk.keep_pages(posted)
    assert "was not posted again: prod: unreachable" in problem and incident.events[-1].kind == "incident.escalated"
    offset[0] = 301.0  # ...past the endsAt of its last post: Alertmanager has ended it by itself
    problems = desk.keep_pages(posted)
    lapsed = incident.events[-1]
    assert (lapsed.kind, lapsed.who) == ("page.lapsed", "oncall-tui (paging)") and len(problems) == 1
    assert "may have lapsed at " in lapsed.summary and incident.pages[lapsed.data["key"]].lapsed
    desk.keep_pages(posted)
    assert [e.kind for e in incident.events].count("page.lapsed") == 1  # once, however long it stays down
    routed.start()
    assert desk.keep_pages(posted) == []
    assert incident.events[-1].kind == "page.reposted" and not incident.pages[lapsed.data["key"]].lapsed


def test_a_page_that_lapsed_while_no_console_ran_is_recorded_before_it_is_posted_again(
    routed: RealAlertmanager, hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = _config(routed.url, tmp_path)
    alice = _desk(config, "alice", tmp_path)
    incident = alice.declare("ml-api returns 5xx")
    alice.escalate(incident.id, ["dana"], last_level=2)
    hook.wait_for("firing", alertname="OncallPage", oncall="dana")
    assert _desk(config, "alice", tmp_path).keep_pages({}) == []  # a console that starts: the page is there
    assert incident.events[-1].kind == "incident.escalated"  # nothing to say of it

    routed.stop()  # a restart forgets alerts, as a lapse while no console ran ends them
    routed.start()
    restarted = _desk(config, "alice", tmp_path)
    assert restarted.keep_pages({}) == []
    kinds = [e.kind for e in restarted.get(incident.id).events]
    assert kinds[-2:] == ["page.lapsed", "page.reposted"]  # found ended, then paged afresh: both said
    lapsed = restarted.get(incident.id).events[-2]
    assert lapsed.who == "oncall-tui (paging)" and "was gone from Alertmanager prod when this console" in lapsed.summary
    pages = [a for a in routed.alerts() if a["labels"].get("oncall") == "dana"]
    assert len(pages) == 1 and pages[0]["status"]["state"] == "active"  # it stands again
    assert _desk(config, "bob", tmp_path).keep_pages({}) == []  # another console finds it standing
    assert [e.kind for e in restarted.get(incident.id).events] == kinds


def _lapsed_while_down(routed: RealAlertmanager, tmp_path: Path) -> tuple[IncidentDesk, str]:
    """alice's page, recorded as lapsed while Alertmanager was down; her console then quits."""
    desk, incident, offset, posted = _paged_on_a_stepped_clock(routed, tmp_path)
    routed.stop()
    offset[0] = 301.0
    desk.keep_pages(posted)
    assert incident.events[-1].kind == "page.lapsed"
    return desk, incident.id


def test_a_page_on_the_record_as_lapsed_is_back_on_the_record_when_a_new_console_posts_it(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    _, incident_id = _lapsed_while_down(routed, tmp_path)
    routed.start()
    restarted = _desk(_config(routed.url, tmp_path), "alice", tmp_path)
    assert restarted.keep_pages({}) == []
    incident = restarted.get(incident_id)
    assert incident.events[-1].kind == "page.reposted" and not any(p.lapsed for p in incident.pages.values())
    assert [e.kind for e in incident.events].count("page.lapsed") == 1  # not found "gone" a second time


def _paged_then_alertmanager_stopped(routed: RealAlertmanager, tmp_path: Path) -> tuple[Any, Incident]:
    """alice pages dana, then Alertmanager stops and alice's console goes: nobody posts the page."""
    config = _config(routed.url, tmp_path)
    alice = _desk(config, "alice", tmp_path)
    incident = alice.declare("ml-api returns 5xx")
    alice.escalate(incident.id, ["dana"], last_level=2)
    routed.stop()
    return config, incident


def test_a_console_that_starts_while_alertmanager_is_down_asks_again_once_it_answers(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    config, incident = _paged_then_alertmanager_stopped(routed, tmp_path)
    console = _desk(config, "bob", tmp_path)
    posted: dict[str, datetime] = {}
    [problem] = console.keep_pages(posted)
    assert "was not posted again: prod: unreachable" in problem
    assert console.get(incident.id).events[-1].kind == "incident.escalated"  # nothing known: nothing said
    routed.start()  # it forgot the page: it is gone
    assert console.keep_pages(posted) == []
    lapsed, back = console.get(incident.id).events[-2:]
    assert (lapsed.kind, back.kind) == ("page.lapsed", "page.reposted")
    assert "was gone from Alertmanager prod when this console first reached it" in lapsed.summary


def test_a_console_keeps_the_pages_of_incidents_declared_after_it_started(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    config = _config(routed.url, tmp_path)
    keeper = _desk(config, "alice", tmp_path)  # running before the incident exists
    bob = _desk(config, "bob", tmp_path)
    incident = bob.declare("ml-api returns 5xx")
    posted: dict[str, datetime] = {}
    assert keeper.keep_pages(posted) == [] and posted == {}  # alice's console reads it: nothing to keep yet
    bob.escalate(incident.id, ["dana"], last_level=2)  # and bob's console quits
    assert keeper.keep_pages(posted) == []
    assert list(posted) == list(bob.get(incident.id).pages)  # alice's console posts it from now on


def test_a_page_this_console_never_managed_to_post_may_lapse_on_the_record(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    config, incident = _paged_then_alertmanager_stopped(routed, tmp_path)
    offset = [0.0]
    pager = AlertmanagerPager(config.alertmanagers, "prod", 60.0)
    bob = IncidentDesk(tmp_path / "data", "bob", pager=pager, clock=lambda: utc_now() + timedelta(seconds=offset[0]))
    posted: dict[str, datetime] = {}
    bob.load().keep_pages(posted)  # it cannot reach Alertmanager: nothing known, nothing said
    assert bob.get(incident.id).events[-1].kind == "incident.escalated"
    offset[0] = 301.0
    bob.keep_pages(posted)
    lapsed = bob.get(incident.id).events[-1]
    assert lapsed.kind == "page.lapsed" and "may have lapsed at " in lapsed.summary
    assert "this console has not posted it since " in lapsed.summary


def test_a_lapsed_page_its_person_acknowledged_is_no_longer_a_red_line(
    routed: RealAlertmanager, tmp_path: Path
) -> None:
    _, incident_id = _lapsed_while_down(routed, tmp_path)
    dana = _desk(_config(routed.url, tmp_path), "dana", tmp_path)
    assert "dana L2 may not be paged" in str(describe(dana.get(incident_id), (1, 1), utc_now()))
    dana.acknowledge(incident_id)  # Alertmanager is still down: the page's end waits
    shown = str(describe(dana.get(incident_id), (1, 1), utc_now()))
    assert "may not be paged" not in shown and "paged dana L2 (acked)" in shown
