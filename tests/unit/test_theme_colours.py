"""Every severity has its own colour in every built-in theme: a warning never looks like info."""

from __future__ import annotations

import re

import pytest
from textual.app import App

from oncall_tui.ui.widgets.alert_list import AlertList

SEVERITIES = ("critical", "warning", "info", "other")


def severity_variables() -> dict[str, str]:
    """The theme variable each severity's colour is, as the alert list's CSS says."""
    found = {}
    for severity in SEVERITIES:
        rule = re.search(rf"\.alert-list--{severity} {{ color: \$([a-z-]+);", AlertList.DEFAULT_CSS)
        assert rule is not None, f"no colour for {severity}"
        found[severity] = rule.group(1)
    return found


@pytest.mark.parametrize("theme", sorted(App().available_themes))
def test_every_severity_is_its_own_colour(theme: str) -> None:
    colours = App().available_themes[theme].to_color_system().generate()
    drawn = {severity: colours[variable] for severity, variable in severity_variables().items()}
    assert len(set(drawn.values())) == len(SEVERITIES), f"{theme}: {drawn}"
