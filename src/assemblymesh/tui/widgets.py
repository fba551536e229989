"""Small widgets shared by the screens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import ConsoleRenderable
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.visual import VisualType
from textual.widgets import DataTable, Input, Static

from assemblymesh.i18n import N_, _
from assemblymesh.tui.bidi import BidiLines, display, display_text

Row = tuple[str, tuple[str, ...]]  # (key, cells)


def in_display_order(content: VisualType, markup: bool = True) -> VisualType:
    """``content`` wrapped so that each line it wraps to is drawn in display order
    (``BidiLines``); a string is read as markup or as plain text, as the Static would."""
    if isinstance(content, BidiLines) or content == "":
        return content
    if isinstance(content, str):
        content = Text.from_markup(content) if markup else Text(content)
    if isinstance(content, ConsoleRenderable):
        return BidiLines(content)
    return content


class BidiStatic(Static):
    """A Static that draws what it is given line by line in display order, so a title or a
    body in Arabic, Kurdish Sorani or Hebrew reads right to left wherever it is updated
    (``update`` and the first content both go through ``in_display_order``)."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        super().__init__(in_display_order(content, kwargs.get("markup", True)), **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(in_display_order(content, self._render_markup), layout=layout)


def cell(content: str | Text) -> Text:
    """A table cell in display order: a string as typed (never read as markup), on one line;
    a Rich ``Text`` keeping its styles."""
    if isinstance(content, str):
        return Text(display(content, "auto"), no_wrap=True, end="")
    return display_text(content)


class BidiTable(DataTable[Any]):
    """A DataTable whose column labels and cells are put in display order (as ``PagedTable``
    does for its pages): right-to-left script reads right to left in every cell."""

    def add_columns(self, *labels: Any) -> list[Any]:
        return super().add_columns(*(display(x) if isinstance(x, str) else x for x in labels))

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        shown = (cell(c) if isinstance(c, str | Text) else c for c in cells)
        return super().add_row(*shown, **kwargs)


class BidiInput(Input):
    """An Input whose grey hint is drawn in display order. What is typed stays in typing
    order while it is edited (the cursor moves through it that way); once stored it is drawn
    in display order wherever it is shown."""

    def __init__(self, value: str | None = None, placeholder: str = "", **kwargs: Any) -> None:
        super().__init__(value, placeholder=display(placeholder), **kwargs)


class PagedTable(DataTable[str | Text]):
    """A row table that holds one page of a long list at a time.

    A DataTable keeps every row it is given; with ten thousand proposals that costs on every
    refresh. This one keeps the whole list as plain tuples and gives the DataTable only the
    page in view, so a key press costs one page at most.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "next_page", N_("Next page"), show=False),
        Binding("left_square_bracket", "previous_page", N_("Previous page"), show=False),
    ]

    class Chosen(Message):
        """The highlighted row changed (``key`` is None when the list is empty)."""

        def __init__(self, table: PagedTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[str],
        *,
        page_size: int = 30,  # about a screenful: a page turn re-renders this many rows
        empty: str | None = None,  # default: "(none)"
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._column_names = tuple(columns)
        self.page_size = page_size
        self.empty = empty if empty is not None else _("(none)")
        self._rows: list[Row] = []
        self.page = 0
        self._last_key: str | None = None

    def on_mount(self) -> None:
        self.add_columns(*(display(name) for name in self._column_names))
        self._show_page(self.page, 0)

    # --- data --------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self._rows)

    @property
    def pages(self) -> int:
        return max(1, -(-len(self._rows) // self.page_size))

    @property
    def current_key(self) -> str | None:
        if not self._rows:
            return None
        index = self.page * self.page_size + self.cursor_row
        return self._rows[index][0] if 0 <= index < len(self._rows) else None

    def set_rows(self, rows: Sequence[Row], keep: str | None = None) -> None:
        """Replace the list; the cursor stays on ``keep`` (default: the current row) if present."""
        keep = self.current_key if keep is None else keep
        self._rows = list(rows)
        index = 0
        if keep is not None:
            # A linear scan of plain tuples: cheap next to a fold, and only run per fold.
            for i, (key, _cells) in enumerate(self._rows):
                if key == keep:
                    index = i
                    break
        self._show_page(index // self.page_size, index % self.page_size)

    def _show_page(self, page: int, row: int) -> None:
        if not self.columns:
            self.page = page
            return
        self.page = max(0, min(page, self.pages - 1))
        start = self.page * self.page_size
        chunk = self._rows[start : start + self.page_size]
        self.clear()
        if chunk:
            for key, cells in chunk:
                # Text, not str: a str cell is parsed as markup, which costs on every page
                # and would eat "[y]es" in a title a member typed. Right-to-left script is
                # put in display order here, for every table.
                self.add_row(*(cell(c) for c in cells), key=key)
            self.move_cursor(row=max(0, min(row, len(chunk) - 1)), animate=False)
        else:
            # The note goes in the widest column: a long first cell would widen a narrow one.
            blank = [""] * len(self._column_names)
            blank[min(1, len(blank) - 1)] = self.empty
            self.add_row(*blank, key="")
        self._update_subtitle()
        self._announce()

    def _update_subtitle(self) -> None:
        if self.total > self.page_size:
            first = self.page * self.page_size + 1
            last = min(self.total, first + self.page_size - 1)
            self.border_subtitle = _("{first}-{last} of {total}  [ ] pages").format(
                first=first, last=last, total=self.total
            )
        else:
            self.border_subtitle = f"{self.total}"

    def _announce(self) -> None:
        key = self.current_key
        if key != self._last_key:
            self._last_key = key
            self.post_message(self.Chosen(self, key))

    # --- keys --------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self._announce()

    def action_next_page(self) -> None:
        if self.page + 1 < self.pages:
            self._show_page(self.page + 1, 0)

    def action_previous_page(self) -> None:
        if self.page > 0:
            self._show_page(self.page - 1, self.page_size - 1)

    def action_cursor_down(self) -> None:
        if self.cursor_row >= self.row_count - 1 and self.page + 1 < self.pages:
            self._show_page(self.page + 1, 0)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and self.page > 0:
            self._show_page(self.page - 1, self.page_size - 1)
        else:
            super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.cursor_row >= self.row_count - 1:
            self.action_next_page()
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row <= 0:
            self.action_previous_page()
        else:
            super().action_page_up()
