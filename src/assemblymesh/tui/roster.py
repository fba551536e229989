"""Who takes part, from the meeting screen: add a member who has no device, give them a code
to claim the membership from a device of their own, and change a member's role (directly
while founding, else by drafting the decision that does it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType

from assemblymesh.errors import AssemblyMeshError, IllegalMoveError
from assemblymesh.i18n import N_, _, ngettext
from assemblymesh.model import AssemblyState, Stamp, commands
from assemblymesh.model import acts as A
from assemblymesh.model import rules as R
from assemblymesh.model.effect_text import effect_as_text
from assemblymesh.tui.dialogs import TextDialog, TextInput
from assemblymesh.tui.forms import NameDialog, RoleDialog, RoleInput
from assemblymesh.tui.view import Digest, name_of

if TYPE_CHECKING:
    from assemblymesh.tui.base import AssemblyScreen

    _Screen = AssemblyScreen
else:
    _Screen = object

ROSTER_BINDINGS: list[BindingType] = [
    Binding("n", "add_deviceless", N_("New member without a device"), show=False),
    Binding("i", "claim_code", N_("Claim code for them"), show=False),
    Binding("g", "role", N_("Role"), show=False),
]


def role_move(
    state: AssemblyState, stamp: Stamp, member: str, choice: RoleInput
) -> A.GrantRole | A.EndRole:
    """The role act ``choice`` would write, checked (``IllegalMoveError`` if refused)."""
    if choice.grant:
        end = stamp.ts + choice.days * R.DAY_MS
        return commands.grant_role(state, stamp, member, choice.role, end)
    return commands.end_role(state, stamp, member, choice.role)


def role_effect(member: str, choice: RoleInput) -> A.Effect:
    if choice.grant:
        return A.GrantRoleEffect(member=member, role=choice.role, term_days=choice.days)
    return A.EndRoleEffect(member=member, role=choice.role)


def role_draft(state: AssemblyState, member: str, choice: RoleInput) -> tuple[str, str, str]:
    """(title, body, effects as typed) of the proposal that makes the role move."""
    name = name_of(state, member)
    role = choice.role.replace("_", " ")
    if choice.grant:
        title = ngettext(
            "{name} as {role} for {days} day", "{name} as {role} for {days} days", choice.days
        ).format(name=name, role=role, days=choice.days)
        body = ngettext(
            "{name} becomes {role} for {days} day, counted from when this decision takes effect.",
            "{name} becomes {role} for {days} days, counted from when this decision takes effect.",
            choice.days,
        ).format(name=name, role=role, days=choice.days)
    else:
        title = _("{name} steps down as {role}").format(name=name, role=role)
        body = _("{name}'s term as {role} ends when this decision takes effect.").format(
            name=name, role=role
        )
    return title, body, effect_as_text(state, role_effect(member, choice))


class RosterMoves(_Screen):
    """The meeting screen's keys for members and roles (mixed into ``MeetingScreen``)."""

    ROSTER_BINDINGS: ClassVar[list[BindingType]] = ROSTER_BINDINGS

    def selected_member(self) -> str | None:
        raise NotImplementedError

    def action_add_deviceless(self) -> None:
        d = self.am.digest
        if d is None or not d.can_facilitate():
            self.notify(_("only a facilitator adds a member without a device"), severity="error")
            return

        def add(name: object) -> None:
            if isinstance(name, str) and self.am.write(commands.add_member, name):
                self.notify(
                    _("{name} is a member without a device: p records their position").format(
                        name=name
                    )
                )

        about = _(
            "Someone who takes part by voice, here in the meeting. You record their positions"
            " (p) and words (k, r); later they can claim the membership from a device (i)."
        )
        dialog = NameDialog(_("Add a member without a device"), about)
        self.app.push_screen(dialog, callback=add)

    def action_claim_code(self) -> None:
        from assemblymesh.tui.sync import InviteScreen

        d, local, member = self.am.digest, self.am.local, self.selected_member()
        m = d.state.members.get(member) if d is not None and member is not None else None
        if local is None or m is None or not (m.deviceless and m.current):
            self.notify(
                _("choose a member without a device in the positions list first"),
                severity="warning",
            )
            return
        try:
            code = local.issue_invite(local.default_invite_hints(), claim=m.id).encode()
        except AssemblyMeshError as exc:
            self.notify(str(exc), title=_("No claim code"), severity="error")
            return
        about = _(
            "One-time code for {name}, valid 7 days: joining with it ('{command}'"
            " or Join in the app) makes the new device's key their membership, with"
            " the positions recorded for them."
        ).format(name=m.name, command="assemblymesh join CODE")
        self.app.push_screen(InviteScreen(code, about=about))

    def action_role(self) -> None:
        d, member = self.am.digest, self.selected_member()
        m = d.state.members.get(member) if d is not None and member is not None else None
        if d is None or m is None:
            self.notify(_("choose a member in the positions list first"), severity="warning")
            return
        held = m.active_roles(d.now_ms)
        dialog = RoleDialog(_("{name}'s roles").format(name=m.name), held, words=d.words)
        self.app.push_screen(dialog, callback=lambda choice: self._role(d, m.id, choice))

    def _role(self, d: Digest, member: str, choice: object) -> None:
        local = self.am.local
        if not isinstance(choice, RoleInput) or local is None:
            return
        stamp = local.stamp(d.state, d.now_ms)
        try:
            role_move(d.state, stamp, member, choice)
        except IllegalMoveError as exc:
            if exc.rule != R.ROLE_BY_DECISION:
                self.notify(str(exc), title=_("Not recorded"), severity="error")
                return
            self._draft_decision(d, member, choice)
            return
        command = commands.grant_role if choice.grant else commands.end_role
        args = (member, choice.role, stamp.ts + choice.days * R.DAY_MS) if choice.grant else (
            member, choice.role,
        )  # fmt: skip
        if self.am.write(command, *args):
            said = _("{name}: {role} granted") if choice.grant else _("{name}: {role} ended")
            self.notify(said.format(name=name_of(d.state, member), role=d.words.role(choice.role)))

    def _draft_decision(self, d: Digest, member: str, choice: RoleInput) -> None:
        """Roles change by decision after the founding period: open the propose form with
        the decision drafted (title, text and the role effect), to edit and save."""
        title, body, effect = role_draft(d.state, member, choice)
        self.notify(
            _("Roles change by a decision now ({rule}): the proposal is drafted for you.").format(
                rule=R.ROLE_BY_DECISION
            ),
            title=_("Needs a decision"),
        )

        def propose(answer: TextInput | None) -> None:
            if answer is None:
                return
            # The form hands back no effects when the drafted ones were left as they were.
            effects = answer.effects
            if effects is None:
                effects = (role_effect(member, choice),)
            act = self.am.write(commands.propose, answer.title, answer.body, effects)
            if act is not None:
                self.am.selected = act.ref
                self.notify(
                    _("proposed {title}: open a round on it (o)").format(title=repr(answer.title))
                )

        dialog = TextDialog(
            _("Propose the decision (drafted: edit, then ctrl+s)"),
            title=title,
            body=body,
            effects=effect,
            parse_effect=self.effect_parser(),
        )
        self.app.push_screen(dialog, callback=propose)


__all__ = ["ROSTER_BINDINGS", "RosterMoves", "role_draft", "role_effect", "role_move"]
