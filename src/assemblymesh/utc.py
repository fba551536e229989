"""Moments as people type them: a UTC day or minute as text, read into milliseconds.

A leaf module (it imports nothing from the package), so the CLI, the UI and the model's
effect parser all read dates one way.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

__all__ = ["DAY_FORMAT", "MINUTE_FORMAT", "parse_utc"]

MINUTE_FORMAT: Final = "%Y-%m-%d %H:%M"  # 2026-05-01 18:00
DAY_FORMAT: Final = "%Y-%m-%d"  # 2026-05-01


def parse_utc(text: str, fmt: str = MINUTE_FORMAT) -> int | None:
    """``text`` in ``fmt``, as UTC, in ms since the epoch; None if it is not in that form."""
    try:
        moment = dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)
