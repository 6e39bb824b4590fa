"""One look for every figure, and one way to save it.

Series are told apart by color and line style (or hatch, for bars) together: series i gets
tab10 color i % 10 (colorblind-safe) and line style i % 4 (hatch i % 7), so 20 lines (70 bar
series) stay distinct. Figures are drawn inside ``matplotlib.rc_context(RC)`` and written by
:func:`save`, which makes the same figure the same bytes on every run: no date or software
version in the metadata, and SVG ids from a fixed salt.
"""
from __future__ import annotations

from pathlib import Path

TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
         "#bcbd22", "#17becf")
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
    return TAB10[i % len(TAB10)]


def line_style(i: int) -> str:
    return LINE_STYLES[i % len(LINE_STYLES)]


def hatch(i: int) -> str:
    return HATCHES[i % len(HATCHES)]


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
