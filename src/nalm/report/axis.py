"""A sweep's figure: success rate, solved-at, sparsity error and normalized error against the value swept.

Madsen & Johansen draw each of their sweeps this way (stable-nalu ``export/_plot_parameter.r``):
three panels, one line per model, the value swept on the x axis; a fourth draws the normalized
extrapolation error (100 = untrained baseline). Each point is one report
cell (:class:`~nalm.report.summary.Cell`) of the value's task; where a store holds runs of
several lengths of one value, the longest are drawn, as the report compares the longest
runs with published tables.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..tasks import TARGETS
from . import style
from .summary import Cell

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.figure import Figure

PANELS = (("success", "success rate (Wilson 95%)"),
          ("solved_at", "solved at iteration step\n(mean over successes, 95% CI)"),
          ("sparsity", "sparsity error\n(mean over successes)"),
          ("normalized", "normalized extrapolation error\n(median over seeds, 95% CI)"))
"""The panels: Madsen & Johansen's three, and the normalized error, which shows how close runs
came where none succeeded (short runs)."""


def point(cell: Cell, metric: str) -> tuple[float, float, float]:
    """One cell's value of ``metric`` (a :data:`PANELS` name) and its interval (nan: none).

    The solved-at mean is the middle of its Student-t interval (:func:`nalm.scoring.metrics.mean_interval`),
    or the one solved-at step where a single seed succeeded.
    """
    nan = math.nan
    if metric == "success":
        return (cell.success_rate, *cell.success_interval)
    if metric == "solved_at":
        if cell.solved_at is None:
            return nan, nan, nan
        median, low, high = cell.solved_at
        return ((low + high) / 2 if math.isfinite(low) else median), low, high
    if metric == "normalized":
        return cell.normalized_extrapolation
    return (nan if cell.sparsity_error is None else cell.sparsity_error), nan, nan


def axis_data(cells: list[Cell], values: int) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """Per (model, target): per :data:`PANELS` metric, an array ``(values, 3)`` of value, low and
    high at each value index (nan where no cell), from the longest runs of each value.

    >>> from nalm.report.summary import Cell
    >>> cell = Cell(1, "nau/nmu", "mul", 4, 0, (0, 0, 0), (0, 0, 0), 3, (0.3, 0.95), (5.0, 4.0, 8.0), 1e-4)
    >>> axis_data([cell], 2)["nau/nmu", "mul"]["solved_at"].tolist()
    [[nan, nan, nan], [6.0, 4.0, 8.0]]
    """
    longest: dict[tuple, Cell] = {}
    for cell in cells:
        key = (cell.model, cell.target, cell.task_index)
        if key not in longest or max(cell.iterations) > max(longest[key].iterations):
            longest[key] = cell
    data: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for (model, target, index), cell in longest.items():
        if index >= values:  # a task the experiment no longer has
            continue
        series = data.setdefault((model, target), {name: np.full((values, 3), np.nan) for name, _ in PANELS})
        for name, _ in PANELS:
            series[name][index] = point(cell, name)
    return data


def axis_figure(cells: list[Cell], axis, models: list[str], experiment_name: str) -> Figure:
    """The panels of :data:`PANELS` against ``axis`` (:class:`~nalm.experiments.axis.Axis`),
    one line per (model, target), models in ``models``' order."""
    import matplotlib
    from matplotlib.figure import Figure

    data = axis_data(cells, len(axis.values))
    order = {name: i for i, name in enumerate(TARGETS)}
    keys = sorted(data, key=lambda k: (models.index(k[0]) if k[0] in models else len(models), order.get(k[1], 99), k))
    one_target = len({target for _, target in keys}) == 1
    x = np.arange(len(axis.values), dtype=float) if axis.categorical else np.asarray(axis.values, dtype=float)
    spacing = float(np.min(np.diff(np.sort(x)))) if len(x) > 1 else 1.0
    dodge = 0.5 * spacing / max(len(keys), 1)  # lines side by side at each value, as the reference's figures
    with matplotlib.rc_context(style.RC):
        fig = Figure(figsize=(17, 4.2), layout="constrained")
        axes = fig.subplots(1, len(PANELS))
        for ax, (metric, title) in zip(axes, PANELS):
            for i, key in enumerate(keys):
                values = data[key][metric]
                at = x + (i - (len(keys) - 1) / 2) * dodge
                shown = np.isfinite(values[:, 0])
                label = key[0] if one_target else f"{key[0]}, {key[1]}"
                ax.plot(at[shown], values[shown, 0], color=style.color(i), linestyle=style.line_style(i),
                        marker="o", markersize=4, linewidth=1.6, label=label)
                bars = shown & np.isfinite(values[:, 1])
                ax.vlines(at[bars], values[bars, 1], values[bars, 2], color=style.color(i), alpha=0.5, linewidth=1.2)
            if not any(np.isfinite(data[key][metric][:, 0]).any() for key in keys):
                ax.text(0.5, 0.5, "no successful run", transform=ax.transAxes, ha="center", va="center", color="0.4")
            elif metric == "normalized":
                ax.set_yscale("symlog", linthresh=1e-4)  # logarithmic, with room for an exact 0
            ax.set_xlim(x.min() - 0.6 * spacing, x.max() + 0.6 * spacing)
            ax.set_title(title)
            ax.set_xlabel(axis.label)
            ax.grid(True, alpha=0.3)
            if axis.categorical:
                ax.set_xticks(x, [str(v) for v in axis.values], rotation=45 if len(axis.values) > 4 else 0,
                              ha="right" if len(axis.values) > 4 else "center")
            else:
                ax.set_xticks(x, [f"{v:g}" for v in x], rotation=45 if len(x) > 9 else 0)
        axes[0].set_ylim(-0.03, 1.03)
        for ax in axes[1:3]:
            ax.set_ylim(bottom=0)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), title="model")
        fig.suptitle(f"{experiment_name}: success, solved-at, sparsity and normalized error against {axis.label}")
    return style.fit(fig)
