"""Placeholders: filled from the alert, shell-quoted, refused where quoting cannot protect,
and never able to run anything but the runbook's own command (real bash, marker files)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from oncall_tui.core.runbooks.parameters import alert_env, fill, quoting_problems
from tests.runbook_world import model_alert


def test_values_are_filled_quoted_and_exported() -> None:
    alert = model_alert(
        "PodCrashLooping", {"summary": "pod x is restarting"}, fp="abc123", pod="ml-worker-1", namespace="ml"
    )
    filled = fill(
        "kubectl -n {{ labels.namespace }} logs {{labels.pod}} # {{ alert.fingerprint }}\n".replace(" # ", " ; echo "),
        alert,
    )
    assert filled.command == "kubectl -n ml logs ml-worker-1 ; echo abc123\n"
    assert filled.params == {"labels.namespace": "ml", "labels.pod": "ml-worker-1", "alert.fingerprint": "abc123"}
    assert filled.missing == [] and filled.unsafe == []
    env = alert_env(alert)
    assert env["ALERT_LABEL_POD"] == "ml-worker-1"
    assert env["ALERT_ANNOTATION_SUMMARY"] == "pod x is restarting"
    assert (env["ALERT_FINGERPRINT"], env["ALERT_NAME"]) == ("abc123", "PodCrashLooping")


def test_missing_empty_and_unknown_placeholders_say_which_field() -> None:
    alert = model_alert("HighLatency", {"summary": "  "}, service="search")
    filled = fill("echo {{ labels.pod }} {{ annotations.summary }} {{ whatever }} {{ labels.service }}", alert)
    assert [(m.placeholder, m.reason) for m in filled.missing] == [
        ("labels.pod", "the alert HighLatency has no label pod"),
        ("annotations.summary", "the alert's annotation summary is empty"),
        ("whatever", "{{ whatever }} is not an alert field (labels.X, annotations.X, alert.fingerprint)"),
    ]
    assert filled.command == "echo {{ labels.pod }} {{ annotations.summary }} {{ whatever }} search"
    given = fill(filled_source := "echo {{ labels.pod }}", alert, {"labels.pod": "typed; value"})
    assert given.command == "echo 'typed; value'" and given.missing == [] and filled_source


def test_placeholders_where_quoting_does_not_protect_are_refused() -> None:
    assert quoting_problems("kubectl logs {{ labels.pod }} | grep 'x'") == []
    assert quoting_problems("echo a\\'{{ labels.pod }}") == []
    for command, where in [
        ('echo "pod {{ labels.pod }}"', 'inside "…"'),
        ("echo 'pod {{ labels.pod }}'", "inside '…'"),
        ("echo `echo {{ labels.pod }}`", "inside `…`"),
        ("cat <<EOF\n{{ labels.pod }}\nEOF", "in a here-document"),
        ("echo hi # for {{ labels.pod }}", "in a comment"),
    ]:
        problems = quoting_problems(command)
        assert len(problems) == 1 and where in problems[0], (command, problems)


HOSTILE = [
    "x; touch {marker}",
    "$(touch {marker})",
    "`touch {marker}`",
    "x\ntouch {marker}",
    "x'; touch {marker}; echo '",
    "x\x00; touch {marker}",
    "x && touch {marker} #",
    "x\ntouch {marker} #",
    "-rf {marker}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_label_value_never_runs(template: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    value = template.format(marker=marker)
    alert = model_alert(pod=value, annotations={"summary": value})
    filled = fill("printf '%s|' {{ labels.pod }} {{ annotations.summary }}\nprintf '%s|' \"$ALERT_LABEL_POD\"\n", alert)
    assert filled.unsafe == []
    done = subprocess.run(
        ["bash", "-c", filled.command], env={"PATH": "/usr/bin:/bin", **filled.env}, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    expected = value.replace("\x00", "")
    assert done.stdout.decode() == f"{expected}|{expected}|{expected}|"


def test_quoting_is_shlex_quote() -> None:
    value = "it's $(here)"
    assert fill("echo {{ labels.pod }}", model_alert(pod=value)).command == f"echo {shlex.quote(value)}"


def test_a_value_that_looks_like_an_option_is_flagged_before_it_runs() -> None:
    filled = fill(
        "kubectl delete pod {{ labels.pod }} -n {{ labels.namespace }}", model_alert(pod="--all", namespace="ml")
    )
    assert filled.command == "kubectl delete pod --all -n ml"  # quoting keeps one word; it cannot do more
    assert filled.cautions == ["labels.pod='--all' starts with '-': a command may read it as an option"]
    assert fill("echo {{ labels.pod }}", model_alert(pod="a-b")).cautions == []
