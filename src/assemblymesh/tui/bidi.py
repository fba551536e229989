"""Right-to-left text in display order.

Neither Textual nor Rich reorders text: they draw characters left to right in the order they
are stored, so a title in Arabic, Kurdish Sorani or Hebrew would read backwards on screen.
Text is stored in logical order (as typed); these helpers turn it into visual order with the
Unicode bidirectional algorithm (python-bidi), at the last moment before drawing:

- ``display(text)`` for a plain string drawn on one line (a table cell, a list item);
- ``display_wrapped(text, width)`` for a string a widget wraps itself (a toast);
- ``BidiLines(renderable)`` for a panel: it lets Rich wrap the renderable in logical order
  (so a sentence wraps at its end, not its start) and then reorders each drawn line, keeping
  every character's style.

Direction controls and other control characters are neutralised first: titles and bodies
that carry them are refused when they are signed (``model.acts.text_problem``), and what
else is drawn (names, device names) is cleaned here, so no stored text can reorder the text
around it.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Iterable
from typing import Any

from bidi import algorithm
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from assemblymesh import i18n
from assemblymesh.model.acts import BIDI_CONTROLS

# Bidirectional classes of the characters written right to left.
_RIGHT_TO_LEFT_CLASSES = frozenset({"R", "AL"})
REPLACEMENT = "\ufffd"


def neutralise(text: str) -> str:
    """``text`` without direction controls or control characters (each becomes U+FFFD,
    so something visibly stood there); line breaks and tabs stay."""
    if text.isprintable():
        return text
    return "".join(
        REPLACEMENT
        if char in BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char not in "\n\t")
        else char
        for char in text
    )


def has_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in _RIGHT_TO_LEFT_CLASSES for char in text)


def base_direction() -> str | None:
    """The paragraph direction: right to left when the interface is, else from the text."""
    return "R" if i18n.is_right_to_left() else None


def visual_order(text: str, base_dir: str | None = None) -> list[tuple[int, bool]]:
    """The indices of ``text``'s characters (one line) in the order they are drawn, left to
    right, each with whether it is drawn right to left (rules L1 and L2 of the
    bidirectional algorithm; the second tells rule L4 which brackets to mirror)."""
    storage: dict[str, Any] = algorithm.get_empty_storage()
    if base_dir is None:
        base_level = algorithm.get_base_level(text)
    else:
        base_level = algorithm.PARAGRAPH_LEVELS[base_dir]
    storage["base_level"] = base_level
    storage["base_dir"] = ("L", "R")[base_level]
    algorithm.get_embedding_levels(text, storage)
    for index, char in enumerate(storage["chars"]):
        char["index"] = index
    algorithm.explicit_embed_and_overrides(storage)
    algorithm.resolve_weak_types(storage)
    algorithm.resolve_neutral_types(storage, False)
    algorithm.resolve_implicit_levels(storage, False)
    algorithm.reorder_resolved_levels(storage, False)
    return [(char["index"], char["level"] % 2 == 1) for char in storage["chars"]]


def _mirrored(char: str, rtl: bool) -> str:
    return algorithm.MIRRORED.get(char, char) if rtl and unicodedata.mirrored(char) else char


def display(text: str, base_dir: str | None = None) -> str:
    """``text`` neutralised and, when it holds right-to-left script or the interface is
    right to left, in the order it is drawn, line by line."""
    text = neutralise(text)
    # "auto": each line takes the direction of its first strong letter (a table cell).
    base = None if base_dir == "auto" else (base_dir or base_direction())
    if base is None and not has_right_to_left(text):
        return text
    return "\n".join(_display_line(line, base) for line in text.split("\n"))


def display_wrapped(text: str, width: int) -> str:
    """``text`` for a box ``width`` cells wide that wraps what it is given (a toast): when it
    is reordered, it is wrapped first, in logical order, so that each drawn line reads on
    from the one above; each line is then in display order. Otherwise as ``display``."""
    text = neutralise(text)
    if base_direction() is None and not has_right_to_left(text):
        return text
    lines = [piece for line in text.split("\n") for piece in textwrap.wrap(line, width) or [""]]
    return display("\n".join(lines))


def _display_line(line: str, base: str | None) -> str:
    if not line or (base != "R" and not has_right_to_left(line)):
        return line
    order = visual_order(line, base)
    return "".join(_mirrored(line[i], rtl) for i, rtl in order)


def display_text(text: Text, base_dir: str | None = None) -> Text:
    """A one-line Rich ``Text`` in display order, each character keeping its style."""
    plain = neutralise(text.plain)
    base = base_dir or base_direction()
    if "\n" in plain or (base is None and not has_right_to_left(plain)):
        return text if plain == text.plain else Text(plain, style=text.style)
    styles: list[list[str | Style]] = [[] for _char in plain]
    for span in text.spans:
        for i in range(span.start, min(span.end, len(plain))):
            styles[i].append(span.style)
    result = Text(style=text.style, justify=text.justify, end=text.end)
    for i, rtl in visual_order(plain, base):
        style = sum((Style.parse(s) if isinstance(s, str) else s for s in styles[i]), Style())
        result.append(_mirrored(plain[i], rtl), style)
    return result


def reorder_line(line: Iterable[Segment], base_dir: str | None) -> list[Segment]:
    """One drawn line of segments in display order, each character keeping its style."""
    chars: list[tuple[str, Style | None]] = []
    controls: list[Segment] = []
    for segment in line:
        if segment.control:
            controls.append(segment)
            continue
        chars.extend((char, segment.style) for char in segment.text)
    plain = "".join(char for char, _style in chars)
    if base_dir != "R" and not has_right_to_left(plain):
        return [*controls, *(Segment(c, s) for c, s in chars)]
    order = visual_order(plain, base_dir)
    segments = [Segment(_mirrored(plain[i], rtl), chars[i][1]) for i, rtl in order]
    return [*controls, *Segment.simplify(segments)]


class BidiLines:
    """Draws ``renderable`` wrapped as usual, then each line in display order.

    ``base_dir`` ``"R"`` sets the paragraph direction; None takes the interface's (each line
    its own, from its first strong letter, in a left-to-right interface). ``"auto"`` is for
    what members wrote (a proposal's body): each paragraph of a ``Text`` takes the direction
    of its first strong letter before it is wrapped, so an English paragraph in an Arabic
    interface keeps its full stop at its end and an Arabic one reads from the right. A
    ``Group`` is drawn child by child, and a ``BidiLines`` inside keeps its own direction.
    """

    def __init__(self, renderable: RenderableType, base_dir: str | None = None) -> None:
        self.renderable = renderable
        self.base_dir = base_dir

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self._draw(console, options, self.renderable)

    def _draw(
        self, console: Console, options: ConsoleOptions, renderable: RenderableType
    ) -> RenderResult:
        if isinstance(renderable, Group):
            # Children one after another, as the Group draws them (each its own height).
            for child in renderable.renderables:
                yield from self._draw(console, options.update(height=None), child)
            return
        if isinstance(renderable, BidiLines):
            yield from renderable.__rich_console__(console, options)
            return
        if self.base_dir == "auto" and isinstance(renderable, Text):
            for paragraph in renderable.split("\n", allow_blank=True):
                rtl = bool(algorithm.get_base_level(paragraph.plain))
                base = "R" if rtl else "L"
                yield from self._lines(console, options.update(height=None), paragraph, base)
            return
        yield from self._lines(console, options, renderable, self.base_dir or base_direction())

    @staticmethod
    def _lines(
        console: Console, options: ConsoleOptions, renderable: RenderableType, base: str | None
    ) -> RenderResult:
        new_line = Segment.line()
        for line in console.render_lines(renderable, options, pad=base == "R"):
            if base is None:
                # A paragraph takes the direction of its first strong letter.
                plain = "".join(segment.text for segment in line if not segment.control)
                direction = "R" if algorithm.get_base_level(plain) else None
                yield from reorder_line(line, direction)
            else:
                yield from reorder_line(line, base)
            yield new_line
