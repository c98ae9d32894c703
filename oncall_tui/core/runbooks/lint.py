"""`oncall-tui check --rules`: Prometheus alerting rules against the runbooks, without a UI.

Reports every alert rule without a runbook, every runbook no rule reaches, runbooks that
cannot be read as written (front matter, unclosed blocks, placeholders where quoting does
not protect), placeholders naming labels or annotations a rule never sets, and rules that
break the alerting basics: no `severity` label, no `runbook_url` annotation, no `for:`.

Which labels an alert carries is read from the rule: its own labels, plus, when its
expression aggregates (`sum by (…)` and friends), the labels it keeps. An expression that
does not aggregate keeps its series' labels, which only Prometheus knows: such rules are
not checked for labels, rather than reported wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from oncall_tui.core.alerts.models import Alert
from oncall_tui.core.runbooks.library import FIELD, Runbook, RunbookLibrary
from oncall_tui.core.runbooks.parameters import quoting_problems

AGGREGATION = re.compile(r"\b(sum|avg|min|max|count|stddev|stdvar|group|quantile|count_values)\b\s*(by\s*\(|\()")
KEEPS_ALL = re.compile(r"\b(without|topk|bottomk|limitk)\b")
BY = re.compile(r"\bby\s*\(([^)]*)\)")


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    duration: str
    labels: dict[str, str]
    annotations: dict[str, str]
    source: str
    """`file: group NAME` for findings."""

    def sets_labels(self) -> set[str] | None:
        """The labels every alert of this rule carries, or None when the expression cannot tell."""
        if not AGGREGATION.search(self.expr) or KEEPS_ALL.search(self.expr):
            return None
        kept = {label.strip() for found in BY.finditer(self.expr) for label in found.group(1).split(",")}
        return {"alertname", *self.labels, *(k for k in kept if k)}

    def as_alert(self) -> Alert:
        """What an alert of this rule looks like, for matching it to a runbook."""
        return Alert(
            fingerprint=f"rule:{self.name}",
            labels={"alertname": self.name, **self.labels},
            annotations=self.annotations,
            starts_at=datetime.now(UTC),
            ends_at=None,
            generator_url="",
            state="active",
        )


@dataclass
class LintReport:
    findings: list[str] = field(default_factory=list)
    rules: list[AlertRule] = field(default_factory=list)
    runbooks: list[Runbook] = field(default_factory=list)


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def load_rules(path: Path, findings: list[str]) -> list[AlertRule]:
    """The alerting rules of one Prometheus rule file; what is wrong with it goes to `findings`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        findings.append(f"{path}: cannot read: {error.strerror or error}")
        return []
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        findings.append(f"{path}: not a YAML rule file: {str(error).splitlines()[0]}")
        return []
    groups = raw.get("groups") if isinstance(raw, dict) else None
    if not isinstance(groups, list):
        findings.append(f"{path}: not a Prometheus rule file (no groups: list)")
        return []
    rules = []
    for group in groups:
        group = group if isinstance(group, dict) else {}
        for rule in group.get("rules") or []:
            if not isinstance(rule, dict) or "alert" not in rule:
                continue  # recording rules have no runbook
            rules.append(
                AlertRule(
                    name=str(rule["alert"]),
                    expr=str(rule.get("expr", "")),
                    duration=str(rule.get("for", "") or ""),
                    labels=_strings(rule.get("labels")),
                    annotations=_strings(rule.get("annotations")),
                    source=f"{path}: group {group.get('name', '?')}",
                )
            )
    return rules


def _check_rule(rule: AlertRule, findings: list[str]) -> None:
    where = f"{rule.source}: alert {rule.name}"
    if "severity" not in rule.labels:
        findings.append(f"{where}: no severity label")
    if not rule.annotations.get("runbook_url"):
        findings.append(f"{where}: no runbook_url annotation")
    if rule.duration in ("", "0", "0s"):
        findings.append(f"{where}: no for: duration (it fires on the first bad evaluation)")


def _check_placeholders(runbook: Runbook, rule: AlertRule, findings: list[str]) -> None:
    labels = rule.sets_labels()
    for step in runbook.steps:
        for placeholder in step.placeholders:
            found = FIELD.match(placeholder)
            if not found:
                findings.append(f"{runbook.path}: step {step.number} uses {{{{ {placeholder} }}}}, not an alert field")
                continue
            kind, name, _ = found.groups()
            if kind == "labels" and labels is not None and name not in labels:
                findings.append(
                    f"{runbook.path}: step {step.number} uses {{{{ {placeholder} }}}}, "
                    f"but alert {rule.name} ({rule.source}) never sets label {name}"
                )
            elif kind == "annotations" and name not in rule.annotations:
                findings.append(
                    f"{runbook.path}: step {step.number} uses {{{{ {placeholder} }}}}, "
                    f"but alert {rule.name} ({rule.source}) has no annotation {name}"
                )


def lint(rule_files: list[Path], library: RunbookLibrary) -> LintReport:
    report = LintReport()
    findings = report.findings
    for path in rule_files:
        report.rules += load_rules(path, findings)
    report.runbooks, unreadable = library.all()
    findings += unreadable
    matched: set[Path] = set()
    for rule in report.rules:
        _check_rule(rule, findings)
        match = library.match(rule.as_alert())
        if match.runbook is None:
            findings.append(f"{rule.source}: alert {rule.name}: no runbook (tried {'; '.join(match.tried)})")
            continue
        matched.add(match.runbook.path)
        _check_placeholders(match.runbook, rule, findings)
    for runbook in report.runbooks:
        findings += runbook.problems
        for step in runbook.steps:
            findings += [f"{runbook.path}: step {step.number}: {p}" for p in quoting_problems(step.command)]
        if report.rules and runbook.path not in matched:
            findings.append(f"{runbook.path}: matches no alert in the rules files")
    report.findings = list(dict.fromkeys(findings))
    return report
