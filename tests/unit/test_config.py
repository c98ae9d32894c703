"""Config: lookup order, ${VAR} secrets, and one clear line per problem with exit code 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from oncall_tui.cli import main
from oncall_tui.core.config import ConfigError, find_config, load_config, parse_config
from tests.conftest import ROOT

GOOD = """
user:
  name: alice
alertmanagers:
  - name: prod
    url: http://127.0.0.1:9093
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cfg.yaml", env or {})
    return caught.value.problems


def test_the_shipped_example_config_is_valid() -> None:
    _, config = load_config(str(ROOT / "config.yaml"), env={})
    assert config.alertmanagers[0].url == "http://127.0.0.1:9093"
    assert config.poll_interval == 2.0
    assert config.silences.default_duration == 3600.0


def test_defaults_fill_what_is_left_out() -> None:
    config = parse_config(GOOD, "cfg.yaml", {})
    assert config.poll_interval == 2.0
    assert config.alerts.labels == ["service", "instance", "pod", "job"]


def test_invalid_yaml_names_file_line_and_column() -> None:
    [line] = problems("user: {name: alice\nalertmanagers: [")
    assert line.startswith("cfg.yaml: invalid YAML: line ")


def test_unknown_key_is_named_with_its_path() -> None:
    assert problems(GOOD + "alertmanagers_typo: 1\n") == ["cfg.yaml: alertmanagers_typo: unknown key"]
    assert problems(GOOD.replace("url:", "urll:")) == [
        "cfg.yaml: alertmanagers[0].url: required key is missing",
        "cfg.yaml: alertmanagers[0].urll: unknown key",
    ]


def test_wrong_type_is_named() -> None:
    [line] = problems(GOOD + "poll_interval: soon\n")
    assert line.startswith("cfg.yaml: poll_interval: 'soon' is not a duration")
    [line] = problems(GOOD + "alerts: {labels: 3}\n")
    assert line.startswith("cfg.yaml: alerts.labels: Input should be a valid list")


def test_bad_url_is_named() -> None:
    [line] = problems(GOOD.replace("http://127.0.0.1:9093", "127.0.0.1:9093"))
    assert line == "cfg.yaml: alertmanagers[0].url: '127.0.0.1:9093' is not an http(s) URL like http://127.0.0.1:9093"
    [line] = problems(GOOD.replace("9093", "99999"))
    assert "bad port" in line


def test_unset_variable_is_named_and_set_one_is_used() -> None:
    text = GOOD.replace("http://127.0.0.1:9093", "${AM_URL}")
    assert problems(text) == ["cfg.yaml: alertmanagers[0].url: environment variable ${AM_URL} is not set"]
    config = parse_config(text, "cfg.yaml", {"AM_URL": "https://am.example.com/prefix/"})
    assert config.alertmanagers[0].url == "https://am.example.com/prefix"


def test_double_dollar_is_a_literal_dollar() -> None:
    config = parse_config(GOOD.replace("alice", "al$$ice"), "cfg.yaml", {})
    assert config.user.name == "al$ice"


def test_empty_and_non_mapping_files() -> None:
    assert "cfg.yaml: user: required key is missing" in problems("")
    assert problems("- a\n- b\n") == ["cfg.yaml: expected a mapping of keys at the top, got list"]


def test_duplicate_source_names_are_refused() -> None:
    text = GOOD + "  - {name: prod, url: 'http://127.0.0.1:9094'}\n"
    [line] = problems(text)
    assert "alertmanager name 'prod' is used twice" in line


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, from_env, local = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "config.yaml"
    for path in (explicit, from_env, local):
        path.write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    assert find_config(str(explicit), {"ONCALL_TUI_CONFIG": str(from_env)}) == explicit
    assert find_config(None, {"ONCALL_TUI_CONFIG": str(from_env)}) == from_env
    assert find_config(None, {}) == Path("config.yaml")
    local.unlink()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ConfigError, match="no config found"):
        find_config(None, {})
    user = tmp_path / "xdg" / "oncall-tui" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(GOOD)
    assert find_config(None, {}) == user


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        ("user: [", "invalid YAML"),
        (GOOD + "bogus: 1\n", "bogus: unknown key"),
        (GOOD + "poll_interval: [1]\n", "poll_interval:"),
        (GOOD.replace("http://127.0.0.1:9093", "ftp://x"), "is not an http(s) URL"),
        (GOOD.replace("alice", "${ONCALL_TEST_UNSET_VAR}"), "${ONCALL_TEST_UNSET_VAR} is not set"),
    ],
)
def test_cli_bad_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "config.yaml"
    if content is not None:
        path.write_text(content)
    assert main(["--config", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"oncall-tui: {path}") and expected in err


def test_bad_config_prints_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "nope: 1\n")
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "check", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == f"oncall-tui: {path}: nope: unknown key\n"
    assert "Traceback" not in done.stdout + done.stderr


def test_data_dir_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = parse_config(GOOD + "data_dir: ~/oncall\n", "cfg.yaml", {})
    assert config.data_dir == tmp_path / "oncall"


@pytest.mark.parametrize(
    ("paging", "expected"),
    [
        ("paging: {alertmanager: dr}", "paging.alertmanager 'dr' is not one of alertmanagers (prod)"),
        ("paging: {}", "give paging either alertmanager: NAME or pagerduty_events: {routing_key: ...}"),
        (
            "paging: {alertmanager: prod, pagerduty_events: {routing_key: abc}}",
            "give paging either alertmanager: NAME or pagerduty_events",
        ),
        (
            "paging: {alertmanager: prod}\nincidents: {provider: pagerduty}\npagerduty: {token: t, service_ids: [P]}",
            "with incidents.provider pagerduty, PagerDuty escalates by itself: remove paging:",
        ),
        ("paging: {pagerduty_events: {routing_key: '  '}}", "routing_key is empty"),
        (
            "paging: {pagerduty_events: {routing_key: k, url: 'http://events.example'}}",
            "is not an https URL like https://events.pagerduty.com/v2/enqueue",
        ),
    ],
)
def test_paging_problems_are_named(paging: str, expected: str) -> None:
    found = problems(GOOD + paging + "\nuser: {name: alice, email: a@example.com}\n")
    assert any(expected in line for line in found), found


def test_a_routing_key_is_never_echoed() -> None:
    found = problems(GOOD + "paging: {pagerduty_events: {routing_key: [SECRET-KEY-123]}}\n")
    assert found and not any("SECRET-KEY-123" in line for line in found)


def test_a_value_from_the_environment_is_never_echoed_wherever_it_was_put() -> None:
    text = GOOD + "paging:\n  pagerduty_events:\n    routing_key: ${PD_KEY}\n    url: http://evil.example/${PD_KEY}\n"
    with pytest.raises(ConfigError) as failed:
        parse_config(text, "cfg.yaml", {"PD_KEY": "SECRETKEY42"})
    [line] = failed.value.problems
    assert "SECRETKEY42" not in line and "'http://evil.example/${PD_KEY}' is not an https URL" in line


def test_the_readme_s_paging_examples_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    for example in re.findall(r"`(paging: \{[^`]*\})`", readme):
        config = parse_config(GOOD + example + "\n", "README.md", {"PD_ROUTING_KEY": "k" * 32})
        assert config.paging is not None, example


def test_paging_through_an_alertmanager_and_its_route_example_parse() -> None:
    config = parse_config(GOOD + "paging: {alertmanager: prod, repost_interval: 30s}\n", "cfg.yaml", {})
    assert config.paging is not None and config.paging.alertmanager == "prod" and config.paging.repost_interval == 30


def test_an_ack_extended_before_it_could_ever_run_out_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(GOOD + "acks: {duration: 5m, extend_before: 5m}\n", "cfg.yaml", {})
    assert "acks: extend_before must be shorter than duration" in str(caught.value)
