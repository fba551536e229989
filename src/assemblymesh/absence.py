"""The strategic-absence diagnostic for people (``meeting diagnostic`` and the meeting
room): absence meetings beside regular and reflection ones, from ``model.diagnostic``."""

from __future__ import annotations

from typing import Any

from assemblymesh.i18n import N_, _
from assemblymesh.minutes import KIND_LABELS, name_of
from assemblymesh.model import AssemblyState
from assemblymesh.model import rules as R
from assemblymesh.model.diagnostic import diagnostic

name = name_of


def diagnostic_data(state: AssemblyState) -> dict[str, Any]:
    d = diagnostic(state)
    return {
        "by_kind": {
            k: {
                "meetings": s.meetings,
                "decisions": s.decisions,
                "deferred": s.deferred,
                "stalled": s.stalled,
                "facilitators": [name(state, f) for f in s.facilitators],
                "first_time_facilitators": [name(state, f) for f in s.first_time_facilitators],
                "new_speakers": s.new_speakers,
                "objections_raised": s.objections_raised,
                "objections_resolved": s.objections_resolved,
            }
            for k, s in d.by_kind.items()
        },
        "meetings": [
            {
                "id": r.meeting,
                "kind": r.kind,
                "starts": r.starts,
                "facilitator": name(state, r.facilitator),
                "first_time": r.first_time,
                "decisions": len(r.decisions),
                "deferred": len(r.deferred),
                "stalled": len(r.stalled),
                "new_speakers": [name(state, s) for s in r.new_speakers],
                "objections_raised": r.objections_raised,
                "objections_resolved": r.objections_resolved,
            }
            for r in d.reviews
        ],
    }


DIAGNOSTIC_ROWS = (
    (N_("meetings held"), "meetings"),
    (N_("decisions reached"), "decisions"),
    (N_("items deferred"), "deferred"),
    (N_("items stalled"), "stalled"),
    (N_("new speakers"), "new_speakers"),
    (N_("objections raised"), "objections_raised"),
    (N_("objections resolved"), "objections_resolved"),
)


def diagnostic_lines(data: dict[str, Any]) -> list[str]:
    """The per-kind comparison as a small table, then who facilitated."""
    kinds = R.MEETING_KINDS
    lines = [f"{'':22}" + "".join(f"{_(KIND_LABELS[k]):>19}" for k in kinds)]
    for label, key in DIAGNOSTIC_ROWS:
        lines.append(f"{_(label):<22}" + "".join(f"{data['by_kind'][k][key]:>19}" for k in kinds))
    for k in kinds:
        s = data["by_kind"][k]
        if s["facilitators"]:
            first = ", ".join(s["first_time_facilitators"]) or _("none")
            lines.append(
                _("{kind}: facilitated by {names}; for the first time: {first}").format(
                    kind=_(KIND_LABELS[k]), names=", ".join(s["facilitators"]), first=first
                )
            )
    return lines


__all__ = ["DIAGNOSTIC_ROWS", "diagnostic_data", "diagnostic_lines"]
