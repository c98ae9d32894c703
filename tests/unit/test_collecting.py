"""Garbage collection kept out of the keys' way: frozen after each poll, thawed every 10 minutes."""

from __future__ import annotations

import gc

from oncall_tui.ui.collecting import THAW_EVERY, Collecting


def test_what_survives_a_poll_is_frozen_and_thawed_every_ten_minutes() -> None:
    now = [1000.0]
    collecting = Collecting(clock=lambda: now[0])
    try:
        gc.unfreeze()
        kept = [[] for _ in range(100)]  # live containers, as the board's alerts are
        collecting.after_poll()
        assert gc.get_freeze_count() >= len(kept)  # out of every full collection's walk
        now[0] += THAW_EVERY
        collecting.after_poll()
        assert gc.get_freeze_count() == 0  # back in: cyclic garbage among them is collected next
        collecting.after_poll()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_cyclic_garbage_of_a_poll_is_collected_not_frozen() -> None:
    """An HTTP response is a cycle holding its body: frozen, 8 MB a poll would wait ten minutes."""
    import weakref

    class Response:
        pass

    collecting = Collecting(clock=lambda: 1000.0)
    try:
        gc.unfreeze()
        response = Response()
        response.stream = {"response": response}  # the cycle, as httpx's bound stream makes it
        gone = weakref.ref(response)
        del response
        collecting.after_poll()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_malloc_keeps_few_arenas_where_it_is_glibc() -> None:
    import platform

    from oncall_tui.ui.collecting import fewer_arenas

    assert fewer_arenas() == (platform.libc_ver()[0] == "glibc")
