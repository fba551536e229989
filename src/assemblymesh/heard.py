"""Who a facilitator would close a round without: members with no position yet, and those
whose data here is older than the round's last phase change (not in range: their position
may exist on a node this one has not synced with)."""

from __future__ import annotations

from dataclasses import dataclass

from assemblymesh.home import LocalAssembly
from assemblymesh.model import AssemblyState, Round


@dataclass(frozen=True)
class Unheard:
    silent: tuple[str, ...]  # member ids without a position, by name
    out_of_range: tuple[str, ...]  # members with nothing here since the last phase change
    names: dict[str, str]

    def __bool__(self) -> bool:
        return bool(self.silent or self.out_of_range)

    def describe(self) -> str:
        """One line: 'no position yet: Amara, Kofi; not in range: Kofi'."""
        parts = []
        if self.silent:
            parts.append("no position yet: " + ", ".join(self.names[m] for m in self.silent))
        if self.out_of_range:
            parts.append(
                "not in range (nothing from them here since the last phase change): "
                + ", ".join(self.names[m] for m in self.out_of_range)
            )
        return "; ".join(parts)


def unheard(local: LocalAssembly, state: AssemblyState, r: Round) -> Unheard:
    changed = local.phase_changed_ts(r.id) or r.opened_ts
    heard = local.last_heard()
    members = sorted(state.members.values(), key=lambda m: (m.name.casefold(), m.id))
    silent = tuple(m.id for m in members if m.id not in r.positions)
    out = tuple(
        m.id
        for m in members
        if m.id not in r.positions and heard.get(m.id, 0) < changed and m.id != local.member_id
    )
    return Unheard(silent, out, {m.id: m.name for m in members})
