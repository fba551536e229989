"""The HTML report: self-contained, escaped, one SVG chart a metric; and, rendered by a real
browser (headless Chromium), the charts are in the page and painted."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assemblymesh.model import metrics as M
from assemblymesh.report import BAR, Minutes, minutes_of, render_html
from tests.model.garden import MINUTES, at, fold_garden, garden

REQUIRE_BROWSER = "ASSEMBLYMESH_REQUIRE_BROWSER"  # set by .ci/run: a missing browser fails
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


HOSTILE = '<script>alert("x")</script><svg onload=alert(1)>'


def report(
    minutes: tuple[Minutes, ...] | None = None,
    hostile: bool = False,
    shared: Callable[[str], str] = lambda meeting: "",
) -> str:
    """The worked example's report, with the minutes of its meetings (the shared text of
    each as ``shared`` gives it) unless ``minutes`` are given; with ``hostile``, the seed
    library's title and the assembly's name are markup."""
    w = garden()
    state = fold_garden(w)
    metrics = M.compute(state)
    if minutes is None:
        minutes = tuple(minutes_of(state, shared))
    if hostile:
        assert state.assembly is not None
        seeds = next(p for p in state.proposals.values() if p.title == "Seed library")
        state = dataclasses.replace(
            state,
            assembly=dataclasses.replace(state.assembly, name=HOSTILE),
            proposals={**state.proposals, seeds.id: dataclasses.replace(seeds, title=HOSTILE)},
        )
    return render_html(state, metrics, minutes)


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.marks: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "svg":
            self.open.append(a.get("data-metric") or "")
        if self.open and "mark" in (a.get("class") or "").split():
            self.marks[self.open[-1]] = self.marks.get(self.open[-1], 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self.open:
            self.open.pop()


def parsed(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


# --- the page as written ---------------------------------------------------------------------


def test_the_report_has_one_chart_a_metric_with_a_mark_a_period_that_has_a_value() -> None:
    page = parsed(report())
    charts = [a["data-metric"] for tag, a in page.tags if tag == "svg"]
    assert charts == [
        "facilitators",
        "top_facilitator_share",
        "new_voices",
        "own_initiatives",
        "reliance_on_outsiders",
        "adopted_from_others",
        "adopted_by_others",
    ]
    # Reliance has no value in April; adopted by others is zero in every month.
    assert page.marks == {
        "facilitators": 4,
        "top_facilitator_share": 4,
        "new_voices": 4,
        "own_initiatives": 4,
        "reliance_on_outsiders": 3,
        "adopted_from_others": 4,
        "adopted_by_others": 4,
    }


def test_the_report_fetches_nothing_and_runs_nothing() -> None:
    page = report()
    tags = {tag for tag, _ in parsed(page).tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    addresses = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert addresses == {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched


def test_the_report_lists_the_decisions_and_the_minutes_of_the_period() -> None:
    page = report(shared=lambda meeting: "Notes as they stand.")
    decisions = page[page.index('id="decisions"') : page.index('id="minutes"')]
    assert decisions.count("<tr>") == 1 + 4  # the heading and D1..D4
    for title in ("Give Sam standing", "Buy a shed", "Compost bins", "Seed library"):
        assert title in decisions
    minutes = page[page.index('id="minutes"') :]
    assert minutes.count('<article class="meeting">') == 7
    assert "2026-03-11, The shed: Meeting of 11 Mar" in minutes
    assert html.escape(MINUTES) in minutes  # the sealed text, not the shared one
    assert minutes.count("Notes as they stand.") == 6  # the others are not sealed
    assert "(sealed, edited since the seal)" in minutes
    assert minutes.count("(not sealed)") == 6


def test_a_window_of_the_report_holds_only_its_decisions_and_minutes() -> None:
    state = fold_garden(garden())
    since, until = at(3, 1, 0), at(4, 1, 0)
    metrics = M.window(M.compute(state), since, until)
    page = render_html(state, metrics, minutes_of(state, lambda m: MINUTES, since, until),
                       since, until)  # fmt: skip
    assert [a["data-metric"] for tag, a in parsed(page).tags if tag == "svg"][:1] == [
        "facilitators"
    ]
    assert "2026-03 to 2026-03" in page
    decisions = page[page.index('id="decisions"') : page.index('id="minutes"')]
    assert "Compost bins" in decisions and "Buy a shed" not in decisions
    assert page.count('<article class="meeting">') == 2
    assert "(sealed)" in page  # the shared text is the sealed one: not edited since


def test_text_from_the_record_cannot_inject_markup() -> None:
    hostile_minutes = Minutes(at(3, 11), HOSTILE, HOSTILE, HOSTILE, HOSTILE)
    page = report((hostile_minutes,), hostile=True)
    assert "<script" not in page and page.count("&lt;script&gt;alert") >= 6
    assert all("onload" not in a for _, a in parsed(page).tags)


# --- the page as a browser shows it ----------------------------------------------------------


def browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_browser(exe: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB or RGBA PNG, unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    rows: list[bytes] = []
    prior = bytearray(width * size)
    stride = width * size + 1
    for y in range(height):
        kind, line = raw[y * stride], bytearray(raw[y * stride + 1 : (y + 1) * stride])
        for i in range(len(line)):
            left = line[i - size] if i >= size else 0
            up, corner = prior[i], prior[i - size] if i >= size else 0
            line[i] = (line[i] + _predict(kind, left, up, corner)) & 0xFF
        rows.append(bytes(line))
        prior = line
    return width, height, [bytes(r[i : i + 3]) for r in rows for i in range(0, len(r), size)]


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 0:
        return 0
    if kind == 1:
        return left
    if kind == 2:
        return up
    if kind == 3:
        return (left + up) // 2
    p = left + up - corner
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
    return left if pa <= pb and pa <= pc else up if pb <= pc else corner


@pytest.fixture
def chromium() -> str:
    exe = browser()
    if exe is None:
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"no Chromium on PATH, and {REQUIRE_BROWSER} says this run needs it")
        pytest.skip("no Chromium here (.ci/run installs the Debian package 'chromium')")
    return exe


def test_chromium_renders_every_chart_into_the_page(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report(), encoding="utf-8")
    result = run_browser(chromium, tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    dom = parsed(result.stdout.decode())
    charts = [a for tag, a in dom.tags if tag == "svg"]
    assert len(charts) == 7
    assert sum(dom.marks.values()) == 4 * 6 + 3


def test_chromium_paints_the_charts(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report(), encoding="utf-8")
    shot = tmp_path / "report.png"
    result = run_browser(
        chromium, tmp_path, "--hide-scrollbars", "--window-size=900,3600",
        f"--screenshot={shot}", page.as_uri(),
    )  # fmt: skip
    assert result.returncode == 0 and shot.exists(), result.stderr.decode(errors="replace")[-2000:]
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (900, 3600)
    bar = bytes.fromhex(BAR.removeprefix("#"))
    painted = sum(1 for px in pixels if px == bar)
    blank = bytes((255, 255, 255))
    assert painted > 5_000, f"only {painted} pixels in the charts' colour"
    assert sum(1 for px in pixels if px != blank) > painted
