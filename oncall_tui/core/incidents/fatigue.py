"""The alert-fatigue section of `oncall-tui report`: every alert that fired in the window,
from the history, scored on the guide's principles (actionable, novel, not at 3 a.m. for
nothing) and ranked worst first.

    noise = fires × (1 − acted on) × (1 + flaps per fire) × (1 + outside business hours)
            × 1.5 without a runbook

- *fires*: its episodes in the window (each label set's own);
- *acted on*: the share of episodes someone acted on while it fired: an ack or a silence (the
  local history saw it), an incident declared with it, a runbook step run for it;
- *flaps*: episodes that began within 30 minutes of the same alert resolving;
- *outside business hours*: the share of episodes that began outside 09:00–17:00, Monday to
  Friday, in the time zone of the first on-call schedule (UTC without one);
- *without a runbook*: no runbook matches it (as `check --rules` would find it).

An alert that fires often, is never acted on, flaps and wakes people up scores highest: the
first to fix, retune or delete. One that is always acted on scores 0, however often it fires.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncall_tui.core.alerts.history import Episode, Found, flaps, watched_line, where_from
from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.durations import format_duration
from oncall_tui.core.incidents.incident import Incident, declared_by_a_person
from oncall_tui.core.incidents.report import p90
from oncall_tui.core.runbooks.library import RunbookError, RunbookLibrary
from oncall_tui.core.text import clean_line

BUSINESS = (time(9), time(17))
NO_RUNBOOK = 1.5
SCORE = "noise = fires × (1 − acted on) × (1 + flaps per fire) × (1 + outside business hours) × 1.5 without a runbook"


@dataclass(frozen=True, slots=True)
class Noise:
    name: str
    fires: int
    label_sets: int
    flaps: int
    median: float
    p90: float
    acted: float
    off_hours: float
    runbook: bool | None
    """Whether a runbook matches it (None: the runbooks were not looked at)."""
    added: int = 0
    """Of its fires, those from the local history, added to Prometheus's answer."""

    @property
    def score(self) -> float:
        fires = max(1, self.fires)
        score = self.fires * (1 - self.acted) * (1 + self.flaps / fires) * (1 + self.off_hours)
        return score * (NO_RUNBOOK if self.runbook is False else 1.0)


@dataclass(frozen=True, slots=True)
class Fatigue:
    found: Found
    alerts: list[Noise]
    zone: str


def off_hours(moment: datetime, zone: ZoneInfo) -> bool:
    there = moment.astimezone(zone)
    return there.weekday() >= 5 or not (BUSINESS[0] <= there.time() < BUSINESS[1])


def _acts(incidents: Iterable[Incident]) -> dict[str, list[tuple[datetime, datetime]]]:
    """By fingerprint, the spans in which an incident was declared with the alert or a step ran
    for it (instants, as spans of no length)."""
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    for incident in incidents:
        if incident.declared_at and declared_by_a_person(incident):  # the console's own (auto_declare) is no act
            for fp in incident.alerts:
                out.setdefault(fp, []).append((incident.declared_at, incident.declared_at))
        for event in incident.events:
            if event.kind == "runbook.step_started" and event.data.get("alert"):
                out.setdefault(str(event.data["alert"]), []).append((event.ts, event.ts))
    return out


def _acted_on(episode: Episode, marks: list[datetime], now: datetime) -> bool:
    end = (episode.end or now) + timedelta(minutes=1)  # an act on the last poll before it resolved
    return any(episode.start - timedelta(minutes=1) <= moment <= end for moment in marks)


def assess(
    found: Found,
    now: datetime,
    zone: ZoneInfo,
    incidents: Iterable[Incident] = (),
    silenced: dict[str, list[tuple[datetime, str]]] | None = None,
    library: RunbookLibrary | None = None,
    runbooks: dict[str, str] | None = None,
) -> Fatigue:
    """Score every alert in `found`. `silenced`: the silences and acks the local history saw,
    by fingerprint; `runbooks`: the runbook annotation each alertname was seen with."""
    acts = _acts(incidents)
    marks: dict[str, list[datetime]] = {fp: [a for a, _ in spans] for fp, spans in acts.items()}
    for fp, seen in (silenced or {}).items():
        marks.setdefault(fp, []).extend(moment for moment, _ in seen)
    by_name: dict[str, list[Episode]] = {}
    for episode in found.episodes:
        by_name.setdefault(episode.name or "(no alertname)", []).append(episode)
    rows = []
    for name, episodes in by_name.items():
        durations = [e.seconds(now) for e in episodes]
        acted = sum(_acted_on(e, marks.get(e.fingerprint, []), now) for e in episodes)
        late = sum(off_hours(e.start, zone) for e in episodes)
        rows.append(
            Noise(
                name=name,
                fires=len(episodes),
                label_sets=len({e.fingerprint for e in episodes}),
                flaps=flaps(episodes),
                median=statistics.median(durations),
                p90=p90(durations),
                acted=acted / len(episodes),
                off_hours=late / len(episodes),
                runbook=_has_runbook(library, episodes[0], (runbooks or {}).get(name, "")),
                added=sum(e.added for e in episodes),
            )
        )
    rows.sort(key=lambda n: (-n.score, -n.fires, n.name))
    return Fatigue(found, rows, zone.key)


def _has_runbook(library: RunbookLibrary | None, episode: Episode, annotation: str) -> bool | None:
    if library is None:
        return None
    annotations = {"runbook_url": annotation} if annotation else {}
    try:
        return (
            library.match(
                Alert(episode.fingerprint, episode.labels, annotations, episode.start, None, "", "active")
            ).runbook
            is not None
        )
    except RunbookError:
        return False


def _share(value: float) -> str:
    return f"{round(value * 100)}%"


def _runbook(value: bool | None) -> str:
    return "?" if value is None else "yes" if value else "no"


def render(fatigue: Fatigue, top: int = 20) -> list[str]:
    found = fatigue.found
    where = where_from(found)
    fires = sum(n.fires for n in fatigue.alerts)
    window = f"{found.window.start:%Y-%m-%d %H:%M} to {found.window.end:%Y-%m-%d %H:%M} UTC"
    lines = [f"alert fatigue, {window} ({where}): {len(fatigue.alerts)} alert(s) fired {fires} time(s)"]
    if found.trouble:
        lines.append(f"  {found.trouble}")
    watched = watched_line(found)
    if watched:
        lines.append(f"  {watched}")
    if not fatigue.alerts:
        return [*lines, "  none"]
    lines.append(f"  {SCORE}; business hours 09:00-17:00 Mon-Fri {fatigue.zone}")
    lines.append(
        f"  {'noise':>7} {'fires':>5} {'flaps':>5} {'median':>7} {'p90':>7} {'acted':>5} {'off-hrs':>7} runbook  alert"
    )
    for noise in fatigue.alerts[:top]:
        lines.append(
            f"  {noise.score:>7.1f} {noise.fires:>5} {noise.flaps:>5} {format_duration(noise.median):>7}"
            f" {format_duration(noise.p90):>7} {_share(noise.acted):>5} {_share(noise.off_hours):>7}"
            f" {_runbook(noise.runbook):<8} {clean_line(noise.name, 80)}"
            + (f" ({noise.label_sets} label sets)" if noise.label_sets > 1 else "")
            + (f" ({noise.added} of the fires from the local history)" if noise.added else "")
        )
    if len(fatigue.alerts) > top:
        lines.append(f"  … and {len(fatigue.alerts) - top} more (--format json lists them all)")
    return lines


def as_json(fatigue: Fatigue) -> dict[str, object]:
    found = fatigue.found
    return {
        "source": found.source,
        "caveat": found.caveat or None,
        "trouble": found.trouble or None,
        "start": found.window.start.isoformat(),
        "end": found.window.end.isoformat(),
        "score": SCORE,
        "business_hours_zone": fatigue.zone,
        "alerts": [
            {
                "alertname": n.name,
                "noise": round(n.score, 3),
                "fires": n.fires,
                "label_sets": n.label_sets,
                "flaps": n.flaps,
                "median_seconds": round(n.median, 3),
                "p90_seconds": round(n.p90, 3),
                "acted_on": round(n.acted, 4),
                "outside_business_hours": round(n.off_hours, 4),
                "runbook": n.runbook,
                "fires_from_local_history": n.added,
            }
            for n in fatigue.alerts
        ],
    }
