"""A small PNG chart writer (pure Python + zlib), so the benchmark needs no plotting library.

Two log-log panels side by side: wall time and API calls of one periodic run against fleet size, one line per
series. Text is drawn with a built-in 5x7 bitmap font (upper case, digits, a little punctuation).
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
BLACK: Color = (30, 30, 30)
GRID: Color = (225, 225, 225)
AXIS: Color = (120, 120, 120)

# 5x7 glyphs, one string of 7 rows of 5 bits each.
_FONT_ROWS = {
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    " ": "00000 00000 00000 00000 00000 00000 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000",
    "=": "00000 00000 11111 00000 11111 00000 00000",
    "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000",
    "/": "00000 00001 00010 00100 01000 10000 00000",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    "%": "11000 11001 00010 00100 01000 10011 00011",
    "+": "00000 00100 00100 11111 00100 00100 00000",
    "<": "00010 00100 01000 10000 01000 00100 00010",
    ">": "01000 00100 00010 00001 00010 00100 01000",
}
FONT = {char: [row for row in rows.split()] for char, rows in _FONT_ROWS.items()}
GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7


class Canvas:
    """An RGB image in memory, with just enough drawing for a line chart."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = [bytearray(bytes(background) * width) for _ in range(height)]

    def set(self, x: int, y: int, color: Color) -> None:
        """One pixel; anything outside the image is ignored."""
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[y][3 * x : 3 * x + 3] = bytes(color)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """A filled rectangle, corners included."""
        for y in range(max(0, min(y0, y1)), min(self.height, max(y0, y1) + 1)):
            for x in range(max(0, min(x0, x1)), min(self.width, max(x0, x1) + 1)):
                self.set(x, y, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color, *, width: int = 1, dash: int = 0) -> None:
        """A straight line (Bresenham), ``width`` pixels thick, dashed every ``dash`` pixels when set."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        error, step, half = dx + dy, 0, width // 2
        while True:
            if not dash or (step // dash) % 2 == 0:
                self.rect(x0 - half, y0 - half, x0 - half + width - 1, y0 - half + width - 1, color)
            if x0 == x1 and y0 == y1:
                return
            doubled = 2 * error
            if doubled >= dy:
                error, x0 = error + dy, x0 + sx
            if doubled <= dx:
                error, y0 = error + dx, y0 + sy
            step += 1

    def text(self, x: int, y: int, text: str, color: Color = BLACK, *, scale: int = 2) -> int:
        """Draw ``text`` (upper-cased) with its top-left at (x, y); returns the width drawn."""
        cursor = x
        for char in text.upper():
            glyph = FONT.get(char, FONT[" "])
            for row, bits in enumerate(glyph):
                for column, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(
                            cursor + column * scale,
                            y + row * scale,
                            cursor + column * scale + scale - 1,
                            y + row * scale + scale - 1,
                            color,
                        )
            cursor += (GLYPH_WIDTH + 1) * scale
        return cursor - x

    def png(self) -> bytes:
        """The image as PNG bytes (8-bit RGB, no filtering)."""

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        raw = b"".join(b"\x00" + bytes(row) for row in self.pixels)
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
        )


def text_width(text: str, scale: int = 2) -> int:
    """How wide :meth:`Canvas.text` draws ``text``."""
    return len(text) * (GLYPH_WIDTH + 1) * scale


@dataclass(frozen=True)
class Series:
    """One line: (x, y) points, a color, and whether it is dashed."""

    label: str
    points: Sequence[tuple[float, float]]
    color: Color
    dashed: bool = False


def _decades(values: Sequence[float]) -> tuple[int, int]:
    positive = [v for v in values if v > 0]
    if not positive:
        return 0, 1
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    return low, max(high, low + 1)


def _number(value: float) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


def draw_panel(canvas: Canvas, box: tuple[int, int, int, int], title: str, series: Sequence[Series]) -> None:
    """One log-log panel inside ``box`` (left, top, right, bottom): grid, axes, tick labels, lines, title."""
    left, top, right, bottom = box
    plot_left, plot_top, plot_right, plot_bottom = left + 90, top + 34, right - 40, bottom - 34
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x_low, x_high = _decades(xs)
    y_low, y_high = _decades(ys)

    def px(x: float) -> int:
        return round(plot_left + (math.log10(x) - x_low) / (x_high - x_low) * (plot_right - plot_left))

    def py(y: float) -> int:
        return round(plot_bottom - (math.log10(y) - y_low) / (y_high - y_low) * (plot_bottom - plot_top))

    canvas.text(left + (right - left - text_width(title)) // 2, top + 6, title)
    for exponent in range(y_low, y_high + 1):
        y = py(10.0**exponent)
        canvas.line(plot_left, y, plot_right, y, GRID)
        label = _number(10.0**exponent)
        canvas.text(plot_left - 8 - text_width(label), y - 7, label, AXIS)
    for exponent in range(x_low, x_high + 1):
        x = px(10.0**exponent)
        canvas.line(x, plot_top, x, plot_bottom, GRID)
        label = _number(10.0**exponent)
        canvas.text(x - text_width(label) // 2, plot_bottom + 8, label, AXIS)
    canvas.line(plot_left, plot_bottom, plot_right, plot_bottom, AXIS, width=2)
    canvas.line(plot_left, plot_top, plot_left, plot_bottom, AXIS, width=2)
    for line in series:
        points = sorted((px(x), py(y)) for x, y in line.points if x > 0 and y > 0)
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            canvas.line(x0, y0, x1, y1, line.color, width=3, dash=8 if line.dashed else 0)
        for x, y in points:
            canvas.rect(x - 4, y - 4, x + 4, y + 4, line.color)


def line_chart(
    panels: Sequence[tuple[str, Sequence[Series]]], *, title: str, x_label: str, width: int = 1200, height: int = 560
) -> bytes:
    """Panels side by side, one shared title, x-axis label and legend (taken from the first panel's series)."""
    canvas = Canvas(width, height)
    canvas.text((width - text_width(title)) // 2, 10, title)
    legend_top = height - 58
    panel_width = width // max(1, len(panels))
    for index, (panel_title, series) in enumerate(panels):
        draw_panel(canvas, (index * panel_width, 34, (index + 1) * panel_width, legend_top - 20), panel_title, series)
    canvas.text((width - text_width(x_label)) // 2, legend_top - 18, x_label, AXIS)
    x = 20
    for entry in panels[0][1] if panels else ():
        canvas.line(x, legend_top + 24, x + 34, legend_top + 24, entry.color, width=3, dash=8 if entry.dashed else 0)
        x += 44 + canvas.text(x + 42, legend_top + 17, entry.label)
        x += 20
    return canvas.png()


def write_chart(path: Path, panels: Sequence[tuple[str, Sequence[Series]]], *, title: str, x_label: str) -> None:
    """Write :func:`line_chart` to ``path``."""
    path.write_bytes(line_chart(panels, title=title, x_label=x_label))
