"""Every action in the command palette, by name (Textual's command provider)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from assemblymesh.tui.app import AssemblyApp

# (label, help, mode, screen action or None to only go there)
ENTRIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("Go to home", "Agenda, rounds, decisions, peers", "home", None),
    ("Go to meeting", "Run the meeting as facilitator", "meeting", None),
    ("Go to my rounds", "My pending rounds and proposals", "member", None),
    ("Go to sync and peers", "Peers, last sync, changes in and out", "sync", None),
    ("Go to history", "Consent loop and audit per proposal", "history", None),
    ("Go to funds", "Ledger, balance, stewards, dissolution", "funds", None),
    ("Funds: partnerships", "Supporters, skills, sunsets", "funds", "tab('partnerships-tab')"),
    (
        "Funds: withdrawal readiness",
        "What the allies leaving would orphan",
        "funds",
        "tab('readiness-tab')",
    ),
    ("Funds: contribute", "To the chosen fund", "funds", "contribute"),
    ("Go to metrics", "Metabolism metrics with their trends, plotted", "metrics", None),
    ("Metrics: months or meetings", "Periods of a month or 4 meetings", "metrics", "toggle_period"),
    ("Filter proposals by state", "Cycle the home list's filter", "home", "cycle_filter"),
    ("Meeting: open a round", "On the chosen proposal", "meeting", "open_round"),
    ("Meeting: advance the phase", "questions, reactions, positions", "meeting", "advance"),
    ("Meeting: record a position for a member", "Provisional", "meeting", "record_position"),
    ("Meeting: close the round", "Shows the outcome", "meeting", "close_round"),
    ("Meeting: amend the proposal", "Integrate objections", "meeting", "amend"),
    ("Meeting: reject a returned proposal", "With a reason", "meeting", "reject"),
    ("State my position", "In the chosen round", "member", "state_position"),
    ("Propose", "Put a new proposal to the assembly", "member", "propose"),
    ("Amend a proposal", "A new version", "member", "amend"),
    ("Withdraw my proposal", "Only the author", "member", "withdraw"),
    ("Co-edit the draft of this proposal", "Live shared text", "member", "draft"),
    ("Co-edit a new proposal draft", "Live shared text", "member", "draft_new"),
    ("Invite someone", "One-time code and QR", "sync", "invite"),
)


def _go(app: AssemblyApp, mode: str) -> None:
    app.switch_mode(mode)


class AssemblyCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        app = cast("AssemblyApp", self.app)
        found: list[tuple[str, str, Callable[[], None]]] = []
        for label, help_text, mode, action in ENTRIES:
            if action is None:
                found.append((label, help_text, partial(_go, app, mode)))
            else:
                found.append((label, help_text, partial(app.run_screen_action, mode, action)))
        found.append(("Help: list the keys", "", app.action_help))
        found.append(("Toggle light / dark", "For light terminals", app.action_toggle_theme))
        return found

    async def discover(self) -> Hits:
        for label, help_text, command in self._commands():
            yield DiscoveryHit(label, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, command in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), command, text=label, help=help_text)
