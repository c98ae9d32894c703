"""Untrusted text made safe to show: what a terminal would act on, or nobody would see, is
written out, never acted on and never dropped."""

from __future__ import annotations

import pytest

from oncall_tui.core.text import (
    clean_block,
    clean_line,
    clean_output,
    hidden_characters,
    secret_pattern,
    visible_controls,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("\x1b[31m", "⟨ESC⟩[31m"),  # a label made only of an escape is not blank
        ("\x1b]0;pwned\x07", "⟨ESC⟩]0;pwned⟨U+0007⟩"),  # a window title, shown not set
        ("ml\u200b-api", "ml⟨U+200B⟩-api"),  # looks like ml-api: told apart
        ("abc\u202edef", "abc⟨U+202E⟩def"),  # no reordering
        ("tag\U000e0041", "tag⟨U+E0041⟩"),  # invisible tag characters too
        ("a\tb\r\nc", "a b  c"),
    ],
)
def test_a_value_shows_every_character_a_terminal_would_act_on_or_hide(value: str, shown: str) -> None:
    assert clean_line(value) == shown
    assert not any(c in clean_line(value) for c in "\x1b\x07\u200b\u202e\r\n")


def test_a_block_keeps_its_lines_and_a_commands_output_loses_its_colours() -> None:
    assert clean_block("a\r\nb\x1b[2J") == "a\nb⟨ESC⟩[2J"
    assert clean_output("\x1b[31mred\x1b[0m \x1b]0;t\x07done\x1b(B\n") == "red done\n"
    assert clean_output("bell\x07 zw\u200b") == "bell⟨U+0007⟩ zw⟨U+200B⟩"  # what is not a sequence is still said


KEY = "R0utingKeySECRET7f3a9c5e1d2b4a60"


@pytest.mark.parametrize(
    "echoed",
    [
        KEY.lower(),
        KEY[:10] + "\x1b[0m" + KEY[10:],  # a whole sequence
        KEY[:26] + "\x1b" + KEY[26:],  # a lone ESC before a digit
        KEY[:10] + "\x1b[" + KEY[10:],  # a CSI begun, that would swallow what follows
        KEY[:10] + "\x1b]0;x" + KEY[10:],  # an OSC never ended
        KEY[:10] + "\x9b" + KEY[10:],  # the one-byte CSI
        KEY[:4] + "\u200b" + KEY[4:9] + "\t" + KEY[9:],  # a zero-width character, a tab
    ],
)
def test_a_secret_split_by_an_escape_or_an_invisible_character_is_found_whole(echoed: str) -> None:
    found = secret_pattern(KEY).search(f"<p>{echoed}</p>")
    assert found is not None and clean_line(f"<p>{echoed}</p>".replace(found.group(0), "<key>")) == "<p><key></p>"


def test_a_commands_output_keeps_every_line_and_shows_what_is_no_whole_sequence() -> None:
    assert clean_output("line 1\n\x1b]0;x\nline 2\nline 3") == "line 1\n⟨ESC⟩]0;x\nline 2\nline 3"
    assert clean_output("a\x1bb") == "a⟨ESC⟩b"


def test_a_command_is_shown_as_it_will_run_with_its_hidden_characters_named() -> None:
    assert visible_controls("echo \x1b[31m\u200bx\n") == "echo \\x1b[31m\\u200bx\n"
    assert hidden_characters("a\u200bb\u200bc\x07") == ["⟨U+0007⟩", "⟨U+200B⟩"]
