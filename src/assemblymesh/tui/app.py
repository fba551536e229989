"""The terminal UI: one app, a screen per task (home, meeting, me, sync, history).

The app owns the only link to the model: it opens the ``LocalAssembly``, observes its
replica, folds the state once per change in a worker thread, and keeps the result (a
``Digest``) for the screens to draw from. Screens write acts through ``AssemblyApp.write``.
Peer status arrives from a ``PeerStatusSource`` as messages.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from assemblymesh.errors import (
    AssemblyMeshError,
    KeyFileError,
    KeyLocked,
    NotFoundError,
    StoreError,
    UsageError,
    WrongPassphrase,
)
from assemblymesh.heard import store_problem
from assemblymesh.home import (
    Home,
    LocalAssembly,
    PendingFold,
    RecordChanged,
    Recorded,
    random_act_id,
)
from assemblymesh.i18n import N_, _, format_number, is_right_to_left, ngettext
from assemblymesh.model import fold
from assemblymesh.model.acts import MAX_TEXT_LEN, Act
from assemblymesh.model.metrics import Metrics
from assemblymesh.tui.bidi import display, display_text, display_wrapped
from assemblymesh.tui.devices_screen import DevicesScreen
from assemblymesh.tui.dialogs import PassphraseDialog
from assemblymesh.tui.funds import FundsScreen
from assemblymesh.tui.history import HistoryScreen
from assemblymesh.tui.home_screen import HomeScreen
from assemblymesh.tui.library import LibraryScreen
from assemblymesh.tui.meeting import MeetingScreen
from assemblymesh.tui.member import MemberScreen
from assemblymesh.tui.messages import (
    MetricsReady,
    PeersChanged,
    ReplicaChanged,
    SharedChanged,
    StateFolded,
    SyncProgressed,
)
from assemblymesh.tui.metrics_screen import MetricsScreen
from assemblymesh.tui.palette import AssemblyCommands
from assemblymesh.tui.peers import ManualPeers, PeerInfo, PeerStatusSource, SyncProgress
from assemblymesh.tui.setup import SetupScreen
from assemblymesh.tui.sync import SyncScreen
from assemblymesh.tui.view import Digest, digest, outcome_changes

if TYPE_CHECKING:
    from assemblymesh.tui.refused import NewCode

ENV_PLAIN = "ASSEMBLYMESH_PLAIN"
REFOLD_EVERY_S = 60.0  # cooling-off periods end by the clock alone: refold now and then
# Other processes (``serve``, a command) write to the same store: look for their changes this
# often when no network node runs here (cheap: the store's data_version is checked first).
POLL_STORE_S = 1.0
# What a toast leaves for its text: Textual's Toast is 60 cells (at most half the screen),
# less its padding and its coloured left edge.
TOAST_WIDTH = 60
TOAST_FRAME = 4


class AssemblyApp(App[None]):
    # Absolute: Textual resolves a relative path from the module of the running subclass.
    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "AssemblyMesh"
    MODES: ClassVar[dict[str, Any]] = {
        "home": HomeScreen,
        "meeting": MeetingScreen,
        "member": MemberScreen,
        "sync": SyncScreen,
        "history": HistoryScreen,
        "funds": FundsScreen,
        "metrics": MetricsScreen,
        "library": LibraryScreen,
        "devices": DevicesScreen,
    }
    COMMANDS = App.COMMANDS | {AssemblyCommands}
    # Single-letter keys (1-6, 8, 9, t, q) belong to the screens (``AssemblyScreen``), so they
    # never fire while someone types in a form; here only keys no text field takes.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", N_("Help"), show=False),
    ]

    def __init__(
        self,
        home: Home,
        assembly: str | None = None,
        *,
        peers: PeerStatusSource | None = None,
        new_id: Callable[[], str] = random_act_id,
        plain: bool | None = None,
        refold_every: float | None = REFOLD_EVERY_S,
        local: LocalAssembly | None = None,
        poll_every: float | None = POLL_STORE_S,
        pair_at: tuple[str, int] = ("0.0.0.0", 0),
    ) -> None:
        super().__init__()
        self.pair_at = pair_at  # where pairing a new device listens (any free port)
        self.home = home
        self.assembly_ref = assembly
        self.peer_source: PeerStatusSource = peers if peers is not None else ManualPeers()
        self.new_id = new_id
        self.plain = bool(os.environ.get(ENV_PLAIN)) if plain is None else plain
        self.refold_every = refold_every
        self.poll_every = poll_every
        self._given = local
        # The app closes only what it opened: a given assembly belongs to its caller (the
        # network node may still be saying goodbye to peers through it).
        self.closes_local = local is None
        self.local: LocalAssembly | None = None
        # Why the app could not start (a damaged store, unreadable keys): the caller reports
        # it as the command line does, one line and a non-zero exit status.
        self.startup_error: AssemblyMeshError | None = None
        self.digest: Digest | None = None
        self.peers: list[PeerInfo] = []
        self.progress: SyncProgress | None = None
        self.selected: str | None = None  # the proposal the screens share as "current"
        self.network_note = ""  # shown on the sync screen: e.g. why this node only dials out
        self.outcome_changes: list[str] = []  # seen while this app ran, newest first
        self.folds = 0  # how many folds ran: the cost the UI must keep per change
        self._folding = False
        self._fold_again = False
        self._unsubscribe: list[Callable[[], None]] = []
        self._local_unsubscribe: list[Callable[[], None]] = []
        self._local_timers: list[Timer] = []
        self._refusal_offered = False  # the way out of a refused invite, offered once
        # The last metrics computed: of which digest, per how many meetings (None: months).
        self._metrics: tuple[Digest, int | None, Metrics] | None = None

    # --- start and stop ------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.plain:
            self.add_class("-plain")
        # Right-to-left languages align the screens' text to the right (app.tcss).
        self.set_class(is_right_to_left(), "-rtl")
        self.peers = self.peer_source.peers()
        self._unsubscribe.append(self.peer_source.subscribe(self))
        if self._given is not None:
            self.attach(self._given)
            return
        try:
            if self.home.keys_sealed(self.assembly_ref):
                self._ask_to_open()
                return
            local = self.home.open(self.assembly_ref, self.new_id)
        except NotFoundError:
            self.push_screen(SetupScreen(self.home.assemblies()))
            return
        except (KeyFileError, StoreError) as exc:
            self.fail_start(exc)
            return
        except UsageError as exc:
            # Several assemblies and no default: let the person choose.
            self.push_screen(SetupScreen(self.home.assemblies(), str(exc)))
            return
        except AssemblyMeshError as exc:
            self.fail_start(exc)
            return
        problem = store_problem(local)
        if problem is not None:
            local.close()
            self.fail_start(StoreError(problem))
            return
        self.attach(local)

    def _ask_to_open(self) -> None:
        """This device's key files are sealed: ask for their passphrase, then open."""
        opened: list[LocalAssembly] = []

        def attempt(passphrase: str) -> str | None:
            try:
                opened.append(self.home.open(self.assembly_ref, self.new_id, passphrase))
            except WrongPassphrase as exc:
                return str(exc)
            return None

        def done(ok: bool | None) -> None:
            if ok and opened:
                self.attach(opened[0])
            else:
                self.fail_start(KeyLocked(_("this device's key files are sealed: no passphrase")))

        dialog = PassphraseDialog(
            _("This device's keys are sealed"),
            _("Type the passphrase that protects this device's key files."),
            attempt,
        )
        self.push_screen(dialog, done)

    def with_member_key(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the member key is open: at once if it is plain or already
        unlocked, after its passphrase if it is sealed; a device without it is told so."""
        local = self.local
        if local is None:
            return
        status = local.member_key_status()
        if status in ("plain", "unlocked"):
            then()
            return
        if status == "absent":
            self.notify(
                _("the member key is not on this device: do this from the device that holds it"),
                title=_("Member key"),
                severity="error",
            )
            return

        def attempt(passphrase: str) -> str | None:
            try:
                local.unlock(passphrase)
            except WrongPassphrase as exc:
                return str(exc)
            return None

        dialog = PassphraseDialog(
            _("Your member key is sealed"),
            _("Type its passphrase: it stays open until you quit."),
            attempt,
        )
        self.push_screen(dialog, lambda ok: then() if ok else None)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header line as Textual words it (the sub-title dimmed after a dash), drawn in
        display order: in a right-to-left interface it reads from the right, and an
        assembly's name in Arabic or Hebrew reads right to left in any interface."""
        line = Text(title)
        if sub_title:
            line.append(" — ", "dim")
            line.append(sub_title, "dim")
        return Content.from_rich_text(display_text(line))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast drawn like the rest of the interface: right-to-left text in display order
        (wrapped first, so its lines read on from one another) and direction controls
        neutralised. Text that had to be changed is drawn as written, without markup. Every
        screen's and widget's ``notify`` comes here; safe to call from any thread."""
        width = min(TOAST_WIDTH, self.size.width // 2 or TOAST_WIDTH) - TOAST_FRAME
        shown = display_wrapped(message, max(width, 10))
        super().notify(
            shown,
            title=display(title),
            severity=severity,
            timeout=timeout,
            markup=markup and shown == message,
        )

    def fail_start(self, error: AssemblyMeshError) -> None:
        self.startup_error = error
        self.exit(return_code=1)

    def attach(self, local: LocalAssembly) -> None:
        """Start showing ``local``: observe its replica and fold it."""
        self.local = local
        self._local_unsubscribe.append(local.observe(self._on_record))
        self.request_fold()
        if self.refold_every:
            self._local_timers.append(self.set_interval(self.refold_every, self.request_fold))
        if self.poll_every:
            self._local_timers.append(self.set_interval(self.poll_every, self.poll_store))
        self.switch_mode("home")

    async def release_local(self) -> None:
        """Stop showing the assembly and close it (a refused join replaced or left)."""
        for timer in self._local_timers:
            timer.stop()
        self._local_timers.clear()
        for stop in self._local_unsubscribe:
            stop()
        self._local_unsubscribe.clear()
        await self.stop_network()
        local, self.local, self.digest = self.local, None, None
        if local is not None:
            local.close()

    async def stop_network(self) -> None:
        """Stop the network node of the assembly shown (the app without one has none)."""

    # --- a refused invite: a new code, or leave ------------------------------------------

    def offer_way_out(self, reason: str) -> None:
        from assemblymesh.tui.refused import InviteRefusedDialog

        self.push_screen(InviteRefusedDialog(reason), callback=self._way_out)

    def _way_out(self, answer: object) -> None:
        from assemblymesh.tui.refused import LEAVE, NewCode

        if isinstance(answer, NewCode):
            self.run_worker(self._rejoin(answer), group="way-out", exclusive=True)
        elif answer == LEAVE:
            self.run_worker(self._leave(), group="way-out", exclusive=True)

    async def _rejoin(self, answer: NewCode) -> None:
        assert self.local is not None
        aid = self.local.assembly_id.hex()
        await self.release_local()
        try:
            local = self.home.join(answer.code, answer.name, new_id=self.new_id, replace=True)
        except AssemblyMeshError as exc:
            self.notify(str(exc), title=_("The new code"), severity="error", timeout=15)
            local = self.home.open(aid, self.new_id)
        self._refusal_offered = False
        self.attach(local)

    async def _leave(self) -> None:
        assert self.local is not None
        aid = self.local.assembly_id.hex()
        await self.release_local()
        try:
            self.home.leave(aid)
        except AssemblyMeshError as exc:
            self.notify(str(exc), severity="error", timeout=15)
            self.attach(self.home.open(aid, self.new_id))
            return
        self.notify(_("Left: nothing of that join is kept on this computer."))
        self.push_screen(SetupScreen(self.home.assemblies()))

    def on_unmount(self) -> None:
        for stop in (*self._unsubscribe, *self._local_unsubscribe):
            stop()
        self._unsubscribe.clear()
        self._local_unsubscribe.clear()
        if self.local is not None and self.closes_local:
            self.local.close()

    # --- folding -------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a fold is running or queued (tests wait for it to settle)."""
        return self._folding or self._fold_again

    def request_fold(self) -> None:
        if self.local is None:
            return
        if self._folding:
            self._fold_again = True  # changes that arrive mid-fold cost one more fold, not one each
            return
        self._folding = True
        # The replica is single-owner: read it here, on the UI thread; fold the plain data
        # in a thread so a large store never blocks a key press.
        pending = self.local.begin_fold()
        self.run_worker(
            partial(self._fold, pending, self.local.member_id),
            thread=True,
            group="fold",
            exit_on_error=False,
        )

    def _fold(self, pending: PendingFold, me: str) -> Digest:
        state = fold(pending.snapshot, pending.now)
        if self.local is not None:
            # The root answers the network's questions from this fold too: one fold a change.
            self.local.keep_fold(pending, state)
        return digest(state, me)

    def request_metrics(self, d: Digest, per_meetings: int | None) -> Metrics | None:
        """The metrics of ``d``, if computed already; otherwise start computing them in a
        thread (``MetricsReady`` goes to the screen when they are)."""
        cached = self._metrics
        if cached is not None and cached[0] is d and cached[1] == per_meetings:
            return cached[2]
        if self.local is not None:
            local = self.local
            self.run_worker(
                lambda: (d, per_meetings, local.metrics(d.state, per_meetings)),
                thread=True,
                group="metrics",
                exclusive=True,
                exit_on_error=False,
            )
        return None

    def _metrics_computed(self, result: tuple[Digest, int | None, Metrics]) -> None:
        self._metrics = result
        self._to_screen(MetricsReady(*result))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "metrics" and event.state == WorkerState.SUCCESS:
            self._metrics_computed(worker.result)  # type: ignore[arg-type]
            return
        if worker.group != "fold" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        if event.state == WorkerState.SUCCESS and isinstance(worker.result, Digest):
            self.folds += 1
            self._apply(worker.result)
            self._keep_keys()
        elif event.state == WorkerState.ERROR:
            self.notify(
                _("could not read the assembly: {error}").format(error=worker.error),
                severity="error",
            )
        self._folding = False
        if self._fold_again:
            self._fold_again = False
            self.request_fold()

    def _keep_keys(self) -> None:
        """Write the boxes of the assembly secret this device owes after the last fold (a
        joiner's secret, a new epoch after a removal), as a running node does."""
        if self.local is None:
            return
        try:
            self.local.keep_keys()
        except AssemblyMeshError as exc:
            self.notify(
                _("could not seal the assembly secret: {error}").format(error=exc),
                severity="warning",
            )

    def _apply(self, d: Digest) -> None:
        previous, self.digest = self.digest, d
        if previous is not None:
            for change in outcome_changes(previous, d):
                # Every screen: a toast now, and a line on the home screen for later (the
                # record keeps late objections itself; a partition's effect only this list).
                if not change.in_record:
                    self.outcome_changes.insert(0, change.text)
                self.notify(change.text, title=_("Outcome changed"), severity="warning", timeout=15)
        # A large fold is millions of long-lived objects; left to the cyclic collector,
        # every full collection walks them all and a key press that happens to trigger one
        # stalls. Frozen objects are skipped (they are still freed by reference counting).
        gc.freeze()
        me = d.state.members.get(d.me)
        self.title = d.name or _("AssemblyMesh (waiting for the assembly: sync with a member)")
        if me is None:
            said = self.local.invite_refusal() if self.local is not None else None
            refusal = None if said is None else _(said)
            self.sub_title = (
                _("not admitted yet")
                if refusal is None
                else _("refused: {reason}").format(reason=refusal)
            )
            if refusal is not None and not self._refusal_offered:
                self._refusal_offered = True
                self.offer_way_out(refusal)
        else:
            roles = d.words.roles(me.active_roles(d.now_ms))
            self.sub_title = (
                _("you: {name} ({roles})").format(name=me.name, roles=roles)
                if roles
                else _("you: {name}").format(name=me.name)
            )
        self._to_screen(StateFolded(d))

    def _to_screen(self, message: Message) -> None:
        if self.screen_stack:  # empty while the app starts or stops
            self.screen.post_message(message)

    # --- the replica and the peers -------------------------------------------------------

    @property
    def polls_store(self) -> bool:
        """Whether this app looks for other processes' changes itself (no node does it)."""
        return True

    def poll_store(self) -> None:
        """Pick up what other processes wrote to the store; the observer posts the change."""
        if self.local is None or not self.polls_store:
            return
        try:
            self.local.refresh()
        except AssemblyMeshError as exc:
            self.notify(_("could not read the store: {error}").format(error=exc), severity="error")

    def _on_record(self, event: RecordChanged) -> None:
        # Runs inside the store's write path: only post, read later in the handler.
        if event.governance:
            self.post_message(ReplicaChanged(event.local, event.count, event.authors, True))
        if event.shared:
            self.post_message(SharedChanged(event.local))
            if not event.local:
                names = self._names(event.authors)
                if not event.governance and not (self.screen_stack and self.screen.id == "draft"):
                    self.notify(
                        _("{names} edited a shared draft").format(names=names), title=_("Draft")
                    )

    def _names(self, members: Sequence[str]) -> str:
        state = self.digest.state if self.digest is not None else None
        names = [
            state.members[m].name if state is not None and m in state.members else m[:8]
            for m in members
        ]
        return ", ".join(names) or _("a peer")

    def on_replica_changed(self, message: ReplicaChanged) -> None:
        self.request_fold()
        if not message.local:
            text = ngettext(
                "{count} change from {names}", "{count} changes from {names}", message.count
            )
            self.notify(
                text.format(count=message.count, names=self._names(message.authors)),
                title=_("Received"),
            )

    def on_shared_changed(self, message: SharedChanged) -> None:
        # The draft editor (when open) is the active screen: hand it over.
        self._to_screen(SharedChanged(message.local))

    def peers_changed(self, peers: Sequence[PeerInfo]) -> None:
        self.post_message(PeersChanged(peers))

    def sync_progress(self, progress: SyncProgress) -> None:
        self.post_message(SyncProgressed(progress))

    def on_peers_changed(self, message: PeersChanged) -> None:
        self.peers = message.peers
        self._to_screen(PeersChanged(message.peers))

    def on_sync_progressed(self, message: SyncProgressed) -> None:
        self.progress = None if message.progress.finished else message.progress
        self._to_screen(SyncProgressed(message.progress))

    # --- writing -------------------------------------------------------------------------

    def write(self, command: Callable[..., Act], *args: Any) -> Recorded[Act] | None:
        """Write one act; a refused move becomes a one-line error toast, never a crash."""
        if self.local is None:
            return None
        try:
            return self.local.act(command, *args)
        except AssemblyMeshError as exc:
            message = str(exc)
            if "too long" in message:
                message = _("{problem}; the limit is {limit} characters").format(
                    problem=message, limit=format_number(MAX_TEXT_LEN)
                )
            self.notify(message, title=_("Not recorded"), severity="error")
            return None

    # --- actions -------------------------------------------------------------------------

    def action_help(self) -> None:
        from assemblymesh.tui.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def run_screen_action(self, mode: str, action: str) -> None:
        """Go to ``mode`` and run one of its screen's actions (the command palette's path)."""
        if self.local is None:
            self.notify(_("open or create an assembly first"), severity="warning")
            return

        def go() -> None:
            self.call_later(self.screen.run_action, action)

        if self.current_mode == mode:
            go()
        else:
            self.switch_mode(mode)
            self.call_after_refresh(go)


def run(home: Home, assembly: str | None = None) -> None:
    """Run the app without a network node; a start-up failure is raised, not drawn."""
    app = AssemblyApp(home, assembly)
    app.run()
    if app.startup_error is not None:
        raise app.startup_error
