"""Funds: each fund's ledger, its balance over time, the steward rotation and the countdown
to dissolution; the partnerships; and the withdrawal-readiness report (three tabs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Sparkline, Static, TabbedContent, TabPane

from assemblymesh.i18n import N_, _, format_date, format_number, ngettext
from assemblymesh.model import acts as A
from assemblymesh.model import commands, fund_commands
from assemblymesh.model import funds as F
from assemblymesh.model import rules as R
from assemblymesh.tui.base import AssemblyScreen
from assemblymesh.tui.bidi import display
from assemblymesh.tui.dialogs import ConfirmDialog
from assemblymesh.tui.funds_view import (
    balance_samples,
    fund_rows,
    fund_summary,
    ledger_text,
    partnerships_text,
    readiness_text,
)
from assemblymesh.tui.view import Digest, when
from assemblymesh.tui.widgets import BidiInput, BidiStatic, PagedTable
from assemblymesh.utc import DAY_FORMAT, parse_utc


@dataclass(frozen=True)
class AmountInput:
    amount: int
    text: str


class AmountDialog(ModalScreen[AmountInput | None]):
    """An amount and one line of text (a note, or whom a disbursement pays)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, heading: str, text_hint: str, *, text_missing: str | None = None) -> None:
        """``text_missing``: what to say when the text is left empty (None: it may be)."""
        super().__init__()
        self.heading = heading
        self.text_hint = text_hint
        self.text_missing = text_missing

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            yield BidiInput(placeholder=_("Amount (a whole number)"), id="amount", type="integer")
            yield BidiInput(placeholder=self.text_hint, id="text")
            yield BidiStatic("", id="error", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#amount", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "amount":
            self.query_one("#text", Input).focus()
            return
        raw = self.query_one("#amount", Input).value.strip()
        text = self.query_one("#text", Input).value.strip()
        if not raw.isdigit() or int(raw) < 1:
            self.query_one("#error", Static).update(_("Give an amount of at least 1."))
            return
        if self.text_missing is not None and not text:
            self.query_one("#error", Static).update(self.text_missing)
            return
        self.dismiss(AmountInput(int(raw), text))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DateDialog(ModalScreen[int | None]):
    """A date, YYYY-MM-DD (UTC midnight, in ms)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, heading: str) -> None:
        super().__init__()
        self.heading = heading

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(display(self.heading), classes="dialog-title", markup=False)
            yield BidiInput(placeholder=_("YYYY-MM-DD"), id="date")
            yield BidiStatic("", id="error", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#date", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        day = parse_utc(event.value, DAY_FORMAT)
        if day is None:
            self.query_one("#error", Static).update(_("Give the date as YYYY-MM-DD."))
            return
        self.dismiss(day)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FundsScreen(AssemblyScreen):
    MODE = "funds"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "tab('funds-tab')", N_("Funds")),
        Binding("p", "tab('partnerships-tab')", N_("Partnerships")),
        Binding("r", "tab('readiness-tab')", N_("Readiness")),
        Binding("c", "contribute", N_("Contribute")),
        Binding("d", "disburse", N_("Disburse (steward)")),
        Binding("s", "shorten", N_("Propose an earlier dissolution")),
        Binding("l", "lengthen", N_("Propose LENGTHENING")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.chosen: str | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_top()
        with TabbedContent(id="funds-tabs", initial="funds-tab"):
            with TabPane(display(_("Funds")), id="funds-tab"), Horizontal(id="funds-body"):
                yield PagedTable(
                    (_("Fund"), _("Balance"), _("Steward"), _("Dissolves")),
                    id="fund-table",
                    empty=_("(no funds)"),
                )
                with VerticalScroll(id="fund-scroll"):
                    yield BidiStatic(_("No fund chosen."), id="fund-summary", markup=False)
                    yield Label(
                        display(_("Balance over time:")), id="fund-plot-label", markup=False
                    )
                    yield Sparkline([0.0], id="fund-plot")
                    yield BidiStatic("", id="fund-ledger", markup=False)
            with TabPane(display(_("Partnerships")), id="partnerships-tab"), VerticalScroll():
                yield BidiStatic("", id="partnerships", markup=False)
            with TabPane(display(_("Readiness")), id="readiness-tab"), VerticalScroll():
                yield BidiStatic("", id="readiness", markup=False)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.query_one("#fund-table", PagedTable).border_title = display(_("Funds"))
        super().on_mount()

    def show(self, digest: Digest) -> None:
        state = digest.state
        table = self.query_one("#fund-table", PagedTable)
        table.set_rows(fund_rows(state), keep=self.chosen)
        if self.chosen not in state.funds:
            self.chosen = table.current_key
        self._draw_fund()
        self.query_one("#partnerships", Static).update(partnerships_text(state))
        self.query_one("#readiness", Static).update(readiness_text(state))

    def _draw_fund(self) -> None:
        d = self.am.digest
        fund = d.state.funds.get(self.chosen) if d is not None and self.chosen else None
        plot = self.query_one("#fund-plot", Sparkline)
        if d is None or fund is None:
            self.query_one("#fund-summary", Static).update(
                _(
                    "No funds yet. A decision with an {effect} effect establishes one ({command})."
                ).format(effect="establish-fund", command="assemblymesh fund propose ...")
            )
            plot.display = False
            self.query_one("#fund-plot-label", Label).display = False
            return
        self.query_one("#fund-plot-label", Label).display = True
        plot.display = True
        plot.data = balance_samples(fund, d.now_ms)
        top = max(plot.data)
        self.query_one("#fund-plot-label", Label).update(
            display(
                _("Balance over time, 0 to {top} {unit}, from {start} to {end}:").format(
                    top=format_number(round(top)),
                    unit=fund.unit,
                    start=when(fund.established_ts),
                    end=when(min(d.now_ms, fund.dissolved_ts or fund.dissolves_ts)),
                )
            )
        )
        self.query_one("#fund-summary", Static).update(fund_summary(d.state, fund))
        self.query_one("#fund-ledger", Static).update(ledger_text(d.state, fund))

    def on_paged_table_chosen(self, message: PagedTable.Chosen) -> None:
        if message.key and message.key != self.chosen:
            self.chosen = message.key
            self._draw_fund()

    def action_tab(self, tab: str) -> None:
        self.query_one("#funds-tabs", TabbedContent).active = tab

    def action_contribute(self) -> None:
        fund = self._fund_or_say()
        if fund is None:
            return
        name, unit = fund

        def contribute(given: AmountInput | None) -> None:
            if given is not None and self.am.write(
                fund_commands.contribute, self.chosen, given.amount, given.text
            ):
                self.notify(
                    _("Contributed {amount} {unit} to {name}").format(
                        amount=given.amount, unit=unit, name=name
                    )
                )

        heading = _("Contribute to {name} ({unit})").format(name=name, unit=unit)
        dialog = AmountDialog(heading, _("A note (optional)"))
        self.app.push_screen(dialog, callback=contribute)

    def action_disburse(self) -> None:
        fund = self._fund_or_say()
        if fund is None:
            return
        name, unit = fund

        def disburse(given: AmountInput | None) -> None:
            if given is not None and self.am.write(
                fund_commands.disburse, self.chosen, given.amount, given.text
            ):
                self.notify(
                    _("Disbursed {amount} {unit} from {name}").format(
                        amount=given.amount, unit=unit, name=name
                    )
                )

        dialog = AmountDialog(
            _("Disburse from {name} ({unit}); above the threshold it takes a decision").format(
                name=name, unit=unit
            ),
            _("Who or what is paid"),
            text_missing=_("Give who or what is paid."),
        )
        self.app.push_screen(dialog, callback=disburse)

    def _propose(self, title: str, body: str, effect: A.Effect) -> None:
        if self.am.write(commands.propose, title, body, [effect]):
            self.notify(
                _("Proposed: {title}. The assembly decides in a consent round.").format(title=title)
            )

    def action_shorten(self) -> None:
        fund = self._chosen_fund()
        if fund is None:
            return

        def shorten(day: int | None) -> None:
            if day is None:
                return
            if day >= fund.dissolves_ts:
                self.notify(
                    _(
                        "{day} is not earlier than {dissolves}: to lengthen"
                        " the fund's life, press l (a proposal of its own)"
                    ).format(day=F.day(day), dissolves=F.day(fund.dissolves_ts)),
                    severity="error",
                )
                return
            effect = A.ShortenFundEffect(fund=fund.id, dissolves=day)
            text = _("Dissolve {name} on {day}, not {dissolves}.").format(
                name=repr(fund.name), day=F.day(day), dissolves=F.day(fund.dissolves_ts)
            )
            self._propose(_("Dissolve {name} earlier").format(name=fund.name), text, effect)

        heading = _("Dissolve {name} earlier than {dissolves}: on").format(
            name=fund.name, dissolves=F.day(fund.dissolves_ts)
        )
        dialog = DateDialog(heading)
        self.app.push_screen(dialog, callback=shorten)

    def action_lengthen(self) -> None:
        fund = self._chosen_fund()
        if fund is None:
            return

        def confirmed(day: int, yes: bool | None) -> None:
            if yes:
                effect = A.LengthenFundEffect(fund=fund.id, dissolves=day)
                text = _("Lengthen the life of {name} to {day}.").format(
                    name=repr(fund.name), day=F.day(day)
                )
                title = _("LENGTHEN {name} to {day}").format(name=fund.name, day=F.day(day))
                self._propose(title, text, effect)

        def ask(day: int | None) -> None:
            if day is None:
                return
            if day <= fund.dissolves_ts:
                self.notify(
                    _("{day} is not later: press s to shorten").format(day=format_date(day)),
                    severity="error",
                )
                return
            more = (day - fund.dissolves_ts) // R.DAY_MS
            warning = ngettext(
                "This LENGTHENS the life of {name} by {count} day, from {start} to {end}."
                " It is a proposal of its own, with nothing else in it, and needs its own"
                " consent round.",
                "This LENGTHENS the life of {name} by {count} days, from {start} to {end}."
                " It is a proposal of its own, with nothing else in it, and needs its own"
                " consent round.",
                more,
            ).format(
                name=fund.name,
                count=format_number(more),
                start=format_date(fund.dissolves_ts),
                end=format_date(day),
            )
            dialog = ConfirmDialog(
                _("Propose lengthening {name}?").format(name=fund.name),
                warning=warning,
                anyway=_("Yes, lengthen it"),
            )
            self.app.push_screen(dialog, callback=lambda yes: confirmed(day, yes))

        heading = _("Lengthen the life of {name} to").format(name=fund.name)
        self.app.push_screen(DateDialog(heading), callback=ask)

    def _chosen_fund(self) -> F.Fund | None:
        d = self.am.digest
        fund = d.state.funds.get(self.chosen) if d is not None and self.chosen else None
        if fund is None:
            self.notify(_("Choose a fund first"), severity="warning")
        return fund

    def _fund_or_say(self) -> tuple[str, str] | None:
        fund = self._chosen_fund()
        return None if fund is None else (fund.name, fund.unit)
