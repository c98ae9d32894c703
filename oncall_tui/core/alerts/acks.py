"""Acknowledging an alert until it resolves. Alertmanager has no acknowledgement; as kthxbye
does, an ack is a silence whose comment starts `ACK!`, made by the acknowledging user, that
the author's console extends while an alert it matches fires and expires once none has fired
for a while. Another console shows it and leaves it alone: only its author's keeps it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oncall_tui.core.alerts.matchers import matches_all
from oncall_tui.core.alerts.models import Alert, Silence, SilenceMatcher, SilenceRequest

ACK_PREFIX = "ACK!"


def is_ack(silence: Silence) -> bool:
    return silence.comment.startswith(ACK_PREFIX)


def ack_request(labels: Mapping[str, str], user: str, comment: str, lasting: float, now: datetime) -> SilenceRequest:
    """The silence that acknowledges the alerts with `labels` (an alert's, or what a group's
    share): each matched exactly, for `lasting` seconds, `ACK! <comment>` by `user`."""
    return SilenceRequest(
        matchers=tuple(SilenceMatcher(k, v) for k, v in sorted(labels.items())),
        starts_at=now,
        ends_at=now + timedelta(seconds=lasting),
        created_by=user,
        comment=f"{ACK_PREFIX} {comment.strip()}".rstrip(),
    )


def extended(silence: Silence, lasting: float, now: datetime) -> SilenceRequest:
    """The same ack, lasting `lasting` seconds from `now` (Alertmanager may give it a new ID)."""
    return SilenceRequest(
        silence.matchers,
        silence.starts_at,
        now + timedelta(seconds=lasting),
        silence.created_by,
        silence.comment,
        silence.id,
    )


def catches(silence: Silence, alert: Alert) -> bool:
    return silence.id in alert.silenced_by or matches_all(silence.matchers, alert.labels)


@dataclass
class AckPlan:
    extend: list[Silence] = field(default_factory=list)
    expire: list[Silence] = field(default_factory=list)


@dataclass
class AckKeeper:
    """Which of `user`'s acks to extend and which to expire, each time it is shown the
    silences and the alerts: extended when less than `extend_before` is left while an alert it
    matches fires (or may: a stale or unseen one counts), expired once none has for
    `expire_after_resolved`. Nothing is decided for a source that did not answer."""

    user: str
    lasting: float = 900.0
    extend_before: float = 300.0
    expire_after_resolved: float = 60.0
    last_fired: dict[str, datetime] = field(default_factory=dict)
    """By silence ID: when an alert it matches was last seen firing, or this console first saw
    it (so that none is expired for alerts it has not been watching long enough to miss)."""

    def plan(self, silences: Iterable[Silence], alerts: Iterable[Alert], answered: set[str], now: datetime) -> AckPlan:
        plan, alerts, silences = AckPlan(), list(alerts), list(silences)
        live = {s.id for s in silences if s.state == "active"}
        self.last_fired = {i: t for i, t in self.last_fired.items() if i in live}  # gone, or replaced by a new ID
        for silence in silences:
            if silence.state != "active" or not is_ack(silence) or silence.created_by != self.user:
                continue  # another's ack is another console's to keep
            if silence.source not in answered:
                continue  # its alerts are not known now: neither fired nor resolved
            if any(catches(silence, a) for a in alerts):
                self.last_fired[silence.id] = now
                if (silence.ends_at - now).total_seconds() < self.extend_before:
                    plan.extend.append(silence)
            elif (now - self.last_fired.setdefault(silence.id, now)).total_seconds() >= self.expire_after_resolved:
                plan.expire.append(silence)
        return plan


def lost(before: Mapping[str, Silence], silences: Iterable[Silence], now: datetime) -> list[Silence]:
    """The acks active at the last read (`before`, by ID) that are gone from Alertmanager's
    silences now, neither expired nor ended (an expired silence is still listed for days): lost,
    as by an Alertmanager restarted before it saved them. Their alerts are acked no more."""
    listed = {silence.id for silence in silences}
    return [ack for sid, ack in before.items() if sid not in listed and ack.ends_at > now]


def acked_by(alert: Alert, acks: Mapping[str, Silence]) -> Silence | None:
    """The ack among `acks` (by ID) that silences `alert`, if one does."""
    return next((acks[i] for i in alert.silenced_by if i in acks), None)
