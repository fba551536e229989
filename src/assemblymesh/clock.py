"""The one clock type: milliseconds since the epoch, injected wherever time is read.

A leaf module (it imports nothing from the package), so every layer can share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "wall_clock_ms"]

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    """The wall clock, in whole milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
