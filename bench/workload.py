"""The shared benchmark workload, identical to ``shared/anchors/workload.mjs``.

PRNG mulberry32, seed 42. Change i is written by writer ``i % 100`` (50 members x 2 devices).
70 % map sets (entity ``p<k>``, field ``field<j>``, 20-char value) go to the writer's member
document; 30 % text inserts (text ``t<t>`` at ``pos``, 20 chars) go to the shared document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

NWRITERS, NKEYS, NFIELDS, NTEXTS, STRLEN, SEED = 100, 10_000, 5, 1_000, 20, 42
ALPHA = "abcdefghijklmnopqrstuvwxyz0123456789"
_M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & _M32


def mulberry32(seed: int) -> Callable[[], float]:
    state = seed & _M32

    def rand() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & _M32
        t = state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & _M32
        return ((t ^ (t >> 14)) & _M32) / 4294967296

    return rand


@dataclass(frozen=True, slots=True)
class Op:
    i: int
    writer: int
    kind: str  # "map" or "text"
    target: str  # entity (map) or text name
    field: str  # field name (map) or "" (text)
    pos: int  # insert position (text) or 0
    value: str


def workload(n: int, seed: int = SEED, nwriters: int = NWRITERS) -> Iterator[Op]:
    rand = mulberry32(seed)
    lengths = [0] * NTEXTS

    def chars() -> str:
        return "".join(ALPHA[int(rand() * 36)] for _ in range(STRLEN))

    for i in range(n):
        w = i % nwriters
        if rand() < 0.7:
            k = int(rand() * NKEYS)
            j = int(rand() * NFIELDS)
            yield Op(i, w, "map", f"p{k}", f"field{j}", 0, chars())
        else:
            t = int(rand() * NTEXTS)
            pos = int(rand() * (lengths[t] + 1))
            s = chars()
            lengths[t] += STRLEN
            yield Op(i, w, "text", f"t{t}", "", pos, s)
