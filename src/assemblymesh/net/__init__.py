"""net: the sync protocol and handshake (sans-I/O), the asyncio node, discovery, service.

The public surface, for the composition root (``home.py``, ``live.py``, ``cli/``)::

    Credentials, PeerIdentity, Authorization = Admitted | Refused, Authorize
    NodeConfig, Limits, Node, NodeService, sync_once
    DiscoveryConfig, Discovery

Submodules keep their own ``__all__``; import from them for anything else.
"""

from __future__ import annotations

from assemblymesh.net.credentials import (
    Admitted,
    Authorization,
    Authorize,
    Credentials,
    PeerIdentity,
    Refused,
)
from assemblymesh.net.discovery import Discovery, DiscoveryConfig
from assemblymesh.net.node import DEFAULT_PORT, Limits, Node, NodeConfig, sync_once
from assemblymesh.net.service import NodeService

__all__ = [
    "DEFAULT_PORT",
    "Admitted",
    "Authorization",
    "Authorize",
    "Credentials",
    "Discovery",
    "DiscoveryConfig",
    "Limits",
    "Node",
    "NodeConfig",
    "NodeService",
    "PeerIdentity",
    "Refused",
    "sync_once",
]
