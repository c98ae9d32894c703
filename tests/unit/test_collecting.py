"""Garbage collection kept out of the keys' way: frozen after each poll, thawed every 10 minutes."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
from pathlib import Path

import pytest

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
    from oncall_tui.ui.collecting import steady_malloc

    assert steady_malloc() == (platform.libc_ver()[0] == "glibc")


MAPPED = """
import ctypes, sys
from oncall_tui.ui.collecting import steady_malloc

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
if sys.argv[1] == "steady":
    steady_malloc()
answer = bytes(8 << 20)  # mapped; freed, glibc would map only blocks bigger than it from now on
del answer
before = libc.mallinfo2().hblks
copy = bytearray(2 << 20)
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
@pytest.mark.skipif(
    platform.libc_ver()[0] == "glibc" and tuple(map(int, platform.libc_ver()[1].split(".")[:2])) < (2, 33),
    reason="mallinfo2 needs glibc 2.33 or newer",
)
def test_a_big_block_freed_is_given_back_not_kept_in_the_heap() -> None:
    """After an 8 MB answer is freed, a 2 MB copy is still mapped on its own (and given back
    when freed), not carved from the heap where what the next poll keeps would pin it."""

    def mapped(how: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", MAPPED, how],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[2],
        )
        return int(run.stdout)

    assert mapped("steady") == 1
    assert mapped("as glibc has it") == 0  # the test can tell: without it, the copy is in the heap
