"""Sync and peers: who is reachable and how fresh their data is; invites with a QR code."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, ProgressBar, Static

from assemblymesh.errors import AssemblyMeshError
from assemblymesh.home import DEFAULT_PORT, parse_address
from assemblymesh.i18n import N_, _, format_number, ngettext
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import display
from assemblymesh.tui.dialogs import AddressDialog
from assemblymesh.tui.footer import TranslatedFooter
from assemblymesh.tui.messages import PeersChanged, SyncProgressed
from assemblymesh.tui.peers import (
    PeerInfo,
    SyncProgress,
    peer_state_label,
    peer_transport_label,
)
from assemblymesh.tui.qr import qr_lines
from assemblymesh.tui.view import Digest, ago
from assemblymesh.tui.widgets import BidiStatic, BidiTable


class SyncScreen(AssemblyScreen):
    MODE = "sync"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "invite", N_("Invite someone")),
        Binding("a", "add_peer", N_("Add a peer")),
        Binding("s", "sync_chosen", N_("Sync now")),
        Binding("S", "sync_all", N_("Sync all")),
    ]
    WHY_WIDTH = 40  # the table's cut of a refusal reason; the line under it has it whole

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with Vertical(id="sync-body"):
            yield BidiStatic(id="node")
            yield BidiTable(id="peer-table", cursor_type="row", zebra_stripes=True)
            yield BidiStatic("", id="peer-detail", markup=False)
            with Horizontal(id="progress-row"):
                yield Label("", id="progress-label", markup=False)
                yield ProgressBar(id="progress", show_eta=False)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one("#peer-table", DataTable)
        columns = (_("Peer"), _("Via"), _("State"), _("Last sync"), _("In"), _("Out"))
        table.add_columns(*columns, _("Refused"), _("Why"))
        table.border_title = display(_("Peers (LAN, mesh, static)"))
        self._draw_peers()
        self._draw_progress(self.am.progress)

    def show(self, digest: Digest) -> None:
        local = self.am.local
        if local is None:
            return
        summary = local.record_summary()
        text = Text()
        text.append(_("This node:") + " ", style="bold")
        text.append(
            _("assembly {assembly}, device {device}").format(
                assembly=local.assembly_id.hex()[:12], device=local.device_id[:12]
            )
            + "\n"
        )
        text.append(
            _(
                "{changes} changes stored, {pending} waiting for earlier ones, digest {digest}"
            ).format(
                changes=format_number(summary.changes),
                pending=format_number(summary.pending),
                digest=summary.digest[:12],
            )
        )
        if not digest.admitted():
            text.append("\n" + _("Not admitted yet: connect to a member to complete your join."))
        if self.am.network_note:
            text.append(f"\n{self.am.network_note}", style="bold")
        self.query_one("#node", Static).update(text)
        self._draw_peers()

    def _draw_peers(self) -> None:
        table = self.query_one("#peer-table", DataTable)
        now = self.am.digest.now_ms if self.am.digest is not None else 0
        table.clear()
        for peer in self.am.peers:
            table.add_row(
                peer.name,
                peer_transport_label(peer.transport),
                peer_state_label(peer.state),
                ago(now, peer.last_sync_ms),
                format_number(peer.changes_in),
                format_number(peer.changes_out),
                format_number(peer.refusals),
                _cut(peer.reason, self.WHY_WIDTH),
            )
        if not self.am.peers:
            table.add_row(_("no peers seen yet (a adds one)"), "", "", "", "", "", "", "")
        self._draw_detail()

    def chosen_peer(self) -> PeerInfo | None:
        row = self.query_one("#peer-table", DataTable).cursor_row
        return self.am.peers[row] if 0 <= row < len(self.am.peers) else None

    def _draw_detail(self) -> None:
        peer = self.chosen_peer()
        detail = self.query_one("#peer-detail", Static)
        detail.display = peer is not None and bool(peer.reason)
        if peer is not None and peer.reason:
            detail.update(
                ngettext(
                    "{name} was refused once, the last because: {reason}",
                    "{name} was refused {count} times, the last because: {reason}",
                    peer.refusals,
                ).format(name=peer.name, count=format_number(peer.refusals), reason=peer.reason)
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._draw_detail()

    def _draw_progress(self, progress: SyncProgress | None) -> None:
        row = self.query_one("#progress-row")
        row.display = progress is not None and not progress.finished
        if progress is not None:
            self.query_one("#progress-label", Label).update(display(progress.label))
            self.query_one(ProgressBar).update(total=progress.total, progress=progress.done)

    def on_peers_changed(self, message: PeersChanged) -> None:
        if self.am.digest is not None:
            self.show(self.am.digest)  # the node's line too: it may have stopped listening
        else:
            self._draw_peers()

    def on_sync_progressed(self, message: SyncProgressed) -> None:
        self._draw_progress(message.progress)

    def action_add_peer(self) -> None:
        self.app.push_screen(
            AddressDialog(lambda text: parse_address(text, DEFAULT_PORT)), self._add_peer
        )

    def _add_peer(self, address: tuple[str, int] | None) -> None:
        if address is not None:
            self.run_worker(self._tell(self.am.peer_source.add_peer(*address)), group="peers")

    def action_sync_chosen(self) -> None:
        peer = self.chosen_peer()
        if peer is None or peer.address is None:
            said = (
                _(
                    "No peer is chosen: there is no address to sync with"
                    " (S syncs with all, a adds one)."
                )
                if peer is None
                else _(
                    "{name} dialled in: there is no address to sync with"
                    " (S syncs with all, a adds one)."
                ).format(name=peer.name)
            )
            self.notify(said, severity="error")
            return
        self._sync(peer.address)

    def action_sync_all(self) -> None:
        self._sync(None)

    def _sync(self, address: tuple[str, int] | None) -> None:
        self.notify(
            _("syncing with every known peer")
            if address is None
            else _("syncing with {peer}").format(peer=peer_name(address))
        )
        self.run_worker(self._tell_all(self.am.peer_source.sync_now(address)), group="peers")

    async def _tell(self, outcome: Awaitable[str]) -> None:
        try:
            self.notify(await outcome, title=_("Peers"))
        except AssemblyMeshError as exc:
            self.notify(str(exc), title=_("Peers"), severity="error")

    async def _tell_all(self, outcomes: Awaitable[list[str]]) -> None:
        try:
            lines = await outcomes
        except AssemblyMeshError as exc:
            lines = [str(exc)]
        self.notify("\n".join(lines), title=_("Sync now"), timeout=10)

    def action_invite(self) -> None:
        self.am.with_member_key(self._invite)  # an invite is signed by the member key

    def _invite(self) -> None:
        local = self.am.local
        if local is None:
            return
        try:
            code = local.issue_invite().encode()
        except AssemblyMeshError as exc:
            self.notify(str(exc), title=_("No invite"), severity="error")
            return
        self.app.push_screen(InviteScreen(code))


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` wraps to at ``width`` (with the note's padding)."""
    return -(-len(text) // max(1, width - 2))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def peer_name(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


Copier = Callable[[str], bool]
CLIPBOARD_TOOLS: tuple[tuple[str, ...], ...] = (
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
    ("pbcopy",),
)


def system_copy(text: str) -> bool:
    """Copy ``text`` with the platform's clipboard tool; True only if one reported success."""
    for command in CLIPBOARD_TOOLS:
        if shutil.which(command[0]) is None:
            continue
        try:
            subprocess.run(command, input=text.encode(), capture_output=True, timeout=3, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return True
    return False


class InviteScreen(Screen[None]):
    """The code as text and as a QR code. Notes appear on a line of their own (toasts would
    cover the QR code); ``z`` shows the QR code alone, as large as a scanner needs it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", N_("Back")),
        Binding("c", "copy", N_("Copy code")),
        Binding("z", "qr_only", N_("QR code alone")),
    ]

    ABOUT = N_(
        "One-time invite, valid 7 days. Give it to one person: they run "
        "'{command}' or choose Join in the app. z shows the QR code alone."
    )

    def __init__(self, code: str, copy: Copier = system_copy, about: str = "") -> None:
        super().__init__(id="invite")
        self.code = code
        self.copy = copy
        self.about = about or _(self.ABOUT).format(command="assemblymesh join CODE")
        # Uppercase: the QR code's alphanumeric mode, a smaller code (read case-insensitively).
        self.qr = qr_lines(code.upper())
        self.compact_qr = qr_lines(code.upper(), compact=True)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        yield BidiStatic("", id="invite-note", markup=False)
        with VerticalScroll(id="invite-body"):
            yield BidiStatic(self.about, id="invite-about", markup=False)
            yield Static(self.code, id="invite-code", markup=False)
            yield Static("\n".join(self.qr), id="qr", markup=False)
        yield TranslatedFooter()

    def on_mount(self) -> None:
        self._check_fit()

    def on_resize(self) -> None:
        self._check_fit()

    def _needs(self) -> tuple[int, int]:
        return len(self.qr[0]), len(self.qr)

    def _check_fit(self) -> None:
        """The QR code alone: full size where it fits; else the compact one (2x3 modules a
        cell), which fits 80x24, with a note saying what the full size needs."""
        width, height = self._needs()
        size = self.app.size
        qr = self.query_one("#qr", Static)
        fits = size.width >= width and size.height >= height
        if not self.has_class("-qr-only") or fits:
            qr.update("\n".join(self.qr))
            self.say("")
            return
        small = self.compact_qr
        note = _(
            "Compact QR code, to fit this {columns}x{rows} terminal. If a scanner"
            " cannot read it, enlarge the terminal to {width}x{height} for the full-size one."
        ).format(columns=size.width, rows=size.height, width=width, height=height)
        if size.width >= len(small[0]) and size.height >= len(small) + _lines(note, size.width):
            qr.update("\n".join(small))
            self.say(note)
            return
        qr.update("\n".join(self.qr))
        self.say(
            _(
                "The QR code needs {width}x{height} characters; this terminal is"
                " {columns}x{rows}. Enlarge it (or use a smaller font), or give"
                " the code as text (z goes back to it)."
            ).format(width=width, height=height, columns=size.width, rows=size.height)
        )

    def say(self, note: str) -> None:
        self.query_one("#invite-note", Static).update(note)
        self.query_one("#invite-note").display = bool(note)

    def action_qr_only(self) -> None:
        self.toggle_class("-qr-only")
        self.say("")
        self._check_fit()

    def action_back(self) -> None:
        if self.has_class("-qr-only"):
            self.action_qr_only()
        else:
            self.app.pop_screen()

    def action_copy(self) -> None:
        if self.copy(self.code):
            self.say(_("The invite code is copied to the clipboard."))
            return
        # The terminal may still take it (OSC 52), but nothing tells us whether it did.
        self.app.copy_to_clipboard(self.code)
        self.say(
            _(
                "No clipboard confirmed the copy: the code is shown here as text; select it"
                " with the mouse (shift+drag in most terminals), or run '{command}'."
            ).format(command="assemblymesh invite")
        )
