"""Loading and validating `config.yaml`: typed sections, `${VAR}` secrets, clear errors.

Lookup order: `--config`, then `$ONCALL_TUI_CONFIG`, then `./config.yaml`, then the user
config dir. Every problem becomes one line naming the file and the key, so a user at 3 a.m.
knows exactly what to fix.
"""

from __future__ import annotations

import os
import re
import ssl
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from oncall_tui.core.durations import parse_duration

ENV_VAR = "ONCALL_TUI_CONFIG"


class ConfigError(Exception):
    """The config cannot be used. `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _seconds(value: Any) -> float:
    return parse_duration(value)


Seconds = Annotated[float, BeforeValidator(_seconds)]


def tls_verify(ca_bundle: Path | None, where: str) -> ssl.SSLContext | bool:
    """What a client verifies TLS with: the system's CAs, or `ca_bundle`'s. Raises ValueError,
    one line naming the config key `where`, when the file cannot be used."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or "not a PEM file of certificates"
        raise ValueError(f"{where}: cannot use {ca_bundle}: {reason}") from None


def _https(url: str, example: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{url!r} is not an https URL like {example} (TLS is always used)")
    return url


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class User(Section):
    """Who is at the keyboard: the author of silences and, later, of every timeline event."""

    name: str = Field(min_length=1, description="Shown as the author of silences and actions.")
    email: str | None = Field(None, description="Used where a service wants an email (PagerDuty's From header).")


def http_url(url: str, example: str) -> str:
    """`url` without a trailing slash, if it is an http(s) URL with a host and a good port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL like {example}")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has a bad port") from None
    return url.rstrip("/")


class AlertmanagerSource(Section):
    """One Alertmanager. Several of them are one HA cluster or several clusters."""

    name: str = Field(min_length=1, pattern=r"^[^\s]+$", description="Short name shown in the header.")
    url: str = Field(description="Base URL, e.g. http://127.0.0.1:9093 (a path prefix is kept).")
    timeout: Seconds = Field(5.0, description="Per-request timeout.")
    ca_bundle: Path | None = Field(None, description="PEM file of CAs to trust for https (default: system CAs).")
    cluster: str | None = Field(
        None,
        description="Alertmanagers with the same cluster name are one HA cluster: a silence is sent to one of them.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return http_url(url, "http://127.0.0.1:9093")


class PrometheusSource(Section):
    """Where alert history comes from, when set: Prometheus's `ALERTS` series."""

    url: str = Field(description="Base URL, e.g. http://127.0.0.1:9090 (user:password@ in it for basic auth).")
    timeout: Seconds = Field(10.0, description="Per-request timeout.")
    ca_bundle: Path | None = Field(None, description="PEM file of CAs to trust for https (default: system CAs).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return http_url(url, "http://127.0.0.1:9090")


class HistoryConfig(Section):
    """The console's own alert history, `<data_dir>/history.sqlite3` (kept with or without Prometheus)."""

    keep: Seconds = Field(90 * 86400.0, description="How long what it recorded is kept.")


class AlertsView(Section):
    """How the alerts pane looks."""

    labels: list[str] = Field(
        default_factory=lambda: ["service", "instance", "pod", "job"],
        description="Labels shown beside the alert name, in order; the first ones present are shown.",
    )
    highlight_new: Seconds = Field(5.0, description="How long a newly fired alert stays highlighted.")
    group_by: list[str] = Field(
        default_factory=lambda: ["alertname"],
        description="Labels whose values make alerts one row (as amtool and karma group them; enter opens a "
        "group, ctrl+g turns groups off); [] for a row per alert.",
    )
    max_poll_interval: Seconds = Field(
        30.0,
        gt=0,
        description="The longest wait between polls of an Alertmanager that is busy (it answers 503 or 429, "
        "or slower than poll_interval): the waits grow up to this, and come back as it keeps up.",
    )
    full_poll_interval: Seconds = Field(
        30.0,
        gt=0,
        description="While the / filter is made of label matchers, polls ask Alertmanager for only the alerts "
        "they match (its filter parameter); a poll asks for every alert all the same once that answer is this "
        "old: what the filter hides (incidents' alerts, the history, the bell) is followed at this interval.",
    )
    resend_grace: Seconds = Field(
        120.0,
        ge=0,
        description="Prometheus's resend interval plus slack: after an Alertmanager restarts (and forgets its "
        "alerts until they are sent again), how long an absent alert is 'not seen since it restarted' before "
        "it counts as resolved.",
    )


class Silences(Section):
    """Defaults of the silence form."""

    default_duration: Seconds = Field(3600.0, description="Prefilled duration of a new silence.")


class AcksConfig(Section):
    """Acknowledging alerts (A): a silence whose comment starts `ACK!` (kthxbye's convention),
    kept by its author's console while the alert fires."""

    duration: Seconds = Field(900.0, gt=0, description="How long an ack's silence lasts when made or extended.")
    extend_before: Seconds = Field(
        300.0, ge=0, description="While an alert it matches fires, the ack is extended when less than this is left."
    )
    expire_after_resolved: Seconds = Field(
        60.0, ge=0, description="Once none of its alerts has fired for this long, the ack is expired."
    )

    @model_validator(mode="after")
    def _extends_in_time(self) -> AcksConfig:
        if self.extend_before >= self.duration:
            raise ValueError("extend_before must be shorter than duration, or every ack is extended at every look")
        return self


class NotifyConfig(Section):
    """The terminal bell and a desktop notification through the terminal (OSC 9 / OSC 777)."""

    severity: str = Field(
        "critical", description="A new alert this severe or more rings (critical, error, warning, info)."
    )
    bell: bool = Field(True, description="Ring the terminal bell.")
    desktop: bool = Field(True, description="Ask the terminal for a desktop notification too.")


class IncidentsConfig(Section):
    """How incidents are kept and declared."""

    provider: Literal["local", "pagerduty"] = Field(
        "local", description="Where incidents live besides the journal: local (the journal only) or pagerduty."
    )
    auto_declare: list[str] = Field(
        default_factory=list, description="Alert severities that declare an incident by themselves, e.g. [critical]."
    )
    group_by: list[str] = Field(
        default_factory=lambda: ["alertname", "service"],
        description="Labels that make alerts one group: a group declares one incident, not one per alert.",
    )
    auto_declare_limit: int = Field(
        3, ge=0, description="At most this many incidents auto-declared per window; past it, one storm incident."
    )
    auto_declare_window: Seconds = Field(600.0, gt=0, description="The window of auto_declare_limit.")


class RunbooksConfig(Section):
    """Where runbooks are and how their steps run."""

    dir: Path = Field(
        Path("runbooks"), description="The runbooks directory; a relative path is relative to config.yaml."
    )
    timeout: Seconds = Field(300.0, gt=0, description="How long a step may run (a step's timeout= overrides).")
    shell: str = Field("bash", min_length=1, description="The shell that runs each step, as `SHELL -c COMMAND`.")
    kill_grace: Seconds = Field(5.0, ge=0, description="After SIGTERM, how long before SIGKILL.")
    path: list[Path] = Field(
        default_factory=list, description="Directories put first on PATH for steps (the demo's stand-ins go here)."
    )

    @field_validator("dir")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()


class RestrictionConfig(Section):
    """When a layer is on: daily, or weekly from a day of the week (times in the schedule's zone)."""

    type: Literal["daily_restriction", "weekly_restriction"]
    start_time_of_day: time = Field(description='Quote it in YAML: "09:00:00".')
    duration_seconds: int = Field(gt=0, le=604800)
    start_day_of_week: int | None = Field(None, ge=1, le=7, description="1 = Monday; weekly restrictions only.")

    @model_validator(mode="after")
    def _shape(self) -> RestrictionConfig:
        if self.type == "weekly_restriction" and self.start_day_of_week is None:
            raise ValueError("a weekly_restriction needs start_day_of_week (1 = Monday)")
        if self.type == "daily_restriction" and self.start_day_of_week is not None:
            raise ValueError("start_day_of_week is for weekly_restriction only")
        if self.type == "daily_restriction" and self.duration_seconds > 86400:
            raise ValueError("a daily_restriction lasts at most 86400 seconds")
        return self


class LayerConfig(Section):
    """One schedule layer, with PagerDuty's fields. Times without an offset are in the schedule's zone."""

    name: str = ""
    start: datetime
    end: datetime | None = None
    rotation_virtual_start: datetime
    rotation_turn_length_seconds: int = Field(gt=0)
    users: list[str] = Field(min_length=1)
    restrictions: list[RestrictionConfig] = Field(default_factory=list)


class OverrideConfig(Section):
    user: str = Field(min_length=1)
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> OverrideConfig:
        if self.end <= self.start:
            raise ValueError("an override must end after it starts")
        return self


class ScheduleConfig(Section):
    """A schedule: layers listed bottom-up (Layer 1 first); a later layer wins where it has someone."""

    name: str = Field(min_length=1)
    time_zone: str = Field(description="An IANA zone, e.g. America/Los_Angeles.")
    layers: list[LayerConfig] = Field(min_length=1)
    overrides: list[OverrideConfig] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a time zone (write e.g. Europe/Berlin or UTC)") from None
        return name


class EscalationLevel(Section):
    """Who is paged at one level: whoever a schedule has on call, or named people."""

    level: int = Field(ge=1)
    schedule: str | None = None
    users: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_target(self) -> EscalationLevel:
        if bool(self.schedule) == bool(self.users):
            raise ValueError("give a level either a schedule or users")
        return self


class OnCall(Section):
    """Who is on call: schedules (PagerDuty's layer semantics) and the escalation levels."""

    provider: Literal["local", "pagerduty"] = "local"
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    escalation: list[EscalationLevel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_schedules(self) -> OnCall:
        names = {s.name for s in self.schedules}
        for level in self.escalation:
            if level.schedule and level.schedule not in names:
                raise ValueError(
                    f"escalation level {level.level} names schedule {level.schedule!r}, which is not defined"
                )
        return self


class PagerDuty(Section):
    """The PagerDuty REST API: on-call (`GET /oncalls`) and incidents, with a REST API token."""

    token: SecretStr | None = Field(None, description="Write ${PAGERDUTY_API_KEY}: the token never goes in the file.")
    token_file: Path | None = Field(None, description="Or a file holding the token (e.g. a mounted secret).")
    base_url: str = Field("https://api.pagerduty.com", description="https://api.eu.pagerduty.com for the EU region.")
    ca_bundle: Path | None = Field(
        None, description="PEM file of CAs to trust (a TLS-inspecting proxy); TLS is always verified."
    )
    timeout: Seconds = Field(10.0, description="Per-request timeout.")
    retries: int = Field(3, ge=0, le=10, description="Attempts after a 5xx or network error before an action fails.")
    poll_interval: Seconds = Field(15.0, description="How often incidents and log entries are fetched.")
    escalation_policy_ids: list[str] = Field(default_factory=list)
    schedule_ids: list[str] = Field(default_factory=list)
    service_ids: list[str] = Field(
        default_factory=list, description="Incidents of these services are listed; the first takes declarations."
    )

    @field_validator("base_url")
    @classmethod
    def _https_url(cls, url: str) -> str:
        return _https(url, "https://api.pagerduty.com").rstrip("/")

    @field_validator("token_file")
    @classmethod
    def _expand_home(cls, path: Path | None) -> Path | None:
        return path.expanduser() if path else None

    @model_validator(mode="after")
    def _one_token(self) -> PagerDuty:
        if (self.token is None) == (self.token_file is None):
            raise ValueError("give either token (write ${PAGERDUTY_API_KEY}) or token_file")
        if self.token is not None and not self.token.get_secret_value().strip():
            raise ValueError("token is empty (is $PAGERDUTY_API_KEY set to something?)")
        return self

    def read_token(self) -> str:
        """The token itself. Raises ConfigError without ever showing it."""
        if self.token is not None:
            return self.token.get_secret_value().strip()
        assert self.token_file is not None
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                [
                    f"pagerduty.token_file: cannot read {self.token_file}: {getattr(error, 'strerror', None) or 'not text'}"
                ]
            ) from None
        if not token:
            raise ConfigError([f"pagerduty.token_file: {self.token_file} is empty"])
        return token


class PagerDutyEvents(Section):
    """Pages sent to a PagerDuty service's Events API v2 integration: no REST API token needed."""

    routing_key: SecretStr = Field(description="Write ${PD_ROUTING_KEY}: the integration key never goes in the file.")
    url: str = Field(
        "https://events.pagerduty.com/v2/enqueue",
        description="The enqueue endpoint; https://events.eu.pagerduty.com/v2/enqueue for the EU region.",
    )
    ca_bundle: Path | None = Field(None, description="PEM file of CAs to trust; TLS is always verified.")
    timeout: Seconds = Field(10.0, gt=0, description="Per-request timeout.")
    retries: int = Field(3, ge=0, le=10, description="Attempts after a 429, a 5xx or a network error.")

    @field_validator("url")
    @classmethod
    def _https_url(cls, url: str) -> str:
        return _https(url, "https://events.pagerduty.com/v2/enqueue")

    @field_validator("routing_key")
    @classmethod
    def _not_empty(cls, key: SecretStr) -> SecretStr:
        if not key.get_secret_value().strip():
            raise ValueError("routing_key is empty (is $PD_ROUTING_KEY set to something?)")
        return key


class Paging(Section):
    """How escalating pages the next level: through the team's Alertmanager routes, or a
    PagerDuty service's Events API. Without it, an escalation is recorded and nobody is paged."""

    alertmanager: str | None = Field(
        None,
        description="The name of one of `alertmanagers`: a page is an alert (alertname OncallPage) posted to it, "
        "delivered by its routes.",
    )
    pagerduty_events: PagerDutyEvents | None = None
    repost_interval: Seconds = Field(
        60.0, gt=0, description="Alertmanager: a standing page is posted again this often (it ends 5 intervals on)."
    )

    @model_validator(mode="after")
    def _one_way(self) -> Paging:
        if (self.alertmanager is None) == (self.pagerduty_events is None):
            raise ValueError("give paging either alertmanager: NAME or pagerduty_events: {routing_key: ...}")
        return self


class Config(Section):
    """The whole of config.yaml."""

    user: User
    alertmanagers: list[AlertmanagerSource] = Field(min_length=1)
    poll_interval: Seconds = Field(2.0, description="How often every Alertmanager is polled.")
    alerts: AlertsView = Field(default_factory=AlertsView)
    silences: Silences = Field(default_factory=Silences)
    acks: AcksConfig = Field(default_factory=AcksConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    prometheus: PrometheusSource | None = Field(None, description="Alert history from ALERTS; else the local one.")
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("oncall-tui")),
        description="Where incident journals live (default: the platform's user data dir).",
    )
    incidents: IncidentsConfig = Field(default_factory=IncidentsConfig)
    oncall: OnCall = Field(default_factory=OnCall)
    runbooks: RunbooksConfig = Field(default_factory=RunbooksConfig)
    pagerduty: PagerDuty | None = None
    paging: Paging | None = Field(None, description="How an escalation pages someone; absent: nobody is paged.")
    theme: str = Field("textual-dark", description="Any Textual theme name.")
    keymap: dict[str, str] = Field(
        default_factory=dict, description="Binding id -> keys, e.g. {silence: ctrl+s}; see `?` for ids."
    )
    _from_env: dict[str, str] = PrivateAttr(default_factory=dict)
    """Each value `${VAR}` put in the config, by its `${VAR}`: never said back (see `unsaid`)."""

    def unsaid(self, text: str) -> str:
        """`text` with every value the environment gave the config written as its `${VAR}`: for
        any line that shows a value of the config (a URL may carry a token)."""
        return _unsaid(text, self._from_env)

    @field_validator("data_dir")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [am.name for am in self.alertmanagers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"alertmanager name {name!r} is used twice")
        return self

    @model_validator(mode="after")
    def _paging_known(self) -> Config:
        if self.paging is None:
            return self
        if self.incidents.provider == "pagerduty":
            raise ValueError("paging: with incidents.provider pagerduty, PagerDuty escalates by itself: remove paging:")
        names = [am.name for am in self.alertmanagers]
        if self.paging.alertmanager is not None and self.paging.alertmanager not in names:
            raise ValueError(
                f"paging.alertmanager {self.paging.alertmanager!r} is not one of alertmanagers ({', '.join(names)})"
            )
        return self

    @model_validator(mode="after")
    def _pagerduty_complete(self) -> Config:
        uses = [f"{part}.provider" for part in ("incidents", "oncall") if getattr(self, part).provider == "pagerduty"]
        if not uses:
            return self
        if self.pagerduty is None:
            raise ValueError(f"{uses[0]} is pagerduty, so a pagerduty: section (token, ids) is needed")
        if self.incidents.provider == "pagerduty":
            if not self.pagerduty.service_ids:
                raise ValueError("incidents.provider is pagerduty: list pagerduty.service_ids")
            if not self.user.email:
                raise ValueError("incidents.provider is pagerduty: set user.email (PagerDuty's From header)")
        if self.oncall.provider == "pagerduty" and not (
            self.pagerduty.escalation_policy_ids or self.pagerduty.schedule_ids
        ):
            raise ValueError("oncall.provider is pagerduty: list pagerduty.escalation_policy_ids or schedule_ids")
        return self


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _interpolate(
    node: Any, path: str, env: dict[str, str], problems: list[str], used: dict[str, str] | None = None
) -> Any:
    """`node` with `${VAR}` replaced from `env`; `used` gathers each value put in, by its `${VAR}`,
    so that no error echoes one (a secret may sit in any key)."""
    used = {} if used is None else used
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env, problems, used) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", env, problems, used) for i, v in enumerate(node)]
    if isinstance(node, str):

        def replace(found: re.Match[str]) -> str:
            if found.group(0) == "$$":
                return "$"
            name = found.group(1)
            if name not in env:
                problems.append(f"{path}: environment variable ${{{name}}} is not set")
                return ""
            if len(env[name]) >= 4:  # (shorter ones would turn every "2" of a line into ${VAR})
                used[env[name]] = f"${{{name}}}"
            return env[name]

        return _VAR.sub(replace, node)
    return node


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith("function-"):
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _explain(error: dict[str, Any]) -> str:
    kind, loc = error["type"], tuple(error["loc"])
    if kind == "extra_forbidden":
        return f"{_location(loc)}: unknown key"
    if kind == "missing":
        return f"{_location(loc)}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    secret = any(
        word in str(part) for part in loc for word in ("token", "routing_key")
    )  # never echo what was given for a secret
    if kind not in ("value_error", "assertion_error") and "input" in error and not secret:
        got = error["input"]
        shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
        message = f"{message} (got {shown[:60]})"
    named = [part for part in loc if not str(part).startswith("function-")]
    return f"{_location(loc)}: {message}" if named else message  # a check of the whole config names its keys


def parse_config(text: str, source: str, env: dict[str, str] | None = None) -> Config:
    """Parse YAML text into a Config. Raises ConfigError naming `source` on each line."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{source}: invalid YAML: {where}{problem}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: expected a mapping of keys at the top, got {type(raw).__name__}"])
    problems: list[str] = []
    used: dict[str, str] = {}
    raw = _interpolate(raw, "", dict(os.environ) if env is None else env, problems, used)
    if problems:
        raise ConfigError([f"{source}: {p}" for p in problems])
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([f"{source}: {_unsaid(_explain(e), used)}" for e in error.errors()]) from None
    config._from_env = used
    return config


def _unsaid(message: str, used: dict[str, str]) -> str:
    """`message` with every value the environment gave written back as its `${VAR}`."""
    for value in sorted(used, key=len, reverse=True):
        message = message.replace(value, used[value])
    return message


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir("oncall-tui")) / "config.yaml"


def find_config(explicit: str | None, env: dict[str, str] | None = None) -> Path:
    """The config file to use, by the lookup order. Raises ConfigError if there is none."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    for candidate in (Path("config.yaml"), user_config_path()):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        [f"no config found: pass --config, set ${ENV_VAR}, or create ./config.yaml or {user_config_path()}"]
    )


def load_config(explicit: str | None = None, env: dict[str, str] | None = None) -> tuple[Path, Config]:
    """Find, read and validate the config. Raises ConfigError."""
    path = find_config(explicit, env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([f"{path}: cannot read: {getattr(error, 'strerror', None) or error}"]) from None
    config = parse_config(text, str(path), env)
    if not config.runbooks.dir.is_absolute():  # relative to the config file, wherever it is run from
        runbooks = config.runbooks.model_copy(update={"dir": path.parent.absolute() / config.runbooks.dir})
        config = config.model_copy(update={"runbooks": runbooks})
    return path, config
