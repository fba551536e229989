"""What this node has heard, read from its ``LocalAssembly``: who a facilitator would close a
round without (members with no position yet, and those whose data here is older than the
round's last phase change: not in range, their position may exist on a node this one has not
synced with), and whether the store holds this node's own record at all."""

from __future__ import annotations

from dataclasses import dataclass

from assemblymesh.home import LocalAssembly
from assemblymesh.i18n import _
from assemblymesh.model import AssemblyState, Round
from assemblymesh.model.queries import waiting_on


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
            names = ", ".join(self.names[m] for m in self.silent)
            parts.append(_("no position yet: {names}").format(names=names))
        if self.out_of_range:
            names = ", ".join(self.names[m] for m in self.out_of_range)
            parts.append(
                _(
                    "not in range (nothing from them here since the last phase change): {names}"
                ).format(names=names)
            )
        return "; ".join(parts)


def store_problem(local: LocalAssembly) -> str | None:
    """What is wrong with the store, if it cannot be this node's record.

    Every node writes its own first act (genesis or join) when its directory is made, so a
    store without a single change of this device was emptied or replaced.
    """
    if local.device_key.public in local.replica.vector():
        return None
    return _(
        "the store {path} holds none of this node's changes (it is empty or was replaced):"
        " restore it from a backup, or sync to receive them back from a member"
    ).format(path=local.directory / "store.sqlite")


def unheard(local: LocalAssembly, state: AssemblyState, r: Round) -> Unheard:
    changed = r.phase_ts or r.opened_ts
    heard = local.last_heard()
    members = sorted(
        (m for m in state.members.values() if m.counts(state.now_ms)),
        key=lambda m: (m.name.casefold(), m.id),
    )
    silent = waiting_on(state, r)
    out = tuple(
        m.id
        for m in members
        if m.id not in r.positions
        and heard.get(m.id, 0) < changed
        and m.id != local.member_id
        and not m.deviceless  # nothing is ever heard from them: a facilitator speaks for them
    )
    return Unheard(silent, out, {m.id: m.name for m in members})
