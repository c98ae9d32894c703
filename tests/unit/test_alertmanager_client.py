"""The client turns every kind of failure into one line naming the source, never a crash."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from oncall_tui.core.alerts.alertmanager import AlertmanagerClient, AlertmanagerError
from oncall_tui.core.config import AlertmanagerSource
from tests.misbehaving import Misbehaving


@pytest.fixture
def broken() -> Iterator[Misbehaving]:
    server = Misbehaving()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("status:503", "prod: HTTP 503 from /api/v2/alerts: upstream ⟨ESC⟩[31mexploded⟨ESC⟩[0m second line"),
        ("status:404", "prod: HTTP 404 from /api/v2/alerts: upstream ⟨ESC⟩[31mexploded⟨ESC⟩[0m second line"),
        ("not-json", "prod: response from /api/v2/alerts is not JSON"),
        ("wrong-shape", "prod: unexpected response: expected a list of alerts, got dict"),
        ("item-shape", "prod: unexpected response: alert f.labels.a: expected a string"),
    ],
)
async def test_misbehaving_server_gives_one_clean_line(broken: Misbehaving, mode: str, message: str) -> None:
    broken.mode = mode
    async with AlertmanagerClient(AlertmanagerSource(name="prod", url=broken.url)) as client:
        with pytest.raises(AlertmanagerError) as caught:
            await client.alerts()
    assert str(caught.value) == message
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


async def test_timeouts_are_bounded(broken: Misbehaving) -> None:
    broken.mode = "hang"
    async with AlertmanagerClient(AlertmanagerSource(name="prod", url=broken.url, timeout="300ms")) as client:
        with pytest.raises(AlertmanagerError, match=r"^prod: timed out after 300ms$"):
            await client.alerts()


async def test_unreachable() -> None:
    source = AlertmanagerSource(name="prod", url=f"http://127.0.0.1:{free_port()}")
    async with AlertmanagerClient(source) as client:
        with pytest.raises(AlertmanagerError, match=r"^prod: unreachable \("):
            await client.alerts()
