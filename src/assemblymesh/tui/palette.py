"""Every action in the command palette, by name (Textual's command provider)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from assemblymesh.i18n import N_, _

if TYPE_CHECKING:
    from assemblymesh.tui.app import AssemblyApp

# (label, help, mode, screen action or None to only go there)
ENTRIES: tuple[tuple[str, str, str, str | None], ...] = (
    (N_("Go to home"), N_("Agenda, rounds, decisions, peers"), "home", None),
    (N_("Go to meeting"), N_("Run the meeting as facilitator"), "meeting", None),
    (N_("Go to my rounds"), N_("My pending rounds and proposals"), "member", None),
    (N_("Go to sync and peers"), N_("Peers, last sync, changes in and out"), "sync", None),
    (N_("Go to history"), N_("Consent loop and audit per proposal"), "history", None),
    (N_("Go to funds"), N_("Ledger, balance, stewards, dissolution"), "funds", None),
    (
        N_("Funds: partnerships"),
        N_("Supporters, skills, sunsets"),
        "funds",
        "tab('partnerships-tab')",
    ),
    (
        N_("Funds: withdrawal readiness"),
        N_("What the allies leaving would orphan"),
        "funds",
        "tab('readiness-tab')",
    ),
    (N_("Funds: contribute"), N_("To the chosen fund"), "funds", "contribute"),
    (N_("Go to metrics"), N_("Metabolism metrics with their trends, plotted"), "metrics", None),
    (
        N_("Metrics: months or meetings"),
        N_("Periods of a month or 4 meetings"),
        "metrics",
        "toggle_period",
    ),
    (N_("Filter proposals by state"), N_("Cycle the home list's filter"), "home", "cycle_filter"),
    (N_("Meeting: open a round"), N_("On the chosen proposal"), "meeting", "open_round"),
    (N_("Meeting: advance the phase"), N_("questions, reactions, positions"), "meeting", "advance"),
    (
        N_("Meeting: record a position for a member"),
        N_("Provisional"),
        "meeting",
        "record_position",
    ),
    (N_("Meeting: close the round"), N_("Shows the outcome"), "meeting", "close_round"),
    (N_("Meeting: amend the proposal"), N_("Integrate objections"), "meeting", "amend"),
    (N_("Meeting: reject a returned proposal"), N_("With a reason"), "meeting", "reject"),
    (N_("State my position"), N_("In the chosen round"), "member", "state_position"),
    (N_("Propose"), N_("Put a new proposal to the assembly"), "member", "propose"),
    (N_("Amend a proposal"), N_("A new version"), "member", "amend"),
    (N_("Withdraw my proposal"), N_("Only the author"), "member", "withdraw"),
    (N_("Co-edit the draft of this proposal"), N_("Live shared text"), "member", "draft"),
    (N_("Co-edit a new proposal draft"), N_("Live shared text"), "member", "draft_new"),
    (N_("Invite someone"), N_("One-time code and QR"), "sync", "invite"),
    (N_("Go to devices"), N_("Your devices: this one, certified, revoked"), "devices", None),
    (
        N_("Devices: pair a new device"),
        N_("A short code and QR for your new device"),
        "devices",
        "pair",
    ),
    (
        N_("Devices: revoke a lost device"),
        N_("The chosen one, after a confirmation"),
        "devices",
        "revoke",
    ),
)


def _go(app: AssemblyApp, mode: str) -> None:
    app.switch_mode(mode)


class AssemblyCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        app = cast("AssemblyApp", self.app)
        found: list[tuple[str, str, Callable[[], None]]] = []
        for label, help_text, mode, action in ENTRIES:
            if action is None:
                found.append((_(label), _(help_text), partial(_go, app, mode)))
            else:
                run = partial(app.run_screen_action, mode, action)
                found.append((_(label), _(help_text), run))
        found.append((_("Help: list the keys"), "", app.action_help))
        toggle = app.action_toggle_theme
        found.append((_("Toggle light / dark"), _("For light terminals"), toggle))
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
