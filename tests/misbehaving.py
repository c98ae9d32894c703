"""A deliberately broken HTTP server, to see the client fail politely."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ONE_ALERT = {
    "annotations": {},
    "endsAt": "2099-01-01T00:00:00.000Z",
    "fingerprint": "0000000000000001",
    "receivers": [{"name": "null"}],
    "startsAt": "2026-11-27T14:00:00.000Z",
    "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
    "updatedAt": "2026-11-27T14:00:00.000Z",
    "labels": {"alertname": "X", "severity": "critical"},
}


class Misbehaving:
    """Answers every request as `mode` says: `status:CODE`, `not-json`, `wrong-shape`, `hang`, `huge`,
    `one-alert` (as Alertmanager would), `empty-matrix` and `metrics-hang` (a Prometheus with no
    alert; in the second, its /metrics hangs)."""

    def __init__(self) -> None:
        self.mode = "wrong-shape"
        self.release = threading.Event()
        self.headers: dict[str, str] = {}
        """Sent with every answer (a `Retry-After`)."""
        self.asked: list[str] = []
        """The path of each request, in order."""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def do_GET(self) -> None:
                outer.asked.append(self.path.partition("?")[0])
                mode = outer.mode
                if mode == "metrics-hang":  # a Prometheus whose API answers and whose /metrics hangs
                    mode = "hang" if self.path.startswith("/metrics") else "empty-matrix"
                if mode == "hang":
                    outer.release.wait(30)
                    self.close_connection = True  # released: hang up without an answer
                    return
                status, body = 200, b'{"not": "a list"}'
                if mode.startswith("status:"):
                    status, body = int(mode.split(":")[1]), b"upstream \x1b[31mexploded\x1b[0m\nsecond line"
                elif mode == "not-json":
                    body = b"<html>proxy login</html>"
                elif mode == "huge":  # a Prometheus matrix that never ends (4 MB of series)
                    series = b'{"metric":{"alertname":"X"},"values":[[1,"1"]]},'
                    body = b'{"status":"success","data":{"resultType":"matrix","result":[' + series * 80_000 + b"]}}"
                elif mode == "empty-matrix":  # no alert, no config worth reading
                    body = b'{"status":"success","data":{"resultType":"matrix","result":[],"yaml":""}}'
                elif mode == "nan-time":
                    body = b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["NaN","1"]]}]}}'
                elif mode == "one-alert":  # an Alertmanager that behaves: one alert, and its uptime
                    if self.path.startswith("/api/v2/status"):
                        body = b'{"uptime": "2026-11-27T14:00:00.000Z"}'
                    else:
                        body = json.dumps([ONE_ALERT]).encode()
                elif mode == "item-shape":
                    body = b'[{"fingerprint": "f", "labels": {"a": 1}, "status": {}}]'
                self.send_response(status)
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
