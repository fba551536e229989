"""The assembly model: pure functions from member documents to governance state.

``fold(snapshot, now_ms)`` replays every member's acts in one global order through the
process rules (``model.rules``) and returns a frozen ``AssemblyState``. ``model.commands``
builds and checks the acts a local member writes, with the same replay step. Nothing here
touches the network, the terminal or pycrdt: the input is plain data.
"""

from assemblymesh.model.fold import (
    apply_act,
    at_time,
    empty_state,
    fold,
    is_latest,
    order_acts,
    validate,
)
from assemblymesh.model.snapshot import AssemblySnapshot
from assemblymesh.model.state import (
    Assembly,
    AssemblyState,
    AuditEntry,
    Decision,
    InviteRecord,
    Member,
    Position,
    Proposal,
    RoleTerm,
    Round,
    Rules,
    Version,
)

__all__ = [
    "Assembly",
    "AssemblySnapshot",
    "AssemblyState",
    "AuditEntry",
    "Decision",
    "InviteRecord",
    "Member",
    "Position",
    "Proposal",
    "RoleTerm",
    "Round",
    "Rules",
    "Version",
    "apply_act",
    "at_time",
    "empty_state",
    "fold",
    "is_latest",
    "order_acts",
    "validate",
]
