"""Where an Alertmanager would send an alert: its routing tree walked as Alertmanager walks it
(`amtool config routes test`), from the config its status gives (`config.original`).

A route matches when all its matchers do (`matchers`, and the older `match` and `match_re`);
its first matching child takes the alert, and so does each later matching child while the
one before says `continue: true`; a route no child takes handles the alert itself with its
receiver (inherited when it names none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from oncall_tui.core.alerts.matchers import MatcherError, matches_all, parse_matcher_list
from oncall_tui.core.alerts.models import SilenceMatcher


class RouteError(ValueError):
    """The config could not be read as Alertmanager's; `str()` says why, in one line."""


@dataclass(frozen=True, slots=True)
class Destination:
    """A receiver an alert would reach, and what it would be sent through."""

    receiver: str
    integrations: tuple[str, ...]
    """`slack`, `pagerduty`, `webhook`, …: none means nobody is told."""


def destinations(config_text: str, labels: dict[str, str]) -> list[Destination]:
    """The receivers Alertmanager would send an alert with `labels` to. Raises RouteError."""
    try:
        config = yaml.safe_load(config_text)
    except yaml.YAMLError as error:
        raise RouteError(f"its config is not YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(config, dict) or not isinstance(config.get("route"), dict):
        raise RouteError("its config has no route")
    receivers = {
        str(r.get("name")): tuple(
            sorted(k.removesuffix("_configs") for k, v in r.items() if k.endswith("_configs") and v)
        )
        for r in config.get("receivers") or ()
        if isinstance(r, dict)
    }
    found = _walk(config["route"], labels, str(config["route"].get("receiver", "")))
    return [Destination(name, receivers.get(name, ())) for name in dict.fromkeys(found)]


def _walk(route: dict[str, Any], labels: dict[str, str], receiver: str) -> list[str]:
    receiver = str(route.get("receiver") or receiver)
    found: list[str] = []
    for child in route.get("routes") or ():
        if not isinstance(child, dict) or not _takes(child, labels):
            continue
        found += _walk(child, labels, receiver)
        if not child.get("continue"):
            break
    return found or [receiver]


def _takes(route: dict[str, Any], labels: dict[str, str]) -> bool:
    try:
        return matches_all(_matchers(route), labels)
    except MatcherError as error:  # a regex Go reads and this console cannot: say which route
        raise RouteError(f"a route's matchers cannot be tried here: {error}") from None


def _matchers(route: dict[str, Any]) -> list[SilenceMatcher]:
    out = [SilenceMatcher(str(k), str(v)) for k, v in (route.get("match") or {}).items()]
    out += [SilenceMatcher(str(k), str(v), is_regex=True) for k, v in (route.get("match_re") or {}).items()]
    for text in route.get("matchers") or ():
        try:
            out += parse_matcher_list(str(text))
        except MatcherError as error:
            raise RouteError(f"a route's matcher {text!r} cannot be read: {error}") from None
    return out
