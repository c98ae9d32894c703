"""The journal: durable appends, torn and corrupt lines, two writers, full and read-only disks."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from pathlib import Path

import pytest

from oncall_tui.core.incidents.timeline import Journal, JournalError
from tests.conftest import SteppedClock


def new_journal(tmp_path: Path, clock: SteppedClock) -> Journal:
    return Journal.create(tmp_path / "INC-20261127-0001.jsonl", clock)


def test_append_then_reopen_gives_the_same_events(tmp_path: Path, clock: SteppedClock) -> None:
    journal = new_journal(tmp_path, clock)
    first = journal.append("incident.declared", "alice", "Declared", {"title": "ml-api errors"})
    clock.advance(1.2345)
    second = journal.append("note", "bob", "looking at [bold]logs[/]", {"text": "x\x1b[2J"})
    assert (first.seq, second.seq) == (1, 2)
    lines = journal.path.read_text().splitlines()
    assert json.loads(lines[1])["ts"] == "2026-11-27T14:32:06.234Z"
    reopened = Journal.open(journal.path, clock)
    assert reopened.events == journal.events and reopened.problems == []
    assert reopened.append("incident.acknowledged", "alice", "Acknowledged").seq == 3


def test_create_refuses_an_existing_incident(tmp_path: Path, clock: SteppedClock) -> None:
    new_journal(tmp_path, clock)
    with pytest.raises(FileExistsError):
        new_journal(tmp_path, clock)


def test_a_torn_last_line_is_cut_saved_and_reported(tmp_path: Path, clock: SteppedClock) -> None:
    journal = new_journal(tmp_path, clock)
    for i in range(3):
        journal.append("note", "alice", f"note {i}")
    whole = journal.path.read_bytes()
    with journal.path.open("ab") as f:
        f.write(b'{"seq": 4, "id": "x", "ts": "2026-11-27T14:3')  # the crash came mid-write
    reopened = Journal.open(journal.path, clock)
    assert [e.summary for e in reopened.events] == ["note 0", "note 1", "note 2"]
    [problem] = reopened.problems
    assert "repaired a torn last line (44 bytes" in problem
    assert journal.path.read_bytes() == whole
    [saved] = tmp_path.glob("*.torn-*")
    assert saved.read_bytes().startswith(b'{"seq": 4')
    assert reopened.append("note", "alice", "after").seq == 4


def test_a_whole_last_event_without_its_newline_is_kept(tmp_path: Path, clock: SteppedClock) -> None:
    journal = new_journal(tmp_path, clock)
    journal.append("note", "alice", "one")
    journal.path.write_bytes(journal.path.read_bytes().rstrip(b"\n"))
    reopened = Journal.open(journal.path, clock)
    assert [e.summary for e in reopened.events] == ["one"]
    assert "lacked its newline" in reopened.problems[0]
    assert journal.path.read_bytes().endswith(b"\n")


def test_a_corrupt_middle_line_is_reported_skipped_and_left_in_the_file(tmp_path: Path, clock: SteppedClock) -> None:
    journal = new_journal(tmp_path, clock)
    journal.append("note", "alice", "before")
    with journal.path.open("ab") as f:
        f.write(b"\x00garbage{{\n")
        f.write(b'{"seq": "x"}\n')
    journal.append("note", "alice", "after")
    content = journal.path.read_bytes()
    reopened = Journal.open(journal.path, clock)
    assert [e.summary for e in reopened.events] == ["before", "after"]
    assert [p.split(":")[0] for p in reopened.problems] == [
        "INC-20261127-0001.jsonl line 2",
        "INC-20261127-0001.jsonl line 3",
    ]
    assert journal.path.read_bytes() == content  # never silently dropped from the file


def test_clock_going_backwards_keeps_seq_order(tmp_path: Path, clock: SteppedClock) -> None:
    journal = new_journal(tmp_path, clock)
    journal.append("note", "alice", "first")
    clock.advance(-3600)
    journal.append("note", "alice", "second, an hour earlier by the clock")
    reopened = Journal.open(journal.path, clock)
    assert [e.seq for e in reopened.events] == [1, 2]
    assert reopened.events[1].ts < reopened.events[0].ts  # both times shown honestly


def _writer(path: str, name: str, count: int) -> None:
    journal = Journal.open(Path(path))
    for i in range(count):
        journal.append("note", name, f"{name} {i} " + "x" * 3000)  # lines longer than PIPE_BUF


def test_two_consoles_never_interleave_and_never_share_a_seq(tmp_path: Path, clock: SteppedClock) -> None:
    journal = new_journal(tmp_path, clock)
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(str(journal.path), n, 150)) for n in ("alice", "bob")]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    lines = journal.path.read_bytes().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole
    assert sorted(r["seq"] for r in records) == list(range(1, 301))
    assert Journal.open(journal.path).problems == []
    fresh = journal.refresh()  # the first console sees what the others wrote
    assert len(fresh) == 300 and journal.last_seq == 300


def test_a_full_disk_refuses_the_event_and_loses_nothing(tiny_disk: Path, clock: SteppedClock) -> None:
    journal = Journal.create(tiny_disk / "INC-20261127-0001.jsonl", clock)
    journal.append("note", "alice", "recorded before the disk filled")
    free = os.statvfs(tiny_disk)
    (tiny_disk / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 4096))  # 4 KiB left
    before = journal.path.read_bytes()
    with pytest.raises(JournalError, match=r"^No space left on device"):
        journal.append("note", "alice", "y" * 8000)
    assert journal.path.read_bytes() == before  # no torn line left behind
    assert [e.summary for e in journal.events] == ["recorded before the disk filled"]
    (tiny_disk / "filler").unlink()
    assert journal.append("note", "alice", "after").seq == 2


def test_a_read_only_disk_refuses_the_event_and_still_reads(tiny_disk: Path, clock: SteppedClock) -> None:
    journal = Journal.create(tiny_disk / "INC-20261127-0001.jsonl", clock)
    journal.append("note", "alice", "kept")
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    with pytest.raises(JournalError, match="Read-only file system"):
        journal.append("note", "alice", "refused")
    reopened = Journal.open(journal.path, clock)
    assert [e.summary for e in reopened.events] == ["kept"]
    assert "read-only" in reopened.problems[0]
