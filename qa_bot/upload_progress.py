"""What the page says while an upload is indexed: passages embedded of the total, and the time left.

The indexer reports (done, total) after every batch of passages. Until the first batch is in, the
time left is estimated from the rate bench/UPLOADS.md measured on a 2-core machine; from then on,
from this upload's own rate so far, since the machine serving the page may be faster, slower, or
busy answering questions meanwhile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

# Passages embedded per second while adding prose uploads on the 2-core machine of bench/UPLOADS.md
# (tiny turns went 6 times faster): the first estimate, before this upload has a rate of its own,
# errs long rather than promise an end that does not come.
PASSAGES_PER_SECOND = 117.0


def time_left(done: int, total: int, elapsed: float, rate: float = PASSAGES_PER_SECOND) -> float:
    """Seconds until ``total`` passages are embedded: at the rate so far once some are done."""
    if done > 0 and elapsed > 0:
        rate = done / elapsed
    return max(total - done, 0) / rate


def duration_words(seconds: float) -> str:
    """A rough duration: an estimate shown to the second would promise more than it knows."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 90:
        return f"about {5 * math.ceil(seconds / 5):.0f} s"
    return f"about {round(seconds / 60):.0f} min"


def describe(done: int, total: int, elapsed: float, rate: float = PASSAGES_PER_SECOND) -> str:
    left = time_left(done, total, elapsed, rate)
    return (f"Embedding passages: {done:,} of {total:,}, {duration_words(left)} left "
            "(Cancel stops it and adds nothing)")


class UploadProgress:
    """The indexer's ``progress(done, total, what)`` shown through gradio's ``gr.Progress``
    (called as ``progress((done, total), desc=..., unit=...)``) with the estimate of the time left."""

    def __init__(self, progress: Callable[..., Any], name: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._progress, self._name, self._clock = progress, name, clock
        self._started: float | None = None

    def reading(self) -> None:
        """Before any passage: the file is parsed and cut into passages (no count yet)."""
        self._progress((0, None), desc=f"Reading {self._name} and cutting it into passages",
                       unit="passages")

    def __call__(self, done: int, total: int, what: str) -> None:
        now = self._clock()
        if self._started is None or done == 0:  # embedding starts: the clock of its rate too
            self._started = now
        self._progress((done, total), desc=describe(done, total, now - self._started), unit="passages")
