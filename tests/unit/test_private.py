"""Everything the console writes is its owner's only: 0600 files in 0700 dirs, whatever the
umask (0 would make them world-writable, 0o277 would leave the owner unable to write), and a
data dir that cannot be written is said before anything needs it."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from oncall_tui.cli import main
from oncall_tui.core.incidents.desk import IncidentDesk
from oncall_tui.core.incidents.timeline import Journal
from oncall_tui.core.private import open_private, private_dir, recording_problem, write_private
from oncall_tui.core.runbooks.runner import StepProcess
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import oncall_app
from tests.conftest import SteppedClock, alert, make_config, notes, until


@pytest.fixture(params=[0o000, 0o277], ids=["umask-000", "umask-277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


@pytest.fixture
def read_only_disk(tiny_disk: Path) -> Path:
    """A real tmpfs, with a `data` dir made before it is remounted read-only (root ignores chmod)."""
    (tiny_disk / "data").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    return tiny_disk


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def config_file(tmp_path: Path, data_dir: Path, url: str = "http://127.0.0.1:9093") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"user: {{name: alice}}\nalertmanagers: [{{name: prod, url: '{url}', timeout: 1s}}]\ndata_dir: '{data_dir}'\n"
    )
    return path


# -- the helpers ------------------------------------------------------------------------------
def test_private_dir_makes_it_and_each_missing_parent_0700(tmp_path: Path, umask: int) -> None:
    private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700, 0o700, 0o700]


def test_private_dir_tightens_a_wide_dir_of_ours_unless_told_not_to(tmp_path: Path) -> None:
    wide = tmp_path / "incidents"
    wide.mkdir()
    wide.chmod(0o755)
    private_dir(wide, tighten=False)  # the data dir: as the user made it
    assert mode(wide) == 0o755
    private_dir(wide)
    assert mode(wide) == 0o700


def test_private_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "file.txt")
    with pytest.raises(NotADirectoryError):
        private_dir(tmp_path / "file.txt" / "sub")


def test_write_private_is_0600_and_tightens_a_file_it_replaces(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "postmortem.md"
    write_private(path, "# Postmortem é\n")
    assert mode(path) == 0o600 and path.read_text(encoding="utf-8") == "# Postmortem é\n"
    path.chmod(0o644)
    write_private(path, b"x")
    assert mode(path) == 0o600 and path.read_bytes() == b"x"


def test_open_private_leaves_what_is_not_a_regular_file_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"  # as `export -o /dev/stdout` would: never chmod a device or a pipe
    os.mkfifo(fifo)
    fifo.chmod(0o644)
    os.close(open_private(fifo, os.O_RDWR))
    assert mode(fifo) == 0o644


# -- recording_problem: `check` and the console's header ----------------------------------------
def test_a_writable_data_dir_is_made_0700_and_nothing_is_left_in_it(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "share" / "oncall-tui"
    assert recording_problem(data) is None
    assert mode(data) == 0o700 and list(data.iterdir()) == []


def test_our_dirs_are_tightened_and_the_data_dir_is_left_as_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for path in (data, data / "incidents", data / "exports"):
        path.mkdir(exist_ok=True)
        path.chmod(0o755)
    assert recording_problem(data) is None
    assert [mode(data), mode(data / "incidents"), mode(data / "exports")] == [0o755, 0o700, 0o700]


def test_a_data_dir_under_a_file_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("")
    data = tmp_path / "file.txt" / "sub"
    assert recording_problem(data) == f"{data} cannot be created (Not a directory)"


def test_a_data_dir_on_a_read_only_mount_is_not_writable(read_only_disk: Path) -> None:
    data = read_only_disk / "data"
    assert recording_problem(data) == f"{data} is not writable (Read-only file system)"
    new = read_only_disk / "new"
    assert recording_problem(new) == f"{new} cannot be created (Read-only file system)"


def test_check_fails_with_1_and_one_line_naming_the_data_dir(
    tmp_path: Path, sim: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("")
    data = tmp_path / "file.txt" / "sub"
    assert main(["--config", str(config_file(tmp_path, data, sim.url)), "check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("data_dir")] == [
        f"data_dir  FAILED {data} cannot be created (Not a directory)"
    ]
    assert lines[1].startswith("alertmanager  ok prod")  # only the data dir failed


def test_check_fails_on_a_read_only_data_dir(
    tmp_path: Path, sim: SimServer, read_only_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = read_only_disk / "data"
    assert main(["--config", str(config_file(tmp_path, data, sim.url)), "check"]) == 1
    assert f"data_dir  FAILED {data} is not writable (Read-only file system)" in capsys.readouterr().out.splitlines()


async def test_the_header_says_from_the_start_that_nothing_can_be_recorded(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    (tmp_path / "file.txt").write_text("")
    data = tmp_path / "file.txt" / "sub"
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    async with app.run_test(size=(200, 45)):
        await until(lambda: "cannot record" in str(app.main.status_line.render()), what="the header to say so")
        said = app.main.status_line.cannot_record  # the header shows it whole where the width allows
        assert said == f"{data} cannot be created (Not a directory)"
        assert f" · ✗ cannot record: {said[:40]}" in str(app.main.status_line.render())
        assert app.main.status_line.has_class("-stale")  # shown red


async def test_the_console_makes_its_data_dir_0700_at_start(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    async with app.run_test(size=(160, 45)):
        await until(lambda: all(w.is_finished for w in app.workers if w.group == "data_dir"), what="the check")
        assert mode(data) == 0o700
        assert "cannot record" not in str(app.main.status_line.render())
        assert not app.main.status_line.has_class("-stale")


# -- what the console writes ------------------------------------------------------------------
def test_a_new_journal_and_the_dirs_made_for_it_are_private(tmp_path: Path, clock: SteppedClock, umask: int) -> None:
    data = tmp_path / "data"
    desk = IncidentDesk(data, "alice", clock=clock)
    incident = desk.declare("disk full on db-1")
    desk.note(incident.id, "still writable by its owner")
    journal = desk.journals[incident.id].path
    assert (mode(data), mode(data / "incidents"), mode(journal)) == (0o700, 0o700, 0o600)
    assert len(Journal.open(journal).events) == 2


def test_a_new_journal_tightens_a_wide_incidents_dir(tmp_path: Path, clock: SteppedClock) -> None:
    (tmp_path / "data" / "incidents").mkdir(parents=True)
    (tmp_path / "data" / "incidents").chmod(0o755)
    IncidentDesk(tmp_path / "data", "alice", clock=clock).declare("x")
    assert mode(tmp_path / "data" / "incidents") == 0o700


def test_a_torn_line_is_saved_private(tmp_path: Path, clock: SteppedClock, umask: int) -> None:
    path = tmp_path / "INC-20261127-0001.jsonl"
    Journal.create(path, clock).append("note", "alice", "whole")
    with path.open("ab") as journal:
        journal.write(b'{"seq": 2, "id": "to')  # the console died mid-write
    opened = Journal.open(path, clock)
    [saved] = tmp_path.glob("*.torn-*")
    assert mode(path) == 0o600 and mode(saved) == 0o600
    assert saved.read_bytes() == b'{"seq": 2, "id": "to' and len(opened.events) == 1


def test_a_step_output_is_private(tmp_path: Path, umask: int) -> None:
    output = tmp_path / "incidents" / "INC-20261127-0001.outputs" / "00002-step-1.log"
    step = StepProcess("echo hi", shell="bash", cwd=tmp_path, env=dict(os.environ), timeout=10, output=output)
    step.start()
    step.wait()
    assert output.read_bytes() == b"hi\n"
    assert (mode(output.parent), mode(output)) == (0o700, 0o600)


async def test_the_export_key_writes_a_private_postmortem(
    sim: SimServer, clock: SteppedClock, tmp_path: Path, umask: int
) -> None:
    data = tmp_path / "data"
    incident = IncidentDesk(data, "alice", clock=clock).declare("disk full on db-1")
    (data / "exports").mkdir()
    (data / "exports").chmod(0o755)  # made wide by an older console: tightened
    sim.store.post_alerts([alert("DiskWillFill", instance="db-1")])
    app = oncall_app(make_config(sim.url, data_dir=str(data)), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(
            lambda: getattr(app.main.incident_pane.active(), "id", None) == incident.id and app.main.alert_list.alerts,
            what="the incident to resume",
        )
        await pilot.press("x")
        await until(lambda: any(n.startswith("Postmortem written to") for n in notes(app)), what="the export")
    path = data / "exports" / f"{incident.id}-postmortem.md"
    assert path.read_text().startswith("# Postmortem: disk full on db-1")
    assert (mode(data / "exports"), mode(path)) == (0o700, 0o600)


def test_export_to_a_file_from_the_command_line_is_private(tmp_path: Path, clock: SteppedClock, umask: int) -> None:
    data = tmp_path / "data"
    incident = IncidentDesk(data, "alice", clock=clock).declare("disk full on db-1")
    config = config_file(tmp_path, data)
    fresh, wide = tmp_path / "fresh.md", tmp_path / "wide.md"
    wide.write_text("an older export")
    wide.chmod(0o644)
    for path in (fresh, wide):
        assert main(["--config", str(config), "export", incident.id, "-o", str(path)]) == 0
        assert mode(path) == 0o600 and path.read_text().startswith("# Postmortem: disk full on db-1")


def test_a_data_dir_whose_incidents_cannot_be_used_cannot_record(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "incidents").write_text("left by something else")  # the first i would fail
    assert recording_problem(data) == f"{data / 'incidents'} is not a directory (the console keeps its incidents there)"


def test_a_data_dir_the_kernel_will_not_create_is_one_line(tmp_path: Path) -> None:
    """/proc answers mkdir with ENOENT though its parent exists: no endless retry."""
    assert (
        recording_problem(Path("/proc/oncall-tui-x"))
        == "/proc/oncall-tui-x cannot be created (No such file or directory)"
    )
