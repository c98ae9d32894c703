"""Two consoles on one data dir escalating the same incident at once: the first claims it while
its page goes out, the second sends nothing and is told why; a claim left by a console that
died lets go after CLAIM_TTL."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.core.config import AlertmanagerSource
from oncall_tui.core.incidents.desk import CLAIM_TTL, IncidentDesk, IncidentError, NotPagedError
from oncall_tui.core.incidents.timeline import format_ts
from oncall_tui.core.paging.pagers import AlertmanagerPager
from tests.conftest import SteppedClock, until
from tests.misbehaving import Misbehaving


@pytest.fixture
def slow_am() -> Misbehaving:
    server = Misbehaving()
    server.mode = "accept"  # anything but the named modes answers 200
    yield server
    server.close()


def _desk(tmp_path: Path, actor: str, url: str, clock: SteppedClock) -> IncidentDesk:
    pager = AlertmanagerPager([AlertmanagerSource(name="prod", url=url, timeout=30)], "prod", 60)
    return IncidentDesk(tmp_path / "data", actor, pager=pager, clock=clock).load()


async def test_a_second_console_sends_nothing_while_the_first_is_paging(
    tmp_path: Path, slow_am: Misbehaving, clock: SteppedClock
) -> None:
    alice = _desk(tmp_path, "alice", slow_am.url, clock)
    incident = alice.declare("ml-api returns 5xx")
    bob = _desk(tmp_path, "bob", slow_am.url, clock)
    slow_am.mode = "hang"  # alice's page is under way until released
    outcome: list[BaseException | None] = []

    def alice_escalates() -> None:
        try:
            alice.escalate(incident.id, ["dana"], last_level=3, to_level=2)
        except IncidentError as error:
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=alice_escalates)
    thread.start()
    claim = tmp_path / "data" / "incidents" / f".{incident.id}.escalating"
    await until(claim.exists, what="alice's claim")
    with pytest.raises(IncidentError) as refused:
        await asyncio.to_thread(bob.escalate, incident.id, ["dana"], last_level=3, to_level=2)
    assert str(refused.value) == (
        f"alice is escalating {incident.id} now (since {clock.now:%H:%M:%S} UTC): nothing was sent; look again in a moment"
    )
    assert [e.kind for e in bob.get(incident.id).events] == ["incident.declared"]  # bob recorded nothing

    slow_am.release.set()  # the hung post ends without an answer: alice's page was not accepted
    thread.join(30)
    assert isinstance(outcome[0], NotPagedError) and not claim.exists()
    slow_am.mode = "accept"
    event = await asyncio.to_thread(bob.escalate, incident.id, ["dana"], 3, 2)  # the claim is free again
    assert event.summary == "Escalated to level 2: page for dana accepted by Alertmanager prod"
    with pytest.raises(IncidentError, match=r"is at level 2 now \(escalated meanwhile\): nothing was sent"):
        await asyncio.to_thread(alice.escalate, incident.id, ["dana"], 3, 2)


@pytest.mark.parametrize(("age", "taken"), [(CLAIM_TTL - 10, False), (CLAIM_TTL + 1, True)])
def test_a_claim_left_by_a_dead_console_lets_go_after_its_ttl(
    tmp_path: Path, slow_am: Misbehaving, clock: SteppedClock, age: float, taken: bool
) -> None:
    alice = _desk(tmp_path, "alice", slow_am.url, clock)
    incident = alice.declare("ml-api returns 5xx")
    claim = tmp_path / "data" / "incidents" / f".{incident.id}.escalating"
    left = {"by": "carol", "at": format_ts(clock.now - timedelta(seconds=age)), "token": "dead", "pid": 1}
    claim.write_text(json.dumps(left))  # carol's console was killed -9 while it paged
    if taken:
        assert alice.escalate(incident.id, ["dana"], last_level=3).data["level"] == 2
        assert not claim.exists()
    else:
        with pytest.raises(IncidentError, match=rf"^carol is escalating {incident.id} now"):
            alice.escalate(incident.id, ["dana"], last_level=3)
        assert claim.exists()
