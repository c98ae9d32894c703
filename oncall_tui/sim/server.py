"""Serving a `SimAlertmanager` over HTTP on a free loopback port, from a daemon thread."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from oncall_tui.sim.store import SimAlertmanager, SimError

MAX_BODY = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the console owns the terminal: the simulator stays quiet

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header on the simulator's clock, as a real Alertmanager's is on its own."""
        return format_datetime(self.server.store.clock().astimezone(UTC), usegmt=True)

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = (
            payload.encode()
            if isinstance(payload, str) and content_type != "application/json"
            else json.dumps(payload).encode()
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise SimError(413, "request body too large")
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            raise SimError(400, "body is not JSON") from None

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        store = self.server.store
        self.server.asked.append((method, self.path))
        self.server.before_request()
        try:
            if method == "GET" and path in ("/-/ready", "/-/healthy"):
                return self._send(200, "OK", "text/plain; charset=utf-8")
            if method == "GET" and path == "/api/v2/status":
                return self._send(200, store.status())
            if path == "/api/v2/alerts":
                if method == "GET":
                    return self._send(200, store.get_alerts(parse_qs(parts.query).get("filter", [])))
                if method == "POST":
                    store.post_alerts(self._body())
                    return self._send(200, "", "text/plain")
            if path == "/api/v2/silences":
                if method == "GET":
                    return self._send(200, store.get_silences())
                if method == "POST":
                    return self._send(200, {"silenceID": store.post_silence(self._body())})
            if path.startswith("/api/v2/silence/"):
                silence_id = path.removeprefix("/api/v2/silence/")
                if method == "GET":
                    return self._send(200, store.get_silence(silence_id))
                if method == "DELETE":
                    store.expire_silence(silence_id)
                    return self._send(200, "", "text/plain")
            self._send(404, "not found", "text/plain; charset=utf-8")
        except SimError as error:
            self._send(error.status, str(error))

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, store: SimAlertmanager, before_request: Callable[[], None], port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = store
        self.before_request = before_request
        self.connections: set[socket.socket] = set()
        self.asked: deque[tuple[str, str]] = deque(maxlen=200)
        """The latest requests, (method, path with its query), for tests to see what was asked."""

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up, or a connection `stop()` closed: not news, and never a traceback
        on stderr, which in the demo is the console's screen."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class SimServer:
    """A running simulator. `url` is its base URL; `stop()` shuts it down."""

    def __init__(
        self, store: SimAlertmanager, before_request: Callable[[], None] = lambda: None, port: int = 0
    ) -> None:
        """`port` 0 picks a free one; a given port lets a test restart a stopped simulator."""
        self.store = store
        self._server = _Server(store, before_request, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="oncall-tui-sim", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def asked(self) -> list[tuple[str, str]]:
        """The latest requests it was sent: (method, path with its query)."""
        return list(self._server.asked)

    def forget_asked(self) -> None:
        self._server.asked.clear()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop as a killed process would: open keep-alive connections are cut too."""
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self._server.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
