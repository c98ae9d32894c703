"""The merged view of every configured Alertmanager: deduplicated alerts and source health.

Polling, merging and staleness live here so they can be tested without a terminal. The
UI owns a `Board`, runs `poll_once` in a worker and renders what the board holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from oncall_tui.core.alertmanager import AlertmanagerClient, AlertmanagerError
from oncall_tui.core.models import Alert, Silence, SilenceRequest
from oncall_tui.core.timefmt import utc_now

T = TypeVar("T")

Clock = Callable[[], datetime]


@dataclass(slots=True)
class SourceStatus:
    """How one Alertmanager answered lately."""

    name: str
    last_ok: datetime | None = None
    error: str | None = None
    failing_since: datetime | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None


_STATE_RANK = {"active": 0, "unprocessed": 0, "inhibited": 1, "silenced": 2, "suppressed": 2}


def merge(alerts_by_source: Iterable[tuple[str, list[Alert], bool]]) -> list[Alert]:
    """Deduplicate by fingerprint; each alert lists every source that reported it.

    Where sources disagree about the state (two clusters, one silenced), the most
    urgent state wins: a silence in one cluster must not hide an alert firing in another.
    An alert is stale only if every source that reported it is stale. An alert seen once
    is used as it is when it was never merged before (only `sources` and `stale` are set);
    one merged before may be on the screen, so it is copied when either changes. Duplicates
    are copied too, so a source's own list is never changed by another source's view.
    """
    merged: dict[str, Alert] = {}
    for source, alerts, stale in alerts_by_source:
        for alert in alerts:
            seen = merged.get(alert.fingerprint)
            if seen is None:
                if not alert.sources:  # fresh from the source: no one else holds it yet
                    alert.sources, alert.stale = (source,), stale
                elif (alert.sources, alert.stale) != ((source,), stale):
                    alert = replace(alert, sources=(source,), stale=stale)
                merged[alert.fingerprint] = alert
                continue
            combined = replace(seen, sources=(*seen.sources, source), stale=seen.stale and stale)
            if _STATE_RANK.get(alert.state, 0) < _STATE_RANK.get(seen.state, 0):
                combined.state, combined.silenced_by = alert.state, alert.silenced_by
                combined.inhibited_by = alert.inhibited_by
            merged[alert.fingerprint] = combined
    return sort_alerts(merged.values())


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first; within a severity, the newest first."""
    return sorted(alerts, key=lambda a: (a.severity_rank, -a.starts_at.timestamp(), a.name, a.fingerprint))


class Board:
    """The last known alerts of every source, merged, with each source's health."""

    def __init__(self, clients: list[AlertmanagerClient], clock: Clock = utc_now) -> None:
        self.clients = clients
        self.clock = clock
        self.status = {c.name: SourceStatus(c.name) for c in clients}
        self._by_source: dict[str, list[Alert]] = {c.name: [] for c in clients}
        self.alerts: list[Alert] = []
        self.first_seen: dict[str, datetime] = {}
        self.polls = 0

    async def poll_once(self) -> list[Alert]:
        """Fetch every source at once; keep the last known alerts of those that fail."""
        results = await asyncio.gather(*(c.alerts() for c in self.clients), return_exceptions=True)
        now = self.clock()
        for client, result in zip(self.clients, results, strict=True):
            status = self.status[client.name]
            if isinstance(result, AlertmanagerError):
                status.error = str(result)
                status.failing_since = status.failing_since or now
            elif isinstance(result, BaseException):
                raise result
            else:
                self._by_source[client.name] = result
                status.last_ok, status.error, status.failing_since = now, None, None
        inputs = [(name, alerts, self.status[name].stale) for name, alerts in self._by_source.items()]
        # Merging and sorting 10,000 alerts is pure Python: in a thread, keys stay responsive.
        self.alerts, self.first_seen = await asyncio.to_thread(self._merged, inputs, now)
        self.polls += 1
        return self.alerts

    def _merged(
        self, inputs: list[tuple[str, list[Alert], bool]], now: datetime
    ) -> tuple[list[Alert], dict[str, datetime]]:
        """The merged, sorted alerts, and when each was first seen (runs in a thread)."""
        alerts = merge(inputs)
        # On the first poll nothing is "new": everything was already firing.
        when = now if self.polls else datetime.min.replace(tzinfo=UTC)
        return alerts, {a.fingerprint: self.first_seen.get(a.fingerprint, when) for a in alerts}

    def is_new(self, alert: Alert, within: float) -> bool:
        seen = self.first_seen.get(alert.fingerprint)
        return seen is not None and (self.clock() - seen).total_seconds() < within

    def counts(self) -> dict[str, int]:
        """How many alerts are firing, silenced, inhibited, and stale (any state)."""
        counts = {"active": 0, "silenced": 0, "inhibited": 0, "stale": 0}
        for alert in self.alerts:
            counts[
                "inhibited" if alert.state == "inhibited" else "silenced" if alert.state == "silenced" else "active"
            ] += 1
            counts["stale"] += alert.stale
        return counts

    def _clusters(self, sources: Iterable[str]) -> list[list[AlertmanagerClient]]:
        """The clusters `sources` belong to, each as its members, healthy members first."""
        wanted = set(sources)
        clusters: dict[str, list[AlertmanagerClient]] = {}
        for client in self.clients:
            clusters.setdefault(client.source.cluster or client.name, []).append(client)
        picked = [members for members in clusters.values() if wanted & {c.name for c in members}]
        return [sorted(members, key=lambda c: self.status[c.name].stale) for members in picked]

    async def _on_cluster(
        self, members: list[AlertmanagerClient], call: Callable[[AlertmanagerClient], Awaitable[T]]
    ) -> tuple[str, T]:
        """Run `call` on the first member of a cluster that answers."""
        errors = []
        for client in members:
            try:
                return client.name, await call(client)
            except AlertmanagerError as error:
                errors.append(str(error))
        raise AlertmanagerError("; ".join(errors))

    async def create_silence(self, request: SilenceRequest, sources: Iterable[str]) -> list[tuple[str, str]]:
        """Send the silence to every cluster among `sources`; (source, silence ID) for each.

        Raises AlertmanagerError if any cluster refused it; the others keep their silence
        and the message says which failed.
        """
        results = await asyncio.gather(
            *(self._on_cluster(m, lambda c: c.create_silence(request)) for m in self._clusters(sources)),
            return_exceptions=True,
        )
        failures = [str(r) for r in results if isinstance(r, AlertmanagerError)]
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, AlertmanagerError):
                raise result
        if failures:
            created = [r for r in results if not isinstance(r, BaseException)]
            done = f" (created on {', '.join(s for s, _ in created)})" if created else ""
            raise AlertmanagerError("; ".join(failures) + done)
        return [r for r in results if not isinstance(r, BaseException)]

    async def silences(self) -> list[Silence]:
        """Every silence of every cluster, read from one member each."""
        everything = [c.name for c in self.clients]
        results = await asyncio.gather(
            *(self._on_cluster(m, lambda c: c.silences()) for m in self._clusters(everything))
        )
        order = {"active": 0, "pending": 1, "expired": 2}
        found = [s for _, silences in results for s in silences]
        # Live silences ending soonest first; expired ones after, the latest first.
        return sorted(
            found, key=lambda s: (order[s.state], s.ends_at.timestamp() * (-1 if s.state == "expired" else 1))
        )

    async def expire_silence(self, silence: Silence) -> None:
        await self._on_cluster(self._clusters([silence.source])[0], lambda c: c.expire_silence(silence.id))

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients))
