"""Trask et al.'s Figure 1 from the results store: absolute error against the input value."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ..results import RunRecord
from ..tasks import task_from_dict
from ..train import TrainConfig
from . import style
from .selection import built_model, rebuildable

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.figure import Figure


def error_by_input(runs: list[RunRecord], grid: np.ndarray) -> dict[str, np.ndarray]:
    """Per model: mean over seeds of |f(x) - x| at each grid point, from the stored weights."""
    x = torch.as_tensor(grid, dtype=torch.float64).reshape(-1, 1)
    errors: dict[str, list[np.ndarray]] = {}
    for run in rebuildable(runs, "identity error"):
        config = TrainConfig.from_dict(run.config["train"])
        net = config.load_network(built_model(run), task_from_dict(run.config["task"]), run.weights).double()
        with torch.no_grad():
            errors.setdefault(run.model, []).append((net(x) - x).abs().squeeze(1).numpy())
    return {model: np.mean(e, axis=0) for model, e in errors.items()}


def identity_figure(errors: dict[str, np.ndarray], grid: np.ndarray, train_range: tuple[float, float],
                    log: bool = True) -> Figure:
    """One curve per model, told apart by color and line style (no two of 20 share a color); the
    training range shaded. The units come first, in the boldest colors, then the MLPs by name."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(style.RC):
        fig = Figure(figsize=(10, 6), layout="constrained")
        ax = fig.add_subplot()
        ax.axvspan(*train_range, color="0.9", zorder=0, label="training range")
        for i, model in enumerate(sorted(errors, key=lambda name: (name.startswith("mlp-"), name))):
            error = errors[model]
            label = model.removeprefix("mlp-")
            ax.plot(grid, error, color=style.color(i), linestyle=style.line_style(i),
                    linewidth=2.2 if not model.startswith("mlp-") else 1.5, label=label)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=_log_floor(errors))
        ax.set_xlabel("input value x")
        ax.set_ylabel("mean absolute error |f(x) − x| over seeds")
        ax.set_title("Identity function: error inside and outside the training range (Trask et al. 2018, Fig. 1)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="activation / unit")
    return fig


def _log_floor(errors: dict[str, np.ndarray]) -> float:
    """The log axis's bottom: a tenth of the lowest model's median error, so that every model's
    curve shows (a NAC near 1e-6 beside a NALU spiking to 1e3), but no lower than that, so that a
    unit exact at a single x (an error of 0 or 1e-300 there) does not stretch the axis."""
    medians = [float(np.median(e[np.isfinite(e) & (e > 0)])) for e in errors.values()
               if (np.isfinite(e) & (e > 0)).any()]
    return min(medians) / 10 if medians else 1e-12


def identity_figures(name: str, task, runs: list[RunRecord], log: bool = True) -> dict:
    """``error``: Trask et al.'s Figure 1 of the stored runs, on ``task``'s extrapolation range with
    its training range shaded (``name``: unused, as every figure of
    :attr:`nalm.experiments.arithmetic.ArithmeticTasks.extra_figures` takes it)."""
    (low, high), = task.extrapolation.intervals
    grid = np.linspace(low, high, 401)
    return {"error": identity_figure(error_by_input(runs, grid), grid, task.interpolation.intervals[0], log)}
