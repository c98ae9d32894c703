"""The step runner with real processes: exit codes, timeouts, kills that reach every
descendant, bounded memory for huge output, and output bytes kept exactly."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from pathlib import Path

import pytest

from oncall_tui.core.runbooks.runner import TAIL_BYTES, StepError, StepOutcome, StepProcess


def run(
    command: str, tmp_path: Path, timeout: float = 30, kill_when: threading.Event | None = None, **kw
) -> tuple[StepOutcome, str, Path]:
    seen: list[str] = []
    output = tmp_path / "out" / "step.log"
    process = StepProcess(
        command,
        shell="bash",
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        timeout=timeout,
        output=output,
        on_output=seen.append,
        grace=kw.pop("grace", 1.0),
        **kw,
    )
    process.start()
    if kill_when is not None:
        threading.Thread(target=lambda: (kill_when.wait(30), process.kill()), daemon=True).start()
    return process.wait(), "".join(seen), output


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_exit_code_interleaved_output_and_cwd(tmp_path: Path) -> None:
    outcome, text, saved = run("echo out; echo err >&2; pwd; exit 3", tmp_path)
    assert (outcome.exit_code, outcome.signal, outcome.timed_out, outcome.killed) == (3, None, False, False)
    assert text == f"out\nerr\n{tmp_path}\n"
    assert saved.read_text() == text
    assert outcome.size == len(text) and outcome.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert outcome.describe().startswith("exit 3 in ")


def test_no_stdin(tmp_path: Path) -> None:
    outcome, text, _ = run('read -r line; echo "read=$? [$line]"', tmp_path, timeout=10)
    assert text == "read=1 []\n" and not outcome.timed_out


def test_a_step_that_never_exits_times_out_and_is_killed(tmp_path: Path) -> None:
    outcome, _, _ = run("echo started; sleep 600", tmp_path, timeout=0.5)
    assert outcome.timed_out and outcome.signal == signal.SIGTERM and outcome.exit_code is None
    assert "timed out" in outcome.describe()


def test_sigterm_ignored_means_sigkill_after_the_grace(tmp_path: Path) -> None:
    outcome, _, _ = run("trap '' TERM; sleep 600", tmp_path, timeout=0.3, grace=0.5)
    assert outcome.timed_out and outcome.signal == signal.SIGKILL


def test_kill_reaches_a_background_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    go = threading.Event()
    command = f"sleep 600 & echo $! > {pid_file}; echo ready; wait"

    def watch() -> None:  # kill once the child exists
        while not (pid_file.exists() and pid_file.read_text().strip()):
            threading.Event().wait(0.02)
        go.set()

    threading.Thread(target=watch, daemon=True).start()
    outcome, text, _ = run(command, tmp_path, kill_when=go)
    assert outcome.killed and not outcome.timed_out and text == "ready\n"
    assert not alive(int(pid_file.read_text()))


def test_a_child_left_behind_is_ended_with_the_step(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    outcome, _, _ = run(f"(sleep 600; echo late) & echo $! > {pid_file}; echo bye", tmp_path, timeout=30)
    assert outcome.exit_code == 0  # the shell itself exited normally
    assert not alive(int(pid_file.read_text()))


def test_huge_output_is_hashed_whole_and_the_tail_stays_bounded(tmp_path: Path) -> None:
    size = 100 * 1024 * 1024
    outcome, _, saved = run(
        f"head -c {size} /dev/zero | tr '\\0' 'x'; echo END", tmp_path, timeout=120, save_limit=10 * 1024 * 1024
    )
    assert outcome.size == size + 4
    digest = hashlib.sha256(b"x" * size + b"END\n").hexdigest()
    assert outcome.sha256 == digest
    assert outcome.tail.endswith(b"xEND\n") and len(outcome.tail) == TAIL_BYTES
    assert saved.stat().st_size == outcome.saved == 10 * 1024 * 1024  # the saved copy stops at its limit


def test_invalid_utf8_and_escape_sequences_are_kept_as_bytes(tmp_path: Path) -> None:
    outcome, text, saved = run(r"printf 'bad \xff\xfe end \033]0;owned\007 \033[2J\n'", tmp_path)
    assert saved.read_bytes() == b"bad \xff\xfe end \x1b]0;owned\x07 \x1b[2J\n"
    assert text == "bad \ufffd\ufffd end \x1b]0;owned\x07 \x1b[2J\n"  # the screen cleans it; the file keeps it
    assert outcome.tail == saved.read_bytes()


def test_a_missing_shell_or_directory_is_one_line(tmp_path: Path) -> None:
    process = StepProcess("true", shell="/no/such/shell", cwd=tmp_path, env={}, timeout=5, output=tmp_path / "o.log")
    with pytest.raises(StepError, match="cannot start /no/such/shell"):
        process.start()
    process = StepProcess("true", shell="bash", cwd=tmp_path / "gone", env={}, timeout=5, output=tmp_path / "o.log")
    with pytest.raises(StepError, match="No such file or directory"):
        process.start()
