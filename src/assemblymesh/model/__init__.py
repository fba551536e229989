"""The assembly model: pure functions from member documents to governance state.

``fold(snapshot, now_ms)`` places every member's acts at their causal time
(``model.order``), replays them in one global order through the process rules
(``model.rules``, ``model.tables``) and returns a frozen ``AssemblyState``. ``model.commands``
builds and checks the acts a local member writes, with the same replay step, and
``model.queries`` answers the governance questions other layers ask. Nothing here touches the
network, the terminal or pycrdt: the input is plain data.
"""

from assemblymesh.model import acts, commands, queries, rules, tables
from assemblymesh.model.commands import Stamp
from assemblymesh.model.fold import (
    Tally,
    apply_act,
    at_time,
    causal_time,
    empty_state,
    fold,
    is_latest,
    needs_refold,
    tally_round,
    validate,
)
from assemblymesh.model.order import order_acts
from assemblymesh.model.snapshot import AssemblySnapshot, LoggedAct
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
    "LoggedAct",
    "Member",
    "Position",
    "Proposal",
    "RoleTerm",
    "Round",
    "Rules",
    "Stamp",
    "Tally",
    "Version",
    "acts",
    "apply_act",
    "at_time",
    "causal_time",
    "commands",
    "empty_state",
    "fold",
    "is_latest",
    "needs_refold",
    "order_acts",
    "queries",
    "rules",
    "tables",
    "tally_round",
    "validate",
]
