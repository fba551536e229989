"""Messages the app posts to itself and its screens: the UI reacts, it never polls.

None of them bubble: the app forwards some to the active screen, and a bubbling copy would
come straight back to the app.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from assemblymesh.model.metrics import Metrics
from assemblymesh.tui.peers import PeerInfo, SyncProgress
from assemblymesh.tui.view import Digest


class ReplicaChanged(Message, bubble=False):
    """The replica stored changes (ours or ingested). Posted from the replica's observer."""

    def __init__(self, local: bool, count: int, authors: tuple[str, ...], governance: bool):
        super().__init__()
        self.local = local
        self.count = count
        self.authors = authors  # member ids of the writing devices
        self.governance = governance  # False when only the shared document changed


class StateFolded(Message, bubble=False):
    """A fresh fold is ready; screens re-read ``app.digest``."""

    def __init__(self, digest: Digest) -> None:
        super().__init__()
        self.digest = digest


class SharedChanged(Message, bubble=False):
    """The shared document (co-edited drafts) changed; ``local`` is False for others' edits."""

    def __init__(self, local: bool) -> None:
        super().__init__()
        self.local = local


class PeersChanged(Message, bubble=False):
    def __init__(self, peers: Sequence[PeerInfo]) -> None:
        super().__init__()
        self.peers = list(peers)


class SyncProgressed(Message, bubble=False):
    def __init__(self, progress: SyncProgress) -> None:
        super().__init__()
        self.progress = progress


class MetricsReady(Message, bubble=False):
    """The metrics of ``digest`` (per month, or per ``per_meetings`` meetings) are computed."""

    def __init__(self, digest: Digest, per_meetings: int | None, metrics: Metrics) -> None:
        super().__init__()
        self.digest = digest
        self.per_meetings = per_meetings
        self.metrics = metrics
