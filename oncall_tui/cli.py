"""The command line: the console, the demo, and the commands that need no terminal UI."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from oncall_tui import __version__
from oncall_tui.core.alerts.alertmanager import AlertmanagerClient, AlertmanagerError
from oncall_tui.core.alerts.history import HistoryError, describe_found
from oncall_tui.core.alerts.models import PAGE_ALERTNAME
from oncall_tui.core.alerts.prometheus import LABEL_NAME, PrometheusHistory
from oncall_tui.core.alerts.routes import RouteError, destinations
from oncall_tui.core.config import AlertmanagerSource, Config, ConfigError, Paging, load_config
from oncall_tui.core.durations import format_duration, signed_duration
from oncall_tui.core.incidents.desk import IncidentDesk, IncidentError
from oncall_tui.core.incidents.fatigue import as_json as fatigue_json
from oncall_tui.core.incidents.fatigue import assess
from oncall_tui.core.incidents.fatigue import render as render_fatigue
from oncall_tui.core.incidents.postmortem import render_json, render_markdown, render_timeline
from oncall_tui.core.incidents.report import as_json as report_json
from oncall_tui.core.incidents.report import build as build_report
from oncall_tui.core.incidents.report import render as render_report
from oncall_tui.core.incidents.report import since_ago
from oncall_tui.core.oncall.roster import Roster
from oncall_tui.core.pagerduty.events import EventsError
from oncall_tui.core.pagerduty.rest import PagerDutyApi, PagerDutyError
from oncall_tui.core.private import recording_problem, write_private
from oncall_tui.core.runbooks.library import RunbookLibrary
from oncall_tui.core.runbooks.lint import lint
from oncall_tui.core.text import clean_line
from oncall_tui.core.timefmt import in_zones, utc_now

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    config_help = "config file (default: $ONCALL_TUI_CONFIG, ./config.yaml, user config dir)"
    parser = argparse.ArgumentParser(
        prog="oncall-tui",
        description="The on-call engineer's console: live Alertmanager alerts and silences.",
    )
    parser.add_argument("--config", metavar="PATH", help=config_help)
    # Subcommands accept --config too; SUPPRESS keeps them from resetting one given before.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=config_help)
    parser.add_argument("--version", action="version", version=f"oncall-tui {__version__}")
    parser.add_argument("--read-only", action="store_true", help="never change anything on a server")
    parser.add_argument("--dry-run", action="store_true", help="runbook steps are recorded and shown, never run")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", parents=[common], help="the console against an embedded simulator (no services needed)"
    )
    demo.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS, help="never change anything")
    demo.add_argument(
        "--dry-run", action="store_true", default=argparse.SUPPRESS, help="runbook steps are recorded, never run"
    )
    check = commands.add_parser(
        "check", parents=[common], help="validate the config and reach every service, or lint runbooks against rules"
    )
    check.add_argument(
        "--rules",
        nargs="+",
        metavar="FILE",
        help="Prometheus rule files: lint them against the runbooks (offline: no service is reached)",
    )
    commands.add_parser("incidents", parents=[common], help="list incidents with status and metrics")
    oncall = commands.add_parser("oncall", parents=[common], help="who is on call, and the final schedule")
    oncall.add_argument("--at", metavar="TIME", help="ISO 8601 time (default now; without an offset: UTC)")
    oncall.add_argument("--until", metavar="TIME", help="end of the final schedule table (default: --at + 7 days)")
    report = commands.add_parser(
        "report", parents=[common], help="response times across incidents, and alert fatigue over every alert"
    )
    report.add_argument(
        "--since",
        metavar="WINDOW",
        help="only incidents declared within it, e.g. 30d, 12h (alert fatigue: 30d unless given)",
    )
    report.add_argument("--format", choices=["text", "json"], default="text")
    history = commands.add_parser(
        "history", parents=[common], help="an alert's firing episodes, from Prometheus or the local history"
    )
    history.add_argument("name", metavar="NAME", help="the alertname")
    history.add_argument("--since", metavar="WINDOW", default="7d", help="how far back (default 7d)")
    history.add_argument("--labels", nargs="+", metavar="K=V", default=[], help="only alerts with these labels")
    timeline = commands.add_parser("timeline", parents=[common], help="print an incident's timeline")
    timeline.add_argument("incident", metavar="INCIDENT")
    export = commands.add_parser("export", parents=[common], help="write an incident's postmortem (or raw events)")
    export.add_argument("incident", metavar="INCIDENT")
    export.add_argument("--format", choices=["markdown", "json"], default="markdown")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    return parser


def default_config_path() -> Path:
    """The example config the package ships (the repo's config.yaml in a source checkout)."""
    here = Path(__file__).resolve().parent
    packaged = here / "config.example.yaml"
    return packaged if packaged.is_file() else here.parent / "config.yaml"


def _load(explicit: str | None, fallback: bool = False, keys: bool = False) -> tuple[Path, Config]:
    """The config; with `keys`, its keymap is checked against the console's bindings too."""
    try:
        path, config = load_config(explicit)
    except ConfigError as error:
        if not (fallback and error.problems[0].startswith("no config found")):
            raise
        path, config = load_config(str(default_config_path()))
    if keys:
        from textual.theme import BUILTIN_THEMES  # the themes and bindings live in the UI (Textual)

        from oncall_tui.ui.keymap import keymap_problems

        problems = keymap_problems(config.keymap) if config.keymap else []
        if config.theme not in BUILTIN_THEMES:
            near = difflib.get_close_matches(config.theme, list(BUILTIN_THEMES), n=1)
            hint = f"did you mean {near[0]}?" if near else f"one of {', '.join(sorted(BUILTIN_THEMES))}"
            problems.append(f"theme: {config.theme!r} is not a theme: {hint}")
        if problems:
            raise ConfigError([f"{path}: {problem}" for problem in problems])
    return path, config


def run_console(config: Config, read_only: bool, dry_run: bool = False, is_demo: bool = False) -> int:
    from oncall_tui.services import build_services
    from oncall_tui.ui.app import OncallApp  # the CLI's other commands never load Textual

    app = OncallApp(build_services(config, read_only=read_only, dry_run=dry_run, is_demo=is_demo))
    app.run()
    return app.return_code or EXIT_OK  # a crash (Textual printed its traceback) is no success


def run_demo(explicit: str | None, read_only: bool, dry_run: bool) -> int:
    from oncall_tui.sim.scenario import DEMO_BIN, start_demo

    _, config = _load(explicit, fallback=True, keys=True)
    server = start_demo()
    try:
        demo = config.model_copy(
            update={
                "alertmanagers": [AlertmanagerSource(name="demo", url=server.url)],
                # escalations page through the simulator, so a page comes back in the alert list
                "paging": Paging(alertmanager="demo"),
                "data_dir": config.data_dir / "demo",  # demo incidents never mix with real ones
                # runbook steps find harmless stand-ins for kubectl, curl and ssh first
                "runbooks": config.runbooks.model_copy(update={"path": [DEMO_BIN, *config.runbooks.path]}),
            }
        )
        return run_console(demo, read_only, dry_run, is_demo=True)
    finally:
        server.stop()


async def _check_alertmanager(source: AlertmanagerSource) -> tuple[bool, str, str | None]:
    """Whether it answers, the line that says so, and its config as its status gives it."""
    try:
        async with AlertmanagerClient(source) as client:
            await client.ready()
            status = await client.status()
    except AlertmanagerError as error:
        return False, f"FAILED {error}", None
    version = clean_line(str(status["versionInfo"].get("version", "?")), 40)
    cluster = status.get("cluster") if isinstance(status.get("cluster"), dict) else {}
    peers = len(cluster.get("peers") or [])
    state = clean_line(str(cluster.get("status", "?")), 20)
    line = f"ok {source.name}: ready, version {version}, cluster {state}" + (f" ({peers} peers)" if peers else "")
    original = (status.get("config") or {}).get("original") if isinstance(status.get("config"), dict) else None
    return True, line, str(original or "")


def run_check(path: Path, config: Config) -> int:
    def say(line: str) -> None:  # a URL may carry a token from ${VAR}: never print it
        print(config.unsaid(line))

    say(
        f"config  ok {path}: {len(config.alertmanagers)} alertmanager(s), poll every {format_duration(config.poll_interval)}"
    )

    async def check_all() -> list[tuple[bool, str, str | None]]:
        return await asyncio.gather(*(_check_alertmanager(s) for s in config.alertmanagers))

    answers = asyncio.run(check_all())
    routes = {s.name: original for s, (_, _, original) in zip(config.alertmanagers, answers, strict=True)}
    results = [(ok, line) for ok, line, _ in answers]
    for source, (_, line) in zip(config.alertmanagers, results, strict=True):
        say(f"alertmanager  {line}  ({source.url})")
    results += _check_runbooks(config)
    problem = recording_problem(config.data_dir)
    say(f"data_dir  FAILED {problem}" if problem else f"data_dir  ok {config.data_dir} can be written")
    results.append((problem is None, ""))
    if config.prometheus:
        ok, line = _check_prometheus(config)
        say(f"prometheus  {line}  ({config.prometheus.url})")
        results.append((ok, ""))
    paging_ok, paging_line = _check_paging(config, routes)
    say(f"paging  {paging_line}")
    results.append((paging_ok, ""))
    if config.pagerduty:
        pagerduty = _check_pagerduty(config)
        for ok, line in pagerduty:
            say(f"pagerduty  {'ok' if ok else 'FAILED'} {line}")
        results += pagerduty
    return EXIT_OK if all(ok for ok, _ in results) else EXIT_CHECK_FAILED


def _check_prometheus(config: Config) -> tuple[bool, str]:
    """Prometheus answers `count(ALERTS)` (and its external labels are read)."""

    assert config.prometheus is not None
    try:
        prometheus = PrometheusHistory(config.prometheus)
        try:
            firing = prometheus.firing()
            external = prometheus.external_labels()
        finally:
            prometheus.close()
    except HistoryError as error:
        return False, f"FAILED {error}: alert history comes from the local record meanwhile"
    extra = f", external labels {', '.join(sorted(external))}" if external else ""
    return True, f"ok ALERTS answers: {firing} alert(s) firing now{extra}"


def _check_paging(config: Config, routes: dict[str, str | None]) -> tuple[bool, str]:
    """How `e` pages, checked without sending anything (a test page would page someone).
    `routes`: each reachable Alertmanager's config, as its status gives it (None: not reached)."""
    paging = config.paging
    if paging is None:
        if config.incidents.provider == "pagerduty":
            return True, "PagerDuty's escalation policy pages (incidents.provider: pagerduty)"
        return True, "none: escalations are recorded and nobody is paged (add paging: to page)"
    if paging.alertmanager:
        name, original = paging.alertmanager, routes.get(paging.alertmanager)
        if original is None:
            return False, f"FAILED through Alertmanager {name}, which did not answer: nobody could be paged now"
        return _page_routes(config, name, original)
    assert paging.pagerduty_events is not None
    return (
        True,
        f"through PagerDuty Events at {paging.pagerduty_events.url} (not sent: a test event would page someone)",
    )


def _page_routes(config: Config, name: str, original: str) -> tuple[bool, str]:
    """Where Alertmanager `name` would send a page (critical, and warning for SEV-3/4) for each
    person a level past the first may page (its routing tree walked, nothing sent): failed
    when a page would reach a receiver that sends nowhere."""
    people = _pageable(config) or {"someone": 2}  # on call from PagerDuty: whoever it names
    went: dict[str, list[str]] = {}
    nowhere = []
    for person, level in people.items():
        for severity in ("critical", "warning"):
            labels = {"alertname": PAGE_ALERTNAME, "level": str(level), "oncall": person, "severity": severity}
            try:
                found = destinations(original, labels | {"incident": "INC-check", "page": "INC-check"})
            except RouteError as error:
                return True, (
                    f"warning: Alertmanager {name}'s routes could not be read ({error}): "
                    "pages are not known to go anywhere"
                )
            for destination in found:
                if destination.integrations:
                    where = f"{destination.receiver} ({', '.join(destination.integrations)})"
                    reached = went.setdefault(where, [])
                    if person not in reached:
                        reached.append(person)
                else:
                    nowhere.append(f"a {severity} page for {person} (level {level}) goes to {destination.receiver}")
    if nowhere:
        return False, (
            f"FAILED through Alertmanager {name}: {'; '.join(nowhere)}, which sends nowhere: give "
            'alertname="OncallPage" pages of every severity a route to a receiver (README, Escalation pages for real)'
        )
    gone = "; ".join(f"{', '.join(who)} to {where}" for where, who in went.items())
    return True, f"ok through Alertmanager {name}: pages for {gone} (routes walked, nothing sent)"


def _pageable(config: Config) -> dict[str, int]:
    """Everyone a level past the first may page, with their first such level."""
    levels = config.oncall.escalation
    first = min((lv.level for lv in levels), default=1)
    schedules = {s.name: s for s in config.oncall.schedules}
    people: dict[str, int] = {}
    for level in sorted((lv for lv in levels if lv.level > first), key=lambda lv: lv.level):
        schedule = schedules.get(level.schedule or "")
        named = level.users or (
            [u for layer in schedule.layers for u in layer.users] + [o.user for o in schedule.overrides]
            if schedule
            else []
        )
        for person in named:
            people.setdefault(person, level.level)
    return people


def _check_runbooks(config: Config) -> list[tuple[bool, str]]:
    """Every runbook reads as written (the rules are checked with --rules)."""
    directory = config.runbooks.dir
    if not directory.is_dir():
        print(f"runbooks  none: {directory} is not a directory (runbooks.dir)")
        return []
    runbooks, unreadable = RunbookLibrary(directory).all()
    problems = unreadable + [p for r in runbooks for p in r.problems]
    for problem in problems:
        print(f"runbooks  FAILED {clean_line(problem)}")
    if not problems:
        steps = sum(len(r.steps) for r in runbooks)
        print(
            f"runbooks  ok {len(runbooks)} runbook(s), {steps} step(s) in {directory} (check --rules FILE lints them against alert rules)"
        )
    return [(not problems, "")]


def run_lint(config: Config, rule_files: list[str]) -> int:
    """Rules without runbooks, runbooks without rules, and what is wrong in either."""
    report = lint([Path(f) for f in rule_files], RunbookLibrary(config.runbooks.dir))
    here = f"{Path.cwd()}/"
    for finding in report.findings:
        print(clean_line(finding.replace(here, "")))
    summary = f"{len(report.rules)} alert rule(s), {len(report.runbooks)} runbook(s) in {config.runbooks.dir}"
    if report.findings:
        print(f"{len(report.findings)} problem(s): {summary}".replace(here, ""))
        return EXIT_CHECK_FAILED
    print(f"ok: {summary}, every rule has a runbook and every runbook an alert".replace(here, ""))
    return EXIT_OK


def _check_pagerduty(config: Config) -> list[tuple[bool, str]]:
    """The token works, the From user exists, and so does every configured ID."""
    assert config.pagerduty is not None
    try:
        api = PagerDutyApi(config.pagerduty, config.user.email)
    except (ConfigError, PagerDutyError) as error:
        return [(False, str(error))]
    try:
        return api.check()
    finally:
        api.close()


def _desk(config: Config) -> IncidentDesk:
    desk = IncidentDesk(config.data_dir, config.user.name).load()
    for problem in desk.problems:
        print(f"oncall-tui: warning: {problem}", file=sys.stderr)
    return desk


def _short(seconds: float | None) -> str:
    return "-" if seconds is None else signed_duration(seconds)


def run_incidents(config: Config) -> int:
    incidents = sorted(_desk(config).incidents.values(), key=lambda i: i.id)
    if not incidents:
        print(f"no incidents in {config.data_dir / 'incidents'}")
        return EXIT_OK
    print(f"{'incident':<18} {'status':<12} {'sev':<5} {'stage':<11} {'TTA':>7} {'TTR':>7}  title")
    for incident in incidents:
        metrics = {m.name: m.seconds for m in incident.metrics()}
        print(
            f"{incident.id:<18} {incident.status:<12} {incident.severity:<5} {incident.stage:<11}"
            f" {_short(metrics['time to acknowledge']):>7} {_short(metrics['time to resolve']):>7}"
            f"  {clean_line(incident.title, 80)}"
        )
    return EXIT_OK


def _when(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: write it as 2026-11-27T14:00 or 2026-11-27T14:00+01:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_oncall(config: Config, at: str | None, until: str | None) -> int:
    try:
        start = _when(at, utc_now())
        end = _when(until, start + timedelta(days=7))
    except ValueError as error:
        print(f"oncall-tui: {error}", file=sys.stderr)
        return EXIT_USAGE
    if end <= start:
        print("oncall-tui: --until must be after --at", file=sys.stderr)
        return EXIT_USAGE
    roster = Roster(config.oncall)
    if not roster.escalation and not roster.schedules:
        print("no schedules or escalation levels: see oncall: in config.yaml")
        return EXIT_OK
    for level in roster.levels(start):
        who = ", ".join(level.users) or "nobody"
        line = f"L{level.level} {who:<10} ({level.source})"
        if level.until and level.zone:
            line += f" until {in_zones(level.until, level.zone)}, then {', '.join(level.next_users) or 'nobody'}"
        print(line)
    for name, schedule in roster.schedules.items():
        print(f"\n{name} ({schedule.zone.key}), final schedule:")
        for shift in roster.final(name, start, end):
            print(
                f"  {in_zones(shift.start, schedule.zone):<44} → {in_zones(shift.end, schedule.zone):<44} {shift.user or '(nobody)'}"
            )
    return EXIT_OK


def _since(window: str) -> datetime:
    try:
        return since_ago(utc_now(), window)
    except ValueError as error:
        raise UsageError(f"--since: {error}") from None


class UsageError(Exception):
    """A bad argument: one line, exit 2."""


def run_report(config: Config, window: str | None, fmt: str) -> int:
    since = _since(window) if window else None
    library = RunbookLibrary(config.runbooks.dir) if config.runbooks.dir.is_dir() else None
    incidents = list(_desk(config).incidents.values())
    report = build_report(incidents, since, library)
    now = utc_now()
    start = since or now - timedelta(days=30)
    from oncall_tui.services import build_history, local_history

    history = build_history(config, utc_now)
    try:
        found = history.episodes(start, now)
        local = local_history(config, utc_now)
        try:
            silenced, runbooks = local.acted(start, now), local.runbooks()
        except HistoryError:  # no local history: acks and silences are not known
            silenced, runbooks = {}, {}
        fatigue = assess(found, now, schedule_zone(config), incidents, silenced, library, runbooks)
        trouble = None
    except HistoryError as error:
        fatigue, trouble = None, config.unsaid(str(error))
    finally:
        history.close()
    if fmt == "json":
        body = {**report_json(report), "fatigue": fatigue_json(fatigue) if fatigue else {"error": trouble}}
        print(config.unsaid(json.dumps(body, indent=2, ensure_ascii=False)))
        return EXIT_OK
    fatigue_lines = render_fatigue(fatigue) if fatigue else [f"alert fatigue: no history ({trouble})"]
    print(render_report(report) + "\n" + config.unsaid("\n".join(fatigue_lines)) + "\n", end="")
    return EXIT_OK


def schedule_zone(config: Config) -> ZoneInfo:
    """Business hours are the first on-call schedule's (UTC without one)."""
    schedules = config.oncall.schedules
    return ZoneInfo(schedules[0].time_zone) if schedules else ZoneInfo("UTC")


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise UsageError(f"--labels: {pair!r} is not k=v (e.g. --labels service=ml-api)")
        if not LABEL_NAME.fullmatch(key):
            raise UsageError(f"--labels: {key!r} is not a label name (letters, digits and _, not first a digit)")
        labels[key] = value
    return labels


def run_history(config: Config, name: str, window: str, pairs: list[str]) -> int:
    from oncall_tui.services import build_history

    start, labels, now = _since(window), _labels(pairs), utc_now()
    if labels.get("alertname", name) != name:
        raise UsageError(f"--labels: alertname is {name!r}, the NAME asked for")
    history = build_history(config, utc_now)
    try:
        found = history.episodes(start, now, name, labels)
    except HistoryError as error:
        print(f"oncall-tui: {config.unsaid(str(error))}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    finally:
        history.close()
    print(config.unsaid(describe_found(found, name, now)), end="")
    return EXIT_OK


def run_timeline(config: Config, incident_id: str) -> int:
    print(render_timeline(_desk(config).get(incident_id)), end="")
    return EXIT_OK


def run_export(config: Config, incident_id: str, fmt: str, output: str | None) -> int:
    incident = _desk(config).get(incident_id)
    text = render_markdown(incident) if fmt == "markdown" else render_json(incident)
    if output is None:
        print(text, end="")
        return EXIT_OK
    try:
        write_private(Path(output), text)  # 0600, as the journal it comes from
    except OSError as error:
        print(f"oncall-tui: cannot write {output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"wrote {output} ({len(incident.events)} events)")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return run_demo(args.config, args.read_only, args.dry_run)
        path, config = _load(args.config, keys=args.command in (None, "check"))  # the console, and check (all of it)
        if args.command == "check":
            return run_lint(config, args.rules) if args.rules else run_check(path, config)
        if args.command == "incidents":
            return run_incidents(config)
        if args.command == "oncall":
            return run_oncall(config, args.at, args.until)
        if args.command == "report":
            return run_report(config, args.since, args.format)
        if args.command == "history":
            return run_history(config, args.name, args.since, args.labels)
        if args.command == "timeline":
            return run_timeline(config, args.incident)
        if args.command == "export":
            return run_export(config, args.incident, args.format, args.output)
        return run_console(config, args.read_only, args.dry_run)
    except ConfigError as error:
        for problem in error.problems:
            print(f"oncall-tui: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (IncidentError, PagerDutyError, AlertmanagerError, EventsError) as error:  # a CA bundle, say
        print(f"oncall-tui: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"oncall-tui: {error}", file=sys.stderr)
        return EXIT_USAGE
    except HistoryError as error:  # a CA bundle Prometheus cannot be asked with
        print(f"oncall-tui: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
