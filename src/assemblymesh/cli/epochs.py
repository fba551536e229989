"""``assemblymesh epochs``: the epochs of the assembly secret as this node holds them, and
the rekey or seals this device owes (a running node writes them by itself)."""

from __future__ import annotations

from typing import Any

import click

from assemblymesh.cli import Context, day
from assemblymesh.home import LocalAssembly
from assemblymesh.i18n import _
from assemblymesh.model import rules as process
from assemblymesh.model.epochs import current_epoch, epoch_of, grace_ends
from assemblymesh.model.state import AssemblyState


def epochs_data(local: LocalAssembly, state: AssemblyState) -> dict[str, Any]:
    """What ``status --json`` and ``epochs status`` say of the secret's epochs."""
    held = local.epoch_view(state)
    current = current_epoch(state.epochs)
    record = epoch_of(state.epochs, current)
    previous = grace_ends(state.epochs, current - 1) if current else None
    rotation = state.rotation
    return {
        "current": current,
        "held": held.held,
        "sealed_devices": len(record.seals) if record is not None else 0,
        "previous_accepted_until": previous if previous and previous > state.now_ms else None,
        "rotation_due": None
        if rotation is None
        else {"since": rotation.due_ts, "cause": rotation.cause, "by": rotation.by},
        "roots_accepted": len(held.accept),
        "joins_open": sum(1 for r in held.accept if r.kind == "join"),
    }


@click.group(name="epochs")
def epochs() -> None:
    """The assembly secret's epochs: a removal, a revocation or a decision to rotate starts
    a new one, sealed to every remaining device."""


@epochs.command(name="status")
@click.pass_obj
def epochs_status(ctx: Context) -> None:
    """Which epoch the assembly is at, which this node holds, and what is due."""
    with ctx.open() as local:
        state = local.state()
        data = epochs_data(local, state)
        held = _("none yet (awaiting admission)") if data["held"] is None else data["held"]
        click.echo(
            _("epoch {current} of the assembly secret; this node holds {held}").format(
                current=data["current"], held=held
            )
        )
        if data["held"] is not None and data["held"] < data["current"]:
            click.echo("  " + _("this node missed a rotation: sync with a member who has it"))
        sealed = _("sealed to {count} device(s)").format(count=data["sealed_devices"])
        click.echo("  " + sealed)
        if data["previous_accepted_until"] is not None:
            until = day(data["previous_accepted_until"])
            click.echo(
                "  " + _("the previous epoch is still accepted until {date}").format(date=until)
            )
        due = data["rotation_due"]
        if due is not None:
            who = state.members[due["by"]].name if due["by"] in state.members else due["by"]
            wait = process.REKEY_FALLBACK_MS // 60_000
            click.echo(
                "  "
                + _(
                    "a rotation is due ({cause}): {name}'s device writes it,"
                    " anyone after {minutes} minutes"
                ).format(cause=due["cause"], name=who, minutes=wait)
            )
        click.echo("  " + _("open invites: {count}").format(count=data["joins_open"]))


@epochs.command(name="keep")
@click.pass_obj
def epochs_keep(ctx: Context) -> None:
    """Write the rekey or seals this device owes now (``serve`` does this by itself)."""
    with ctx.open() as local:
        written = local.keep_keys()
        state = local.state()
        click.echo(
            _("wrote {count} act(s); epoch {epoch}").format(
                count=written, epoch=current_epoch(state.epochs)
            )
        )
