"""Keeping Python's cyclic garbage collector out of the way of keys, with 10,000 alerts.

A full collection walks every live object: with 10,000 alerts on the board, 0.1–0.3 s in
which no key is handled, and with each poll replacing them, one every few seconds. What
survives a poll is frozen out of the walk (`gc.freeze`), after a collection of what the poll
made (the rest is frozen: it walks only that), so no cyclic garbage is frozen with it (an
HTTP response is one, holding its 8 MB body). Every `THAW_EVERY` everything is let back in
(`gc.unfreeze`), so cyclic garbage among what survived is collected by the next full
collection. Objects freed by their reference count (the alerts of the last poll) are freed
at once, frozen or not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import time
from collections.abc import Callable

THAW_EVERY = 600.0
M_ARENA_MAX = -8
"""glibc's `mallopt` parameter: how many malloc arenas the process may have."""
M_MMAP_THRESHOLD = -3
"""glibc's `mallopt` parameter: blocks this big or bigger are mapped on their own."""
MMAP_FROM = 1024 * 1024


def steady_malloc(arenas: int = 2, mmap_from: int = MMAP_FROM) -> bool:
    """Keep glibc's malloc from holding on to memory the console has freed. Call it before the
    threads start; elsewhere than glibc, nothing is done. True if both were set.

    - `arenas` arenas, not eight per core: each thread that parses, merges or records 10,000
      alerts would otherwise take one of its own, and memory freed in one is never reused by
      another (measured: 35 MB of the console's peak).
    - Blocks of `mmap_from` bytes and more mapped on their own, and so given back when freed:
      glibc raises that threshold to the size of the last such block freed, so a poll's 8 MB
      answer and its copies would otherwise be carved out of the heap, where what the next
      poll keeps pins them (measured: 40 MB of the console's peak, `bench/alerts_scale.py` (e))."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas)) & bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_from))
    except (OSError, AttributeError):  # musl has no mallopt, nor needs it
        return False


class Collecting:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._thawed = clock()

    def after_poll(self) -> None:
        if self.clock() - self._thawed >= THAW_EVERY:
            gc.unfreeze()
            self._thawed = self.clock()
            return  # this round's full collection may walk everything once
        gc.collect()
        gc.freeze()
