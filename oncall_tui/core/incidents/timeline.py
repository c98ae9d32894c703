"""The incident journal: one append-only JSON Lines file per incident, fsynced per event.

Every event is written in one `write` on an `O_APPEND` descriptor while holding an
exclusive `flock`, then fsynced, before the caller may show it as recorded. The lock
also makes `seq` unique when two consoles write the same incident: the writer first
reads what others appended since it last looked.

Journals, and the torn lines saved beside them, are 0600 in a 0700 directory (`private`).

Opening a journal never loses what was recorded. A torn last line (a crash mid-write)
is cut off, saved beside the journal and reported. A corrupt line elsewhere is reported
with its line number and skipped when reading, and left in the file untouched.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oncall_tui.core.alerts.models import PayloadError, parse_time
from oncall_tui.core.private import open_private, private_dir, write_private
from oncall_tui.core.timefmt import utc_now

CONSOLE = "oncall-tui"
"""The actor of what the console did by itself; `data.agent` then names on whose word."""


class JournalError(Exception):
    """An event could not be recorded; `str()` says why, in one line."""


def format_ts(moment: datetime) -> str:
    """UTC with milliseconds, as the journal stores it: `2026-11-27T14:35:10.123Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One line of the journal."""

    seq: int
    id: str
    ts: datetime
    incident: str
    kind: str
    actor: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def agent(self) -> str:
        return str(self.data.get("agent") or "")

    @property
    def who(self) -> str:
        """`alice`, or `oncall-tui (alertmanager:prod)` for what the console did by itself."""
        return f"{self.actor} ({self.agent})" if self.agent else self.actor

    def to_line(self) -> bytes:
        record = {
            "seq": self.seq,
            "id": self.id,
            "ts": format_ts(self.ts),
            "incident": self.incident,
            "kind": self.kind,
            "actor": self.actor,
            "summary": self.summary,
            "data": self.data,
        }
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_record(cls, record: Any) -> TimelineEvent:
        if not isinstance(record, dict):
            raise PayloadError("not an object")
        try:
            seq, kind = record["seq"], record["kind"]
            if not isinstance(seq, int) or not isinstance(kind, str):
                raise PayloadError("seq must be a number and kind a string")
            data = record.get("data") or {}
            if not isinstance(data, dict):
                raise PayloadError("data must be an object")
            return cls(
                seq=seq,
                id=str(record["id"]),
                ts=parse_time(record["ts"], "ts"),
                incident=str(record["incident"]),
                kind=kind,
                actor=str(record.get("actor", "")),
                summary=str(record.get("summary", "")),
                data=data,
            )
        except KeyError as missing:
            raise PayloadError(f"missing {missing}") from None


class Journal:
    """The events of one incident, in `seq` order, and the file that holds them."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = path
        self.incident = path.stem
        self.clock = clock
        self.events: list[TimelineEvent] = []
        self.problems: list[str] = []
        """What opening found and did: repaired torn lines, skipped corrupt ones."""
        self._offset = 0  # bytes of the file read so far
        self._line = 0  # lines of the file read so far

    @classmethod
    def create(cls, path: Path, clock: Callable[[], datetime] = utc_now) -> Journal:
        """A new, empty journal. Raises FileExistsError if the file exists (another console won)."""
        private_dir(path.parent)
        fd = open_private(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.fsync(fd)
        os.close(fd)
        _fsync_dir(path.parent)
        return cls(path, clock)

    @classmethod
    def open(cls, path: Path, clock: Callable[[], datetime] = utc_now) -> Journal:
        """Read a journal, repairing a torn last line. Raises JournalError if unreadable."""
        journal = cls(path, clock)
        try:
            try:
                with _locked(path) as fd:
                    journal._repair_torn_tail(fd)
                    journal._read_new(fd)
            except OSError as error:
                if error.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                    raise
                with _locked(path, shared=True) as fd:  # read-only: read what is whole, repair nothing
                    journal._read_new(fd)
                journal.problems.append(f"{path.name}: read-only ({error.strerror}); opened for reading only")
        except OSError as error:
            raise JournalError(f"{path}: cannot open: {error.strerror or error}") from None
        return journal

    # -- reading --------------------------------------------------------------------------
    def _repair_torn_tail(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        if size == 0:
            return
        tail_start = max(0, size - 65536)
        tail = os.pread(fd, size - tail_start, tail_start)
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        while cut == -1 and tail_start > 0:  # a torn line longer than 64 KiB: look further back
            tail_start = max(0, tail_start - 65536)
            tail = os.pread(fd, size - tail_start, tail_start)
            cut = tail.rfind(b"\n")
        keep = tail_start + cut + 1 if cut != -1 else 0
        torn = os.pread(fd, size - keep, keep)
        try:
            TimelineEvent.from_record(json.loads(torn))
        except (ValueError, PayloadError):
            saved = self.path.with_name(f"{self.path.name}.torn-{self.clock().strftime('%Y%m%dT%H%M%S')}")
            write_private(saved, torn)
            os.ftruncate(fd, keep)
            os.fsync(fd)
            self.problems.append(
                f"{self.path.name}: repaired a torn last line ({len(torn)} bytes, never recorded; kept in {saved.name})"
            )
        else:  # a whole event that lost only its newline: complete it
            os.write(fd, b"\n")
            os.fsync(fd)
            self.problems.append(f"{self.path.name}: completed a last line that lacked its newline")

    def _read_new(self, fd: int) -> list[TimelineEvent]:
        size = os.fstat(fd).st_size
        if size <= self._offset:
            return []
        chunk = os.pread(fd, size - self._offset, self._offset)
        end = chunk.rfind(b"\n") + 1  # a line still being written by another process waits
        fresh = []
        for raw in chunk[:end].splitlines():
            self._line += 1
            if not raw.strip():
                continue
            try:
                event = TimelineEvent.from_record(json.loads(raw))
            except (ValueError, PayloadError) as error:
                self.problems.append(f"{self.path.name} line {self._line}: skipped, not a timeline event ({error})")
                continue
            fresh.append(event)
        self._offset += end
        self.events.extend(fresh)
        if fresh and any(a.seq > b.seq for a, b in zip(self.events, self.events[1:], strict=False)):
            self.events.sort(key=lambda e: e.seq)
        return fresh

    def refresh(self) -> list[TimelineEvent]:
        """Events other consoles appended since the last look."""
        try:
            with _locked(self.path, shared=True) as fd:
                return self._read_new(fd)
        except OSError as error:
            raise JournalError(f"{self.path}: cannot read: {error.strerror or error}") from None

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def claim(self, what: str, holder: str, ttl: float) -> Iterator[None]:
        """Hold `what` (`escalating`) on this incident against every other console while inside:
        taken under the journal's lock, as a file beside it, unless another holder's claim is
        younger than `ttl` seconds (one left by a console that died lets go then). Raises
        ClaimedError, or JournalError if the claim cannot be written."""
        path = self.path.with_name(f".{self.incident}.{what}")
        token = uuid.uuid4().hex
        try:
            with _locked(self.path):
                held = _claim_of(path)
                now = self.clock()
                if held is not None and abs((now - held[1]).total_seconds()) < ttl:  # a clock stepped back too
                    raise ClaimedError(*held)
                claim = {"by": holder, "at": format_ts(now), "token": token, "pid": os.getpid()}
                write_private(path, json.dumps(claim))
        except OSError as error:
            raise JournalError(f"{path}: cannot claim: {error.strerror or error}") from None
        try:
            yield
        finally:
            with suppress(OSError), _locked(self.path):
                if _claim_of(path, token) is not None:
                    path.unlink()

    def append(
        self,
        kind: str,
        actor: str,
        summary: str,
        data: dict[str, Any] | None = None,
        ts: datetime | None = None,
        unless: Callable[[list[TimelineEvent]], bool] | None = None,
    ) -> TimelineEvent | None:
        """Record one event durably and return it. Raises JournalError; then nothing was recorded.

        `unless(events)` is asked under the journal's lock, after every other console's events
        are read: if it says so, nothing is written and None is returned (deduplication that
        holds across processes).
        """
        try:
            with _locked(self.path) as fd:
                self._read_new(fd)
                if unless is not None and unless(self.events):
                    return None
                moment = ts or self.clock()
                event = TimelineEvent(
                    seq=self.last_seq + 1,
                    id=uuid.uuid4().hex,
                    ts=moment.replace(microsecond=moment.microsecond // 1000 * 1000),  # as the file keeps it
                    incident=self.incident,
                    kind=kind,
                    actor=actor,
                    summary=summary,
                    data=data or {},
                )
                line = event.to_line()
                size = os.fstat(fd).st_size
                try:
                    written = os.write(fd, line)
                    if written != len(line):
                        raise OSError(errno.ENOSPC, f"No space left on device (wrote {written} of {len(line)} bytes)")
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, size)  # no torn line left behind for the next reader
                    raise
                self._offset = size + len(line)
                self._line += 1
                self.events.append(event)
                return event
        except OSError as error:
            raise JournalError(f"{error.strerror or error} ({self.path})") from None


class ClaimedError(Exception):
    """Another console holds the claim: `by` (a user name), since `at`."""

    def __init__(self, by: str, at: datetime) -> None:
        super().__init__(by, at)
        self.by, self.at = by, at


def _claim_of(path: Path, token: str | None = None) -> tuple[str, datetime] | None:
    """(holder, since) of the claim in `path`; None if there is none (or, with `token`, not that one)."""
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
        if token is not None and held.get("token") != token:
            return None
        return str(held.get("by") or "another console"), parse_time(held.get("at"), "at")
    except (OSError, ValueError, AttributeError, PayloadError):
        return None


@contextmanager
def _locked(path: Path, shared: bool = False) -> Iterator[int]:
    """An fd on the journal (appending, unless `shared`), with an flock held while inside."""
    fd = os.open(path, os.O_RDONLY if shared else os.O_RDWR | os.O_APPEND)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
