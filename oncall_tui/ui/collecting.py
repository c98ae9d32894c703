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

import gc
import time
from collections.abc import Callable

THAW_EVERY = 600.0


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
