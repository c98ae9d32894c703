"""Runbooks: Markdown files found for an alert, and the shell blocks in them that are steps.

A runbook is read once per change of its file (the library caches by size and mtime).
Fenced blocks are found by a line scanner rather than a full Markdown parse: it is about
twenty times faster than markdown-it-py, so even a 5 MB runbook lists its steps at once,
and it follows CommonMark's fence rules (an opening fence of three or more backticks or
tildes, indented or not, closed by a fence of the same character at least as long; an
unclosed fence runs to the end of the document).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import yaml

from oncall_tui.core.alerts.models import Alert

RUNNABLE = frozenset({"bash", "sh", "shell", "zsh", "console"})
FENCE = re.compile(r"^( {0,12})(`{3,}|~{3,})(.*)$")
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
LINK = re.compile(r"https?://[^\s<>()\[\]`\"']+")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
FIELD = re.compile(r"^(labels|annotations)\.([A-Za-z_][A-Za-z0-9_]*)$|^alert\.(fingerprint|name)$")


class RunbookError(Exception):
    """A runbook cannot be read or a step cannot run as written; `str()` is one line."""


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str
    line: int  # 1-based, in the file


@dataclass(frozen=True, slots=True)
class RunbookStep:
    """One runnable fenced block: numbered in document order, titled by its heading."""

    number: int
    name: str
    heading: str
    language: str
    code: str
    attrs: dict[str, str]
    line: int  # 1-based line of the opening fence, in the file
    closed: bool = True

    @property
    def command(self) -> str:
        """What runs: the block, or for `console` blocks only their `$ ` lines."""
        if self.language != "console":
            return self.code
        lines = [line[2:] for line in self.code.splitlines() if line.startswith("$ ")]
        return "\n".join(lines) + ("\n" if lines else "")

    @property
    def timeout(self) -> float | None:
        value = self.attrs.get("timeout", "")
        try:
            return float(value.removesuffix("s")) if value else None
        except ValueError:
            return None

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(self.command)))

    @property
    def title(self) -> str:
        return f"{self.number}. {self.name}"


@dataclass(slots=True)
class CodeBlock:
    language: str
    attrs: dict[str, str]
    code: str
    line: int
    closed: bool
    heading: str


@dataclass
class Runbook:
    """One runbook file: its front matter, headings, code blocks and steps."""

    path: Path
    body: str
    """The Markdown without its front matter."""
    body_line: int = 1
    """The file's line number of the body's first line."""
    title: str = ""
    alerts: tuple[str, ...] = ()
    severity: str = ""
    owner: str = ""
    headings: list[Heading] = field(default_factory=list)
    blocks: list[CodeBlock] = field(default_factory=list)
    steps: list[RunbookStep] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What is wrong with the file, one line each, naming the file and line."""

    @property
    def links(self) -> list[str]:
        """Every http(s) link in the body, once each, in order."""
        return list(dict.fromkeys(m.group(0).rstrip(".,;:") for m in LINK.finditer(self.body)))


ATTR = re.compile(r"""([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s,"']*))""")


def parse_attrs(text: str) -> dict[str, str]:
    """`{name=rollback timeout=60 ignore=true}` (runme's syntax; values may be quoted)."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")) or text.count('"') % 2 or text.count("'") % 2:
        return {}
    return {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in ATTR.finditer(text[1:-1])}


def _front_matter(text: str, path: Path, runbook: Runbook) -> str:
    """Split off `---` front matter into `runbook`; return the body."""
    if not text.startswith("---\n") and not text.startswith("---\r\n"):
        return text
    lines = text.splitlines(keepends=True)
    for index in range(1, min(len(lines), 500)):
        if lines[index].rstrip("\r\n") in ("---", "..."):
            break
    else:
        runbook.problems.append(f"{path}:1: front matter is not closed by a line of ---; it is read as Markdown")
        return text
    runbook.body_line = index + 2
    source = "".join(lines[1:index])
    try:
        meta = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = min(mark.line, index - 2) + 2 if mark else 1  # a mark at the end of the stream: its last line
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        runbook.problems.append(f"{path}:{line}: front matter is not valid YAML: {problem}")
        return "".join(lines[index + 1 :])
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        runbook.problems.append(f"{path}:2: front matter must be a mapping (title, alerts, severity, owner)")
        return "".join(lines[index + 1 :])
    alerts = meta.get("alerts", [])
    if isinstance(alerts, str):
        alerts = [alerts]
    if not isinstance(alerts, list) or not all(isinstance(a, str) for a in alerts):
        runbook.problems.append(f"{path}:2: front matter alerts: must be a list of alert names")
        alerts = []
    unknown = sorted(str(k) for k in meta if k not in ("title", "alerts", "severity", "owner"))
    if unknown:
        runbook.problems.append(f"{path}:2: front matter has unknown key(s): {', '.join(unknown)}")
    runbook.alerts = tuple(alerts)
    runbook.title = str(meta.get("title") or "")
    runbook.severity = str(meta.get("severity") or "")
    runbook.owner = str(meta.get("owner") or "")
    return "".join(lines[index + 1 :])


def parse_runbook(path: Path, text: str) -> Runbook:
    """Parse a runbook's text. Problems are collected, never raised: a bad runbook still shows."""
    runbook = Runbook(path, "")
    body = _front_matter(text, path, runbook)
    runbook.body = body
    heading = ""
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        first = line.lstrip(" ")[:1]
        if first not in ("`", "~", "#"):  # most lines: no regex needed
            index += 1
            continue
        fence = FENCE.match(line) if first != "#" else None
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            indent, marks, info = fence.groups()
            start = index
            index += 1
            code_lines = []
            closed = False
            while index < len(lines):
                candidate = lines[index].strip()
                if candidate.startswith(marks) and candidate.strip(marks[0]) == "":
                    closed = True
                    break
                code = lines[index]
                code_lines.append(code[len(indent) :] if code[: len(indent)].isspace() else code.lstrip(" "))
                index += 1
            info = info.strip()
            language, _, rest = info.partition(" ")
            if "{" in language:  # bash{name=x}
                language, brace, tail = language.partition("{")
                rest = brace + tail + (" " + rest if rest else "")
            code = "\n".join(code_lines) + ("\n" if code_lines else "")
            file_line = runbook.body_line + start
            if not closed:
                runbook.problems.append(
                    f"{path}:{file_line}: code block is never closed (it runs to the end of the file)"
                )
            runbook.blocks.append(CodeBlock(language.lower(), parse_attrs(rest), code, file_line, closed, heading))
            index += 1
            continue
        found = HEADING.match(line)
        if found:
            heading = (found.group(2) or "").strip()
            runbook.headings.append(Heading(len(found.group(1)), heading, runbook.body_line + index))
        index += 1
    if not runbook.title:
        first = next((h.text for h in runbook.headings if h.level == 1), "")
        runbook.title = first or path.stem
    for block in runbook.blocks:
        if block.language not in RUNNABLE or block.attrs.get("ignore", "").lower() in ("true", "yes", "1"):
            continue
        number = len(runbook.steps) + 1
        name = block.attrs.get("name") or block.heading or f"step {number}"
        runbook.steps.append(
            RunbookStep(number, name, block.heading, block.language, block.code, block.attrs, block.line, block.closed)
        )
    return runbook


def read_runbook(path: Path) -> Runbook:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RunbookError(f"{path}: cannot read: {error.strerror or error}") from None
    text = raw.decode("utf-8", errors="replace")
    runbook = parse_runbook(path, text)
    if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
        runbook.problems.append(f"{path}: is not valid UTF-8 (bad bytes are shown as \ufffd)")
    return runbook


# -- finding the runbook of an alert --------------------------------------------------------
def file_names(alertname: str) -> list[str]:
    """`HighErrorRate` → HighErrorRate.md, high-error-rate.md, high_error_rate.md."""
    if not alertname:
        return []
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", alertname).replace("_", " ").split()
    lower = [w.lower() for w in words]
    names = dict.fromkeys([f"{alertname}.md", f"{'-'.join(lower)}.md", f"{'_'.join(lower)}.md"])
    return [n for n in names if "/" not in n and "\x00" not in n]  # a file's name, never a path


def annotation_target(value: str) -> str:
    """The file an annotation names: a path as is, an http(s) URL by its path's basename."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return PurePosixPath(unquote(urlsplit(value).path)).name
    return value


@dataclass(frozen=True, slots=True)
class RunbookMatch:
    runbook: Runbook | None
    how: str
    """How it matched (`runbook_url annotation`), or why nothing did."""
    tried: tuple[str, ...]
    """Every name tried, in order, for the user who needs to add one."""


class RunbookLibrary:
    """The runbooks dir: every `*.md` in it (and below), re-read when a file changes."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._cache: dict[Path, tuple[tuple[int, int], Runbook]] = {}
        self._listing: list[Path] = []
        self._lock = threading.RLock()  # lookups run in threads: a big file is parsed once, not by each

    def paths(self) -> list[Path]:
        try:
            self._listing = sorted(p for p in self.dir.rglob("*.md") if p.is_file())
        except OSError:
            self._listing = []
        return self._listing

    def get(self, path: Path) -> Runbook:
        """The parsed runbook at `path`, from the cache while the file is unchanged."""
        with self._lock:
            return self._get(path.resolve())

    def _get(self, path: Path) -> Runbook:
        try:
            stat = path.stat()
        except OSError as error:
            raise RunbookError(f"{path}: cannot read: {error.strerror or error}") from None
        key = (stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path)
        if cached and cached[0] == key:
            return cached[1]
        runbook = read_runbook(path)
        self._cache[path] = (key, runbook)
        return runbook

    def all(self) -> tuple[list[Runbook], list[str]]:
        """Every runbook, and the files that could not be read."""
        runbooks, problems = [], []
        for path in self.paths():
            try:
                runbooks.append(self.get(path))
            except RunbookError as error:
                problems.append(str(error))
        return runbooks, problems

    def _inside(self, name: str) -> Path | None:
        """`name` as a file in the dir (a relative path or a basename found anywhere below)."""
        if not name or "\x00" in name:
            return None
        root = self.dir.resolve()
        candidate = (self.dir / name).resolve()
        if candidate.is_relative_to(root) and candidate.suffix == ".md" and candidate.is_file():
            return candidate
        base = PurePosixPath(name).name
        return next((p for p in self.paths() if p.name == base), None)

    def match(self, alert: Alert) -> RunbookMatch:
        """The first hit of: the runbook_url/runbook annotation, front matter `alerts:`, file name."""
        with self._lock:
            return self._match(alert)

    def _match(self, alert: Alert) -> RunbookMatch:
        tried: list[str] = []
        for key in ("runbook_url", "runbook"):
            value = alert.annotations.get(key, "")
            target = annotation_target(value)
            if target:
                tried.append(f"{key} annotation → {target}")
                found = self._inside(target)
                if found:
                    return RunbookMatch(self.get(found), f"{key} annotation", tuple(tried))
        name = alert.name
        if name:
            tried.append(f"front matter alerts: [{name}]")
            for path in self.paths():
                try:
                    runbook = self.get(path)
                except RunbookError:
                    continue
                if name in runbook.alerts:
                    return RunbookMatch(runbook, "front matter alerts", tuple(tried))
        for candidate in file_names(name):
            tried.append(candidate)
            found = self._inside(candidate)
            if found:
                return RunbookMatch(self.get(found), f"file name {candidate}", tuple(tried))
        return RunbookMatch(None, "no runbook matches", tuple(tried))


def links_of(alert: Alert | None, runbook: Runbook | None) -> list[str]:
    """Every http(s) link for `o` and `y`: the alert's runbook_url and generatorURL, then the
    runbook's own, each once; never another scheme (`javascript:`, `file:`)."""
    links: list[str] = []
    if alert:
        links += [u for u in (alert.annotations.get("runbook_url", ""), alert.generator_url) if u]
    if runbook:
        links += runbook.links
    return [u for u in dict.fromkeys(links) if u.startswith(("http://", "https://"))]
