"""English built from values, read back and said again in the chosen language.

Some text is built in English where it must stay English (the fold's refusals, which the
audit keeps; what ``--json`` prints), yet a person reads it too. A ``Shapes`` holds the
shapes such text takes (``"{name} is not a facilitator now"``, each marked for the
catalogue): a text that has one of them is matched, its values read back, and the shape's
translation is filled with the same values. A text no shape fits is shown as it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from functools import cached_property

from assemblymesh.i18n import _


class Shapes:
    def __init__(self, shapes: Iterable[str]) -> None:
        self.shapes = tuple(shapes)

    @cached_property
    def _patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """Each shape and the pattern that reads its values back, the most specific first
        (so ``{name} is {kind}`` is tried only after every shape with more fixed words)."""
        found = []
        for shape in self.shapes:
            parsed = list(string.Formatter().parse(shape))
            pattern = "".join(
                re.escape(literal) + (f"(?P<{field}>.+?)" if field else "")
                for literal, field, _spec, _conversion in parsed
            )
            fixed = sum(len(literal) for literal, *_rest in parsed)
            found.append((fixed, shape, re.compile(pattern, re.DOTALL)))
        found.sort(key=lambda item: -item[0])
        return tuple((shape, pattern) for _fixed, shape, pattern in found)

    def in_words(self, text: str, value: Callable[[str, str], str] | None = None) -> str:
        """``text`` in the chosen language, its values kept as they are (or as
        ``value(field, value)`` says them)."""
        for shape, pattern in self._patterns:
            match = pattern.fullmatch(text)
            if match is not None:
                found = match.groupdict()
                if value is not None:
                    found = {k: value(k, v) for k, v in found.items()}
                return _(shape).format(**found)
        return text
