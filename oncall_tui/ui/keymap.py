"""Checking `keymap:` in config.yaml against the console's bindings, before the console starts.

Textual's `App.set_keymap` takes whatever it is given: an id no binding has is ignored, and
a key given to a binding that another one holds makes one of the two silently lose it
(`filter: q` and q no longer quits; `silence: j` and the alert list's `j` wins). So the
config is refused instead, one line per problem, naming the key in config.yaml.

Which keys compete, that is, which bindings a key press could reach at once:

* On the main screen, the app's and the screen's bindings (MainScreen.BINDINGS: the alert, incident and runbook
  verbs), Textual's app and screen keys (ctrl+q quits, tab and shift+tab move the focus,
  ctrl+c copies a selection) and the focused pane's: the alert list's (j/k, g/G, space) when
  it has the focus, as it has from the start, or the runbook steps list's (j/k move) when
  that has it. The alert list and the runbook pane are never
  focused together, so their `j`s and `k`s do not compete; each competes with every app key.
* Each other screen (confirm, prompt, severity picker, choice, help, silence form, the
  silences list) is a scope of its own: its keys, Textual's screen keys, and the app's
  priority keys (ctrl+q), which reach every screen. A screen's keys shadow the main screen's
  on purpose (q closes the help, e edits a silence), so they are not compared with those.
* Textual's keys of the widgets themselves (scrolling, an input's editing keys) step aside
  when they have nothing to do, and are not counted.
* Bindings that already share a key by default (the main screen's ctrl+c kills a step, where
  Textual's would copy a selection) are as designed; only what the keymap changes is checked.
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from textual.app import App
from textual.binding import Binding, BindingType, InvalidBinding
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, _character_to_key, key_to_character
from textual.screen import Screen
from textual.widgets import OptionList

from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.main_screen import OLD_IDS, MainScreen, current_ids
from oncall_tui.ui.screens.choice import ChoiceScreen
from oncall_tui.ui.screens.confirm import ConfirmScreen
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.screens.prompt import SeverityPicker, TextPrompt
from oncall_tui.ui.screens.silence_form import SilenceForm
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.ui.widgets.alert_list import AlertList
from oncall_tui.ui.widgets.alerts_pane import FilterBox
from oncall_tui.ui.widgets.runbook_view import StepList

Holder = tuple[str, str]
"""("id", binding id) for the console's bindings, ("textual", action) for Textual's own."""


def _merged(*layers: list[BindingType]) -> list[Binding]:
    """Bindings as a subclass has them: a key it binds replaces its base class's (Textual's rule)."""
    merged: dict[str, list[Binding]] = {}
    for layer in layers:  # base class first
        mine: dict[str, list[Binding]] = defaultdict(list)
        for binding in Binding.make_bindings(layer):
            mine[binding.key].append(binding)
        merged.update(mine)
    return [binding for bindings in merged.values() for binding in bindings]


_APP = [
    *_merged(App.BINDINGS, OncallApp.BINDINGS),
    Binding(App.COMMAND_PALETTE_BINDING, "command_palette"),  # added by Textual at run time
]
_PRIORITY = [binding for binding in _APP if binding.priority]
_MAIN = _merged(Screen.BINDINGS, MainScreen.BINDINGS)
SCOPES: dict[str, list[Binding]] = {
    "main screen, alert list focused": [*_APP, *_MAIN, *_merged(AlertList.BINDINGS)],
    "main screen, runbook steps focused": [*_APP, *_MAIN, *_merged(OptionList.BINDINGS, StepList.BINDINGS)],
    "main screen, filter typed": [
        *_APP,
        *_MAIN,
        *_merged(FilterBox.BINDINGS),
    ],  # as the forms: not Input's editing keys
    **{
        screen.__name__: [*_merged(Screen.BINDINGS, screen.BINDINGS), *_PRIORITY]
        for screen in (
            ConfirmScreen,
            TextPrompt,
            SeverityPicker,
            ChoiceScreen,
            HelpScreen,
            SilenceForm,
            SilencesScreen,
        )
    },
}
"""Bindings a key press can reach at once, per place in the console (see the module's doc)."""


class _Scope:
    """One scope's default keys per holder, and who holds each key once the keymap applies."""

    def __init__(self, bindings: list[Binding], keymap: dict[str, list[str]]) -> None:
        self.defaults: dict[Holder, set[str]] = defaultdict(set)
        self.actions: dict[Holder, str] = {}
        for binding in bindings:  # one per key, "?" spelt question_mark
            holder = ("id", binding.id) if binding.id else ("textual", binding.action)
            self.defaults[holder].add(binding.key)
            self.actions[holder] = binding.action.removeprefix("app.")  # the screen holds the app's q and ?
        self.holders: dict[str, list[Holder]] = defaultdict(list)
        for holder, keys in self.defaults.items():
            moved = keymap.get(holder[1]) if holder[0] == "id" else None
            for key in dict.fromkeys(moved if moved is not None else sorted(keys)):
                self.holders[key].append(holder)

    def rivals(self, binding_id: str, key: str) -> list[Holder]:
        """Who else holds `key` here, because of the keymap."""
        me = ("id", binding_id)
        if me not in self.defaults:
            return []
        return [
            other
            for other in self.holders[key]
            if other != me
            and not (key in self.defaults[me] and key in self.defaults[other])
            and not (other[0] == "textual" and self.actions[other] == self.actions[me])  # ctrl+q for quit
        ]


def known_ids() -> set[str]:
    """Every binding id a keymap can name."""
    return {binding.id for bindings in SCOPES.values() for binding in bindings if binding.id}


MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
NAMED_KEYS = {key.value.rpartition("+")[2] for key in Keys if not key.value.startswith("<")} | set(
    KEY_NAME_REPLACEMENTS.values()
)
"""Keys Textual has names for: escape, f2, pageup, slash, minus, … (and the letters and digits)."""


def _never_fires(key: str) -> str | None:
    """Why Textual would never deliver `key` (as it spells it), or None if it can."""
    *modifiers, name = key.split("+") if key != "+" else ["+"]
    wrong = [m for m in modifiers if m not in MODIFIERS]
    if wrong:
        return f"{wrong[0]!r} is not a modifier (write them in lower case: {', '.join(MODIFIERS)})"
    if len(name) == 1:
        if modifiers and name != name.lower():
            plain = [m for m in modifiers if m != "shift"]
            if not plain:
                return f"a capital letter is shift already: write {name}"
            return f"write {'+'.join([*plain, 'shift', name.lower()])} for a capital letter with {plain[0]}"
        return None if name.isprintable() else "it is not a printable character"
    character = key_to_character(name)
    if name in NAMED_KEYS or (
        character is not None and character.isprintable() and _character_to_key(character) == name
    ):
        return None  # Textual's own name for it (question_mark, comma), not one it never sends (esc, null)
    return f"{name!r} is no key Textual knows (keys are like s, S, ctrl+s, f2, escape, pageup, question_mark)"


def _split(keys: str) -> list[tuple[str, str]]:
    """(key as Textual spells it, key as written) for each of "ctrl+s, f2". Raises ValueError."""
    written = [key.strip() for key in keys.split(",")]
    if any(" " in key or "\t" in key for key in written):
        raise ValueError(f"{keys!r}: a key has no spaces inside (ctrl+s; several keys: ctrl+s,f2)")
    try:
        spelt = [b.key for b in Binding.make_bindings([Binding(keys, "keymap")])]
    except InvalidBinding:
        raise ValueError(
            f"{keys!r} leaves a key empty (give keys separated by commas, like ctrl+s,f2)"
            if keys.strip()
            else "no key given (to keep the default, leave it out)"
        ) from None
    for key, as_written in zip(spelt, written, strict=True):
        why = _never_fires(key)
        if why:
            raise ValueError(f"{as_written}: that key would never reach the console: {why}")
    return list(dict.fromkeys(zip(spelt, written, strict=True)))


def _unknown(binding_id: str, known: set[str]) -> str:
    close = difflib.get_close_matches(binding_id, sorted(known), n=1)
    like = f"did you mean {close[0]}?" if close else "ids are like quit, filter, silence, ack, run_step;"
    return f"no binding has this id ({like} press ? in the console for every key and its id)"


def _clash(written: str, other: Holder, remapped: set[str]) -> str:
    kind, name = other
    if kind == "textual":
        return f"{written} is Textual's key for {name.rpartition('.')[2].replace('_', ' ')} (pick another)"
    if name in remapped:
        return f"{written} is also given to {name} (keymap.{name}); one key can do one thing, pick another"
    return f"{written} is already the key of {name} (give {name} another key too, or pick another)"


def keymap_problems(keymap: dict[str, str]) -> list[str]:
    """One line per problem, `keymap.<id>: what is wrong`, in the order the keymap lists them.

    Problems: an id no binding has, a value that is not a list of keys, and a key that another
    binding holds where both can be reached (the default key of a binding the keymap leaves
    alone, Textual's, or one the keymap gave to a binding listed before).
    """
    known = known_ids()
    twice = [old for old, new in OLD_IDS.items() if old in keymap and new in keymap]
    problems = [
        f"keymap.{old}: {old} is the old id of {OLD_IDS[old]}, and both are given: remove {old}" for old in twice
    ]
    given = {binding_id: keys for binding_id, keys in keymap.items() if binding_id not in twice}
    keymap = current_ids(given)  # checked under today's ids, said under the ones written
    said = {OLD_IDS.get(written, written): written for written in given}
    moved: dict[str, list[tuple[str, str]]] = {}
    wrong: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        try:
            if binding_id not in known:
                raise ValueError(_unknown(binding_id, known))
            moved[binding_id] = _split(keys)
        except ValueError as error:
            wrong[binding_id] = str(error)
    spelt = {binding_id: [key for key, _ in keys] for binding_id, keys in moved.items()}
    scopes = [_Scope(bindings, spelt) for bindings in SCOPES.values()]
    earlier: set[str] = set()  # remapped before this one: a clash with a later one is said there
    for binding_id in keymap:
        if binding_id in wrong:
            problems.append(f"keymap.{said[binding_id]}: {wrong[binding_id]}")
            continue
        for key, written in moved[binding_id]:
            for scope in scopes:
                rivals = [
                    (kind, name)
                    for kind, name in scope.rivals(binding_id, key)
                    if kind == "textual" or name not in moved or name in earlier
                ]
                if rivals:
                    problems.append(f"keymap.{said[binding_id]}: {_clash(written, rivals[0], earlier)}")
                    break
        earlier.add(binding_id)
    return problems
