"""Events shared by the sans-I/O machines of ``net/`` (handshake and sync)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NeedData"]


@dataclass(frozen=True, slots=True)
class NeedData:
    """The machine can do nothing more until more input arrives from the peer."""
