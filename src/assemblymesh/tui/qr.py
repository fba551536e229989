"""A QR code as text: two modules per character cell with half blocks, so it stays square."""

from __future__ import annotations

import segno

QUIET = 2  # modules of quiet zone; scanners want some, terminals have little room


def qr_lines(data: str) -> list[str]:
    """Dark modules drawn as ink: show on a light background (or invert the style)."""
    code = segno.make(data, error="L")
    matrix = [[bool(v) for v in row] for row in code.matrix]
    size = len(matrix)
    width = size + 2 * QUIET
    blank = [False] * width
    rows = [blank] * QUIET + [[False] * QUIET + r + [False] * QUIET for r in matrix]
    rows += [blank] * QUIET
    if len(rows) % 2:
        rows.append(blank)
    glyph = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
    return [
        "".join(glyph[(top[x], bottom[x])] for x in range(width))
        for top, bottom in zip(rows[::2], rows[1::2], strict=True)
    ]
