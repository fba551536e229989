"""Events shared by the sans-I/O machines of ``net/`` (handshake and sync)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NeedData", "PeerRefused"]


@dataclass(frozen=True, slots=True)
class NeedData:
    """The machine can do nothing more until more input arrives from the peer."""


@dataclass(frozen=True, slots=True)
class PeerRefused:
    """The peer refused this joiner's invite and said why (``code``: one of
    ``credentials.REFUSAL_CODES``): the handshake is over, and failed."""

    code: str
