"""The console asks Alertmanager for only what the view shows (its `filter` parameter) when
the `/` filter is made of label matchers, never for free text, and for every alert when the
filter is cleared (and now and then: see tests/unit/test_board.py)."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import oncall_app
from tests.conftest import SteppedClock, alert, make_config, until
from tests.contracts import alerts_asked


async def test_a_matcher_filter_is_asked_of_alertmanager_and_free_text_is_not(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    crit = alert("HighErrorRate", "critical", service="ml-api")
    sim.store.post_alerts([crit, alert("SLOBurn", "critical", service="search"), alert("DiskWillFill", "warning")])
    config = make_config(sim.url, data_dir=str(tmp_path / "data"), alerts={"full_poll_interval": "1h"})
    app = oncall_app(config, clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        board, pane = app.services.board, app.main.alerts
        await until(lambda: len(board.alerts) == 3, what="the alerts")
        await pilot.press("/", *"severity=critical", "enter")
        await until(lambda: {"filter": ['severity="critical"']} in alerts_asked(sim), what="a narrowed poll")
        sim.store.post_alerts([alert("HighLatency", "warning", service="search")])  # not what the filter shows
        sim.store.resolve(crit["labels"])
        # only a narrowed answer can say this: no answer with every alert comes within the hour
        await until(lambda: [a.name for a in board.alerts] == ["SLOBurn", "DiskWillFill"], what="the resolution")
        await until(lambda: [a.name for a in pane.list.alerts] == ["SLOBurn"], what="the list")
        await until(lambda: "shown 1 of 2" in str(pane.title.render()), what="the title")  # of every alert known
        await pilot.press("escape")  # cleared: every alert is asked for, the warning with them
        await until(lambda: len(board.alerts) == 3 and alerts_asked(sim)[-1] == {}, what="every alert")
        await pilot.press("/", *"search", "enter")  # free text: matched here, nothing sent
        sim.forget_asked()
        await until(lambda: len(alerts_asked(sim)) >= 4, what="polls")
        assert alerts_asked(sim)[1:] == [{}] * (len(alerts_asked(sim)) - 1)  # (the first may have been on its way)
        await until(lambda: [a.name for a in pane.list.alerts] == ["SLOBurn", "HighLatency"], what="the list")
