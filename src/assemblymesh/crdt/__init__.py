"""Documents: pycrdt documents, signed change envelopes, ingest rules and the store.

What the package offers other layers: ``Replica`` (one assembly's record on a node) with its
ingest results and events, the admission policy and pending budget it is given, the act
log entries it reads back, ``Change`` and its codec, identities, and document views.
"""

from __future__ import annotations

from assemblymesh.crdt.actlog import LogEntry
from assemblymesh.crdt.change import SHARED_DOC, Change, decode_change
from assemblymesh.crdt.document import SHARED, ArrayView, Document, MapView, TextView
from assemblymesh.crdt.identity import DeviceCertificate, Invite, SigningKey
from assemblymesh.crdt.plan import AdmissionPolicy, Verdict
from assemblymesh.crdt.replica import (
    IngestResult,
    PendingBudget,
    Rejection,
    Replica,
    ReplicaEvent,
    vector_digest,
)

__all__ = [
    "SHARED",
    "SHARED_DOC",
    "AdmissionPolicy",
    "ArrayView",
    "Change",
    "DeviceCertificate",
    "Document",
    "IngestResult",
    "Invite",
    "LogEntry",
    "MapView",
    "PendingBudget",
    "Rejection",
    "Replica",
    "ReplicaEvent",
    "SigningKey",
    "TextView",
    "Verdict",
    "decode_change",
    "vector_digest",
]
