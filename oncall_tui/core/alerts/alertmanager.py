"""Talking to Alertmanager API v2 over httpx, and turning every failure into one line.

The client never raises anything but `AlertmanagerError`, whose message is fit for a status
line: "prod: timed out after 5s", "prod: HTTP 503: service unavailable".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import httpx
import msgspec

from oncall_tui.core.alerts.models import Alert, PayloadError, Silence, SilenceRequest, parse_time
from oncall_tui.core.config import AlertmanagerSource, tls_verify
from oncall_tui.core.durations import format_duration, header_seconds
from oncall_tui.core.text import clean_line


class AlertmanagerError(Exception):
    """A request failed. `str()` is one line naming the source; `status`, the HTTP status it
    was answered with, if it was."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AlertmanagerBusyError(AlertmanagerError):
    """It turned the request away (503 or 429: too many at once): busy, not down.
    `retry_after`: the seconds its `Retry-After` asks for, if it said."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


BUSY = (429, 503)
MAX_RETRY_AFTER = 24 * 3600.0


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a `Retry-After` asks for (a number of seconds, or an HTTP date on the
    server's own clock), at most a day; None without one, or when it cannot be read."""
    seconds = header_seconds(response.headers.get("retry-after"), _server_time(response) or datetime.now(UTC))
    return None if seconds is None else min(max(0.0, seconds), MAX_RETRY_AFTER)


def _error_text(response: httpx.Response) -> str:
    """Alertmanager sends errors as a JSON string (`"silence not found"`) or plain text."""
    text = response.text.strip()
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    return decoded if isinstance(decoded, str) else text


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _json_items(body: bytes, what: str) -> Iterator[Any]:
    """The items of a JSON array, decoded one at a time.

    `json.loads` on 10,000 alerts holds the GIL for a few hundred milliseconds in one C
    call, freezing the UI thread; decoding item by item lets the interpreter switch
    threads between items, so keys stay responsive while a big response is parsed.
    """
    text = body.decode("utf-8")
    at = _SPACE.match(text).end()
    if text[at : at + 1] != "[":
        kind = type(json.loads(text)).__name__  # raises JSONDecodeError if not JSON at all
        raise PayloadError(f"expected a list of {what}, got {kind}")
    at = _SPACE.match(text, at + 1).end()
    if text[at : at + 1] == "]":
        return
    while True:
        item, at = _DECODER.raw_decode(text, at)
        yield item
        at = _SPACE.match(text, at).end()
        if text[at : at + 1] == "]":
            break
        if text[at : at + 1] != ",":
            raise json.JSONDecodeError("expected , or ]", text, at)
        at = _SPACE.match(text, at + 1).end()


class _Status(msgspec.Struct):
    state: str = "active"
    silencedBy: list[str] | None = None  # noqa: N815 (Alertmanager's names)
    inhibitedBy: list[str] | None = None  # noqa: N815


class _Typed(msgspec.Struct):
    """The part of a `GettableAlert` the console reads, as msgspec decodes it (and checks its types)."""

    fingerprint: str
    labels: dict[str, str]
    status: _Status
    startsAt: datetime  # noqa: N815
    annotations: dict[str, str] | None = None
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: str | None = None  # noqa: N815


_TYPED = msgspec.json.Decoder(list[_Typed])
_ITEM_START = b'},{"annotations":'
"""Where one alert ends and the next begins in Alertmanager's compact answer (Go writes each
alert's fields in the same order, annotations first; inside a string, a quote is escaped)."""
_FIRST, _LAST = b'[{"annotations":', b"}]"
CHUNK = 500

Known = dict[bytes, Alert]
"""The alerts of a source's last answer, by each one's JSON less who inhibits it: an alert
whose JSON has not changed since (most of them, from one poll to the next) is not decoded
again. Who inhibits it is left out: Alertmanager names one of the alerts that do, afresh on
each answer, so an alert inhibited by two would never be the same twice."""
_INHIBITED_BY = b'"inhibitedBy":['
_NAMES = re.compile(rb'"[0-9a-f]{1,64}"(?:,"[0-9a-f]{1,64}")*]')
"""Inhibitors as Alertmanager names them, by fingerprint; anything else is decoded afresh."""


def _keyed(pieces: list[bytes], known: Known) -> tuple[list[bytes], list[Alert | None], list[tuple[int, bytes]]]:
    """Each piece's key in `Known`, its Alert if known, and the known ones that are inhibited
    (index, and their inhibitors as this answer names them, raw)."""
    keys: list[bytes] = []
    alerts: list[Alert | None] = []
    renamed: list[tuple[int, bytes]] = []
    get, start = known.get, len(_INHIBITED_BY)
    for piece in pieces:  # (a loop of its own: it runs for every alert of every poll)
        at = piece.find(_INHIBITED_BY) + start
        found = _NAMES.match(piece, at) if start <= at < len(piece) and piece[at] != 0x5D else None  # `]`: none
        if found is None:
            keys.append(piece)
            alerts.append(get(piece))
            continue
        end = found.end() - 1
        key = piece[:at] + b"*" + piece[end:]  # `[*]`: no JSON, so no other alert's key
        keys.append(key)
        alert = get(key)
        if alert is not None:
            renamed.append((len(alerts), piece[at:end]))
        alerts.append(alert)
    return keys, alerts, renamed


def _inhibited_as_named(alerts: list[Alert], renamed: list[tuple[int, bytes]]) -> None:
    """A known inhibited alert keeps the inhibitors it names while each is still in the answer:
    inhibition goes by labels, which an alert keeps, so they still inhibit it (Alertmanager
    names any one of them afresh each time: an alert taken as changed on every poll would be
    merged, grouped and recorded again on every poll). Otherwise, those named now. (Under
    other rules, they may not: the client forgets what it knows when the config changes.)"""
    if not renamed:
        return
    present = {alert.fingerprint for alert in alerts}
    for i, raw in renamed:
        alert = alerts[i]
        if alert.inhibited_by and all(name in present for name in alert.inhibited_by):
            continue
        named = tuple(name[1:-1].decode() for name in raw.split(b","))
        if named == alert.inhibited_by:
            continue
        alerts[i] = Alert(  # (not `replace`: ten times slower, for thousands of alerts a poll)
            alert.fingerprint,
            alert.labels,
            alert.annotations,
            alert.starts_at,
            alert.ends_at,
            alert.generator_url,
            alert.state,
            alert.silenced_by,
            named,
            alert.sources,
        )


def _typed_alerts(body: bytes, source: str, known: Known | None = None) -> tuple[list[Alert], Known] | None:
    """The alerts, and what the next answer can reuse: an alert whose JSON is as it was in
    `known` is the Alert decoded then; the others are decoded by msgspec, `CHUNK` at a time (each
    a few milliseconds holding the GIL, so keys stay responsive). None when anything is not as
    Alertmanager writes it, for the careful parser to say what."""
    body = body.strip()
    if not (body.startswith(_FIRST) and body.endswith(_LAST)):  # [] or another writer's order
        try:
            return [_alert(item, source) for item in _TYPED.decode(body)], {}
        except (msgspec.DecodeError, msgspec.ValidationError, PayloadError):
            return None
    pieces = body[len(_FIRST) : -len(_LAST)].split(_ITEM_START)  # each an alert, less `{"annotations":` and `}`
    keys, alerts, renamed = _keyed(pieces, known or {})
    missing = [i for i, alert in enumerate(alerts) if alert is None]
    for start in range(0, len(missing), CHUNK):
        batch = missing[start : start + CHUNK]
        text = _FIRST + _ITEM_START.join(pieces[i] for i in batch) + _LAST
        try:
            typed = _TYPED.decode(text)
            if len(typed) != len(batch):
                return None
            for i, item in zip(batch, typed, strict=True):
                alerts[i] = _alert(item, source)
        except (msgspec.DecodeError, msgspec.ValidationError, PayloadError):
            return None
    decoded = cast(list[Alert], alerts)
    _inhibited_as_named(decoded, renamed)
    return decoded, dict(zip(keys, decoded, strict=True))


def _alert(item: _Typed, source: str) -> Alert:
    status = item.status
    silenced, inhibited = tuple(status.silencedBy or ()), tuple(status.inhibitedBy or ())
    state = "silenced" if silenced else "inhibited" if inhibited else status.state
    if state == "suppressed":
        state = "silenced"
    if (
        state not in ("active", "unprocessed", "silenced", "inhibited")
        or not item.fingerprint
        or item.startsAt.tzinfo is None
        or (item.endsAt is not None and item.endsAt.tzinfo is None)
    ):
        raise PayloadError("not as Alertmanager writes it")  # the careful parser says what
    return Alert(
        item.fingerprint,
        item.labels,
        item.annotations or {},
        item.startsAt,
        item.endsAt,
        item.generatorURL or "",
        state,
        silenced,
        inhibited,
        (source,) if source else (),
    )


def _parse_alerts(body: bytes, source: str, known: Known | None = None) -> tuple[list[Alert], Known]:
    """The alerts, and what the next answer can reuse (nothing, when the careful parser had to read them)."""
    typed = _typed_alerts(body, source, known)
    if typed is not None:
        return typed
    return [Alert.from_api(item, source) for item in _json_items(body, "alerts")], {}


def _parse_silences(body: bytes, source: str) -> list[Silence]:
    return [Silence.from_api(item, source) for item in _json_items(body, "silences")]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one Alertmanager said in one poll."""

    alerts: list[Alert]
    started: datetime | None
    """When its process started, on its own clock (None: its status could not be read)."""
    server_now: datetime | None = None
    """Its clock when it answered (the HTTP Date header, to the second), to read its times on ours."""
    status_error: str | None = None


def _server_time(response: httpx.Response) -> datetime | None:
    try:
        moment = parsedate_to_datetime(response.headers["date"])
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # "-0000": UTC, of unknown origin


class AlertmanagerClient:
    """One Alertmanager's API. Use as an async context manager, or call `aclose()`."""

    def __init__(self, source: AlertmanagerSource, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.source = source
        self.name = source.name
        self._known: Known = {}
        """The last whole answer's alerts, for the next to reuse (replaced whole, never changed)."""
        self._config: str | None = None
        """Its config as its status last gave it."""
        try:
            verify = tls_verify(source.ca_bundle, f"alertmanagers {source.name}: ca_bundle")
        except ValueError as error:
            raise AlertmanagerError(str(error)) from None
        self._http = httpx.AsyncClient(
            base_url=source.url,
            timeout=source.timeout,
            verify=verify,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "oncall-tui"},
        )

    async def __aenter__(self) -> AlertmanagerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise AlertmanagerError(f"{self.name}: timed out after {format_duration(self.source.timeout)}") from None
        except httpx.ConnectError as error:
            reason = clean_line(str(error), 100) or "connection failed"
            raise AlertmanagerError(f"{self.name}: unreachable ({reason})") from None
        except httpx.HTTPError as error:
            reason = clean_line(str(error), 100) or type(error).__name__
            raise AlertmanagerError(f"{self.name}: request failed ({reason})") from None
        if response.status_code >= 400:
            detail = clean_line(_error_text(response), 120) or response.reason_phrase
            if response.status_code in BUSY:
                said = (
                    f"{self.name}: HTTP {response.status_code}, turned away: {detail}"  # the code first: cut, it stays
                )
                raise AlertmanagerBusyError(said, retry_after(response), response.status_code)
            raise AlertmanagerError(
                f"{self.name}: HTTP {response.status_code} from {path}: {detail}", response.status_code
            )
        return response

    async def _parsed(self, response: httpx.Response, parse: Any) -> Any:
        # Parsing 10,000 alerts takes tens of milliseconds: keep it off the event loop.
        try:
            return await asyncio.to_thread(parse, response.content, self.name)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise AlertmanagerError(f"{self.name}: response from {response.url.path} is not JSON") from None
        except PayloadError as error:
            raise AlertmanagerError(f"{self.name}: unexpected response: {clean_line(str(error), 120)}") from None

    async def ready(self) -> None:
        await self._request("GET", "/-/ready")

    async def status(self) -> dict[str, Any]:
        """`GET /api/v2/status`: version info, cluster status and uptime."""
        response = await self._request("GET", "/api/v2/status")
        try:
            data = response.json()
        except ValueError:
            raise AlertmanagerError(f"{self.name}: status response is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("versionInfo"), dict):
            raise AlertmanagerError(f"{self.name}: unexpected status response (no versionInfo)")
        return data

    async def started(self) -> datetime:
        """When the Alertmanager process started (`uptime` in its status), on its clock: a new
        one means it restarted, and forgot its alerts until Prometheus sends them again."""
        status = await self.status()
        config = status.get("config")
        original = config.get("original") if isinstance(config, dict) else None
        if original != self._config:  # reloaded: its inhibit rules may be others, so who inhibits
            self._config, self._known = original, {}  # an alert is read afresh, not kept from before
        try:
            return parse_time(status.get("uptime"), "uptime")
        except PayloadError as error:
            raise AlertmanagerError(f"{self.name}: unexpected status response ({clean_line(str(error), 80)})") from None

    async def alerts(self, filters: Sequence[str] = ()) -> list[Alert]:
        """Every alert not yet resolved: active, silenced, inhibited and unprocessed; with
        `filters`, only those matching each matcher (Alertmanager's `filter` parameter)."""
        return (await self._alerts(filters))[0]

    async def _alerts(self, filters: Sequence[str] = ()) -> tuple[list[Alert], datetime | None]:
        response = await self._request("GET", "/api/v2/alerts", params={"filter": list(filters)} if filters else None)
        known = self._known
        alerts, seen = await self._parsed(response, lambda body, name: _parse_alerts(body, name, known))
        if not filters:  # the whole answer: the next one reuses its alerts (a filtered one, only these)
            self._known = seen
        return alerts, _server_time(response)

    async def answer(self, filters: Sequence[str] = ()) -> Answer:
        """One poll: its start, the alerts (with `filters`, those matching each), its start
        again, one after the other. The alerts came from the process that started then only if
        both starts are the same: a restart while a big answer was written must not make the
        new process the one that showed the old one's alerts (it would then be taken to say
        they are gone). Raises AlertmanagerError if the alerts could not be read; if the start
        could not be told, `started` is None and `status_error` says why (the alerts are good,
        but a restart cannot be told)."""
        before = await self._start_or_error()
        alerts, server_now = await self._alerts(filters)
        after = await self._start_or_error() if isinstance(before, datetime) else before
        if isinstance(before, AlertmanagerError) or isinstance(after, AlertmanagerError):
            return Answer(alerts, None, server_now, str(before if isinstance(before, AlertmanagerError) else after))
        if before != after:
            said = f"{before.isoformat(timespec='seconds')}, then {after.isoformat(timespec='seconds')}"
            return Answer(alerts, None, server_now, f"{self.name}: its start changed during the poll (up since {said})")
        return Answer(alerts, before, server_now)

    async def _start_or_error(self) -> datetime | AlertmanagerError:
        try:
            return await self.started()
        except AlertmanagerError as error:
            return error

    async def silences(self) -> list[Silence]:
        response = await self._request("GET", "/api/v2/silences")
        return await self._parsed(response, _parse_silences)

    async def create_silence(self, request: SilenceRequest) -> str:
        """Create (or, with `request.id`, edit) a silence; the ID the server returns.

        Alertmanager may give an edited silence a new ID: always keep the returned one.
        """
        response = await self._request("POST", "/api/v2/silences", json=request.to_api())
        try:
            silence_id = response.json().get("silenceID")
        except (ValueError, AttributeError):
            silence_id = None
        if not isinstance(silence_id, str) or not silence_id:
            raise AlertmanagerError(f"{self.name}: silence response has no silenceID")
        return silence_id

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """`POST /api/v2/alerts`: send alerts, as Prometheus does (the console's pages)."""
        await self._request("POST", "/api/v2/alerts", json=alerts)

    async def expire_silence(self, silence_id: str) -> None:
        await self._request("DELETE", f"/api/v2/silence/{silence_id}")
