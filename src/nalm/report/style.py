"""One look for every figure, and one way to save it.

Series are told apart by color and line style (or hatch, for bars) together: series i gets
color i % 20 and line style i % 4 (hatch i % 7), so 20 series never share a color. The first
ten colors are tab10's (colorblind-safe); the next ten are hues tab10 lacks (navy, mustard,
teal, magenta, maroon) and then light tints of its first five, so that a figure of 16 models
(trask2018-identity) reuses no color.

Figures are drawn inside ``matplotlib.rc_context(RC)`` and written by :func:`save`, which
makes the same figure the same bytes on every run: no date or software version in the
metadata, and SVG ids from a fixed salt.
"""
from __future__ import annotations

from pathlib import Path

TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
         "#bcbd22", "#17becf")
COLORS = TAB10 + ("#000080", "#e6ab02", "#1b9e77", "#c51b7d", "#800000",
                  "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5")
LINE_STYLES = ("-", "--", ":", "-.")
HATCHES = ("", "//", "..", "\\\\", "xx", "oo", "++")
DPI = 150

RC = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "figure.titlesize": 12,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9, "legend.title_fontsize": 9,
    "hatch.linewidth": 0.8, "svg.hashsalt": "nalm",
}
"""Font sizes and the SVG salt, applied with :func:`matplotlib.rc_context` (no global state)."""


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def line_style(i: int) -> str:
    return LINE_STYLES[i % len(LINE_STYLES)]


def hatch(i: int) -> str:
    return HATCHES[i % len(HATCHES)]


def fit(figure, pad: float = 0.05):
    """Grow ``figure`` until everything it draws lies inside it, and return it.

    Constrained layout shrinks the axes to make room, but cannot make a title wider than the
    figure, or a color bar's label taller, fit: a small figure (one target, two models) is
    grown by what sticks out, measured on a draw, ``pad`` inches on each side.
    """
    for _ in range(3):  # a grown figure is laid out again, which can move what sticks out
        figure.draw_without_rendering()
        box = figure.get_tightbbox()  # inches, from the figure's lower left corner
        width, height = figure.get_size_inches()
        grow_x = max(0.0, pad - box.x0) + max(0.0, box.x1 - width + pad)
        grow_y = max(0.0, pad - box.y0) + max(0.0, box.y1 - height + pad)
        if grow_x <= 0.01 and grow_y <= 0.01:
            break
        figure.set_size_inches(width + grow_x, height + grow_y)
    return figure


def save(figure, path_stem) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg`` (creating the folder); return both paths."""
    import matplotlib

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.svg"]
    with matplotlib.rc_context({"svg.hashsalt": RC["svg.hashsalt"]}):
        figure.savefig(paths[0], dpi=DPI, metadata={"Software": None})
        figure.savefig(paths[1], metadata={"Date": None})
    return paths
