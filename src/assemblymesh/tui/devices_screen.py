"""Devices: this member's devices, pairing a new one, revoking a lost or stolen one.

The list is this node's answer (``LocalAssembly.devices``): this device first and marked,
when the member key certified each, and revoked ones with the last of their changes that
still counts. Pairing shows a short code and, where the terminal has room, a QR code, and
waits for the new device (``LocalAssembly.pair_device``); revoking asks for a confirmation
and, if the member key is sealed, its passphrase. The screen never holds a key or a socket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from assemblymesh.errors import AssemblyMeshError
from assemblymesh.home import DeviceInfo
from assemblymesh.i18n import N_, _, format_number, ngettext
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import display
from assemblymesh.tui.dialogs import ConfirmDialog
from assemblymesh.tui.footer import TranslatedFooter
from assemblymesh.tui.qr import qr_lines
from assemblymesh.tui.view import Digest, when
from assemblymesh.tui.widgets import BidiStatic, PagedTable

if TYPE_CHECKING:
    from assemblymesh.tui.app import AssemblyApp

PAIR_TIMEOUT_S = 300.0
KEY_WORDS = {
    "plain": N_("Your member key lies plain on this device: seal it with '{command}'."),
    "sealed": N_("Your member key is sealed under a passphrase: pairing and revoking ask for it."),
    "unlocked": N_("Your member key is sealed, and open until you quit."),
    "absent": N_(
        "Your member key is not on this device: pair and revoke from the device that holds it."
    ),
}


def device_state(d: DeviceInfo) -> str:
    if d.revoked_after is not None:
        return ngettext(
            "revoked (its first {count} change stands)",
            "revoked (its first {count} changes stand)",
            d.revoked_after,
        ).format(count=format_number(d.revoked_after))
    return _("this device") if d.this else _("active")


def device_rows(devices: Sequence[DeviceInfo]) -> list[tuple[str, tuple[str, ...]]]:
    """One row a device: its id, its state, when it was certified, its changes held here."""
    return [
        (d.id, (d.id[:16], device_state(d), when(d.certified_ms), format_number(d.changes)))
        for d in devices
    ]


class DevicesScreen(AssemblyScreen):
    MODE = "devices"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pair", N_("Pair a new device")),
        Binding("r", "revoke", N_("Revoke the chosen device")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.devices: list[DeviceInfo] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        yield PagedTable(
            (_("Device"), _("State"), _("Certified (UTC)"), _("Changes")),
            id="device-table",
            empty="-",
        )
        yield BidiStatic("", id="device-detail", markup=False)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.query_one("#device-table", PagedTable).border_title = display(_("Your devices"))
        super().on_mount()

    def show(self, digest: Digest) -> None:
        local = self.am.local
        if local is None:
            return
        self.devices = local.devices(digest.state)
        self.query_one("#device-table", PagedTable).set_rows(device_rows(self.devices))
        self.query_one("#device-detail", Static).update(
            _(KEY_WORDS[local.member_key_status()]).format(command="assemblymesh key protect")
            + "\n"
            + _(
                "p pairs a new device (it enters the code the next screen shows); r revokes the"
                " chosen one, if it is lost or stolen."
            )
        )

    def chosen(self) -> DeviceInfo | None:
        key = self.query_one("#device-table", PagedTable).current_key
        return next((d for d in self.devices if d.id == key), None)

    # --- pairing ------------------------------------------------------------------------

    def action_pair(self) -> None:
        self.am.with_member_key(self._pair)

    def _pair(self) -> None:
        def paired(device: str | None) -> None:
            if device:
                self.notify(
                    _("Paired device {device}: it has its certificate and the record.").format(
                        device=device[:16]
                    ),
                    title=_("Devices"),
                )

        self.app.push_screen(PairScreen(), paired)

    # --- revoking -----------------------------------------------------------------------

    def action_revoke(self) -> None:
        device = self.chosen()
        if device is None:
            return
        if device.this:
            self.notify(
                _("this device cannot revoke itself: revoke it from another of your devices"),
                title=_("Devices"),
                severity="error",
            )
            return
        if device.revoked_after is not None:
            self.notify(
                _("device {device} is already revoked").format(device=device.id[:16]),
                title=_("Devices"),
            )
            return
        detail = ngettext(
            "Its first {count} change this node holds stands; anything it writes"
            " later counts no more, and every node that learns of this refuses it. The"
            " assembly secret moves to a new epoch it does not get. This cannot be undone.",
            "Its first {count} changes this node holds stand; anything it writes"
            " later counts no more, and every node that learns of this refuses it. The"
            " assembly secret moves to a new epoch it does not get. This cannot be undone.",
            device.changes,
        ).format(count=format_number(device.changes))

        def answered(yes: bool | None) -> None:
            if yes:
                self.am.with_member_key(lambda: self._revoke(device.id))

        heading = _("Revoke device {device}?").format(device=device.id[:16])
        self.app.push_screen(ConfirmDialog(heading, detail), answered)

    def _revoke(self, device: str) -> None:
        local = self.am.local
        if local is None:
            return
        try:
            local.revoke_device(device)
        except AssemblyMeshError as exc:
            self.notify(str(exc), title=_("Not revoked"), severity="error")
            return
        self.notify(_("Revoked device {device}.").format(device=device[:16]), title=_("Devices"))


class PairScreen(Screen[str | None]):
    """The pairing code as text and, where it fits, as a QR code, while this device waits
    for the new one; escape stops waiting. Dismisses with the new device's id."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "stop", N_("Stop waiting"))]

    def __init__(self) -> None:
        super().__init__(id="pair")
        self.code: str | None = None
        self.qr: list[str] = []

    @property
    def am(self) -> AssemblyApp:
        return cast("AssemblyApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        with VerticalScroll(id="pair-body"):
            yield BidiStatic(
                _("Starting to listen for your new device..."), id="pair-about", markup=False
            )
            yield Static("", id="pair-code", markup=False)
            yield Static("", id="pair-qr", markup=False)
        yield TranslatedFooter()

    def on_mount(self) -> None:
        self.run_worker(self._offer(), group="pair", exclusive=True, exit_on_error=False)

    async def _offer(self) -> None:
        local = self.am.local
        if local is None:
            return
        host, port = self.am.pair_at
        hosts = local.pairing_hosts() if host in ("0.0.0.0", "") else [host]
        try:
            device = await local.pair_device((host, port), hosts, self._shown, PAIR_TIMEOUT_S)
        except AssemblyMeshError as exc:
            self.query_one("#pair-about", Static).update(
                _("Not paired: {error}. Escape goes back.").format(error=exc)
            )
            return
        self.dismiss(device)

    def _shown(self, code: str) -> None:
        self.code = code
        # Uppercase: the QR code's alphanumeric mode, a smaller code (read case-insensitively).
        self.qr = qr_lines(code.upper())
        self.query_one("#pair-about", Static).update(
            _(
                "On your new device run '{command}', or scan the code."
                " Waiting up to {seconds} s; escape stops."
            ).format(
                command="assemblymesh device join CODE",
                seconds=format_number(int(PAIR_TIMEOUT_S)),
            )
        )
        self.query_one("#pair-code", Static).update(code)
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        if not self.qr:
            return
        qr = self.query_one("#pair-qr", Static)
        size = self.app.size
        if size.width >= len(self.qr[0]) and size.height >= len(self.qr) + 7:
            qr.update("\n".join(self.qr))
            qr.set_class(False, "-text")
        else:
            qr.update(
                display(
                    _("(A larger terminal shows the QR code: it needs {count} lines.)").format(
                        count=format_number(len(self.qr) + 7)
                    )
                )
            )
            qr.set_class(True, "-text")

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "pair")
        self.dismiss(None)
