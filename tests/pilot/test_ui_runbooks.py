"""Pilot tests for the runbook pane: the runbook follows the alert; steps are confirmed,
run for real, streamed, killed, recorded; hostile values and output stay harmless."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from oncall_tui.core.runbooks.step_runs import StepRun
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import OncallApp, oncall_app
from oncall_tui.ui.screens.choice import ChoiceScreen
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.prompt import TextPrompt
from oncall_tui.ui.widgets.runbook_pane import run_key
from tests.conftest import SteppedClock, alert, make_config, notes, steps_settled, until
from tests.runbook_world import write

RUNBOOK = """---
alerts: [PodCrashLooping]
---
# Pod Crash Looping

See https://kubernetes.io/docs/tasks/debug/ for more.

## Describe

```bash {name=describe}
echo "describing" {{ labels.pod }}
```

## Events

```bash
echo events for {{ labels.namespace }}
```

## Wait forever

```bash {name=forever}
echo started; sleep 600
```
"""
FIRING = [
    alert("PodCrashLooping", "warning", {"summary": "pod restarts"}, pod="ml-worker-1", namespace="ml"),
    alert("HighErrorRate", "critical", {"runbook_url": "https://wiki/runbooks/errors.md"}, service="ml-api"),
]


def one_step_runbook(tmp_path: Path, command: str, closed: bool = True) -> None:
    """A runbook for PodCrashLooping with one bash step."""
    fence = "```\n" if closed else ""
    write(
        tmp_path / "runbooks",
        "pod-crash.md",
        f"---\nalerts: [PodCrashLooping]\n---\n# X\n\n```bash\n{command}\n{fence}",
    )


def output_text(app: OncallApp) -> str:
    return "\n".join(app.main.runbook_pane.output.lines)


@asynccontextmanager
async def open_console(
    sim: SimServer,
    clock: SteppedClock,
    tmp_path: Path,
    firing: list[dict],
    size: tuple[int, int] = (160, 45),
    **app_args,
) -> AsyncIterator[tuple[OncallApp, Pilot]]:
    sim.store.post_alerts(firing)
    config = make_config(
        sim.url,
        data_dir=str(tmp_path / "data"),
        runbooks={"dir": str(tmp_path / "runbooks"), "kill_grace": "1s"},
    )
    app = oncall_app(config, clock=clock, **app_args)
    async with app.run_test(size=size) as pilot:
        await until(lambda: len(app.main.alert_list.alerts) == len(firing), what="the alerts")
        await pilot.pause()
        yield app, pilot


@pytest.fixture
async def console(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> AsyncIterator[tuple[OncallApp, Pilot]]:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    async with open_console(sim, clock, tmp_path, FIRING) as opened:
        yield opened


async def select(app: OncallApp, pilot: Pilot, name: str) -> None:
    """Move the alert cursor to `name` and wait for its runbook lookup."""
    names = [row.alert.name for row in app.main.alert_list.rows]  # as drawn: a group is one row
    assert name in names, names
    await pilot.press("g", *["j"] * names.index(name))
    await until(
        lambda: app.main.runbook_pane.alert is not None and app.main.runbook_pane.alert.name == name,
        what=f"the runbook of {name}",
    )
    await pilot.pause()


async def run_selected(app: OncallApp, pilot: Pilot) -> StepRun:
    step = app.main.runbook_pane.selected
    await pilot.press("r")
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("enter")
    key = run_key(app.main.runbook_pane.alert, app.main.runbook_pane.runbook, step)
    await until(lambda: key in app.main.runbook_pane.step_runs, what="the step to start")
    return app.main.runbook_pane.step_runs[key]


async def test_the_runbook_follows_the_selected_alert(console: tuple[OncallApp, Pilot], tmp_path: Path) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    pane = app.main.runbook_pane
    assert pane.runbook.path.name == "pod-crash.md"
    assert "by front matter alerts · 3 step(s)" in str(pane.title.render())
    assert [str(pane.steps.get_option_at_index(i).prompt).strip() for i in range(3)] == [
        "1 describe",
        "2 Events",
        "3 forever",
    ]
    assert pane.selected == 1
    await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
    assert pane.selected == 3 and pane.steps.highlighted == 2
    await pilot.press("left_square_bracket")
    assert pane.selected == 2
    await pilot.press("d")
    assert app.main.bottom_left.current == "detail" and app.main.alert_detail.alert.name == "PodCrashLooping"
    await pilot.press("right_square_bracket")  # a step key brings the runbook back
    assert app.main.bottom_left.current == "runbook" and pane.selected == 3

    await select(app, pilot, "HighErrorRate")
    assert pane.runbook is None
    shown = "".join(line.text.rstrip() for line in pane.document.rendered.lines)  # unwrapped
    assert "No runbook for HighErrorRate." in shown
    assert "runbook_url annotation → errors.md" in shown and "high-error-rate.md" in shown
    assert f"create{tmp_path / 'runbooks'}/high-error-rate.md(orlist".replace(" ", "") in shown.replace(" ", "")
    await pilot.press("r")
    assert notes(app)[-1] == "No runbook for this alert."


async def test_run_confirm_stream_record_then_the_next_step(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("r")
    confirm = app.screen
    assert isinstance(confirm, ConfirmScreen)
    assert confirm.question == "Run step 1 “describe” of pod-crash.md?"
    assert 'echo "describing" ml-worker-1' in confirm.detail
    assert "timeout       300 s" in confirm.detail and "a new incident, declared now" in confirm.detail
    await pilot.press("enter")
    await steps_settled(app)
    assert "describing ml-worker-1" in output_text(app)
    assert app.main.runbook_pane.selected == 2  # on to the next step after a success
    incident = app.main.incident_pane.active()
    assert incident.title == "PodCrashLooping: pod restarts"
    kinds = [e.kind for e in incident.events]
    assert kinds == ["incident.declared", "runbook.step_started", "runbook.step_finished"]
    assert incident.events[-1].data["exit_code"] == 0
    await until(lambda: any("Finished step 1" in line.text for line in app.main.timeline.lines), what="the timeline")
    assert str(app.main.runbook_pane.steps.get_option_at_index(0).prompt).startswith("✓  1 describe  exit 0 in")
    assert app.main.runbook_pane.output.border_title.startswith("OUTPUT step 1 · ✓ exit 0")
    await select(app, pilot, "HighErrorRate")  # another alert: none of its steps ran, no output shown
    assert app.main.runbook_pane.output.border_title == "OUTPUT" and output_text(app) == ""
    await select(app, pilot, "PodCrashLooping")  # back: its own run again
    assert app.main.runbook_pane.output.border_title.startswith("OUTPUT step 1 · ✓ exit 0")


async def test_esc_cancels_and_nothing_runs(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("r")
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("escape")
    assert not isinstance(app.screen, ConfirmScreen)
    assert app.main.runbook_pane.step_runs == {} and app.services.desk.open_incidents() == []


async def test_r_right_after_moving_waits_for_the_new_alerts_runbook(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    """`j r` faster than the runbook lookup must not run the step with the previous alert's labels."""
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    pods = [alert("PodCrashLooping", "warning", pod=f"ml-worker-{n}", namespace="ml") for n in (1, 2)]
    async with open_console(sim, clock, tmp_path, pods) as (app, pilot):
        await pilot.press("g", "enter", "j")  # into their group, on the first of the two
        first, second = app.main.alert_list.alerts
        await until(
            lambda: app.main.runbook_pane.alert and app.main.runbook_pane.alert.fingerprint == first.fingerprint,
            what="runbook",
        )
        lookup, release = app.services.library.match, threading.Event()

        def slow_match(alert):
            release.wait(10)
            return lookup(alert)

        app.services.library.match = slow_match
        await pilot.press("j", "r")
        assert not isinstance(app.screen, ConfirmScreen)
        await until(lambda: any("still finding the runbook for PodCrashLooping" in n for n in notes(app)), what="why")
        polls = app.services.board.polls
        await until(lambda: app.services.board.polls >= polls + 2, what="a poll while the lookup is slow")
        await pilot.press("r")  # a poll shows the same alert again: still not its runbook
        assert (
            not isinstance(app.screen, ConfirmScreen) and app.main.runbook_pane.alert.fingerprint == first.fingerprint
        )
        release.set()
        await until(
            lambda: app.main.runbook_pane.alert.fingerprint == second.fingerprint, what="the second pod's runbook"
        )
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        assert f'echo "describing" {second.labels["pod"]}' in app.screen.detail


async def test_a_key_held_down_looks_up_the_runbook_once_the_cursor_rests_and_r_at_once(
    sim: SimServer, clock: SteppedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another runbook laid out at every row would hold up the keys (bench/alerts_scale.py (d)):
    moves hard on each other's heels are followed once the cursor rests; `r` looks at once."""
    from oncall_tui.ui.widgets import runbook_pane

    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    pods = [alert("PodCrashLooping", "warning", pod=f"ml-worker-{n}", namespace="ml") for n in range(8)]
    async with open_console(sim, clock, tmp_path, pods) as (app, pilot):
        pane, rows = app.main.runbook_pane, app.main.alert_list
        await pilot.press("g", "enter")  # into the group
        looked_up: list[str | None] = []
        find = pane.find
        pane.find = lambda alert: looked_up.append(alert and alert.fingerprint) or find(alert)
        now = [pane._moved_at]  # time stands still at the last move (not at a number: uptime varies)
        monkeypatch.setattr(runbook_pane, "_now", lambda: now[0])  # so each move is quick
        monkeypatch.setattr(runbook_pane, "SETTLE", 60.0)  # and no rest comes mid-burst, however loaded
        start = rows.cursor
        for _ in range(5):  # as the terminal sends a held key (Pilot.press waits ~0.1 s a key)
            app.post_message(events.Key("j", "j"))
        await until(lambda: rows.cursor == start + 5, what="the cursor five rows down")
        assert pane._settling is not None and looked_up == []  # nothing looked for while the keys came
        monkeypatch.setattr(runbook_pane, "SETTLE", 0.05)
        await pilot.press("j")  # one more, then the cursor rests
        resting = rows.current
        await until(
            lambda: pane.alert is not None and pane.alert.fingerprint == resting.fingerprint, what="its runbook"
        )
        assert set(looked_up) == {resting.fingerprint}  # the one it rests on (and read again each second)

        now[0] += 1  # after a rest, a move is followed at once
        await pilot.press("j")
        assert pane._settling is None and looked_up[-1] == rows.current.fingerprint
        await until(lambda: pane.alert.fingerprint == rows.current.fingerprint, what="the next runbook")

        monkeypatch.setattr(runbook_pane, "SETTLE", 60.0)
        for key in "jr":  # r before the cursor rests: not run, and looked up now
            app.post_message(events.Key(key, key))
        await until(lambda: any("still finding the runbook for PodCrashLooping" in n for n in notes(app)), what="why")
        assert not isinstance(app.screen, ConfirmScreen) and pane._settling is None
        await until(lambda: pane.alert.fingerprint == rows.current.fingerprint, what="the runbook looked up for r")
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        assert f'echo "describing" {rows.current.labels["pod"]}' in app.screen.detail


async def test_a_value_like_an_option_is_flagged_in_the_confirmation(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    async with open_console(sim, clock, tmp_path, [alert("PodCrashLooping", "warning", pod="--all")]) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("r")
        assert (
            "CAUTION       labels.pod='--all' starts with '-': a command may read it as an option" in app.screen.detail
        )
        await pilot.press("escape")


@pytest.mark.parametrize("size", [(160, 45), (80, 24)])
async def test_a_huge_label_keeps_the_question_and_buttons_in_view(
    sim: SimServer, clock: SteppedClock, tmp_path: Path, size: tuple[int, int]
) -> None:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    huge = "p" + "A" * 20_000
    firing = [alert("PodCrashLooping", "warning", pod=huge)]
    async with open_console(sim, clock, tmp_path, firing, size=size) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("r")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and huge in confirm.detail  # the whole command is there
        await pilot.pause()
        dialog = confirm.query_one("#confirm-dialog")
        assert dialog.scroll_y == 0  # not scrolled to the buttons, past the question
        for part in ("#confirm-question", "#confirm-yes", "#confirm-no"):
            region = confirm.query_one(part).region
            assert region.height > 0 and dialog.region.contains_region(region), (part, region)
        facts, command = confirm.detail.split("\ncommand (", 1)
        assert "recorded in   a new incident" in facts and "(20001 characters, all in the command)" in facts
        assert command.startswith("run as `SHELL -c`, in its own process group, no stdin; 20019 characters")
        assert facts.startswith("command       20,019 characters, last (the arrows scroll)")
        scroll = confirm.query_one("#confirm-detail-scroll")
        await pilot.press("pagedown")  # the focus is on the Run button: the arrows scroll anyway
        await until(lambda: scroll.scroll_y > 0, what="the detail scrolled")
        await pilot.press("enter")
        await steps_settled(app)
        assert (
            app.main.runbook_pane.last_run.outcome.ok
            and app.main.incident_pane.active().events[-2].data["params"]["labels.pod"] == huge
        )


async def test_a_short_command_comes_first_in_its_confirmation_in_view_at_80x24(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    firing = [alert("PodCrashLooping", "warning", pod="ml-worker-1", namespace="ml")]
    async with open_console(sim, clock, tmp_path, firing, size=(80, 24)) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("r")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        first, command, blank, directory = confirm.detail.split("\n")[:4]
        assert first.startswith("command (run as") and command == '  echo "describing" ml-worker-1'
        assert (blank, directory.split()[0]) == ("", "directory")
        await pilot.pause()
        detail = confirm.query_one("#confirm-detail")
        assert confirm.query_one("#confirm-detail-scroll").scroll_y == 0 and detail.region.height >= 2
        await pilot.press("escape")


async def test_a_missing_value_is_asked_for_naming_the_field(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    firing = [alert("PodCrashLooping", "warning", pod="ml-worker-1")]  # no namespace label
    async with open_console(sim, clock, tmp_path, firing) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("right_square_bracket", "r")
        prompt = app.screen
        assert isinstance(prompt, TextPrompt)
        assert prompt.title_text == "Step 2 · a value for {{ labels.namespace }}"
        assert prompt.label.startswith("the alert PodCrashLooping has no label namespace.")
        await pilot.press(*"kube system", "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "echo events for 'kube system'" in app.screen.detail
        await pilot.press("escape")


async def test_ctrl_c_kills_a_running_step_and_k_in_the_pane_only_moves(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("right_square_bracket", "right_square_bracket")
    run = await run_selected(app, pilot)
    await until(lambda: "started" in output_text(app), what="the step's output")
    assert run.running and "⟳" in str(app.main.runbook_pane.steps.get_option_at_index(2).prompt)
    await pilot.press("r")
    assert notes(app)[-1] == "Step 3 is still running for this alert: ctrl+c kills it."
    await pilot.press("ctrl+c")
    await until(lambda: not run.running, what="the kill")
    assert run.outcome.killed and run.outcome.signal == 15
    finished = app.main.incident_pane.active().events[-1]
    assert finished.kind == "runbook.step_finished" and finished.data["killed"] is True
    assert app.main.runbook_pane.selected == 3  # a failed step keeps the selection

    again = await run_selected(app, pilot)
    await until(lambda: "started" in output_text(app), what="the second run's output")
    app.main.runbook_pane.steps.focus()
    await until(lambda: app.main.runbook_pane.steps.has_focus, what="the steps focused")
    await pilot.press("k")  # k means up here too, never kill
    await until(lambda: app.main.runbook_pane.selected == 2, what="k to move up a step")
    assert again.running
    await pilot.press("ctrl+c")
    await until(lambda: not again.running, what="the kill by ctrl+c in the pane")
    assert again.outcome.killed


async def test_several_steps_run_at_once_and_quitting_asks_first(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("right_square_bracket", "right_square_bracket")
    forever = await run_selected(app, pilot)
    # its incident is shown, once its run has started, and why
    await until(lambda: "(a step ran on it" in str(app.main.incident_pane.render()), what="the incident")
    await pilot.press("left_square_bracket", "left_square_bracket")
    first = await run_selected(app, pilot)
    await until(lambda: not first.running, what="step 1 while step 3 runs")
    assert forever.running and first.outcome.ok
    await pilot.press("q")
    assert isinstance(app.screen, ConfirmScreen) and "1 step(s) still running" in app.screen.question
    await pilot.press("escape")
    forever.kill()
    await until(lambda: not forever.running, what="the kill")


async def test_a_step_confirmed_as_q_is_pressed_is_asked_about_and_never_starts(
    console: tuple[OncallApp, Pilot],
) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    pane, desk = app.main.runbook_pane, app.services.desk
    with desk.lock:  # held here: the step's worker waits to declare its incident, the step still starting
        await pilot.press("r", "enter")
        await until(lambda: pane.starting, what="the step confirmed")
        question = app.main.quit_question()
        assert question and question[0].startswith("1 step(s) still running") and "describe" in question[1]
        ending = asyncio.get_running_loop().run_in_executor(None, pane.end_running_steps)  # what q does next
        await until(lambda: pane.quitting, what="the way out begun")
    await ending
    await until(lambda: any("the console is quitting" in n for n in notes(app)), what="the refusal")
    await until(lambda: not pane.starting, what="the step let go")
    [incident] = desk.open_incidents()  # declared for its record, before it saw the console going
    assert "runbook.step_started" not in [e.kind for e in incident.events] and not pane.running_steps()


async def test_a_step_that_ran_but_whose_end_was_not_recorded_says_so_and_not_that_it_did_not_run(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    # the step puts a directory where its incident's journal was, so its end cannot be written
    incidents = tmp_path / "data" / "incidents"
    one_step_runbook(tmp_path, f'echo ran; cd {incidents} && for f in *.jsonl; do mv "$f" "$f.moved"; mkdir "$f"; done')
    async with open_console(sim, clock, tmp_path, FIRING[:1]) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        run = await run_selected(app, pilot)
        said = "ended (exit 0 in 0.0 s), but that is NOT recorded: "
        await until(lambda: any(said in n for n in notes(app)), what="the warning")
        assert run.started is not None and not run.running and run.outcome.ok  # its start is on the record; it ran
        assert not any(n.startswith("Not run") for n in notes(app))
        [journal] = incidents.glob("*.jsonl.moved")
        assert [json.loads(line)["kind"] for line in journal.read_text().splitlines()] == [
            "incident.declared",
            "runbook.step_started",
        ]


async def test_a_hostile_label_runs_nothing_through_the_console(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    hostile = f"$(touch {marker}); touch {marker} `touch {marker}` [bold]x[/bold] \x1b]0;title\x07 zw\u200b"
    firing = [alert("PodCrashLooping", "warning", pod=hostile, namespace="ml")]
    async with open_console(sim, clock, tmp_path, firing) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("r")
        assert "\\x1b]0;title\\x07 zw\\u200b" in app.screen.detail  # shown, never sent to the terminal or hidden
        await pilot.press("enter")
        key = run_key(app.main.runbook_pane.alert, app.main.runbook_pane.runbook, 1)
        await steps_settled(app)
        assert not marker.exists()
        assert app.main.runbook_pane.step_runs[key].outcome.ok
        shown = output_text(app)
        assert "[bold]x[/bold]" in shown and "\x1b" not in shown and "\x07" not in shown


async def test_terminal_escapes_and_bad_bytes_in_output_are_harmless(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    one_step_runbook(tmp_path, "printf 'a\\033]0;owned\\007b\\033[2J\\033[31mred\\033[0m \\xff\\xfe end\\n'")
    async with open_console(sim, clock, tmp_path, FIRING[:1]) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        run = await run_selected(app, pilot)
        await steps_settled(app)
        assert output_text(app).strip() == "abred \ufffd\ufffd end"
        assert (
            run.outcome.ok
            and app.main.incident_pane.active().events[-1].data["output_tail"] == "abred \ufffd\ufffd end\n"
        )


async def test_a_hundred_megabytes_of_output_keeps_the_console_responsive(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    one_step_runbook(tmp_path, "yes 'a line of output' | head -c 100000000")
    async with open_console(sim, clock, tmp_path, FIRING) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        run = await run_selected(app, pilot)
        await until(lambda: app.main.runbook_pane.output.line_count > 100, what="output on screen")
        await pilot.press("k")  # keys still work while it streams (k moves up in the alert list)
        assert app.main.alert_list.current.name == "HighErrorRate"
        await until(lambda: not run.running, timeout=120, what="100 MB")
        assert run.outcome.size == 100_000_000
        await select(app, pilot, "PodCrashLooping")  # back on the alert it ran for: its output
        assert app.main.runbook_pane.output.line_count <= 2001  # the pane keeps a bounded tail
        await until(lambda: app.main.runbook_pane._seen == run.output.total, what="the pane to catch up")
        assert len(output_text(app)) < 200_000 and output_text(app).endswith("a line of output")


async def test_unclosed_block_and_read_only_are_refused_with_a_reason(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    one_step_runbook(tmp_path, "echo never closed", closed=False)
    async with open_console(sim, clock, tmp_path, FIRING[:1]) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        assert "never closed" in str(app.main.runbook_pane.title.render())
        await pilot.press("r")
        assert "never closed: fix the runbook" in notes(app)[-1] and app.main.runbook_pane.step_runs == {}
    async with open_console(sim, clock, tmp_path, FIRING[:1], read_only=True) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("r")
        assert notes(app)[-1].startswith("Read-only") and not isinstance(app.screen, ConfirmScreen)


async def test_dry_run_records_and_runs_nothing(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    one_step_runbook(tmp_path, f"touch {marker}")
    async with open_console(sim, clock, tmp_path, FIRING[:1], dry_run=True) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("r")
        assert "DRY RUN" in app.screen.detail
        await pilot.press("enter")
        await steps_settled(app)
        assert not marker.exists()
        assert [e.kind for e in app.main.incident_pane.active().events][-2:] == [
            "runbook.step_started",
            "runbook.step_finished",
        ]
        assert "(dry run)" in output_text(app)


async def test_links_are_offered_to_copy_and_open(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("y")
    picker = app.screen
    assert isinstance(picker, ChoiceScreen)
    assert picker.entries == ["https://kubernetes.io/docs/tasks/debug/"]  # the runbook's (the alert has none)
    await pilot.press("enter")
    assert app.clipboard == "https://kubernetes.io/docs/tasks/debug/"


async def test_open_never_starts_a_text_browser_in_this_terminal(
    sim: SimServer, clock: SteppedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    one_step_runbook(tmp_path, "true")
    runbook_url = {"runbook_url": "https://wiki.example.com/pod-crash.md"}
    firing = [alert("PodCrashLooping", "warning", runbook_url, pod="p")]
    async with open_console(sim, clock, tmp_path, firing) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        await pilot.press("o")
        assert app.screen.entries[0] == "https://wiki.example.com/pod-crash.md"  # the alert's link first
        await pilot.press("enter")
        assert app.clipboard == "https://wiki.example.com/pod-crash.md"
        assert notes(app)[-1].startswith("No graphical browser here")


async def test_contents_jump_to_a_heading(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("T")
    assert isinstance(app.screen, ChoiceScreen) and [e.strip() for e in app.screen.entries] == [
        "Pod Crash Looping",
        "Describe",
        "Events",
        "Wait forever",
    ]
    await pilot.press("end", "enter")
    document = app.main.runbook_pane.document
    assert (
        document.scroll_offset.y == document.rendered.headings[3] > 0
        or document.max_scroll_y < document.rendered.headings[3]
    )


async def test_a_5_mb_runbook_shows_its_start_and_lists_every_step(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    section = "## Part {n}\n\nProse about part {n}.\n\n```bash\necho part {n}\n```\n\n"
    write(
        tmp_path / "runbooks",
        "huge.md",
        "---\nalerts: [PodCrashLooping]\n---\n# Huge\n\n" + "".join(section.format(n=n) for n in range(80_000)),
    )
    async with open_console(sim, clock, tmp_path, FIRING) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        document = app.main.runbook_pane.document
        assert document.rendered.lines  # the start shows at once; the rest renders in a thread
        await pilot.press("k")  # the keys keep working meanwhile
        assert app.main.alert_list.current.name == "HighErrorRate"
        await pilot.press("j")
        await until(lambda: document.complete and document.runbook is not None, timeout=60, what="the shown part")
        shown = "".join(line.text.rstrip() for line in document.rendered.lines).replace(" ", "")
        assert "onlyitsfirst256KiBareshownhere.Everystepisthere" in shown
        steps = app.main.runbook_pane.steps
        assert steps.option_count == 501  # a list of 80,000 would only slow the pane down
        assert str(steps.get_option_at_index(500).prompt) == "… 79500 more steps: ] and [ reach them"
        await pilot.press("right_square_bracket")
        assert app.main.runbook_pane.selected == 2
        app.main.runbook_pane.select(79_999)
        await pilot.press("right_square_bracket")
        assert app.main.runbook_pane.selected == 80_000 and app.main.runbook_pane.step.command == "echo part 79999\n"


async def test_the_runbook_is_drawn_in_the_themes_colours(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    document = app.main.runbook_pane.document

    def heading_colour() -> str:
        row = next(line for line in document.rendered.lines if "Describe" in line.text)
        return next(s.style.color.triplet.hex.upper() for s in row if "Describe" in s.text)

    def unpainted_cells() -> int:  # cells left to the terminal's own background
        rows = [document.render_line(y) for y in range(document.size.height)]
        return sum(len(s.text) for row in rows for s in row if s.style is None or s.style.bgcolor is None)

    assert heading_colour() == app.get_css_variables()["markdown-h2-color"].upper()
    assert unpainted_cells() == 0
    dark = heading_colour()
    app.theme = "textual-light"
    await until(lambda: heading_colour() != dark, what="the runbook drawn again in the new theme")
    assert heading_colour() == app.get_css_variables()["markdown-h2-color"].upper()
    assert unpainted_cells() == 0


async def test_the_runbook_is_drawn_in_every_built_in_theme(console: tuple[OncallApp, Pilot]) -> None:
    """The ansi themes name the terminal's own colours (`ansi_magenta`), which Rich spells otherwise."""
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    document = app.main.runbook_pane.document
    for theme in sorted(app.available_themes):
        drawn = document.rendered
        app.theme = theme
        await until(lambda drawn=drawn: document.rendered is not drawn, what=f"the runbook drawn in {theme}")
        assert any("Describe" in line.text for line in document.rendered.lines), theme


async def test_a_runbook_edited_on_disk_shows_without_a_key(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    path = write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    async with open_console(sim, clock, tmp_path, FIRING[:1]) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        assert len(app.main.runbook_pane.runbook.steps) == 3
        await pilot.press("right_square_bracket")
        path.write_text(RUNBOOK + "\n## One more\n\n```bash\necho added\n```\n")
        await until(lambda: len(app.main.runbook_pane.runbook.steps) == 4, what="the edited runbook, re-read")
        assert str(app.main.runbook_pane.steps.get_option_at_index(3).prompt).strip() == "4 One more"
        assert app.main.runbook_pane.selected == 2  # the step you were on stays selected


async def test_an_unreadable_runbook_is_said_once_and_shows_when_fixed(
    console: tuple[OncallApp, Pilot], tmp_path: Path
) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    # root reads anything: a file named like the runbook_url's that no one can read
    unreadable = tmp_path / "runbooks" / "errors.md"
    unreadable.symlink_to("/proc/self/mem")
    await select(app, pilot, "HighErrorRate")
    pane = app.main.runbook_pane
    assert pane.runbook is None and "unreadable for HighErrorRate" in str(pane.title.render())
    await until(lambda: any("cannot read: Input/output error" in n for n in notes(app)), what="why")
    await pilot.press("r")  # not the previous alert's runbook, and not "still finding" forever
    assert not isinstance(app.screen, ConfirmScreen)
    await until(lambda: notes(app)[-1].startswith("No steps to run: "), what="why not")
    assert notes(app)[-1].endswith("cannot read: Input/output error")
    lookup, reads = app.services.library.match, []

    def counted(alert):
        reads.append(alert.name)
        return lookup(alert)

    app.services.library.match = counted
    await until(lambda: len(reads) >= 2, what="two more reads, a second apart")
    assert sum("cannot read" in n for n in notes(app)) == 2  # the notice once, and the answer to r
    unreadable.unlink()
    write(tmp_path / "runbooks", "errors.md", "# Errors\n\n```bash\necho fixed\n```\n")
    await until(lambda: pane.runbook is not None and app.main.runbook_pane.problem is None, what="the fixed runbook")
    assert "Errors" in str(pane.title.render())


async def test_markup_and_escapes_in_a_runbook_show_as_text(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    title = "[bold red]Boom[/] \x1b]0;owned\x07\x1b[2J"
    write(
        tmp_path / "runbooks",
        "pod-crash.md",
        f"---\nalerts: [PodCrashLooping]\ntitle: '[bold red]Boom[/]'\n---\n## {title}\n\n```bash {{name=x}}\necho hi\n```\n"
        f"\n## {title}\n\n```bash\necho two\n```\n",
    )
    async with open_console(sim, clock, tmp_path, FIRING[:1]) as (app, pilot):
        await select(app, pilot, "PodCrashLooping")
        pane = app.main.runbook_pane
        shown = [str(pane.title.render())] + [str(pane.steps.get_option_at_index(i).prompt) for i in range(2)]
        shown += [line.text for line in pane.document.rendered.lines]
        assert "\x1b" not in "".join(shown) and "\x07" not in "".join(shown)
        assert "[bold red]Boom[/]" in shown[0] and "[bold red]Boom[/]" in shown[2]  # literal, not styled
        await pilot.press("T")
        assert all("\x1b" not in entry for entry in app.screen.entries)


async def test_no_runbook_for_a_hostile_alert_name_shows_it_as_text(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    name = "Evil[bold]\x1b]0;owned\x07\x1b[2J"
    firing = [alert(name, "critical", {"runbook_url": "https://wiki/\x1b[2J[red]x[/].md"})]
    async with open_console(sim, clock, tmp_path, firing) as (app, _):

        def shown() -> str:
            return "".join(line.text for line in app.main.runbook_pane.document.rendered.lines)

        await until(lambda: "No runbook for" in shown(), what="the no-runbook message")
        text = shown()
        assert "No runbook for Evil[bold]" in text and "runbook_url annotation → ].md" in text
        assert "\x1b" not in text and "\x07" not in text


async def test_a_step_run_belongs_to_the_alert_it_ran_for(sim: SimServer, clock: SteppedClock, tmp_path: Path) -> None:
    """Two pods share a runbook: one pod's run is not the other's, in marks, refusals, kills or output."""
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    pods = [
        alert("PodCrashLooping", "warning", {"summary": "pod restarts"}, pod=f"ml-worker-{i}", namespace="ml")
        for i in (1, 2)
    ]
    async with open_console(sim, clock, tmp_path, pods) as (app, pilot):
        first, second = (a.labels["pod"] for a in app.main.alert_list.alerts)
        await pilot.press("g", "enter", "j")  # into their group, on the first
        await until(
            lambda: app.main.runbook_pane.alert and app.main.runbook_pane.alert.labels["pod"] == first,
            what="the first pod",
        )
        await pilot.press("right_square_bracket", "right_square_bracket")
        forever = await run_selected(app, pilot)  # step 3 waits forever, for the first pod
        await until(lambda: "started" in output_text(app), what="its output")
        await pilot.press("j")
        await until(lambda: app.main.runbook_pane.alert.labels["pod"] == second, what="the second pod's runbook")
        await pilot.pause()
        assert app.main.runbook_pane.runbook.path == forever.prepared.runbook.path  # the same runbook
        assert "⟳" not in str(app.main.runbook_pane.steps.get_option_at_index(2).prompt)  # not its run
        assert output_text(app) == "" and app.main.runbook_pane.output.border_title == "OUTPUT"
        await pilot.press("ctrl+c")
        assert notes(app)[-1] == "No step is running for this alert (1 running for other alerts: select the alert)."
        assert forever.running
        await pilot.press("left_square_bracket", "left_square_bracket")
        own = await run_selected(app, pilot)  # step 1 for the second pod: not "still running"
        await until(lambda: not own.running, what="the second pod's step 1")
        assert own.prepared.alert.labels["pod"] == second and f"describing {second}" in output_text(app)
        assert "✓" in str(app.main.runbook_pane.steps.get_option_at_index(0).prompt)
        await pilot.press("k")
        await until(lambda: app.main.runbook_pane.alert.labels["pod"] == first, what="the first pod again")
        await pilot.pause()
        assert " " == str(app.main.runbook_pane.steps.get_option_at_index(0).prompt)[0]  # step 1 never ran for it
        assert "started" in output_text(app) and forever.running  # its own run, still going
        await pilot.press("ctrl+c")
        await until(lambda: not forever.running, what="the kill of its own run")


async def test_after_a_success_the_output_stays_on_the_run_just_started(console: tuple[OncallApp, Pilot]) -> None:
    app, pilot = console
    await select(app, pilot, "PodCrashLooping")
    await pilot.press("right_square_bracket")
    await run_selected(app, pilot)  # step 2 first
    await steps_settled(app)
    await pilot.press("left_square_bracket", "left_square_bracket")
    assert app.main.runbook_pane.selected == 1
    await run_selected(app, pilot)  # then step 1: on success the selection moves to step 2, which ran before
    await steps_settled(app)
    assert app.main.runbook_pane.selected == 2
    assert app.main.runbook_pane.output.border_title.startswith("OUTPUT step 1 · ✓")
    assert "describing ml-worker-1" in output_text(app)
    await pilot.press("right_square_bracket", "left_square_bracket")  # moving onto step 2 picks its run
    assert app.main.runbook_pane.output.border_title.startswith("OUTPUT step 2 · ✓")


async def test_after_a_restart_each_alerts_runs_are_as_the_record_has_them(
    sim: SimServer, clock: SteppedClock, tmp_path: Path
) -> None:
    write(tmp_path / "runbooks", "pod-crash.md", RUNBOOK)
    pods = [
        alert("PodCrashLooping", "warning", {"summary": "pod restarts"}, pod=f"ml-worker-{i}", namespace="ml")
        for i in (1, 2)
    ]
    async with open_console(sim, clock, tmp_path, pods) as (app, pilot):
        await pilot.press("g", "enter", "j")  # into their group, on pod 1
        await until(
            lambda: app.main.runbook_pane.alert and app.main.runbook_pane.alert.labels["pod"] == "ml-worker-1",
            what="pod 1",
        )
        await run_selected(app, pilot)
        await steps_settled(app)
        started = app.main.incident_pane.active().events[-2]
        assert started.summary == "Started step 1 “describe” of pod-crash.md for PodCrashLooping ml-worker-1 ml"
    async with open_console(sim, clock, tmp_path, pods) as (app, pilot):  # the console again
        await pilot.press("g", "enter", "j")  # into their group, on pod 1
        await until(
            lambda: app.main.runbook_pane.alert and app.main.runbook_pane.alert.labels["pod"] == "ml-worker-1",
            what="pod 1",
        )
        await until(lambda: app.main.runbook_pane.step_runs, what="the recorded runs")
        await pilot.pause()
        assert str(app.main.runbook_pane.steps.get_option_at_index(0).prompt).startswith("✓  1 describe  exit 0 in")
        assert "(from the record: Finished step 1" in output_text(app) and "describing ml-worker-1" in output_text(app)
        await pilot.press("j")
        await until(lambda: app.main.runbook_pane.alert.labels["pod"] == "ml-worker-2", what="pod 2")
        await pilot.pause()
        assert str(app.main.runbook_pane.steps.get_option_at_index(0).prompt).startswith(
            "   1 describe"
        )  # never ran for it


async def test_a_runbook_shown_again_is_not_rendered_again_unless_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back and forth between two alerts: each runbook is rendered once (Markdown at 160
    columns costs a frame); edited on disk, or in another width, it is rendered again."""
    from oncall_tui.core.runbooks.library import read_runbook
    from oncall_tui.ui.widgets import runbook_document
    from oncall_tui.ui.widgets.runbook_document import RunbookDocument
    from tests.pilot.harness import PaneHarness

    renders: list[str] = []
    real = runbook_document.render
    monkeypatch.setattr(
        runbook_document, "render", lambda runbook, *a, **k: renders.append(runbook.title) or real(runbook, *a, **k)
    )
    one, two = write(tmp_path, "one.md", "# One\n\nfirst\n"), write(tmp_path, "two.md", "# Two\n\nsecond\n")
    document = RunbookDocument()
    async with PaneHarness(document).run_test(size=(100, 30)) as pilot:
        for path in (one, two, one, two, one):
            document.show(read_runbook(path))
            await pilot.pause()
        assert renders == ["One", "Two"] and "first" in "".join(s.text for s in document.rendered.lines)
        write(tmp_path, "one.md", "# One\n\nedited\n")
        document.show(read_runbook(one))
        await pilot.pause()
        assert renders == ["One", "Two", "One"] and "edited" in "".join(s.text for s in document.rendered.lines)
        await pilot.resize_terminal(80, 30)
        await until(lambda: renders[-1:] == ["One"] and len(renders) == 4, what="the render at 80 columns")
