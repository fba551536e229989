"""The base of the app's screens: a navigation line and a redraw from the cached digest."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static

from assemblymesh.i18n import N_, _
from assemblymesh.model import Proposal, Round
from assemblymesh.model.effect_text import effect_as_text, parse_effect
from assemblymesh.tui.bidi import display
from assemblymesh.tui.dialogs import EffectParser
from assemblymesh.tui.footer import TranslatedFooter
from assemblymesh.tui.messages import StateFolded
from assemblymesh.tui.view import Digest

if TYPE_CHECKING:
    from assemblymesh.tui.app import AssemblyApp

# (mode, key, label) for the navigation line and the app's bindings.
NAV: tuple[tuple[str, str, str], ...] = (
    ("home", "1", N_("Home")),
    ("meeting", "2", N_("Meeting")),
    ("member", "3", N_("Me")),
    ("sync", "4", N_("Sync")),
    ("history", "5", N_("History")),
    ("funds", "6", N_("Funds")),
    ("metrics", "7", N_("Metrics")),
    ("library", "8", N_("Library")),
    ("devices", "9", N_("Devices")),
)


def nav_text(current: str, width: int) -> Text:
    """The navigation line in its widest form that fits ``width`` cells: every label with
    room around it, the help and the palette keys; then set closer; then without the keys
    the footer shows too; then the other screens by number only (their names are in the
    help and the palette)."""
    forms = (  # (space around a label, between items, labels shown, tail)
        (" ", " ", True, "  " + _("? help  ctrl+p commands")),
        ("", "  ", True, "  " + _("? help  ^p")),
        ("", " ", True, "  " + _("? help")),
        ("", " ", True, ""),  # the footer still shows "? Help"
        ("", " ", False, ""),
    )
    text = Text()
    for pad, gap, labels, tail in forms:
        text = Text()
        for mode, key, english in NAV:
            label = display(_(english))
            if mode == current:
                text.append(f" {key} {label} ", style="reverse bold")
            else:
                text.append(f"{pad}{key} {label}{pad}" if labels else key)
            text.append(gap)
        text.append(tail)
        if text.cell_len <= width:
            break
    return text


class NavLine(Static):
    """Which screen this is, and the keys to the others, in words (not only colour)."""

    def __init__(self, mode: str) -> None:
        super().__init__(classes="nav")
        self.mode = mode

    def on_mount(self) -> None:
        self.update(nav_text(self.mode, self.size.width or 80))

    def on_resize(self) -> None:
        self.update(nav_text(self.mode, self.size.width))


class ReviewNotice(Static):
    """The line under the navigation while decisions wait for their review round: on every
    screen, so a review date passing is not only visible on the home screen."""

    def __init__(self) -> None:
        super().__init__(classes="notice", markup=False)
        self.display = False

    def show_for(self, digest: Digest) -> None:
        lines = []
        notice = digest.review_notice()
        if notice:
            lines.append(
                "! "
                + _("{notice}: a facilitator reviews in the meeting (2, o)").format(notice=notice)
            )
        reminder = digest.deadline_reminder()
        if reminder:
            lines.append(
                "! " + _("{reminder}: state it in My view (3, s)").format(reminder=reminder)
            )
        changed = digest.changed_notice()
        if changed:
            lines.append("! " + _("{notice}: see Home (1)").format(notice=changed))
        self.display = bool(lines)
        if lines:
            self.update(display("\n".join(lines)))


class AssemblyScreen(Screen[None]):
    """A screen that draws from ``app.digest`` whenever a fresh fold arrives or it resumes."""

    MODE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"app.switch_mode('{mode}')", label, show=False)
            for mode, key, label in NAV
        ),
        Binding("question_mark,f1", "app.help", N_("Help")),
        Binding("t", "app.toggle_theme", N_("Light/dark"), show=False),
        Binding("q", "app.quit", N_("Quit"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shown: Digest | None = None

    @property
    def am(self) -> AssemblyApp:
        return cast("AssemblyApp", self.app)

    def compose_top(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        yield NavLine(self.MODE)
        yield ReviewNotice()

    def compose_bottom(self) -> ComposeResult:
        yield TranslatedFooter()

    def on_mount(self) -> None:
        self._redraw()

    def on_screen_resume(self) -> None:
        self._redraw()

    def on_state_folded(self, message: StateFolded) -> None:
        self._redraw()

    def _redraw(self) -> None:
        digest = self.am.digest
        if digest is not None and digest is not self._shown:
            self._shown = digest
            for notice in self.query(ReviewNotice):
                notice.show_for(digest)
            self.show(digest)

    def current(self) -> tuple[Proposal | None, Round | None]:
        """The proposal the screens share as current, and its open (else latest) round."""
        d = self.am.digest
        if d is None or self.am.selected is None:
            return None, None
        p = d.state.proposals.get(self.am.selected)
        if p is None:
            return None, None
        return p, d.state.open_round_of(p.id) or d.last_round(p)

    def effect_parser(self) -> EffectParser | None:
        """Reads typed effects against the assembly as last folded (members by name)."""
        d = self.am.digest
        return partial(parse_effect, d.state) if d is not None else None

    def effects_text(self, p: Proposal) -> str:
        """The latest version's effects as typed text, one per line, to edit in an amendment."""
        d = self.am.digest
        if d is None:
            return ""
        return "\n".join(effect_as_text(d.state, e) for e in p.latest.effects)

    def show(self, digest: Digest) -> None:
        """Redraw from ``digest`` (called once per fold, not per key press)."""
