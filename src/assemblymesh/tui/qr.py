"""A QR code as text: two modules per character cell with half blocks, so it stays square;
or, where a terminal is too small for that, six (2x3) per cell with sextant blocks."""

from __future__ import annotations

import segno

QUIET = 2  # modules of quiet zone; scanners want some, terminals have little room
HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(data: str) -> list[list[bool]]:
    """The code's modules (True: dark), quiet zone included."""
    code = segno.make(data, error="L")
    matrix = [[bool(v) for v in row] for row in code.matrix]
    width = len(matrix) + 2 * QUIET
    blank = [False] * width
    rows = [blank] * QUIET + [[False] * QUIET + r + [False] * QUIET for r in matrix]
    return rows + [blank] * QUIET


def sextant(bits: int) -> str:
    """The character for a 2x3 cell whose dark modules are ``bits`` (bit 0 top left, 1 top
    right, 2 middle left, ... 5 bottom right), from Unicode's legacy computing blocks."""
    if bits == 0:
        return " "
    if bits == 0b111111:
        return "█"
    if bits == 0b010101:
        return "▌"
    if bits == 0b101010:
        return "▐"
    return chr(0x1FB00 + bits - 1 - (bits > 0b010101) - (bits > 0b101010))


def qr_lines(data: str, *, compact: bool = False) -> list[str]:
    """Dark modules drawn as ink: show on a light background (or invert the style).
    ``compact``: 2x3 modules a cell, a third fewer lines (the modules are then a little
    narrower than tall, which scanners read as they read a code seen at a slant)."""
    rows = qr_matrix(data)
    width = len(rows[0])
    if not compact:
        if len(rows) % 2:
            rows.append([False] * width)
        return [
            "".join(HALF_BLOCKS[(top[x], bottom[x])] for x in range(width))
            for top, bottom in zip(rows[::2], rows[1::2], strict=True)
        ]
    rows += [[False] * width] * (-len(rows) % 3)
    padded = [r + [False] * (width % 2) for r in rows]
    lines = []
    for y in range(0, len(padded), 3):
        line = ""
        for x in range(0, len(padded[0]), 2):
            bits = 0
            for n, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1))):
                bits |= padded[y + dy][x + dx] << n
            line += sextant(bits)
        lines.append(line)
    return lines
