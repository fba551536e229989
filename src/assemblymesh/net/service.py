"""One composition of a running node: the ``Node`` and, optionally, LAN discovery.

``assemblymesh serve`` and the UI's ``live.Network`` both run this, so they behave alike.
Lifecycle (one shape, like python-zeroconf's services)::

    service = NodeService(config, mdns=True)
    await service.start()    # listening (or dialling out only), discovery up, peers dialled
    ...                      # or: async with NodeService(config) as service: ...
    await service.stop()     # discovery withdrawn first, then the node says bye

Start order is node, then discovery (it advertises the port the node got); stop order is the
reverse. If the node cannot listen (most likely another process serves the same home), the
service runs it without listening, dialling out only, and without discovery (nothing to
advertise), and says so once. Each discovered address is dialled once; the node reconnects
to it with backoff.
"""

from __future__ import annotations

import dataclasses
import logging

from assemblymesh.errors import AssemblyMeshError, UsageError
from assemblymesh.net.discovery import Discovery, DiscoveryConfig, PeerAddress
from assemblymesh.net.lifecycle import Lifecycle
from assemblymesh.net.node import Node, NodeConfig

__all__ = ["NodeService"]

log = logging.getLogger("assemblymesh.net")


class NodeService(Lifecycle):
    """A ``Node`` and optional ``Discovery`` started and stopped together."""

    def __init__(
        self, config: NodeConfig, *, mdns: bool = True, dial_out_only_fallback: bool = True
    ) -> None:
        self.config = config
        self.mdns = mdns
        self.fallback = dial_out_only_fallback
        self.node: Node = Node(config)
        self.discovery: Discovery | None = None
        self.listening = False
        self._dialing: set[tuple[str, int]] = set()

    async def start(self) -> None:
        try:
            await self.node.start()
        except UsageError as exc:
            if not self.fallback or self.config.listen is None:
                raise
            # Most likely `assemblymesh serve` holds the port for this same home.
            log.info("%s: dialling out only", exc)
            self.node = Node(dataclasses.replace(self.config, listen=None))
            await self.node.start()
        self.listening = self.node.listen_address is not None
        self._dialing = set(self.config.peers)
        if self.mdns and self.listening:
            await self._start_discovery()

    async def _start_discovery(self) -> None:
        assert self.node.listen_address is not None
        if self.config.credentials.keys().seal is None:
            # A joiner holds only its join key: nobody could open its blobs, nor it theirs.
            log.info("LAN discovery starts once this node holds the assembly secret")
            return
        config = DiscoveryConfig.for_credentials(
            self.config.credentials,
            self.node.listen_address[1],
            self._found,
            listen_hosts=[host for host, _ in self.node.listen_addresses],
            clock=self.config.clock,
        )
        discovery = Discovery(config)
        try:
            await discovery.start()
        except AssemblyMeshError as exc:
            log.warning("LAN discovery is off: %s", exc)
            return
        self.discovery = discovery

    def _found(self, peer: PeerAddress) -> None:
        # Advertisements repeat (label rotation): dial each address once; the node keeps
        # reconnecting to it with backoff.
        key = (peer.host, peer.port)
        if key in self._dialing:
            return
        self._dialing.add(key)
        log.info("discovered a peer at %s:%d", peer.host, peer.port)
        self.node.add_peer(peer.host, peer.port, source="discovery")

    async def stop(self) -> None:
        if self.discovery is not None:
            discovery, self.discovery = self.discovery, None
            await discovery.stop()
        await self.node.stop()

    async def run_until_stopped(self) -> None:
        await self.node.run_until_stopped()
