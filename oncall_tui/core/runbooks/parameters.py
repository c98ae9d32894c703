"""Filling a step's `{{ placeholders }}` from the selected alert, without ever letting a label
value become shell code.

Alert labels are untrusted: whoever can push an alert chooses them. Every value is
`shlex.quote`d where it lands, which is only safe where the shell reads words: a quoted
value inside "double quotes", `backticks`, a here-document or a comment would be read
differently (`"$(…)"` still runs; a newline ends a comment). So a placeholder in such a
place is refused, and the lint reports it. The values also go into the environment as
`ALERT_LABEL_<NAME>` and `ALERT_ANNOTATION_<NAME>`, which is always safe to use as "$VAR".
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.runbooks.library import FIELD, PLACEHOLDER


@dataclass(frozen=True, slots=True)
class MissingValue:
    """A placeholder the alert cannot fill: the user is asked for it."""

    placeholder: str
    reason: str


@dataclass(frozen=True, slots=True)
class FilledCommand:
    command: str
    """The final command, every value shell-quoted."""
    params: dict[str, str]
    """placeholder → the value used (unquoted), for the record."""
    env: dict[str, str]
    missing: list[MissingValue] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    """Why the command must not run as written (a placeholder where quoting does not protect)."""

    @property
    def cautions(self) -> list[str]:
        """Values quoting cannot make harmless: one starting with `-` stays one word, but a
        command may still read it as an option (`--all`). Shown before the step runs."""
        return [
            f"{name}={value[:40]!r} starts with '-': a command may read it as an option"
            for name, value in self.params.items()
            if value.startswith("-")
        ]


def _value(text: str) -> str:
    return text.replace("\x00", "")  # no argument or environment variable can carry a NUL


def env_name(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def alert_env(alert: Alert | None) -> dict[str, str]:
    """`ALERT_LABEL_POD=…`, `ALERT_ANNOTATION_SUMMARY=…`, `ALERT_FINGERPRINT`, `ALERT_NAME`."""
    if alert is None:
        return {}
    env = {env_name("ALERT_LABEL_", k): _value(v) for k, v in alert.labels.items()}
    env |= {env_name("ALERT_ANNOTATION_", k): _value(v) for k, v in alert.annotations.items()}
    return env | {"ALERT_FINGERPRINT": alert.fingerprint, "ALERT_NAME": _value(alert.name)}


def lookup(alert: Alert | None, placeholder: str) -> tuple[str, str]:
    """(value, why it is missing): one of the two is empty."""
    found = FIELD.match(placeholder)
    if not found:
        return "", f"{{{{ {placeholder} }}}} is not an alert field (labels.X, annotations.X, alert.fingerprint)"
    if alert is None:
        return "", "no alert is selected"
    kind, name, attr = found.groups()
    if attr:
        value = alert.fingerprint if attr == "fingerprint" else alert.name
        return (value, "") if value else ("", f"the alert has no {attr}")
    values = alert.labels if kind == "labels" else alert.annotations
    singular = kind.removesuffix("s")
    if name not in values:
        return "", f"the alert {alert.name or '(no alertname)'} has no {singular} {name}"
    if not values[name].strip():
        return "", f"the alert's {singular} {name} is empty"
    return values[name], ""


def quoting_problems(command: str) -> list[str]:
    """Placeholders where a shell-quoted value would not stay one word."""
    problems: list[str] = []
    state = ""  # "", "'", '"' or "`"
    heredoc = False
    i, n = 0, len(command)
    while i < n:
        found = PLACEHOLDER.match(command, i)
        if found:
            where = (
                "in a here-document"
                if heredoc
                else {"'": "inside '…'", '"': 'inside "…"', "`": "inside `…`"}.get(state, "")
            )
            if where:
                problems.append(f"{found.group(0)} is {where}: write it bare, it is quoted for you")
            i = found.end()
            continue
        char = command[i]
        if char == "\\" and state != "'":
            i += 2
            continue
        if not state:
            if char in "'\"`":
                state = char
            elif char == "#" and (i == 0 or command[i - 1] in " \t\n;|&()"):
                end = command.find("\n", i)
                comment = command[i : n if end < 0 else end]
                problems += [
                    f"{m.group(0)} is in a comment: a value with a newline would leave it"
                    for m in PLACEHOLDER.finditer(comment)
                ]
                i = n if end < 0 else end
                continue
            elif command.startswith("<<", i) and not command.startswith("<<<", i):
                heredoc = True
        elif char == state:
            state = ""
        i += 1
    return problems


def fill(command: str, alert: Alert | None, given: dict[str, str] | None = None) -> FilledCommand:
    """`command` with each placeholder replaced by its shell-quoted value.

    `given` holds values the user typed for placeholders the alert could not fill; any
    still missing are listed, and the command then keeps the bare placeholder.
    """
    given = given or {}
    params: dict[str, str] = {}
    missing: list[MissingValue] = []
    for found in PLACEHOLDER.finditer(command):
        name = found.group(1)
        if name in params or any(m.placeholder == name for m in missing):
            continue
        value, why = lookup(alert, name)
        value = _value(given.get(name) or value)
        if value:
            params[name] = value
        else:
            missing.append(MissingValue(name, why or f"{name} is empty"))

    def quoted(found: re.Match[str]) -> str:
        name = found.group(1)
        return shlex.quote(params[name]) if name in params else found.group(0)

    return FilledCommand(PLACEHOLDER.sub(quoted, command), params, alert_env(alert), missing, quoting_problems(command))
