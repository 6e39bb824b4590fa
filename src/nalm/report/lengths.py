"""The recurrent table's figure: relative error against sequence length, from the results store.

Trained for one length, a model that has learned to accumulate keeps its error flat as
sequences grow; one that has memorized the training length drifts away from it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import json
from pathlib import Path

import numpy as np
import torch

from ..results import RunRecord
from ..tasks import TARGETS, task_from_dict
from ..philox import Draws, uniform
from ..streams import FIGURE
from ..train import TrainConfig
from . import style
from .selection import built_model, rebuildable

if TYPE_CHECKING:  # matplotlib is imported only where a figure is drawn
    from matplotlib.figure import Figure

LENGTHS = (1, 3, 10, 30, 100, 300, 1000)
CLIP = 1e4  # errors above are drawn at the top, so one exploding model does not flatten the rest


def relative_errors(runs: list[RunRecord], lengths=LENGTHS, samples: int = 32) -> np.ndarray:
    """MAE / mean |target| of stored runs of one model and training config, shape
    ``(runs, lengths)``, on fresh sequences of each length from their extrapolation range.

    The runs are loaded as one population, and each run's sequences of length T are the draws
    of its seed's figure stream at step T, so a run's curve does not depend on the runs plotted
    beside it, nor on the other lengths.
    """
    first = runs[0]
    config = TrainConfig.from_dict(first.config["train"])
    tasks = [task_from_dict(run.config["task"]) for run in runs]
    stacked = {name: np.stack([run.weights[name] for run in runs]) for name in first.weights}
    net = config.load_network(built_model(first), tasks[0], stacked, members=len(runs)).double()
    out = np.empty((len(runs), len(lengths)))
    for j, length in enumerate(lengths):
        x = np.stack([task.from_uniform(uniform(Draws(run.seed, FIGURE, step=length),
                                                (samples, length, task.input_size)), extrapolation=True)
                      for run, task in zip(runs, tasks)])  # (runs, n, T, d)
        y = np.stack([TARGETS[run.target](*(task.totals_of(xi) @ task.layout(run.seed)).T)
                      for run, task, xi in zip(runs, tasks, x)])  # (runs, n)
        with torch.no_grad():
            predicted = net(torch.as_tensor(x)).squeeze(-1).numpy()
        with np.errstate(all="ignore"):
            out[:, j] = np.mean(np.abs(predicted - y), axis=1) / np.mean(np.abs(y), axis=1)
    return out


def error_by_length(runs: list[RunRecord], lengths=LENGTHS, samples: int = 32) -> dict[tuple[str, str], np.ndarray]:
    """Per (model, target): the median over seeds of the runs' :func:`relative_errors`."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for run in rebuildable(runs, "sequence length"):
        groups.setdefault((run.model, json.dumps(run.config["train"], sort_keys=True)), []).append(run)
    per_run: dict[tuple[str, str], list[np.ndarray]] = {}
    for group in groups.values():
        for run, errors in zip(group, relative_errors(group, lengths, samples)):
            per_run.setdefault((run.model, run.target), []).append(errors)
    return {key: np.median(np.stack(e), axis=0) for key, e in per_run.items()}


def plot_lengths(errors: dict[tuple[str, str], np.ndarray], lengths, train_length: int, path_stem: Path,
                 title: str) -> list[Path]:
    """:func:`lengths_figure`, saved as PNG and SVG."""
    return style.save(lengths_figure(errors, lengths, train_length, title), path_stem)


def lengths_figure(errors: dict[tuple[str, str], np.ndarray], lengths, train_length: int, title: str) -> Figure:
    """One panel per target, one curve per model; the training length marked."""
    import matplotlib
    from matplotlib.figure import Figure

    targets = [t for t in TARGETS if any(target == t for _, target in errors)]
    models = sorted({model for model, _ in errors})
    columns = min(3, len(targets))
    rows = -(-len(targets) // columns)
    with matplotlib.rc_context(style.RC):
        fig = Figure(figsize=(4.2 * columns + 1.8, 3.2 * rows + 0.8), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        for ax, target in zip(axes, targets):
            for i, model in enumerate(models):
                if (model, target) in errors:
                    curve = np.minimum(np.nan_to_num(errors[model, target], nan=np.inf), CLIP)
                    ax.plot(lengths, curve, color=style.color(i), linestyle=style.line_style(i),
                            marker="o", markersize=3, linewidth=1.8, label=model)
            ax.axvline(train_length, color="0.6", linewidth=1, linestyle=":")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(target)
            ax.grid(True, which="major", alpha=0.3)
            ax.set_xlabel("sequence length")
        for ax in axes[len(targets):]:
            ax.set_visible(False)
        for ax in axes[::columns]:
            ax.set_ylabel(f"MAE / mean |target| (clipped at {CLIP:g})")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", title="model")
        fig.suptitle(title)
    return fig


def length_figures(name: str, task, runs: list[RunRecord], log: bool = True) -> dict:
    """``lengths``: every stored run's error against sequence length (``task``, ``log``: unused,
    as every figure of :attr:`nalm.experiments.arithmetic.ArithmeticTasks.extra_figures` takes them)."""
    if not runs:
        return {}
    errors = error_by_length(runs)
    if not errors:  # no run could be rebuilt
        return {}
    train_length = task_from_dict(runs[0].config["task"]).length
    title = (f"{name}: relative error against sequence length (median over seeds; "
             f"trained on {train_length} steps, dotted)")
    return {"lengths": lengths_figure(errors, LENGTHS, train_length, title)}
