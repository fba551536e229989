"""``assemblymesh device ...`` and ``assemblymesh key ...``: a member's devices and keys.

Pairing a new device, revoking a lost one, sealing the member key under a passphrase,
backing it up and restoring it on a new device. A passphrase is asked for on the terminal,
or read from ``ASSEMBLYMESH_PASSPHRASE`` (scripts; ``ASSEMBLYMESH_NEW_PASSPHRASE`` for a
new one when sealing a key that already has one).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import click

from assemblymesh.cli import (
    ENV_NEW_PASSPHRASE,
    ENV_PASSPHRASE,
    Context,
    ask_passphrase,
    pass_ctx,
    when,
)
from assemblymesh.crdt.keyfiles import Backup, paper_form
from assemblymesh.devices import DEFAULT_PAIR_TIMEOUT, join, offer, pairing_hosts
from assemblymesh.errors import KeyFileError, UsageError, WrongPassphrase
from assemblymesh.home import LocalAssembly, parse_address
from assemblymesh.i18n import N_, _


def unlock(local: LocalAssembly, ctx: Context | None = None) -> str | None:
    """Open the member key for this command, asking for its passphrase if it is sealed
    (the one that opened this device's keys is tried first); returns the passphrase that
    opened it (None: it was not sealed, or open already)."""
    if local.member_key_status() != "sealed":
        local.unlock(None)
        return None
    if ctx is not None and ctx.passphrase is not None:
        try:
            local.unlock(ctx.passphrase)
            return ctx.passphrase
        except WrongPassphrase:
            pass
    passphrase = ask_passphrase(N_("Passphrase of your member key"))
    local.unlock(passphrase)
    return passphrase


# How ``device list`` names the state of a key file (``--json`` keeps these ids).
KEY_STATES = {
    "sealed": N_("sealed"),
    "plain": N_("plain"),
    "absent": N_("absent"),
    "unlocked": N_("unlocked"),
}


@click.group()
def device() -> None:
    """This member's devices: list, pair a new one, revoke a lost one."""


@device.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def device_list(ctx: Context, as_json: bool) -> None:
    """Your devices this node knows of, this one first."""
    with ctx.open() as local:
        rows = local.devices()
        key = local.member_key_status()
        device_keys = "sealed" if local.device_keys_sealed() else "plain"
    if as_json:
        data = [
            {
                "device": r.id,
                "this": r.this,
                "changes": r.changes,
                "revoked_after": r.revoked_after,
                "certified_ms": r.certified_ms,
            }
            for r in rows
        ]
        out = {"member_key": key, "device_keys": device_keys, "devices": data}
        click.echo(json.dumps(out, indent=2))
        return
    for r in rows:
        state = _("revoked") if r.revoked_after is not None else _("active")
        mark = "  " + _("(this device)") if r.this else ""
        certified = _("certified {when}").format(when=when(r.certified_ms))
        changes = _("{count:6} changes").format(count=r.changes)
        click.echo(f"{r.id[:16]}  {state:8} {changes}  {certified}{mark}")
    click.echo(
        _("member key on this device: {key}; this device's key files: {device_keys}").format(
            key=_(KEY_STATES[key]), device_keys=_(KEY_STATES[device_keys])
        )
    )


@device.command(name="pair")
@click.option("--listen", default=None, help="HOST[:PORT] to wait on (default: any free port).")
@click.option(
    "--host", "hosts", multiple=True, help="Address the new device dials (default: this node's)."
)
@click.option(
    "--timeout", type=click.FloatRange(1), default=DEFAULT_PAIR_TIMEOUT, show_default=True
)
@click.option("--qr/--no-qr", default=None, help="Show a QR code (default: on a terminal).")
@pass_ctx
def device_pair(
    ctx: Context, listen: str | None, hosts: tuple[str, ...], timeout: float, qr: bool | None
) -> None:
    """Show a pairing code and wait for your new device to enter it ('device join CODE').
    Prints the new device's id last."""
    listen_at = parse_address(listen, 0, any_port=True) if listen else ("0.0.0.0", 0)
    show_qr = qr if qr is not None else sys.stdout.isatty()

    def shown(code: str) -> None:
        click.echo(_("On your new device, run:  assemblymesh device join CODE"))
        click.echo(_("Waiting up to {seconds} s. Pairing code:").format(seconds=int(timeout)))
        if show_qr:
            import segno

            segno.make(code, error="L").terminal(compact=True)
        click.echo(code)

    with ctx.open() as local:
        unlock(local, ctx)
        paired = asyncio.run(offer(local, listen_at, hosts or pairing_hosts(), shown, timeout))
    click.echo(_("Paired. The new device has its certificate and the record."))
    click.echo(paired)


@device.command(name="join")
@click.argument("code")
@click.option("--timeout", type=click.FloatRange(1), default=30.0, show_default=True)
@pass_ctx
def device_join(ctx: Context, code: str, timeout: float) -> None:
    """Make this node another device of yours, with the code your other device shows."""
    local = asyncio.run(join(ctx.home, code, timeout))
    try:
        click.echo(
            _("This node is now a device of yours: {device}").format(device=local.device_id[:16])
        )
        click.echo(local.assembly_id.hex())
    finally:
        local.close()


@device.command(name="revoke")
@click.argument("device_ref", metavar="DEVICE")
@pass_ctx
def device_revoke(ctx: Context, device_ref: str) -> None:
    """Revoke one of your other devices (lost or stolen); prints the revocation's ref."""
    with ctx.open() as local:
        unlock(local, ctx)
        recorded = local.revoke_device(device_ref)
    click.echo(
        _(
            "Revoked device {device}: its first {count} changes stand;"
            " every node that syncs this refuses it."
        ).format(device=recorded.act.revoked[:16], count=recorded.act.keep)
    )
    click.echo(recorded.ref)


@click.group()
def key() -> None:
    """Your member key: seal it under a passphrase, back it up, restore it."""


@key.command(name="protect")
@click.option(
    "--device-keys",
    is_flag=True,
    help="Seal this device's own key files (device key, assembly secret) instead.",
)
@pass_ctx
def key_protect(ctx: Context, device_keys: bool) -> None:
    """Seal the member key file on this device under a passphrase (or change it); with
    --device-keys, this device's own key files, so every command here asks for it."""
    with ctx.open() as local:
        if device_keys:
            env = ENV_NEW_PASSPHRASE if local.device_keys_sealed() else ENV_PASSPHRASE
            local.protect_device_keys(ask_passphrase(N_("New passphrase"), env, confirm=True))
            click.echo(_("This device's key files are sealed: opening the assembly asks for it."))
            return
        if not local.member_keys.here:
            raise KeyFileError(_("the member key is not on this device: there is nothing to seal"))
        unlock(local, ctx)
        env = ENV_NEW_PASSPHRASE if local.member_keys.sealed else ENV_PASSPHRASE
        passphrase = ask_passphrase(N_("New passphrase"), env, confirm=True)
        local.protect_member_key(passphrase)
    click.echo(
        _("The member key on this device is sealed: pairing, revoking and inviting ask for it.")
    )


@key.command(name="backup")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write the backup to (one line).")  # fmt: skip
@click.option("--paper", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a printable page (HTML) with a QR code.")  # fmt: skip
@pass_ctx
def key_backup(ctx: Context, out: Path, paper: Path | None) -> None:
    """Back up the member key, sealed under a passphrase (the key's own, if it is sealed)."""
    with ctx.open() as local:
        passphrase = unlock(local, ctx)  # a sealed key's backup keeps its passphrase
        if passphrase is None:
            passphrase = ask_passphrase(N_("Passphrase for the backup"), confirm=True)
        code = local.backup(passphrase)
        state = local.state()
        me = state.members.get(local.member_id)
        names = (state.assembly.name if state.assembly else "", me.name if me else "")
    _write_private(out, code + "\n")
    if paper is not None:
        _write_private(paper, paper_form(code, *names))
    if paper:
        click.echo(_("Backup written to {path} and {paper}").format(path=out, paper=paper))
    else:
        click.echo(_("Backup written to {path}").format(path=out))
    click.echo(str(out))


def _write_private(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageError(_("{path} exists: choose another file").format(path=path)) from exc
    except OSError as exc:
        raise UsageError(
            _("cannot write {path}: {problem}").format(path=path, problem=exc.strerror)
        ) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


@key.command(name="restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def key_restore(ctx: Context, source: Path) -> None:
    """Rejoin as yourself on this new device from a backup file; then sync to get the
    record. Prints the assembly id last."""
    text = Backup.read(source)
    local = ctx.home.restore(text, ask_passphrase(N_("Passphrase of the backup")))
    try:
        click.echo(
            _("Restored: this node is a new device of yours ({device}),").format(
                device=local.device_id[:16]
            )
        )
        click.echo(_("with the member key sealed under the same passphrase. Run 'sync' next."))
        click.echo(local.assembly_id.hex())
    finally:
        local.close()
