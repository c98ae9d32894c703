"""`keymap:` is checked whole against the console's bindings: unknown ids and keys that two
bindings would hold at once are config errors (exit 2, one line each), before anything starts."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

import oncall_tui.ui
from oncall_tui import cli
from oncall_tui.sim.server import SimServer
from oncall_tui.ui.app import oncall_app
from oncall_tui.ui.keymap import keymap_problems, known_ids
from oncall_tui.ui.main_screen import current_ids
from oncall_tui.ui.screens.silence_form import SilenceForm
from tests.conftest import SteppedClock, alert, make_config, until

GOOD = "user: {name: alice}\nalertmanagers: [{name: prod, url: 'http://127.0.0.1:9093'}]\n"


def test_an_unknown_id_is_named_with_the_nearest_one_or_a_pointer_to_help() -> None:
    assert keymap_problems({"silense": "ctrl+s"}) == [
        "keymap.silense: no binding has this id (did you mean silence? press ? in the console for every key and its id)"
    ]
    assert keymap_problems({"bogus": "x"}) == [
        "keymap.bogus: no binding has this id (ids are like quit, filter, silence, ack, run_step;"
        " press ? in the console for every key and its id)"
    ]


def test_a_key_another_binding_keeps_by_default_is_refused() -> None:
    assert keymap_problems({"silence": "j", "filter": "q"}) == [
        "keymap.silence: j is already the key of alerts.down (give alerts.down another key too, or pick another)",
        "keymap.filter: q is already the key of quit (give quit another key too, or pick another)",
    ]
    assert keymap_problems({"filter": "?"}) == [  # as written, though Textual spells it question_mark
        "keymap.filter: ? is already the key of help (give help another key too, or pick another)"
    ]


def test_one_key_given_to_two_bindings_is_said_once_at_the_second() -> None:
    assert keymap_problems({"silence": "f5", "filter": "f5"}) == [
        "keymap.filter: f5 is also given to silence (keymap.silence); one key can do one thing, pick another"
    ]
    assert keymap_problems({"quit": "q,ctrl+x", "filter": "q"}) == [
        "keymap.filter: q is also given to quit (keymap.quit); one key can do one thing, pick another"
    ]


def test_a_key_freed_by_another_remap_can_be_taken() -> None:
    assert keymap_problems({"quit": "ctrl+x", "filter": "q"}) == []
    assert keymap_problems({"filter": "q", "quit": "ctrl+x"}) == []  # in either order
    assert keymap_problems({"help": "f1", "filter": "?"}) == []
    assert keymap_problems({"quit": "q", "alerts.down": "down"}) == []  # its own default, or part of it


def test_comma_lists_are_checked_key_by_key() -> None:
    assert keymap_problems({"silence": "ctrl+s,f2"}) == []
    assert keymap_problems({"silence": "ctrl+s, f2"}) == []  # Textual strips the spaces around each
    assert keymap_problems({"silence": "ctrl+s,a"}) == [
        "keymap.silence: a is already the key of ack (give ack another key too, or pick another)"
    ]
    assert keymap_problems({"silence": "ctrl+s,", "filter": "", "note": "ctrl + n"}) == [
        "keymap.silence: 'ctrl+s,' leaves a key empty (give keys separated by commas, like ctrl+s,f2)",
        "keymap.filter: no key given (to keep the default, leave it out)",
        "keymap.note: 'ctrl + n': a key has no spaces inside (ctrl+s; several keys: ctrl+s,f2)",
    ]


def test_textual_keys_that_always_act_are_taken() -> None:
    assert keymap_problems({"filter": "tab", "silence": "ctrl+q"}) == [
        "keymap.filter: tab is Textual's key for focus next (pick another)",
        "keymap.silence: ctrl+q is Textual's key for quit (pick another)",
    ]
    assert keymap_problems({"kill_step": "ctrl+c"}) == []  # shares it with Textual's copy by default
    assert keymap_problems({"kill_step": "ctrl+k", "filter": "ctrl+c"}) == [
        "keymap.filter: ctrl+c is Textual's key for help quit (pick another)"
    ]


def test_panes_that_are_never_focused_together_do_not_compete() -> None:
    assert keymap_problems({"steps.up": "space"}) == []  # the alert list's mark, but it has no focus then
    assert keymap_problems({"steps.up": "r"}) == [
        "keymap.steps.up: r is already the key of run_step (give run_step another key too, or pick another)"
    ]


def test_an_old_binding_id_is_still_read_as_todays_and_said_as_written() -> None:
    assert current_ids({"runbook.kill": "ctrl+k", "ack": "A"}) == {"kill_step": "ctrl+k", "ack": "A"}
    assert keymap_problems({"runbook.kill": "ctrl+k"}) == []
    assert keymap_problems({"runbook.kill": "space"}) == [  # the screen's key now: it meets the list's mark
        "keymap.runbook.kill: space is already the key of alerts.mark (give alerts.mark another key too, or pick another)"
    ]
    assert keymap_problems({"runbook.kill": "ctrl+k", "kill_step": "ctrl+x"}) == [
        "keymap.runbook.kill: runbook.kill is the old id of kill_step, and both are given: remove runbook.kill"
    ]


def test_a_screen_on_top_is_a_scope_of_its_own() -> None:
    assert keymap_problems({"confirm.yes": "a", "help.close": "escape,h"}) == []  # a is ack, below the dialog
    assert keymap_problems({"confirm.yes": "n"}) == [
        "keymap.confirm.yes: n is already the key of confirm.no (give confirm.no another key too, or pick another)"
    ]
    assert keymap_problems({"silence_form.submit": "ctrl+q"}) == [
        "keymap.silence_form.submit: ctrl+q is Textual's key for quit (pick another)"  # ctrl+q reaches every screen
    ]


def test_every_binding_id_in_the_ui_is_one_the_check_knows() -> None:
    """A new screen or pane with bindings must be added to the check's scopes."""
    ids: set[str] = set()
    for module in pkgutil.walk_packages(oncall_tui.ui.__path__, "oncall_tui.ui."):
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__.startswith("oncall_tui."):
                ids |= {b.id for b in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])) if b.id}
    assert {"quit", "ack", "run_step", "alerts.down", "kill_step", "confirm.yes", "silences.edit"} <= ids
    assert ids <= known_ids()


@pytest.fixture
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The console and the demo, replaced: a test sees whether they would have started."""
    started: list[str] = []
    monkeypatch.setattr(cli, "run_console", lambda *args, **kwargs: started.append("console") or 0)

    def start_demo() -> None:
        raise AssertionError("the demo started")

    monkeypatch.setattr("oncall_tui.sim.scenario.start_demo", start_demo)
    return started


@pytest.mark.parametrize("command", [[], ["check"], ["demo"]], ids=["console", "check", "demo"])
def test_a_bad_keymap_exits_2_with_a_line_per_problem_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_starts: list[str], command: list[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "keymap: {silence: j, filter: q, bogus: x}\n")
    assert cli.main(["--config", str(path), *command]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"oncall-tui: {path}: keymap.silence: j is already the key of alerts.down (give alerts.down another key too, or pick another)",
        f"oncall-tui: {path}: keymap.filter: q is already the key of quit (give quit another key too, or pick another)",
        f"oncall-tui: {path}: keymap.bogus: no binding has this id (ids are like quit, filter, silence, ack, run_step;"
        " press ? in the console for every key and its id)",
    ]
    assert nothing_starts == []


def test_a_good_keymap_starts_the_console(tmp_path: Path, nothing_starts: list[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "keymap: {quit: ctrl+x, filter: q}\n")
    assert cli.main(["--config", str(path)]) == 0
    assert nothing_starts == ["console"]


async def test_a_keymap_the_check_accepts_does_what_it_says(sim: SimServer, clock: SteppedClock) -> None:
    keymap = {"quit": "ctrl+x", "filter": "q", "silence": "ctrl+o, f2"}
    assert keymap_problems(keymap) == []
    sim.store.post_alerts([alert("DiskWillFill", instance="db-1")])
    app = oncall_app(make_config(sim.url, keymap=keymap), clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app.main.alert_list.alerts, what="the alert")
        await pilot.pause()
        await pilot.press("q")  # the freed key filters; the console is still up
        assert app.focused is app.main.alerts.filter_box and not app._exit
        await pilot.press("escape", "f2")  # the second of a comma list
        assert isinstance(app.screen, SilenceForm)
        await pilot.press("escape", "ctrl+x")
        assert app._exit


@pytest.mark.parametrize(
    ("keys", "why"),
    [
        ("Ctrl+S", "'Ctrl' is not a modifier (write them in lower case"),
        ("ctrl+S", "write ctrl+shift+s for a capital letter with ctrl"),
        ("ctrl-s", "'ctrl-s' is no key Textual knows"),
        ("F2", "'F2' is no key Textual knows"),
        ("notakey!!", "'notakey!!' is no key Textual knows"),
    ],
)
def test_a_key_textual_would_never_deliver_is_refused(keys: str, why: str) -> None:
    [problem] = keymap_problems({"silence": keys})
    assert problem.startswith(f"keymap.silence: {keys}: that key would never reach the console: {why}")


def test_the_command_palette_key_is_textuals_and_quit_may_take_textuals_quit_key() -> None:
    assert keymap_problems({"silences": "ctrl+p"}) == [
        "keymap.silences: ctrl+p is Textual's key for command palette (pick another)"
    ]
    assert keymap_problems({"quit": "ctrl+q"}) == []  # the same action: no clash
    assert keymap_problems({"silence": "f2, ctrl+shift+s, S"}) == [
        "keymap.silence: S is already the key of silences (give silences another key too, or pick another)"
    ]


@pytest.mark.parametrize("keys", ["/", "-", "+", "@", "ctrl+minus", "comma", "full_stop", "é", "f13", "ctrl+shift+s"])
def test_keys_textual_delivers_are_taken(keys: str) -> None:
    assert keymap_problems({"filter": keys}) == []


@pytest.mark.parametrize(
    ("keys", "why"),
    [
        ("esc", "'esc' is no key"),
        ("null", "'null' is no key"),
        ("shift+A", "a capital letter is shift already: write A"),
    ],
)
def test_names_textual_never_sends_are_refused(keys: str, why: str) -> None:
    [problem] = keymap_problems({"silence": keys})
    assert why in problem


@pytest.mark.parametrize("command", [[], ["check"], ["demo"]], ids=["console", "check", "demo"])
def test_an_unknown_theme_exits_2_naming_the_nearest_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_starts: list[str], command: list[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "theme: textual-drak\n")
    assert cli.main(["--config", str(path), *command]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"oncall-tui: {path}: theme: 'textual-drak' is not a theme: did you mean textual-dark?"
    ]
    assert nothing_starts == []
