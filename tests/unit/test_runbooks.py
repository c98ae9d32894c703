"""Runbooks: front matter, steps and their attributes, and finding the one for an alert."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from oncall_tui.core.runbooks.library import RunbookLibrary, file_names, parse_attrs, parse_runbook, read_runbook
from tests.conftest import ROOT
from tests.runbook_world import model_alert, write

DOC = """---
title: High Error Rate
alerts: [HighErrorRate, SLOViolation]
owner: ml-platform
---

# High Error Rate

## Check recent deployments

```bash {name=history timeout=30}
kubectl rollout history deployment/{{ labels.service }}
```

## Check logs

1. Look at the errors:

   ```sh
   kubectl logs -l app={{ labels.service }} | grep ERROR
   ```

```bash {ignore=true}
rm -rf / # illustrative only
```

```python
print("never a step")
```

## Events

```console
$ kubectl get events --sort-by=.lastTimestamp
LAST SEEN   TYPE      REASON
2m          Warning   BackOff
$ echo done
```
"""


def test_front_matter_headings_and_steps_in_document_order() -> None:
    runbook = parse_runbook(Path("high-error-rate.md"), DOC)
    assert runbook.problems == []
    assert (runbook.title, runbook.alerts, runbook.owner) == (
        "High Error Rate",
        ("HighErrorRate", "SLOViolation"),
        "ml-platform",
    )
    assert [h.text for h in runbook.headings] == ["High Error Rate", "Check recent deployments", "Check logs", "Events"]
    assert [(s.number, s.name, s.language) for s in runbook.steps] == [
        (1, "history", "bash"),  # named by its attribute
        (2, "Check logs", "sh"),  # titled by its heading; indented inside a list item
        (3, "Events", "console"),
    ]
    first = runbook.steps[0]
    assert first.timeout == 30.0
    assert first.line == 11  # the opening fence's line in the file, front matter included
    assert first.command == "kubectl rollout history deployment/{{ labels.service }}\n"
    assert runbook.steps[1].command == "kubectl logs -l app={{ labels.service }} | grep ERROR\n"
    assert first.placeholders == ["labels.service"]


def test_console_blocks_run_only_their_dollar_lines() -> None:
    step = parse_runbook(Path("x.md"), DOC).steps[2]
    assert step.command == "kubectl get events --sort-by=.lastTimestamp\necho done\n"


def test_ignored_and_other_language_blocks_are_shown_but_never_steps() -> None:
    runbook = parse_runbook(Path("x.md"), DOC)
    assert [b.language for b in runbook.blocks] == ["bash", "sh", "bash", "python", "console"]
    assert all("rm -rf" not in s.command and "print" not in s.command for s in runbook.steps)


def test_attributes_follow_runmes_syntax() -> None:
    assert parse_attrs("{name=roll-back timeout=60 ignore=true}") == {
        "name": "roll-back",
        "timeout": "60",
        "ignore": "true",
    }
    assert parse_attrs('{ name="check the logs", interactive=false }') == {
        "name": "check the logs",
        "interactive": "false",
    }
    assert parse_attrs("not braces") == {}
    assert parse_attrs('{name="unclosed}') == {}
    assert parse_runbook(Path("x.md"), "```bash{name=tight}\necho\n```\n").steps[0].name == "tight"


def test_an_unclosed_fence_is_a_problem_and_its_step_is_marked() -> None:
    runbook = parse_runbook(Path("x.md"), "# T\n\n```bash\necho one\n\n## Later\n")
    assert runbook.problems == ["x.md:3: code block is never closed (it runs to the end of the file)"]
    assert [s.closed for s in runbook.steps] == [False]
    assert [h.text for h in runbook.headings] == ["T"]  # swallowed, as CommonMark would


def test_front_matter_that_is_not_yaml_is_reported_and_the_body_still_reads() -> None:
    runbook = parse_runbook(Path("bad.md"), "---\ntitle: [unclosed\nalerts: x\n---\n# Body\n\n```bash\necho hi\n```\n")
    assert len(runbook.problems) == 1 and runbook.problems[0].startswith("bad.md:")
    assert "front matter is not valid YAML" in runbook.problems[0]
    assert runbook.alerts == () and runbook.title == "Body"
    assert [s.command for s in runbook.steps] == ["echo hi\n"]
    at_end = parse_runbook(Path("e.md"), "---\ntitle: ok\nalerts: [a\n---\n")  # the parser's mark is past the end
    assert at_end.problems[0].startswith("e.md:3: front matter is not valid YAML")
    inside = parse_runbook(Path("i.md"), "---\ntitle: ok\nalerts: [a]\n  bad: indent\nowner: x\n---\n")
    assert inside.problems[0].startswith("i.md:4: front matter is not valid YAML")
    scalar = parse_runbook(Path("s.md"), "---\njust a string\n---\nbody\n")
    assert scalar.problems == ["s.md:2: front matter must be a mapping (title, alerts, severity, owner)"]
    unclosed = parse_runbook(Path("u.md"), "---\ntitle: x\n# no end\n")
    assert "not closed" in unclosed.problems[0]


def test_file_names_tried_for_an_alertname() -> None:
    assert file_names("HighErrorRate") == ["HighErrorRate.md", "high-error-rate.md", "high_error_rate.md"]
    assert file_names("KubePodCrashLooping") == [
        "KubePodCrashLooping.md",
        "kube-pod-crash-looping.md",
        "kube_pod_crash_looping.md",
    ]
    assert file_names("SLOViolation") == ["SLOViolation.md", "slo-violation.md", "slo_violation.md"]
    assert file_names("disk_will_fill") == ["disk_will_fill.md", "disk-will-fill.md"]
    assert file_names("evil[bold red]x[/]") == []  # a "/" would make it a path: never tried, never suggested


def test_matching_order_annotation_then_front_matter_then_file_name(tmp_path: Path) -> None:
    write(tmp_path, "by-url.md", "# By URL\n")
    write(tmp_path, "team/errors.md", "---\nalerts: [HighErrorRate]\n---\n# Errors\n")
    write(tmp_path, "high-error-rate.md", "# Named\n")
    library = RunbookLibrary(tmp_path)

    url = model_alert(annotations={"runbook_url": "https://wiki.example.com/runbooks/by-url.md?x=1#top"})
    found = library.match(url)
    assert (found.runbook.title, found.how) == ("By URL", "runbook_url annotation")

    found = library.match(model_alert(annotations={"runbook": "team/errors.md"}))
    assert (found.runbook.title, found.how) == ("Errors", "runbook annotation")

    found = library.match(model_alert())
    assert (found.runbook.title, found.how) == ("Errors", "front matter alerts")

    found = library.match(model_alert("HighErrorRate", annotations={"runbook_url": "https://x/nothing-here.md"}))
    assert found.how == "front matter alerts" and found.tried[0] == "runbook_url annotation → nothing-here.md"

    (tmp_path / "team/errors.md").unlink()
    found = library.match(model_alert())
    assert (found.runbook.title, found.how) == ("Named", "file name high-error-rate.md")


def test_no_match_lists_every_name_tried(tmp_path: Path) -> None:
    found = RunbookLibrary(tmp_path).match(
        model_alert("DiskWillFill", annotations={"runbook_url": "https://x/disk.md"})
    )
    assert found.runbook is None
    assert found.tried == (
        "runbook_url annotation → disk.md",
        "front matter alerts: [DiskWillFill]",
        "DiskWillFill.md",
        "disk-will-fill.md",
        "disk_will_fill.md",
    )


def test_annotations_never_reach_outside_the_runbooks_dir(tmp_path: Path) -> None:
    inside = tmp_path / "runbooks"
    inside.mkdir()
    write(tmp_path, "secret.md", "# outside\n")
    library = RunbookLibrary(inside)
    for hostile in ("../secret.md", str(tmp_path / "secret.md"), "/etc/passwd", "x\x00.md", "../../../../etc/hostname"):
        assert library.match(model_alert("Other", annotations={"runbook": hostile})).runbook is None


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, "high-error-rate.md", "# One\n")
    library = RunbookLibrary(tmp_path)
    assert library.match(model_alert()).runbook.title == "One"
    path.write_text("# Two, longer\n", encoding="utf-8")
    assert library.match(model_alert()).runbook.title == "Two, longer"


def test_a_5_mb_runbook_lists_its_steps_quickly_enough_to_follow_the_cursor(tmp_path: Path) -> None:
    section = "## Part {n}\n\nSome prose about part {n}, with a [link](https://example.com/{n}).\n\n```bash\necho {n}\n```\n\n"
    text = "# Huge\n\n" + "".join(section.format(n=n) for n in range(60_000))
    assert len(text) > 5_000_000
    path = write(tmp_path, "huge.md", text)
    started = time.perf_counter()
    runbook = read_runbook(path)
    elapsed = time.perf_counter() - started
    assert len(runbook.steps) == 60_000 and runbook.steps[-1].command == "echo 59999\n"
    print(f"5 MB runbook parsed in {elapsed * 1000:.0f} ms")  # measured in bench/, not asserted


def test_invalid_utf8_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(b"# Bad \xff\xfe bytes\n\n```bash\necho ok\n```\n")
    runbook = read_runbook(path)
    assert "not valid UTF-8" in runbook.problems[0]
    assert runbook.steps[0].command == "echo ok\n"


def test_every_shipped_runbook_parses_cleanly() -> None:
    runbooks, problems = RunbookLibrary(ROOT / "runbooks").all()
    assert problems == [] and len(runbooks) >= 7
    for runbook in runbooks:
        assert runbook.problems == [], runbook.path
        assert runbook.steps, runbook.path


def test_the_links_for_o_and_y_are_http_only_each_once(tmp_path: Path) -> None:
    from oncall_tui.core.alerts.models import Alert
    from oncall_tui.core.runbooks.library import links_of

    text = "# R\n\nSee [dash](https://grafana.example/d/1) and [bad](javascript:alert(1)).\n"
    runbook = parse_runbook(tmp_path / "r.md", text)
    alert = Alert(
        "f",
        {"alertname": "X"},
        {"runbook_url": "https://grafana.example/d/1"},
        datetime.now(UTC),
        None,
        "http://prometheus.example/graph",
        "active",
    )
    assert links_of(alert, runbook) == ["https://grafana.example/d/1", "http://prometheus.example/graph"]
    assert links_of(None, None) == []
