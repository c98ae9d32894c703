"""An HTTPS server on a free loopback port, for the local stand-ins of PagerDuty's APIs.

Certificates come from `trustme` (a test dependency: these servers exist for tests and
benches), so a client trusts the server only through the CA bundle written into `cert_dir`,
exactly as it would trust a TLS-inspecting proxy, and TLS verification is exercised for real.
"""

from __future__ import annotations

import functools
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


@functools.cache
def _certificates() -> tuple[Any, Any]:
    """A CA and a certificate for 127.0.0.1, made once per process (key generation is slow)."""
    import trustme

    ca = trustme.CA()
    return ca, ca.issue_cert("127.0.0.1", "localhost")


class LoopbackHttpsServer(ThreadingHTTPServer):
    """Serves `handler` over HTTPS on 127.0.0.1, from a daemon thread, while used as a context
    manager. `url` is its base URL; `ca_path` the PEM file of the CA that signed its certificate."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], cert_dir: Path, ca_name: str, thread_name: str) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        ca, leaf = _certificates()
        self.ca_path = cert_dir / ca_name
        ca.cert_pem.write_to_path(str(self.ca_path))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True, name=thread_name)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up or refused the certificate (the TLS tests do): not news

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A keep-alive handler that logs nothing and sends headers and body without Nagle's wait."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait between them

    def log_message(self, format: str, *args: Any) -> None:
        pass


def send_json(
    handler: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None
) -> None:
    """Answer with `payload` as JSON; a `str` payload is sent as it is, as text/plain."""
    if isinstance(payload, str):
        data, content_type = payload.encode(), "text/plain; charset=utf-8"
    else:
        data, content_type = json.dumps(payload).encode(), "application/json"
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
