"""Bar chart of decisions by chapter, drawn with Pillow into deterministic PNG bytes.

Polish labels need a TrueType font with Latin Extended-A glyphs (Pillow's bundled
font has none), so DejaVu Sans or Liberation Sans is used when installed
(fonts-dejavu-core / fonts-liberation2). The bytes are identical for identical
input on one machine image; a different font file gives a different image.
"""

from __future__ import annotations

import io

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 800
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 110, 40, 90, 150
_COLOURS = ["#2e7d32", "#9ccc65", "#c62828", "#9e9e9e", "#1565c0", "#f9a825"]


_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


@lru_cache(maxsize=16)
def _font(size: int):
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def stacked_bar_chart_png(title: str, categories: list[str], series: list[tuple[str, list[int]]]) -> bytes:
    """One stacked bar per category; `series` is [(legend label, count per category)]."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((WIDTH // 2, 28), title, fill="black", font=_font(30), anchor="mm")
    totals = [sum(values[index] for _, values in series) for index in range(len(categories))]
    top = max(totals + [1])
    scale_max = _nice_ceiling(top)
    plot_height = HEIGHT - _MARGIN_TOP - _MARGIN_BOTTOM
    plot_width = WIDTH - _MARGIN_LEFT - _MARGIN_RIGHT
    _draw_axis(draw, scale_max, plot_height)
    slot = plot_width / max(len(categories), 1)
    bar_width = max(int(slot * 0.6), 4)
    for index, category in enumerate(categories):
        x0 = int(_MARGIN_LEFT + slot * index + (slot - bar_width) / 2)
        base = HEIGHT - _MARGIN_BOTTOM
        for colour_index, (_, values) in enumerate(series):
            height = int(values[index] * plot_height / scale_max)
            if height:
                draw.rectangle([x0, base - height, x0 + bar_width, base], fill=_COLOURS[colour_index % len(_COLOURS)])
            base -= height
        draw.text((x0 + bar_width // 2, base - 14), str(totals[index]), fill="black", font=_font(18), anchor="mm")
        draw.text((x0 + bar_width // 2, HEIGHT - _MARGIN_BOTTOM + 22), _shorten(category, slot),
                  fill="black", font=_font(17), anchor="mm")
    _draw_legend(draw, [label for label, _ in series])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _nice_ceiling(value: int) -> int:
    """The top of the axis: a whole number of whole-number ticks (1, 2, 5, 10, … apart) not below `value`."""
    step = _tick_step(value)
    return max(step * -(-value // step), 1)


def _tick_step(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that needs at most five ticks to reach `value`."""
    step = 1
    while -(-value // step) > 5:
        step = step * 2 if str(step)[0] in "15" else step * 5 // 2
    return step


def _draw_axis(draw: ImageDraw.ImageDraw, scale_max: int, plot_height: int) -> None:
    """Whole-number ticks only: counts of comments have no fractions ("1, 0, 0, 0, 0" was the old axis)."""
    base = HEIGHT - _MARGIN_BOTTOM
    draw.line([_MARGIN_LEFT, _MARGIN_TOP, _MARGIN_LEFT, base], fill="black", width=2)
    draw.line([_MARGIN_LEFT, base, WIDTH - _MARGIN_RIGHT, base], fill="black", width=2)
    for value in axis_ticks(scale_max):
        y = base - plot_height * value // scale_max
        draw.line([_MARGIN_LEFT - 6, y, WIDTH - _MARGIN_RIGHT, y], fill="#dddddd" if value else "black")
        draw.text((_MARGIN_LEFT - 12, y), str(value), fill="black", font=_font(18), anchor="rm")


def axis_ticks(scale_max: int) -> list[int]:
    step = _tick_step(scale_max)
    return list(range(0, scale_max + 1, step))


def _draw_legend(draw: ImageDraw.ImageDraw, labels: list[str]) -> None:
    x = _MARGIN_LEFT
    y = HEIGHT - 50
    for index, label in enumerate(labels):
        draw.rectangle([x, y - 10, x + 20, y + 10], fill=_COLOURS[index % len(_COLOURS)])
        draw.text((x + 28, y), label, fill="black", font=_font(20), anchor="lm")
        x += 60 + int(draw.textlength(label, font=_font(20)))


def _shorten(text: str, slot: float) -> str:
    limit = max(int(slot / 9), 4)
    return text if len(text) <= limit else text[: limit - 1] + "…"
