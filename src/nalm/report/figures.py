"""Figures from stored runs: error heatmaps, success-rate bars and extrapolation curves.

Every figure has a *data* function, which computes the numbers and can be tested on its
own, and a *plot* function, which draws them and writes ``<stem>.png`` and ``<stem>.svg``.

Matplotlib is imported only inside the plot functions (it is not a hard dependency of
nalm), and only through :class:`matplotlib.figure.Figure`: no pyplot, no global backend,
no global state beyond a scoped :func:`matplotlib.rc_context` for font sizes.

Rows are labelled by target. Like :func:`nalm.report.summarize`, the figures never pool
runs of different *settings* (task index, task config, iteration count,
:func:`nalm.report.summary.setting`): when several are present each row is one
(setting, target) pair, labelled e.g. ``"add, task 1"`` or ``"add, 20000 steps"``.
"""
from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..results import RunRecord
from ..tasks import TARGETS
from . import style
from .summary import Cell, Setting, model_order, setting

__all__ = [
    "heatmap_data", "plot_heatmap",
    "success_data", "plot_success",
    "curve_data", "plot_curves",
    "plot_all",
]

# Normalized errors (0 = perfect, 100 = untrained baseline) are shown on a log color scale
# clipped to this range; values outside take the end colors, annotations stay exact.
ERROR_RANGE = (1e-3, 1e3)
# The scale diverges here: blue below (the model learned the target, more or less), white at
# a tenth of the untrained error, red above (at 100 and beyond no better than untrained).
ERROR_NEUTRAL = 10.0
UNTRAINED = 100.0
ERROR_LABEL = "normalized error, lower is better\n100 × MAE / MAE of untrained {baseline}"
ERROR_TICKS = {1e-3: "0.001", 1e-2: "0.01", 0.1: "0.1", 1.0: "1", 10.0: "10", 100.0: "100 untrained", 1e3: "1000"}

ERROR_COLORMAP = "RdBu_r"  # diverging blue–red, colorblind-safe; its white middle is put at ERROR_NEUTRAL
MISSING_COLOR = "#c8c8c8"


# --------------------------------------------------------------------------- shared helpers


def _row_labels(keys) -> dict:
    """``{(setting, target, model): label}``: the row (a panel, a bar group) each model's runs go
    in, labelled by the target plus what tells the rows apart.

    The task is part of a row where there are several; the iterations and the learning rate
    only where some model ran a target with several (a sweep): one that comes with the model
    (``mistry2022-single`` gives each unit its own learning rate) is its column's, and its
    cells share the row of their task and target. Rows are ordered by task, iterations and
    learning rate, then targets in nalm's order (add, sub, mul, div, square, sqrt, ...),
    unknown targets by name.
    """
    keys = set(keys)
    values = defaultdict(set)  # (task, target, model, setting) -> the values it was run with
    for s, target, model in keys:
        for name in ("iterations", "lr"):
            values[(s.task_index, s.task, target, model, name)].add(getattr(s, name))
    swept = [name for name in ("iterations", "lr") if any(len(v) > 1 for k, v in values.items() if k[-1] == name)]
    order = {name: i for i, name in enumerate(TARGETS)}

    def row(key):
        s, target, _ = key
        return (s.task_index, s.task, *(getattr(s, name) for name in swept), order.get(target, len(order)), target)

    position = {r: i for i, r in enumerate(sorted({row(key) for key in keys}))}
    tasks = list(dict.fromkeys(r[:2] for r in position))
    labels = {}
    for key in keys:
        (index, task, *swept_values, _, _), parts = row(key), [key[1]]
        if len(tasks) > 1:
            versions = [t for i, t in tasks if i == index]  # one task index run with several configs
            parts.append(f"task {index}" + (f" ({versions.index(task) + 1})" if len(versions) > 1 else ""))
        parts += [f"{v} steps" if name == "iterations" else f"lr {v:g}" for name, v in zip(swept, swept_values)]
        labels[key] = (position[row(key)], ", ".join(parts))
    return {key: label for key, (_, label) in sorted(labels.items(), key=lambda item: item[1][0])}


def _cell_rows(cells: list[Cell]) -> dict:
    return _row_labels((c.setting, c.target, c.model) for c in cells)


def _short(value: float) -> str:
    """A number in 3 significant digits, for annotations: '2260' rather than '2.26e+03'; '–' if missing."""
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "inf"
    rounded = float(f"{value:.3g}")
    return f"{rounded:.0f}" if 100 <= abs(rounded) < 1e5 else f"{value:.3g}"


def _models(names, order=None) -> list[str]:
    """The models of ``names`` in ``order`` (the tables' order: an experiment's models), any other
    by name (:func:`nalm.report.summary.model_order`), so that a model keeps its color throughout."""
    return model_order(order or (), names)


def _wrap(text: str, width_inches: float) -> str:
    """``text`` wrapped to a figure ``width_inches`` wide (12 pt text: about 0.1 inch a character)."""
    return textwrap.fill(text, width=max(30, int(width_inches * 9)))


# --------------------------------------------------------------------------- heatmap


def heatmap_data(cells: list[Cell], models=None) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Median normalized errors as ``(targets, models, interpolation, extrapolation)``.

    Both matrices have shape ``(len(targets), len(models))`` and hold the median over
    seeds (``Cell.normalized_interpolation[0]`` / ``normalized_extrapolation[0]``); a
    (target, model) without a cell is NaN, a diverged median is inf. Targets are in nalm's
    target order (add, sub, mul, div, square, sqrt); models in the order of ``models`` (the
    report's tables pass their experiment's), any other by name.
    """
    rows = _cell_rows(cells)
    targets = list(dict.fromkeys(rows.values()))
    models = _models((c.model for c in cells), models)
    interpolation = np.full((len(targets), len(models)), np.nan)
    extrapolation = np.full((len(targets), len(models)), np.nan)
    for c in cells:
        i, j = targets.index(rows[(c.setting, c.target, c.model)]), models.index(c.model)
        interpolation[i, j] = c.normalized_interpolation[0]
        extrapolation[i, j] = c.normalized_extrapolation[0]
    return targets, models, interpolation, extrapolation


def _draw_error_panel(ax, matrix: np.ndarray, targets, models, title: str, norm, cmap):
    """One heatmap panel: clipped log colors, every cell annotated with its exact value."""
    shown = np.clip(np.where(np.isposinf(matrix), ERROR_RANGE[1], matrix), *ERROR_RANGE)  # 0 -> low end
    image = ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix):
        if np.isnan(value):
            color = "black"
        else:
            r, g, b, _ = cmap(norm(shown[i, j]))
            color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
        ax.text(j, i, _short(value), ha="center", va="center", fontsize=9, color=color)
    ax.set_xticks(range(len(models)), models, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(targets)), targets)
    ax.set_xticks(np.arange(len(models) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(targets) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title)
    return image


def error_colormap():
    """:data:`ERROR_COLORMAP` bent so that its white middle falls at :data:`ERROR_NEUTRAL` on the
    log scale of :data:`ERROR_RANGE`: four decades of blues below, two of reds above, so that
    0.4 is plainly blue and 95 plainly red."""
    import matplotlib
    from matplotlib.colors import LinearSegmentedColormap

    low, high = np.log10(ERROR_RANGE)
    middle = (np.log10(ERROR_NEUTRAL) - low) / (high - low)
    base = matplotlib.colormaps[ERROR_COLORMAP]
    blues, reds = np.linspace(0, middle, 128), np.linspace(middle, 1, 128)[1:]
    stops = [(x, base(0.5 * x / middle)) for x in blues] + [(x, base(0.5 + 0.5 * (x - middle) / (1 - middle)))
                                                            for x in reds]
    return LinearSegmentedColormap.from_list("nalm-error", stops).with_extremes(bad=MISSING_COLOR)


def plot_heatmap(cells: list[Cell], path_stem, title: str | None = None, baseline: str = "ReLU6 MLP",
                 models=None) -> list[Path]:
    """:func:`heatmap_figure`, written to ``<stem>.png`` and ``<stem>.svg``; returns their paths."""
    return style.save(heatmap_figure(cells, title, baseline, models), path_stem)


def heatmap_figure(cells: list[Cell], title: str | None = None, baseline: str = "ReLU6 MLP", models=None):
    """Heatmaps of the median normalized error, interpolation | extrapolation, targets × models.

    The two panels are side by side, or one above the other for more than six models; models
    in the order of ``models`` (:func:`heatmap_data`). Colors are on a log scale clipped to
    ``ERROR_RANGE``, blue where the error is low, white at ``ERROR_NEUTRAL``, red from there to
    the untrained baseline (100, marked on the color bar) and beyond; inf takes the top color
    and is annotated 'inf', a missing cell is gray and annotated '–'. The figure is grown to
    hold its title and color bar (:func:`nalm.report.style.fit`).
    """
    import matplotlib
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    if not cells:
        raise ValueError("no cells to plot")
    targets, models, interpolation, extrapolation = heatmap_data(cells, models)
    cmap = error_colormap()
    norm = LogNorm(*ERROR_RANGE)
    panel_width = 0.95 * len(models) + 0.4
    panel_height = 0.5 * len(targets) + 0.5
    labels_width = 0.08 * max(len(t) for t in targets) + 0.4
    stacked = len(models) > 6  # side by side, many models would make a figure too wide to read
    if stacked:
        size = (panel_width + labels_width + 1.9, 2 * panel_height + 2.0)
    else:
        size = (2 * panel_width + labels_width + 1.9, panel_height + 1.8)
    with matplotlib.rc_context(style.RC):
        figure = Figure(figsize=size, layout="constrained")
        axes = figure.subplots(2, 1, sharex=True) if stacked else figure.subplots(1, 2, sharey=True)
        _draw_error_panel(axes[0], interpolation, targets, models, "interpolation", norm, cmap)
        image = _draw_error_panel(axes[1], extrapolation, targets, models, "extrapolation", norm, cmap)
        if stacked:
            axes[0].tick_params(labelbottom=False)
        else:
            axes[1].tick_params(labelleft=False)
        colorbar = figure.colorbar(image, ax=list(axes), extend="both", shrink=0.9)
        colorbar.set_ticks(list(ERROR_TICKS), labels=list(ERROR_TICKS.values()))
        colorbar.ax.minorticks_off()
        colorbar.ax.axhline(UNTRAINED, color="black", linewidth=1.2)
        colorbar.set_label(ERROR_LABEL.format(baseline=baseline))
        figure.suptitle(_wrap(title or "Normalized error, median over seeds (0 = perfect, 100 = untrained)", size[0]))
        return style.fit(figure)


# --------------------------------------------------------------------------- success rate


def success_data(cells: list[Cell]) -> list[tuple[str, str, float, float, float]]:
    """``(model, target, rate, low, high)`` per cell, in the order of ``cells``.

    ``rate`` is ``Cell.success_rate`` and ``(low, high)`` the cell's Wilson 95% interval,
    all as fractions in [0, 1].
    """
    rows = _cell_rows(cells)
    return [(c.model, rows[(c.setting, c.target, c.model)], c.success_rate, *c.success_interval) for c in cells]


def plot_success(cells: list[Cell], path_stem, title: str | None = None, models=None,
                 experiment_name: str | None = None, paper_iterations: int | None = None) -> list[Path]:
    """:func:`success_figure`, written as PNG and SVG; returns the paths."""
    return style.save(success_figure(cells, title, models, experiment_name, paper_iterations), path_stem)


def no_success_note(cells: list[Cell], experiment_name: str | None = None,
                    paper_iterations: int | None = None) -> str:
    """Why a success chart is empty: the criterion, the iterations and seeds run, how high the
    Wilson intervals still reach, and the longer published protocol (``paper_iterations``) with
    the command that runs it, when the runs were shorter.

    Examples:
        >>> from nalm.report.summary import Cell
        >>> cell = Cell(task_index=0, model="nac", target="add", seeds=2, diverged=0,
        ...             normalized_interpolation=(1, 1, 1), normalized_extrapolation=(1, 1, 1), successes=0,
        ...             success_interval=(0.0, 0.658), solved_at=None, sparsity_error=None, iterations={2000})
        >>> print(no_success_note([cell], "blog-static", 100_000))
        No seed met the success threshold in 2,000 iterations.
        Success: the extrapolation MSE falls below that of a near-exact
        solution (Madsen & Johansen 2020).
        In every cell 0 of 2 seeds succeeded; the Wilson 95% interval of its rate reaches 66%.
        The published protocol runs 100,000 iterations:
        nalm run blog-static --paper-scale
    """
    iterations = sorted(set().union(*(c.iterations for c in cells)))
    seeds = sorted({c.seeds for c in cells})
    reach = max(c.success_interval[1] for c in cells)
    lines = [f"No seed met the success threshold in {' or '.join(f'{i:,}' for i in iterations)} iterations.",
             "Success: the extrapolation MSE falls below that of a near-exact",
             "solution (Madsen & Johansen 2020).",
             f"In every cell 0 of {' or '.join(map(str, seeds))} seeds succeeded; "
             f"the Wilson 95% interval of its rate reaches {100 * reach:.0f}%."]
    if paper_iterations and max(iterations) < paper_iterations:
        lines += [f"The published protocol runs {paper_iterations:,} iterations:",
                  f"nalm run {experiment_name or 'EXPERIMENT'} --paper-scale"]
    return "\n".join(lines)


def success_figure(cells: list[Cell], title: str | None = None, models=None,
                   experiment_name: str | None = None, paper_iterations: int | None = None):
    """Grouped bars of the success rate: one group per target, one bar per model (in the order
    of ``models``, any other by name).

    Each model has its own color and hatch; error bars are the Wilson 95% intervals. A 0%
    bar, which has no height, is shown as a dot of the model's color on the baseline; a
    model without a cell for a target leaves a gap. Where no seed succeeded at all, the
    figure says so and why instead (:func:`no_success_note`).
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    data = success_data(cells)
    if not data:
        raise ValueError("no cells to plot")
    if not any(c.successes for c in cells):
        with matplotlib.rc_context(style.RC):
            figure = Figure(figsize=(6.4, 2.6), layout="constrained")
            ax = figure.subplots()
            ax.set_axis_off()
            ax.text(0.5, 0.5, no_success_note(cells, experiment_name, paper_iterations), ha="center",
                    va="center", transform=ax.transAxes, linespacing=1.5,
                    bbox={"boxstyle": "round,pad=0.6", "facecolor": "#f4f4f4", "edgecolor": "#999999"})
            ax.set_title(title or "Success rate over seeds")
            return style.fit(figure)
    models = _models((d[0] for d in data), models)
    targets = list(dict.fromkeys(_cell_rows(cells).values()))
    by_key = {(model, target): (rate, low, high) for model, target, rate, low, high in data}
    width = 0.8 / len(models)
    with matplotlib.rc_context(style.RC):
        figure = Figure(figsize=(max(5.0, len(targets) * (0.28 * len(models) + 0.5) + 2.5), 4.2),
                        layout="constrained")
        ax = figure.subplots()
        for j, model in enumerate(models):
            present = [(i, by_key[(model, t)]) for i, t in enumerate(targets) if (model, t) in by_key]
            x = np.array([i for i, _ in present]) + (j - (len(models) - 1) / 2) * width
            rate = np.array([100 * v[0] for _, v in present])
            low = np.array([100 * v[1] for _, v in present])
            high = np.array([100 * v[2] for _, v in present])
            ax.bar(x, rate, width, label=model, color=style.color(j), hatch=style.hatch(j),
                   edgecolor="black", linewidth=0.6,
                   yerr=np.vstack([rate - low, high - rate]), error_kw={"capsize": 2, "elinewidth": 0.9})
            zero = rate == 0
            ax.plot(x[zero], rate[zero], "o", color=style.color(j), markeredgecolor="black", markersize=5,
                    clip_on=False, zorder=3)
        ax.set_xticks(range(len(targets)), targets)
        ax.set_xlim(-0.6, len(targets) - 0.4)
        ax.set_ylim(-3, 103)  # room for the 0% dots above the axis
        ax.axhline(0, color="black", linewidth=0.8)
        ax.yaxis.set_major_formatter(PercentFormatter(100))
        ax.set_ylabel("success rate (Wilson 95% interval)")
        ax.set_xlabel("target")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.legend(title="model", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        ax.set_title(title or "Success rate over seeds")
        return figure


# --------------------------------------------------------------------------- curves


def _percentile(sorted_values: np.ndarray, q: float) -> np.ndarray:
    """numpy's default ('linear') percentile along axis 0 of already sorted columns, inf-aware.

    ``np.percentile`` turns inf into nan when it interpolates between two infs or weights
    an inf by zero; here interpolating between x and inf gives inf only when the inf has a
    positive weight, and between inf and inf gives inf. Finite data give numpy's numbers.
    """
    position = q / 100 * (sorted_values.shape[0] - 1)
    below = int(math.floor(position))
    fraction = position - below
    low = sorted_values[below]
    high = sorted_values[min(below + 1, sorted_values.shape[0] - 1)]
    with np.errstate(invalid="ignore"):  # numpy's symmetric lerp, so that finite results match bit for bit
        if fraction < 0.5:
            mixed = low + (high - low) * fraction
        else:
            mixed = high - (high - low) * (1 - fraction)
    mixed = np.where(np.isinf(high), np.inf, mixed)  # (x, inf) with a positive weight on inf
    return np.where((fraction == 0) | (low == high), low, mixed)


def _matching_runs(runs: list[RunRecord], model: str, target: str, run_setting: Setting | None) -> list[RunRecord]:
    selected = [r for r in runs if r.model == model and r.target == target
                and (run_setting is None or setting(r) == run_setting)]
    if len({setting(r) for r in selected}) > 1:
        raise ValueError(f"runs of {model}/{target} come from several settings "
                         "(task, task config or iterations); pass run_setting")
    return selected


def curve_data(runs: list[RunRecord], model: str, target: str, run_setting: Setting | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Extrapolation MSE against step over the seeds of one (model, target).

    Returns ``(steps, median, low, high)``: per step the median over the runs and the
    25th and 75th percentiles (numpy's default linear interpolation). Only steps that
    every run evaluated are used, so runs with different evaluation grids can be mixed.

    Non-finite MSEs (nan, ±inf: a diverged run) count as +inf, the worst value, as in
    :func:`nalm.scoring.metrics.median_interval`; so the median or the band can be inf.
    (``np.percentile`` itself would return nan there, so the percentiles are computed
    here with an inf-aware interpolation that equals numpy's on finite data.)

    ``run_setting`` (a :func:`nalm.report.summary.setting` tuple) selects one setting
    when the runs hold several; it is required then, so that settings are never pooled.
    Raises ValueError when no run matches or the runs have no step in common.
    """
    selected = _matching_runs(runs, model, target, run_setting)
    if not selected:
        raise ValueError(f"no runs of {model}/{target}")
    curves = []
    for run in selected:
        values = np.asarray(run.curve["extrapolation"], dtype=np.float64)  # None -> nan
        curves.append(dict(zip(run.curve["step"], np.where(np.isfinite(values), values, np.inf))))
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    if not steps:
        raise ValueError(f"runs of {model}/{target} have no evaluation step in common")
    values = np.sort(np.array([[c[s] for s in steps] for c in curves]), axis=0)  # (runs, steps)
    return (np.asarray(steps), _percentile(values, 50), _percentile(values, 25), _percentile(values, 75))


def _thresholds(runs: list[RunRecord]) -> list[float]:
    """The distinct success thresholds stored in the runs' metrics."""
    found = {float(r.metrics["threshold"]) for r in runs if r.metrics.get("threshold") is not None}
    return sorted(t for t in found if math.isfinite(t) and t > 0)


def plot_curves(runs: list[RunRecord], path_stem, threshold_by_target: dict | None = None,
                title: str | None = None, models=None) -> list[Path]:
    """:func:`curves_figure`, written as PNG and SVG; returns the paths."""
    return style.save(curves_figure(runs, threshold_by_target, title, models), path_stem)


def curves_figure(runs: list[RunRecord], threshold_by_target: dict | None = None, title: str | None = None,
                  models=None):
    """Extrapolation MSE curves: one panel per target, one median line per model (in the order of
    ``models``, any other by name), 25–75% band.

    The y axis is logarithmic. The success threshold is drawn as a dashed line: taken from
    ``threshold_by_target[target]`` if given, else from the runs' ``metrics['threshold']``.
    Infinite values (diverged runs) are drawn at a dotted 'inf' line at the top of the
    panel and zeros at its bottom, since neither has a place on a log axis. A model whose
    runs share no evaluation step in a panel is left out of it.
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not runs:
        raise ValueError("no runs to plot")
    row_of = _row_labels((setting(r), r.target, r.model) for r in runs)
    rows = {}  # label -> (target, its runs)
    for run in runs:
        rows.setdefault(row_of[(setting(run), run.target, run.model)], (run.target, []))[1].append(run)
    rows = {label: rows[label] for label in dict.fromkeys(row_of.values())}
    models = _models((r.model for r in runs), models)
    columns = 2 if len(rows) == 4 else min(3, len(rows))
    lines = math.ceil(len(rows) / columns)
    width = 4.2 * columns + 0.4
    # the legend below the panels: as many columns as fit the width (9 pt text ~ 0.07 in a char)
    entry_width = 0.07 * max(len(m) for m in [*models, "success threshold"]) + 0.7
    legend_columns = max(1, min(len(models) + 2, int(width // entry_width)))
    legend_lines = math.ceil((len(models) + 2) / legend_columns)
    with matplotlib.rc_context(style.RC):
        figure = Figure(figsize=(width, 3.2 * lines + 0.9 + 0.22 * legend_lines), layout="constrained")
        axes = figure.subplots(lines, columns, squeeze=False).ravel()
        for ax, (label, (target, panel_runs)) in zip(axes, rows.items()):
            series = {}
            for model in models:
                try:
                    series[model] = curve_data(panel_runs, model, target)
                except ValueError:  # no runs of this model here, or no evaluation step in common
                    pass
            if threshold_by_target and threshold_by_target.get(target) is not None:
                thresholds = [float(threshold_by_target[target])]
            else:
                thresholds = _thresholds(panel_runs)
            _draw_curve_panel(ax, series, models, thresholds)
            ax.set_title(label)
        for ax in axes[len(rows):]:
            ax.set_visible(False)
        for ax in axes[:len(rows)]:
            ax.set_xlabel("step")
            ax.set_ylabel("extrapolation MSE")
        handles = [Line2D([], [], color=style.color(j), linestyle=style.line_style(j), linewidth=1.8,
                          label=m) for j, m in enumerate(models)]
        handles += [Patch(color="gray", alpha=0.25, label="25–75th percentile"),
                    Line2D([], [], color="black", linestyle="--", linewidth=1.2, label="success threshold")]
        figure.legend(handles=handles, loc="outside lower center", ncols=legend_columns)
        # Wrapped to the figure's width: a one-panel figure is narrower than a long title.
        figure.suptitle(_wrap(title or "Extrapolation MSE over training (median over seeds)", width))
        return figure


def _draw_curve_panel(ax, series: dict, models: list[str], thresholds: list[float]) -> None:
    """Median lines and bands on a log axis; inf and 0, which a log axis cannot show, are drawn
    at labelled dotted lines just above and below the data."""
    from matplotlib.ticker import EngFormatter

    values = np.concatenate([np.concatenate(s[1:]) for s in series.values()] + [np.array(thresholds)])
    shown = values[np.isfinite(values) & (values > 0)]
    low_end, high_end = (shown.min(), shown.max()) if shown.size else (1.0, 1.0)
    extremes = {"inf": high_end * 10 if np.isinf(values).any() else None,
                "0": low_end / 10 if (values <= 0).any() else None}
    floor, ceiling = extremes["0"] or low_end, extremes["inf"] or high_end
    for j, model in enumerate(models):
        if model not in series:
            continue
        steps, *curves = series[model]
        median, low, high = (np.clip(a, floor, ceiling) for a in curves)
        color = style.color(j)
        ax.fill_between(steps, low, high, color=color, alpha=0.18, linewidth=0)
        ax.plot(steps, median, color=color, linestyle=style.line_style(j), linewidth=1.8)
    for threshold in thresholds:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1.2)
    for label, level in extremes.items():
        if level is not None:
            ax.axhline(level, color="gray", linestyle=":", linewidth=1)
            ax.annotate(label, (0, level), xycoords=("axes fraction", "data"), xytext=(3, 2),
                        textcoords="offset points", fontsize=9, color="gray", va="bottom")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 80000 -> 80k
    ax.set_ylim(floor / 3, ceiling * 3)
    ax.grid(alpha=0.3, which="major")


# --------------------------------------------------------------------------- all figures


def figures_of(experiment_name: str, runs: list[RunRecord], cells: list[Cell], baseline: str = "ReLU6 MLP",
               models=None, paper_iterations: int | None = None) -> dict:
    """The heatmap, success and curves figures (``matplotlib.figure.Figure``) by name; a figure
    with nothing to show (no cells, or no runs) is left out. ``baseline`` names what normalized
    errors divide by, ``models`` the order of the models (the report's tables'), and
    ``paper_iterations`` the published protocol's length, which an empty success chart names."""
    figures = {}
    if cells:
        figures["heatmap"] = heatmap_figure(
            cells, baseline=baseline, models=models,
            title=f"{experiment_name}: normalized error, median over seeds (0 = perfect, 100 = untrained)")
        figures["success"] = success_figure(cells, f"{experiment_name}: success rate over seeds", models,
                                            experiment_name, paper_iterations)
    if runs:
        figures["curves"] = curves_figure(runs, title=f"{experiment_name}: extrapolation MSE (median over seeds)",
                                          models=models)
    return figures


def plot_all(experiment_name: str, runs: list[RunRecord], cells: list[Cell], folder,
             baseline: str = "ReLU6 MLP", models=None, paper_iterations: int | None = None) -> list[Path]:
    """Write ``<experiment>-heatmap``, ``-success`` and ``-curves`` (PNG + SVG) into ``folder``
    (:func:`figures_of`); returns the paths written."""
    folder = Path(folder)
    return [path for name, figure in figures_of(experiment_name, runs, cells, baseline, models, paper_iterations).items()
            for path in style.save(figure, folder / f"{experiment_name}-{name}")]
