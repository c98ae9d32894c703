"""The console asks Alertmanager for only what the view shows (its `filter` parameter) when
the `/` filter is made of label matchers, never for free text, and for every alert now and
then all the same, so what the filter hides is still followed."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import oncall_app
from tests.conftest import SteppedClock, alert, make_config, until
from tests.contracts import require_contracts, validate_query


def alerts_asked(sim: SimServer) -> list[dict[str, list[str]]]:
    """The query of each GET of the alerts, oldest first, each checked against the contract."""
    return [validate_query(m, target) for m, target in sim.asked if m == "GET" and "/api/v2/alerts" in target]


async def test_a_matcher_filter_is_asked_of_alertmanager_and_free_text_is_not(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    require_contracts()
    sim.store.post_alerts(
        [alert("HighErrorRate", "critical", service="ml-api"), alert("DiskWillFill", "warning", instance="db-1")]
    )
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), alerts={"full_poll_interval": "2s"})
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        board, pane = app.services.board, app.main.alerts
        await until(lambda: len(board.alerts) == 2, what="the alerts")
        await pilot.press("/", *"severity=critical", "enter")
        await until(lambda: {"filter": ['severity="critical"']} in alerts_asked(sim), what="a narrowed poll")
        assert [a.name for a in pane.list.alerts] == ["HighErrorRate"]
        assert "shown 1 of 2" in str(pane.title.render())  # of every alert: the whole answer's stand
        sim.store.post_alerts([alert("HighLatency", "warning", service="search")])  # not what the filter shows:
        await until(lambda: len(board.alerts) == 3, what="the whole answer")  # seen when every alert is asked for
        asked = alerts_asked(sim)
        assert {} in asked[asked.index({"filter": ['severity="critical"']}) :]
        assert "shown 1 of 3" in str(pane.title.render())
        await pilot.press("escape", "/", *"ml-api", "enter")  # free text: matched here, nothing sent
        sim.forget_asked()
        await until(lambda: len(alerts_asked(sim)) >= 4, what="polls")
        assert alerts_asked(sim)[1:] == [{}] * (len(alerts_asked(sim)) - 1)  # (the first may have been on its way)
        assert [a.name for a in pane.list.alerts] == ["HighErrorRate"]
