"""A webhook receiver for the real Alertmanager's `webhook_configs`: it shows what the team's
receivers (Slack, PagerDuty, email) would be sent."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """Keeps every notification Alertmanager posts; `wait_for` blocks until one matches."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with outer.changed:
                    outer.notifications.append(body)
                    outer.changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every alert of every notification so far (`status`: only firing or resolved ones)."""
        with self.changed:
            found = [a for n in self.notifications for a in n.get("alerts", [])]
        return [a for a in found if status is None or a.get("status") == status]

    def wait_for(self, status: str, timeout: float = 30.0, **labels: str) -> dict[str, Any]:
        """The first alert notified with this status and these labels; waits for it to come."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for alert in self.alerts(status):
                    if all(alert["labels"].get(k) == v for k, v in labels.items()):
                        return alert
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {status} notification for {labels} within {timeout}s: {self.notifications}"
                    )
                self.changed.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def paging_config(url: str) -> str:
    """An alertmanager.yml whose OncallPage route goes to the webhook at `url`, as the README's does."""
    return f"""
route:
  receiver: "null"
  group_wait: 1s
  group_interval: 1s
  routes:
    - matchers: ['alertname="OncallPage"']
      group_by: [incident, level, oncall]
      group_wait: 1s
      group_interval: 1s
      repeat_interval: 1h
      receiver: pages
receivers:
  - name: "null"
  - name: pages
    webhook_configs:
      - url: {url}
        send_resolved: true
"""
