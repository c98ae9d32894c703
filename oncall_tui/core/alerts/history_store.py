"""The console's own alert history: `<data_dir>/history.sqlite3` (stdlib sqlite3, WAL, 0600).

`HistoryRecorder` takes each poll's `Sightings` and writes, in a thread of its own, what
changed: an alert fired (an episode begins at its `startsAt`), was silenced, acked, inhibited
or active again, resolved (only when its sources say so, as for incidents), and the spans in
which the console was watching (some Alertmanager answered). `LocalHistory` reads it back for
the detail pane, `history` and `report`; any number of readers may read while it writes.

A write that fails (the disk is full) changes nothing: the next poll's changes are taken from
what was last written, so an alert that fired while the disk was full is recorded once it can
be. Retention is `history.keep`: older episodes, changes and watches are deleted hourly.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oncall_tui.core.alerts.history import Episode, Found, HistoryError, NotInHistoryError, Window, matches, union
from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.alerts.tracking import Sightings
from oncall_tui.core.private import open_private, private_dir
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import utc_now

FILE_NAME = "history.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
  fingerprint TEXT PRIMARY KEY, alertname TEXT NOT NULL, labels TEXT NOT NULL, runbook TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS alerts_by_name ON alerts (alertname);
CREATE TABLE IF NOT EXISTS episodes (
  id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL, started REAL NOT NULL, last_seen REAL NOT NULL,
  ended REAL, learned REAL, sources TEXT NOT NULL, UNIQUE (fingerprint, started));
CREATE INDEX IF NOT EXISTS episodes_by_end ON episodes (ended);
CREATE TABLE IF NOT EXISTS changes (ts REAL NOT NULL, fingerprint TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS changes_by_alert ON changes (fingerprint, ts);
CREATE INDEX IF NOT EXISTS changes_by_time ON changes (ts);
CREATE TABLE IF NOT EXISTS watches (
  id INTEGER PRIMARY KEY, source TEXT NOT NULL, started REAL NOT NULL, last REAL NOT NULL);
"""
FLUSH_EVERY = 30.0
"""How often the last sighting of every firing alert is written (it is also written when one
resolves): after a crash, an episode's end is known to this much."""
PRUNE_EVERY = 3600.0


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _problem(path: Path, error: Exception) -> str:
    reason = clean_line(str(getattr(error, "strerror", None) or error), 160) or type(error).__name__
    return f"alert history {path}: {reason}"


def connect(path: Path, create: bool) -> sqlite3.Connection:
    """A connection to the history at `path` (created 0600 in a 0700 dir when `create`).
    Raises HistoryError, one line, when it cannot be opened."""
    try:
        if create:
            private_dir(path.parent, tighten=False)
            os.close(open_private(path, os.O_RDWR | os.O_CREAT))  # sqlite makes its -wal and -shm alike
        elif not path.is_file():
            raise NotInHistoryError(f"alert history {path}: none yet (the console records it while it runs)")
        db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        if create:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        db.execute("PRAGMA synchronous=NORMAL")
        return db
    except (sqlite3.Error, OSError) as error:
        raise HistoryError(_problem(path, error)) from None


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True, slots=True)
class Open:
    """An episode the record has not seen resolve."""

    started: float
    state: str
    sources: tuple[str, ...]


def _state(alert_state: str, silenced_by: tuple[str, ...], acks: frozenset[str]) -> str:
    if alert_state == "silenced":
        return "acked" if any(s in acks for s in silenced_by) else "silenced"
    return "inhibited" if alert_state == "inhibited" else "active"


class HistoryRecorder:
    """Writes each poll's changes to the history, in its own thread (the latest poll wins: one
    taken while the last is written replaces any still waiting)."""

    def __init__(
        self,
        path: Path,
        keep: float,
        gap: float,
        on_problem: Callable[[str | None], None] | None = None,
    ) -> None:
        self.path, self.keep, self.gap = path, keep, gap
        self.on_problem = on_problem
        self.problem: str | None = None
        self.written = 0
        """Polls written, for tests to wait on."""
        self._db: sqlite3.Connection | None = None
        self._open: dict[str, Open] = {}
        self._seen: dict[str, float] = {}
        self._watch: dict[str, tuple[int, float]] = {}
        """By source, the span being watched: its row and when it last answered."""
        self._recorded: dict[str, Alert] = {}
        self._acks: frozenset[str] = frozenset()
        """The alerts last written and the acks then: one the next poll has as it was, with the
        same acks, has nothing to write."""
        self._flushed = self._pruned = 0.0
        self._next: tuple[Sightings, frozenset[str]] | None = None
        self._held = False
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def saw(self, sightings: Sightings, acks: frozenset[str] = frozenset(), held: bool = False) -> None:
        """A poll was merged: record what changed (acks: the IDs of the ACK! silences). The
        first call starts the recorder's thread. `held`: not before `go()` (the screen shows the
        poll first: the writing, in Python, would share the interpreter with the drawing), though
        `close()` writes it all the same."""
        with self._wake:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="alert-history", daemon=True)
                self._thread.start()
            self._next, self._held = (sightings, acks), held
            self._wake.notify()

    def go(self) -> None:
        """What `saw` holds is written now."""
        with self._wake:
            self._held = False
            self._wake.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is waiting, the last sightings, and stop."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        elif self._db is not None:  # recorded without the thread (record() called directly)
            self._guarded(self._flush)
            self._db.close()
            self._db = None

    def _run(self) -> None:
        while True:
            with self._wake:
                while (self._next is None or self._held) and not self._stopping:
                    self._wake.wait()
                taken, self._next = self._next, None
                stopping = self._stopping
            if taken is not None:
                self._guarded(self.record, *taken)
            if stopping:
                self._guarded(self._flush)
                if self._db is not None:
                    self._db.close()
                return

    def _guarded(self, write: Callable[..., None], *args: object) -> None:
        try:
            write(*args)
        except Exception as error:  # said, and tried again next poll: the thread never ends on it
            self._say(error if isinstance(error, HistoryError) else _problem(self.path, error))
            if self._db is not None and not isinstance(error, HistoryError):
                self._db.close()
                self._db = None  # opened afresh next time (the file may be back)
            return
        self._say(None)

    def _say(self, problem: object | None) -> None:
        said = None if problem is None else str(problem)
        if said != self.problem:
            self.problem = said
            if self.on_problem:
                self.on_problem(said)

    def _connected(self) -> sqlite3.Connection:
        if self._db is None:
            db = connect(self.path, create=True)
            rows = db.execute(
                "SELECT e.fingerprint, e.started, e.last_seen, e.sources, "
                "(SELECT kind FROM changes c WHERE c.fingerprint = e.fingerprint AND c.ts >= e.started "
                " AND c.kind IN ('active','silenced','acked','inhibited') ORDER BY c.ts DESC LIMIT 1) "
                "FROM episodes e WHERE e.ended IS NULL"
            ).fetchall()
            self._open = {
                fp: Open(started, state or "active", tuple(json.loads(sources)))
                for fp, started, _, sources, state in rows
            }
            self._seen = {fp: last_seen for fp, _, last_seen, _, _ in rows}
            self._watch, self._recorded = {}, {}
            self._db = db
        return self._db

    def record(self, sightings: Sightings, acks: frozenset[str] = frozenset()) -> None:
        """Write what `sightings` changed (in the recorder's thread, or a test's), in one
        transaction of a few statements (executemany: 10,000 new alerts take tens of ms)."""
        db = self._connected()
        now = _ts(sightings.now)
        opened: dict[str, Open] = {}
        closed: list[str] = []
        seen: list[str] = []
        new_alerts, new_episodes, changes, closes, moves = [], [], [], [], []

        def close(fp: str, known: Open, why: str) -> None:
            last_seen = self._seen.get(fp, known.started)
            closes.append((last_seen, last_seen, now, fp, known.started))
            changes.append((now, fp, "resolved", clean_line(why, 300)))

        unchanged, recorded = self._recorded if acks == self._acks else {}, {}
        asked = {fp: _ts(when) for fp, when in sightings.seen_at.items()}  # when it was last seen, not now

        def at(fp: str) -> float:
            return asked.get(fp, now)

        for alert in sightings.alerts:
            fp = alert.fingerprint
            if alert.is_page or fp not in sightings.firing:  # a page, or no source's word now
                continue
            seen.append(fp)
            recorded[fp] = alert
            before = unchanged.get(fp)
            if before is not None and before.alike(alert) and fp in self._open:  # nothing to write
                continue
            started, known = _ts(alert.starts_at), opened.get(fp) or self._open.get(fp)
            if known is not None and started > self._seen.get(fp, known.started):  # fired again, after
                close(fp, known, "fired again")  # it was last seen: the last one ended between
                known = None
            elif known is not None and started > known.started:
                pass  # a later start it was seen firing after (a sender restarted): the same episode
            elif known is not None and started < known.started:  # its sender put its start earlier
                moves.append((started, fp, known.started))
                known = opened[fp] = Open(started, known.state, known.sources)
            state = _state(alert.state, alert.silenced_by, acks)
            if known is None:
                runbook = alert.annotations.get("runbook_url") or alert.annotations.get("runbook") or ""
                new_alerts.append((fp, alert.name, json.dumps(alert.labels, sort_keys=True), runbook))
                new_episodes.append((fp, started, at(fp), json.dumps(alert.sources)))
                changes.append((now, fp, "fired", ",".join(alert.sources)))
                known = opened[fp] = Open(started, "active", tuple(alert.sources))
            if state != known.state:
                changes.append((now, fp, state, ",".join(alert.silenced_by)))
                opened[fp] = Open(known.started, state, known.sources)
        firing = set(seen)
        for fp, known in self._open.items():
            if fp in firing or fp in opened:
                continue
            presence = sightings.presence(fp, known.sources, _dt(self._seen.get(fp, known.started)))
            if presence.state == "resolved":
                close(fp, known, presence.reason)
                closed.append(fp)
        with _transaction(db):
            for name, status in sightings.sources.items():
                if status.answered:
                    self._watched(db, name, now)
            db.executemany(
                "UPDATE episodes SET ended = ?, last_seen = ?, learned = ? WHERE fingerprint = ? AND started = ?",
                closes,
            )
            db.executemany("UPDATE OR IGNORE episodes SET started = ? WHERE fingerprint = ? AND started = ?", moves)
            db.executemany("INSERT OR IGNORE INTO alerts VALUES (?, ?, ?, ?)", new_alerts)
            db.executemany(
                "INSERT INTO episodes (fingerprint, started, last_seen, sources) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (fingerprint, started) DO UPDATE SET ended = NULL, learned = NULL, last_seen = excluded.last_seen",
                new_episodes,
            )
            db.executemany("INSERT INTO changes VALUES (?, ?, ?, ?)", changes)
            self._flushed_in(db, now, seen, at)
            self._prune_in(db, now)
        # written: now the record and what it is compared with next agree
        for fp in closed:
            self._open.pop(fp, None)
            self._seen.pop(fp, None)
        self._open.update(opened)
        for fp in seen:
            self._seen[fp] = at(fp)
        self._recorded, self._acks = recorded, acks
        self.written += 1

    def _watched(self, db: sqlite3.Connection, source: str, now: float) -> None:
        """`source` answered at `now`: its watch goes on, or (after a gap) a new one begins."""
        watch = self._watch.get(source)
        if watch is not None and now - watch[1] <= self.gap:
            db.execute("UPDATE watches SET last = ? WHERE id = ?", (now, watch[0]))
            self._watch[source] = (watch[0], now)
        else:
            cursor = db.execute("INSERT INTO watches (source, started, last) VALUES (?, ?, ?)", (source, now, now))
            self._watch[source] = (int(cursor.lastrowid or 0), now)

    def _flushed_in(self, db: sqlite3.Connection, now: float, seen: list[str], at: Callable[[str], float]) -> None:
        if now - self._flushed < FLUSH_EVERY:
            return
        rows = [(at(fp), fp, self._open[fp].started) for fp in seen if fp in self._open]
        db.executemany("UPDATE episodes SET last_seen = ? WHERE fingerprint = ? AND started = ?", rows)
        self._flushed = now

    def _flush(self) -> None:
        if self._db is None:
            return
        rows = [(self._seen[fp], fp, known.started) for fp, known in self._open.items() if fp in self._seen]
        with _transaction(self._db):
            self._db.executemany("UPDATE episodes SET last_seen = ? WHERE fingerprint = ? AND started = ?", rows)

    def _prune_in(self, db: sqlite3.Connection, now: float) -> None:
        if now - self._pruned < PRUNE_EVERY:
            return
        prune(db, now - self.keep)
        self._pruned = now


def prune(db: sqlite3.Connection, before: float) -> None:
    """Forget what ended before `before`."""
    db.execute("DELETE FROM episodes WHERE COALESCE(ended, last_seen) < ?", (before,))
    db.execute("DELETE FROM changes WHERE ts < ?", (before,))
    db.execute("DELETE FROM watches WHERE last < ?", (before,))
    db.execute("DELETE FROM alerts WHERE fingerprint NOT IN (SELECT fingerprint FROM episodes)")


class LocalHistory:
    """Reads the record (any thread: each question opens its own connection)."""

    source = "local history"

    def __init__(self, path: Path, gap: float, clock: Callable[[], datetime] = utc_now) -> None:
        self.path, self.gap, self.clock = path, gap, clock

    def close(self) -> None:
        """Nothing is held open between questions."""

    def episodes(
        self,
        start: datetime,
        end: datetime,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        fingerprint: str | None = None,
    ) -> Found:
        where, args = ["e.started <= ?", "COALESCE(e.ended, e.last_seen) >= ?"], [_ts(end), _ts(start)]
        if name is not None:
            where.append("a.alertname = ?")
            args.append(name)
        if fingerprint is not None:
            where.append("e.fingerprint = ?")
            args.append(fingerprint)
        rows = self._rows(
            "SELECT e.fingerprint, a.labels, e.started, e.last_seen, e.ended, e.learned, e.sources "
            "FROM episodes e JOIN alerts a ON a.fingerprint = e.fingerprint "
            f"WHERE {' AND '.join(where)} ORDER BY e.started",
            tuple(args),
        )
        watches = self._rows(
            "SELECT source, started, last FROM watches WHERE started < ? AND last >= ? ORDER BY started",
            (_ts(end), _ts(start)),
        )
        now = _ts(self.clock())
        episodes, sources = [], set()
        for fp, labels_json, started, last_seen, ended, learned, its_sources in rows:
            labels_ = json.loads(str(labels_json))
            if not matches(labels_, labels):
                continue
            sources.update(json.loads(str(its_sources)))
            if ended is None:  # resolved is not known: firing now if seen lately, else since when unseen
                recent = now - float(last_seen) <= self.gap + FLUSH_EVERY  # (last_seen is written every FLUSH_EVERY)
                end_at = None if recent else _dt(float(last_seen))
                resolved_by = None
            else:
                end_at = _dt(float(ended))
                resolved_by = _dt(float(learned)) if learned and float(learned) - float(ended) > self.gap else None
            episodes.append(
                Episode(
                    str(fp),
                    labels_,
                    _dt(float(started)),
                    end_at,
                    resolved_by,
                    unseen=ended is None and end_at is not None,
                )
            )
        # watched: while the alerts' own Alertmanagers answered (any, for a question no episode answers)
        spans = [
            (max(start, _dt(float(a))), min(end, _dt(float(b) + self.gap / 2)))
            for source, a, b in watches
            if not sources or source in sources
        ]
        return Found(episodes, Window(start, end, union(spans)), self.source)

    def _rows(self, query: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            with closing(connect(self.path, create=False)) as db:
                return db.execute(query, args).fetchall()
        except sqlite3.Error as error:
            raise HistoryError(_problem(self.path, error)) from None

    def acted(self, start: datetime, end: datetime) -> dict[str, list[tuple[datetime, str]]]:
        """The silences and acks the record saw, by fingerprint."""
        rows = self._rows(
            "SELECT fingerprint, ts, kind FROM changes WHERE ts >= ? AND ts < ? AND kind IN ('silenced', 'acked')",
            (_ts(start), _ts(end)),
        )
        out: dict[str, list[tuple[datetime, str]]] = {}
        for fp, ts, kind in rows:
            out.setdefault(str(fp), []).append((_dt(float(ts)), str(kind)))  # type: ignore[arg-type]
        return out

    def runbooks(self) -> dict[str, str]:
        """The runbook annotation each alertname was seen with (how its runbook is found)."""
        rows = self._rows("SELECT alertname, runbook FROM alerts WHERE runbook != '' GROUP BY alertname", ())
        return {str(name): str(runbook) for name, runbook in rows}


def default_gap(poll_interval: float) -> float:
    """How long without an answer the console counts as not watching (a few polls, 30 s at least)."""
    return max(30.0, 3 * poll_interval)


def history_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME
