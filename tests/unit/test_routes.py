"""Alertmanager's routing tree, walked as Alertmanager walks it, for `check`'s paging line."""

from __future__ import annotations

import pytest

from oncall_tui.cli import _page_routes
from oncall_tui.core.alerts.routes import Destination, RouteError, destinations
from tests.conftest import make_config

GUIDE = """
route:
  receiver: "null"
  routes:
    - matchers: ['alertname="OncallPage"', 'severity="critical"']
      receiver: pagerduty
      continue: true
      routes:
        - match: {oncall: dana}
          receiver: dana-sms
    - match_re: {alertname: "Oncall.*"}
      receiver: slack-critical
    - matchers: ['severity=~"warn.*"']
      receiver: slack-warnings
receivers:
  - name: "null"
  - name: pagerduty
    pagerduty_configs: [{routing_key: <secret>}]
  - name: dana-sms
    webhook_configs: [{url: "http://sms.example/dana"}]
  - name: slack-critical
    slack_configs: [{channel: "#oncall", api_url: "http://slack.example/hook"}]
  - name: slack-warnings
    slack_configs: [{channel: "#alerts", api_url: "http://slack.example/hook"}]
"""


def page(person: str, severity: str = "critical") -> dict[str, str]:
    return {"alertname": "OncallPage", "oncall": person, "severity": severity, "level": "2"}


def test_a_child_takes_the_alert_and_continue_lets_the_next_take_it_too() -> None:
    assert destinations(GUIDE, page("erin")) == [
        Destination("pagerduty", ("pagerduty",)),
        Destination("slack-critical", ("slack",)),
    ]
    assert destinations(GUIDE, page("dana"))[0] == Destination("dana-sms", ("webhook",))  # the deepest match


def test_without_continue_the_first_match_stops_the_walk() -> None:
    # a warning page skips the first route, and the second (no continue) stops before the third
    assert destinations(GUIDE, page("erin", "warning")) == [Destination("slack-critical", ("slack",))]


def test_an_alert_no_route_takes_goes_to_the_root_receiver_which_may_send_nowhere() -> None:
    assert destinations(GUIDE, {"alertname": "Other", "severity": "info"}) == [Destination("null", ())]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("route: [", "its config is not YAML"),
        ("# nothing\n", "its config has no route"),
        ("route:\n  routes:\n    - matchers: ['a=~\"(\"']\n", "a route's matcher"),
        ("route:\n  routes:\n    - match_re: {oncall: '\\pL+'}\n", "a route's matchers cannot be tried here"),
    ],
)
def test_a_config_that_cannot_be_walked_says_why(text: str, error: str) -> None:
    with pytest.raises(RouteError, match=error):
        destinations(text, page("dana"))


CRITICAL_ONLY = """
route:
  receiver: "null"
  routes:
    - matchers: ['alertname="OncallPage"', 'severity="critical"']
      receiver: pagerduty
receivers:
  - name: "null"
  - name: pagerduty
    pagerduty_configs: [{routing_key: <secret>}]
"""


def test_check_fails_when_a_sev3_page_would_go_nowhere() -> None:
    config = make_config(
        "http://127.0.0.1:9",
        oncall={"escalation": [{"level": 3, "users": ["erin"]}, {"level": 1, "users": ["alice"]}]},  # unordered
        paging={"alertmanager": "prod"},
    )
    ok, line = _page_routes(config, "prod", CRITICAL_ONLY)
    assert not ok
    assert line.startswith("FAILED through Alertmanager prod: a warning page for erin (level 3) goes to null")
    ok, line = _page_routes(config, "prod", GUIDE)
    assert ok and line.startswith("ok through Alertmanager prod: pages for erin to pagerduty (pagerduty)")
