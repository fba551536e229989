"""First run: found an assembly, join one with an invite code, or pick one of several."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Header,
    Input,
    Label,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.widgets.option_list import Option

from assemblymesh.errors import AssemblyMeshError, InviteError
from assemblymesh.home import INVITE_PREFIX
from assemblymesh.i18n import N_, _
from assemblymesh.tui.bidi import display
from assemblymesh.tui.footer import TranslatedFooter
from assemblymesh.tui.widgets import BidiInput, BidiStatic

if TYPE_CHECKING:
    from assemblymesh.tui.app import AssemblyApp


FOCUS_MARK = "▶ "


class CodeArea(TextArea):
    """The invite code field: a pasted code replaces what is there (a second try after a
    damaged one needs no clearing), and a code over several lines arrives whole."""

    async def _on_paste(self, event: events.Paste) -> None:
        pasted = "".join(event.text.split())  # the line breaks a terminal or mail added
        if pasted.lower().startswith(INVITE_PREFIX):
            event.stop()
            event.prevent_default()
            self.load_text(pasted)
            self.move_cursor(self.document.end)
            return
        await super()._on_paste(event)


def _field(widget: Widget, label: str) -> ComposeResult:
    """A form field with its label on its frame, and the line under it for its error.
    The focused field's label is marked in words (▶), not only by colour."""
    widget.border_title = display(label)
    yield widget
    error = BidiStatic("", id=f"{widget.id}-error", classes="error field-error", markup=False)
    error.display = False
    yield error


class SetupScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f1", "app.help", N_("Help"))]

    def __init__(self, known: list[bytes], problem: str = "") -> None:
        super().__init__(id="setup")
        self.known = known
        self.problem = problem

    @property
    def am(self) -> AssemblyApp:
        return cast("AssemblyApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        with VerticalScroll(id="setup-body"):
            yield BidiStatic(
                _(
                    "Welcome to AssemblyMesh. Found a new assembly, or join one with the invite"
                    " code a member gave you. Everything stays on this computer until you sync."
                ),
                markup=False,
            )
            yield BidiStatic(self.problem, id="setup-error", classes="error", markup=False)
            with TabbedContent(initial="open" if self.known else "found"):
                if self.known:
                    with TabPane(display(_("Open")), id="open"):
                        yield Label(
                            display(_("Several assemblies live here; choose one:")), markup=False
                        )
                        yield OptionList(
                            *(Option(a.hex()[:16], id=a.hex()) for a in self.known),
                            id="known",
                        )
                with TabPane(display(_("Found")), id="found"), Vertical():
                    yield from _field(
                        BidiInput(placeholder=_("Assembly name"), id="found-name"),
                        _("Assembly name"),
                    )
                    yield from _field(
                        BidiInput(placeholder=_("Your name"), id="found-member"), _("Your name")
                    )
                    yield from _field(
                        BidiInput(placeholder=_("Charter: what the assembly is for"), id="charter"),
                        _("Charter"),
                    )
                    yield Button(display(_("Found the assembly")), variant="primary", id="found-go")
                with TabPane(display(_("Join")), id="join"), Vertical():
                    # A text area: a code pasted over several lines arrives whole.
                    area = CodeArea(id="join-code", soft_wrap=True, tab_behavior="focus")
                    yield from _field(
                        area, _("Invite code ({prefix}...), paste it here").format(prefix="am1:")
                    )
                    yield from _field(
                        BidiInput(placeholder=_("Your name"), id="join-member"), _("Your name")
                    )
                    yield Button(display(_("Join")), variant="primary", id="join-go")
        yield TranslatedFooter()

    def on_mount(self) -> None:
        # The first field takes the keys: typing starts there, not in the app's bindings.
        self._focus_first()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        title = event.widget.border_title
        if isinstance(title, str) and title and not title.startswith(FOCUS_MARK):
            event.widget.border_title = FOCUS_MARK + title

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        title = event.widget.border_title
        if isinstance(title, str) and title.startswith(FOCUS_MARK):
            event.widget.border_title = title[len(FOCUS_MARK) :]

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._focus_first()

    def _focus_first(self) -> None:
        tab = self.query_one(TabbedContent).active
        first = {"open": "#known", "found": "#found-name", "join": "#join-code"}.get(tab)
        if first is not None:
            self.call_after_refresh(self.query_one(first).focus)

    def _value(self, selector: str) -> str:
        widget = self.query_one(selector)
        if isinstance(widget, TextArea):
            return widget.text.strip()
        assert isinstance(widget, Input)
        return widget.value.strip()

    def _clear_errors(self) -> None:
        for error in self.query(".field-error"):
            assert isinstance(error, Static)
            error.update("")
            error.display = False
        self.query_one("#setup-error", Static).update(self.problem)

    def _fail(self, message: str, field: str | None = None) -> None:
        """Show ``message`` right under ``field`` (or at the top) and bring it into view."""
        self._clear_errors()
        if field is None:
            target = self.query_one("#setup-error", Static)
            target.update(message)
            target.scroll_visible()
            return
        error = self.query_one(f"#{field}-error", Static)
        error.update(message)
        error.display = True
        widget = self.query_one(f"#{field}")
        widget.focus()
        self.call_after_refresh(error.scroll_visible)

    def found(self) -> None:
        name, member = self._value("#found-name"), self._value("#found-member")
        if not name:
            self._fail(_("Give the assembly a name."), "found-name")
            return
        if not member:
            self._fail(_("Give your name in the assembly."), "found-member")
            return
        try:
            local = self.am.home.create(
                name, member, self._value("#charter"), new_id=self.am.new_id
            )
        except AssemblyMeshError as exc:
            self._fail(str(exc), "found-go")
            return
        self._done(local)

    def join(self) -> None:
        code, member = self._value("#join-code"), self._value("#join-member")
        if not code:
            self._fail(_("Paste the invite code a member gave you."), "join-code")
            return
        if not member:
            self._fail(_("Give your name in the assembly."), "join-member")
            return
        try:
            local = self.am.home.join(code, member, new_id=self.am.new_id)
        except InviteError as exc:
            self._fail(str(exc), "join-code")
            return
        except AssemblyMeshError as exc:
            self._fail(str(exc), "join-go")
            return
        self._done(local)

    def _done(self, local: object) -> None:
        from assemblymesh.home import LocalAssembly

        assert isinstance(local, LocalAssembly)
        self.app.pop_screen()
        self.am.attach(local)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "found-go":
            self.found()
        elif event.button.id == "join-go":
            self.join()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter moves to the next field, and on the last one submits the form.
        event.stop()
        order = {"found-name": "#found-member", "found-member": "#charter"}
        if event.input.id in order:
            self.query_one(order[event.input.id]).focus()
        elif event.input.id == "charter":
            self.found()
        elif event.input.id == "join-member":
            self.join()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        aid = event.option.id
        if aid is None:
            return
        try:
            local = self.am.home.open(aid, self.am.new_id)
        except AssemblyMeshError as exc:
            self._fail(str(exc), "known")
            return
        self._done(local)
