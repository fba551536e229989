"""``member add`` and ``member claim``: members who take part without a device (an elder who
speaks in the meeting). A facilitator adds them and records their positions (``position
--for``) and comments; later a claim invite lets them take the membership to a device of
their own, with everything recorded for them."""

from __future__ import annotations

import click

from assemblymesh.cli import Context, invite_options, issue_invite_code, pass_ctx
from assemblymesh.errors import UsageError
from assemblymesh.i18n import _, ngettext
from assemblymesh.model import commands
from assemblymesh.model import rules as process


@click.group(name="member")
def member() -> None:
    """Members without a device: add one, or give them a code to claim it from a device."""


@member.command(name="add")
@click.argument("name")
@pass_ctx
def member_add(ctx: Context, name: str) -> None:
    """Facilitator: add a member who takes part without a device; prints their member id.

    Like an invite, this is one member's word on the record (here a facilitator's, for a
    person present at the meeting): the assembly contests it by a decision with a
    remove-member effect. Record their positions with 'position ROUND KIND --for NAME'."""
    with ctx.open() as local:
        state = local.state()
        if any(m.current and m.name.casefold() == name.strip().casefold()
               for m in state.members.values()):  # fmt: skip
            raise UsageError(
                _("a member is already named {name!r}: give another name").format(name=name.strip())
            )
        local.act(commands.add_member, name.strip())
        added = local.state().find_member(name.strip())
    click.echo(
        _("{name} is a member without a device; record for them with --for").format(name=added.name)
    )
    click.echo(added.id)


@member.command(name="claim")
@click.argument("name")
@invite_options
@pass_ctx
def member_claim(
    ctx: Context, name: str, valid_days: int, hints: tuple[str, ...], qr: bool | None
) -> None:
    """Facilitator: a one-time code with which a member without a device claims the
    membership from a device of their own ('assemblymesh join CODE'); prints the code."""
    with ctx.open() as local:
        target = local.state().find_member(name)
    if not target.deviceless or not target.current:
        raise UsageError(_("{name} is not a member without a device").format(name=target.name))
    code = issue_invite_code(ctx, valid_days, hints, qr, process.MEMBER_INVITE, target.id)
    click.echo(
        ngettext(
            "One-time code for {name}, valid {days} day: joining with it makes the"
            " new device's key their membership, with the positions recorded for them.",
            "One-time code for {name}, valid {days} days: joining with it makes the"
            " new device's key their membership, with the positions recorded for them.",
            valid_days,
        ).format(name=target.name, days=valid_days)
    )
    click.echo(code)


def register(main: click.Group) -> None:
    main.add_command(member)
