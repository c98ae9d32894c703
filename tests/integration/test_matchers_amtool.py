"""The same matcher text makes the same silence from amtool 0.25 and from the console.

amtool is Alertmanager's own reader of the syntax: `amtool silence add` reads each argument
with `labels.ParseMatcher`, and `amtool config routes show` prints what `labels.ParseMatchers`
made of a `matchers:` line of alertmanager.yml. Both are run for real, against the real
Alertmanager where a silence is made, and the console must agree with them exactly.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient, AlertmanagerError
from oncall_tui.core.alerts.board import Board
from oncall_tui.core.alerts.matchers import (
    MatcherError,
    matchers_for,
    matches,
    parse_matcher,
    parse_matcher_list,
    parse_matchers,
)
from oncall_tui.core.alerts.models import SilenceMatcher, SilenceRequest
from tests.alertmanager_process import RealAlertmanager
from tests.conftest import make_config, until

SAME = "the same matchers"

# One matcher as typed, and what the silence form makes of "corpus=N, <it>": the same
# matchers as amtool, or the refusal it gives instead.
ACCEPTED = [
    ("foo=bar\\", SAME),  # a lone backslash at the end is kept
    ("foo=bar\\\\", SAME),  # \\ is one backslash
    ("foo=bar\\n", SAME),  # \n is a newline, bare as quoted
    ('foo="bar\\n"', SAME),
    ('foo=a\\"b', SAME),
    ('foo="say \\"hi\\""', SAME),
    ('foo="a\\tb"', SAME),  # a spurious escape is kept as typed
    ("foo=é\\", SAME),
    ('foo="日本\\\\"', SAME),
    ("  foo  =  bar  ", SAME),
    ('foo =~ "db-.*"', SAME),
    ("foo!=bar", SAME),
    ('foo!~"a|b"', SAME),
    ("foo=", SAME),
    ('foo=""', SAME),
    ('foo="x, y"', SAME),
    ('foo=" padded "', SAME),
    ("foo=\x1b[31mred", SAME),  # typed raw, as a shell lets you
    ('foo="evil\u202etxt"', SAME),
    ('foo=~"\\x{1b}\\[31m"', SAME),  # the console's own way of writing a control character
    ('foo=~"[[:alpha:]]+\\d"', SAME),
    ("foo=bar baz=qux", "contains whitespace"),  # one matcher: its value is "bar baz=qux"
    ("foo=\xa0bar", "contains whitespace"),
    ("foo=a}b", "contains a brace"),
    ("foo=x,y", "not a matcher"),  # a list splits on the comma, as alertmanager.yml does
]

REJECTED = [
    "foo",  # not first: amtool would take a first argument without an operator as alertname=…
    "=bar",
    "foo~bar",
    "1a=b",
    'foo=b"c',
    'foo="b"c"',
    'foo="bar',
    'foo="bar\\"',
    "foo=~(",
    'foo=~"a(?=b)"',
    'foo=~"(a)\\1"',
    'foo=~"x{1001}"',
    'foo=~"\\Qab"',  # swallows the )$ Alertmanager appends
    'foo=~"a)|(b"',  # Alertmanager also compiles it unanchored, and refuses it
    "a:b=c",  # Alertmanager refuses : in a silence's label names
]


def api_matchers(silence: dict) -> list[tuple[str, str, bool, bool]]:
    return [(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in silence["matchers"]]


def amtool_silence(amtool: str, url: str, *matchers: str) -> subprocess.CompletedProcess[str]:
    flags = [f"--alertmanager.url={url}", "--no-version-check", "-a", "test", "-c", "test"]
    return subprocess.run(
        [amtool, "silence", "add", *flags, *matchers],
        capture_output=True,
        text=True,
        timeout=30,
    )


def board_for(am: RealAlertmanager) -> Board:
    return Board([AlertmanagerClient(s) for s in make_config(am.url).alertmanagers])


def request(matchers: tuple[SilenceMatcher, ...]) -> SilenceRequest:
    now = datetime.now(UTC)
    return SilenceRequest(matchers, now, now + timedelta(hours=1), "test", "test")


async def test_amtool_and_the_console_make_the_same_silence(alertmanager: RealAlertmanager, amtool: str) -> None:
    board = board_for(alertmanager)
    pairs = []
    for n, (typed, form) in enumerate(ACCEPTED):
        anchor = f"corpus={n}"  # first, so amtool's alertname= guess never applies to `typed`
        done = amtool_silence(amtool, alertmanager.url, anchor, typed)
        assert done.returncode == 0, (typed, done.stderr)
        ours = (parse_matcher(anchor), parse_matcher(typed))
        [(_, our_id)] = await board.create_silence(request(ours), ["prod"])
        pairs.append((typed, done.stdout.strip(), our_id))
        if form == SAME:
            assert parse_matchers(f"{anchor}, {typed}") == ours, typed
        else:
            with pytest.raises(MatcherError, match=form):
                parse_matchers(f"{anchor}, {typed}")
    stored = {s["id"]: s for s in httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10).json()}
    for typed, their_id, our_id in pairs:
        assert api_matchers(stored[our_id]) == api_matchers(stored[their_id]), typed
    await board.aclose()


async def test_what_amtool_refuses_the_console_refuses(alertmanager: RealAlertmanager, amtool: str) -> None:
    board = board_for(alertmanager)
    for typed in REJECTED:
        done = amtool_silence(amtool, alertmanager.url, "corpus=1", typed)
        assert done.returncode != 0, (typed, done.stdout)
        with pytest.raises(MatcherError):
            parse_matchers(f"corpus=1, {typed}")
        try:
            ours = (parse_matcher("corpus=1"), parse_matcher(typed))
        except MatcherError:
            continue
        with pytest.raises(AlertmanagerError):  # the port reads it; Alertmanager refuses the silence
            await board.create_silence(request(ours), ["prod"])
    assert httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10).json() == []
    await board.aclose()


# Lines of `matchers:` in alertmanager.yml, read with ParseMatchers.
LISTS = [
    '{foo = "bar", dings != "bums", }',
    "foo=bar,dings!=bums",
    "foo=bar, dings!=bums",
    "{a=b",
    "a=b}",
    "{a=b} ",
    "a=b, \t",
    "",
    "{}",
    '{quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""}',
    'a="x\\",y"',
    "a=b\xa0",
    "a=b\xa0,c=d",
    "a=b\v",
    "a=b\v,c=d",
    "a=b\x1c",
    "foo=bar baz=qux",
    'statuscode=~"5.."',
    # refused
    "a=b,,c=d",
    ",a=b",
    " {a=b}",
    'a=\\,"b=x,y"',
    'a="x\\,",b=c',
    'a=b, c="d',
    "a=~(",
]

_SHOWN = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(=~|!=|!~|=)"((?:[^"\\]|\\.)*)"(?:,|$)', re.DOTALL)


def yaml_string(text: str) -> str:
    """`text` as a YAML double-quoted scalar, every character outside printable ASCII escaped."""
    out = ['"']
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out) + '"'


def read_shown(shown: str) -> list[tuple[str, str, bool, bool]]:
    """What `Matchers.String()` printed (`{a="b",c=~"d"}`), read independently of the port."""
    found = []
    for name, operator, value in _SHOWN.findall(shown):
        value = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value, flags=re.DOTALL)
        found.append((name, value, "~" in operator, not operator.startswith("!")))
    return found


def routes_show(amtool: str, workdir: Path, line: str) -> list[tuple[str, str, bool, bool]] | None:
    """The matchers amtool reads from one `matchers:` line, sorted as it sorts them; None if refused."""
    config = workdir / "alertmanager.yml"
    config.write_text(
        f'route:\n  receiver: "null"\n  routes:\n    - receiver: "line"\n      matchers: [{yaml_string(line)}]\n'
        'receivers:\n  - name: "null"\n  - name: "line"\n'
    )
    done = subprocess.run(
        [amtool, "config", "routes", "show", f"--config.file={config}"], capture_output=True, timeout=30
    )
    if done.returncode != 0:
        return None
    [row] = [r for r in done.stdout.decode().split("\n") if r.endswith("  receiver: line")]
    shown = row.split("── ", 1)[1].removesuffix("  receiver: line")
    return [] if shown == "default-route" else read_shown(shown[1:-1])


@pytest.mark.parametrize("line", LISTS)
def test_a_matchers_line_reads_as_alertmanager_reads_it(amtool: str, tmp_path: Path, line: str) -> None:
    theirs = routes_show(amtool, tmp_path, line)
    try:
        ours = parse_matcher_list(line)
    except MatcherError:
        assert theirs is None, line
        return
    assert theirs is not None, line
    key = [(m.name, m.value, m.is_regex, m.is_equal) for m in ours]
    assert sorted(key, key=lambda m: (m[0], m[1])) == theirs


HOSTILE = {
    "esc": "\x1b[31mred",
    "osc": "\x1b]0;pwned\x07",
    "rlo": "evil\u202etxt.exe",
    "quotes": 'say "hi"',
    "backslash": "C:\\dir\\",
    "newline": "two\nlines",
}


async def test_the_default_text_silences_a_hostile_alert_and_only_it(alertmanager: RealAlertmanager) -> None:
    twin = {**HOSTILE, "esc": HOSTILE["esc"] + "!"}  # one character more in one value
    alertmanager.post_alerts([{"labels": {"alertname": "Hostile", **labels}} for labels in (HOSTILE, twin)])
    board = board_for(alertmanager)
    alerts = await board.poll_once()
    [target] = [a for a in alerts if a.labels["esc"] == HOSTILE["esc"]]
    text = matchers_for(target.labels)
    assert not any(c in text for c in "\x1b\x07\u202e\n")
    matchers = parse_matchers(text)
    assert [a.fingerprint for a in alerts if all(matches(m, a.labels) for m in matchers)] == [target.fingerprint]
    [(_, silence_id)] = await board.create_silence(request(matchers), ["prod"])

    def silenced_by() -> dict[str, list[str]]:
        got = httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=10).json()
        return {a["labels"]["esc"]: a["status"]["silencedBy"] for a in got}

    await until(lambda: silenced_by().get(HOSTILE["esc"]) == [silence_id], what="the hostile alert silenced")
    assert silenced_by()[twin["esc"]] == []
    await board.aclose()
