"""First run: found an assembly, join one with an invite code, or pick one of several."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from assemblymesh.errors import AssemblyMeshError

if TYPE_CHECKING:
    from assemblymesh.tui.app import AssemblyApp


class SetupScreen(Screen[None]):
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
            yield Static(
                "Welcome to AssemblyMesh. Found a new assembly, or join one with the invite "
                "code a member gave you. Everything stays on this computer until you sync.",
                markup=False,
            )
            with TabbedContent(initial="open" if self.known else "found"):
                if self.known:
                    with TabPane("Open", id="open"):
                        yield Label("Several assemblies live here; choose one:")
                        yield OptionList(
                            *(Option(a.hex()[:16], id=a.hex()) for a in self.known),
                            id="known",
                        )
                with TabPane("Found", id="found"), Vertical():
                    yield Input(placeholder="Assembly name", id="found-name")
                    yield Input(placeholder="Your name", id="found-member")
                    yield Input(placeholder="Charter: what the assembly is for", id="charter")
                    yield Button("Found the assembly", variant="primary", id="found-go")
                with TabPane("Join", id="join"), Vertical():
                    yield Input(placeholder="Invite code (am1:...)", id="join-code")
                    yield Input(placeholder="Your name", id="join-member")
                    yield Button("Join", variant="primary", id="join-go")
            yield Static(self.problem, id="setup-error", classes="error", markup=False)
        yield Footer()

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _fail(self, message: str) -> None:
        self.query_one("#setup-error", Static).update(message)

    def found(self) -> None:
        try:
            local = self.am.home.create(
                self._value("#found-name"),
                self._value("#found-member"),
                self._value("#charter"),
                new_id=self.am.new_id,
            )
        except AssemblyMeshError as exc:
            self._fail(str(exc))
            return
        self._done(local)

    def join(self) -> None:
        try:
            local = self.am.home.join(
                self._value("#join-code"), self._value("#join-member"), new_id=self.am.new_id
            )
        except AssemblyMeshError as exc:
            self._fail(str(exc))
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
        order = {
            "found-name": "#found-member",
            "found-member": "#charter",
            "join-code": "#join-member",
        }
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
            self._fail(str(exc))
            return
        self._done(local)
