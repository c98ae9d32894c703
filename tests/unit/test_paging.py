"""The Alertmanager pager's faults, without an Alertmanager: each is a PagingError of one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncall_tui.core.config import AlertmanagerSource
from oncall_tui.core.paging.pagers import AlertmanagerPager, Page, PageRequest, PagingError
from oncall_tui.sim.server import SimServer
from tests.conftest import SteppedClock

REQUEST = PageRequest(
    "INC-20261127-0001", "3fa2b1c0", "ml-api returns 5xx", "SEV-2", 2, ("dana", "erin"), "alice", "rb.md"
)


def test_one_page_per_person_labelled_for_the_routes() -> None:
    pager = AlertmanagerPager([AlertmanagerSource(name="prod", url="http://127.0.0.1:9")], "prod", 60)
    dana, erin = pager.plan(REQUEST)
    # the journal's own part: another data dir's INC-20261127-0001 is another page
    assert (dana.key, erin.key) == ("INC-20261127-0001-3fa2b1c0-L2-dana", "INC-20261127-0001-3fa2b1c0-L2-erin")
    assert dana.body["labels"] == {
        "alertname": "OncallPage",
        "incident": "INC-20261127-0001",
        "level": "2",
        "oncall": "dana",
        "severity": "critical",
        "page": "INC-20261127-0001-3fa2b1c0-L2-dana",
    }
    assert dana.body["annotations"]["runbook_url"] == "rb.md"


def test_a_cluster_is_paged_on_every_member_and_accepted_by_one(tmp_path: Path, clock: SteppedClock) -> None:
    sources = [
        AlertmanagerSource(name="a", url="http://127.0.0.1:9", cluster="eu"),  # nothing listens on port 9
        AlertmanagerSource(name="b", url="http://127.0.0.1:9", cluster="eu"),
        AlertmanagerSource(name="dr", url="http://127.0.0.1:9"),
    ]
    pager = AlertmanagerPager(sources, "a", 60)
    assert [s.name for s in pager.sources] == ["a", "b"]
    with pytest.raises(PagingError) as failed:
        pager.send(pager.plan(REQUEST)[0], clock())
    assert str(failed.value).startswith("a: unreachable") and "; b: unreachable" in str(failed.value)


def test_a_ca_bundle_that_cannot_be_read_is_a_paging_error(tmp_path: Path, clock: SteppedClock) -> None:
    source = AlertmanagerSource(name="prod", url="https://127.0.0.1:9", ca_bundle=tmp_path / "missing.pem")
    pager = AlertmanagerPager([source], "prod", 60)
    with pytest.raises(PagingError, match=r"^alertmanagers prod: ca_bundle: cannot use .*missing.pem"):
        pager.send(pager.plan(REQUEST)[0], clock())


def test_an_end_must_reach_every_member_of_the_cluster(sim: SimServer, clock: SteppedClock) -> None:
    sources = [
        AlertmanagerSource(name="a", url=sim.url, cluster="eu"),
        AlertmanagerSource(name="b", url="http://127.0.0.1:9", cluster="eu"),  # down: it would keep paging
    ]
    pager = AlertmanagerPager(sources, "a", 60)
    outgoing = pager.plan(REQUEST)[0]
    assert pager.send(outgoing, clock()) == "accepted by a"  # a page needs one member
    page = Page(outgoing.key, 2, outgoing.who, pager.via, pager.how, clock(), outgoing.body)
    with pytest.raises(PagingError, match=r"^b: unreachable"):
        pager.close(page, "resolve", clock())  # an end needs them all: retried until b takes it too
