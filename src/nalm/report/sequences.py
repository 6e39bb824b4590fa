"""Reports of the data-set experiments: for the digit sequences and programs, per target, model
and test length, the success rate against the solved model's threshold
(:mod:`nalm.scoring.sequences`), the median MAE and the mean accuracy, and a figure of error
against sequence length; for the number words, the MAE per split and the learning curves.
Success rates carry 95% Wilson intervals.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scoring import metrics as M
from ..results import RunRecord
from ..scoring.sequences import SolvedBound, lengths_of, solved_bound


@dataclass(frozen=True)
class LengthCell:
    """One (target, model, length) of the table, over seeds."""

    target: str
    model: str
    length: int
    runs: int
    diverged: int
    successes: int | None  # None: no threshold (fewer than two solved runs)
    median_mae: float
    median_relative_mae: float
    mean_accuracy: float
    accumulators: int | None = None  # runs whose cell reads back as the solved accumulator; None: no cell
    bound: SolvedBound | None = None  # the target's, one object shared by its cells; None: not judged

    @property
    def threshold(self) -> float | None:
        return None if self.bound is None else self.bound.thresholds.get(self.length)

    @property
    def success_rate(self) -> float | None:
        return None if self.successes is None else self.successes / self.runs

    def as_row(self) -> dict:
        return {"target": self.target, "model": self.model, "length": self.length, "runs": self.runs,
                "diverged": self.diverged, "successes": self.successes, "success_rate": self.success_rate,
                "threshold_mse": self.threshold, "median_mae": self.median_mae,
                "median_relative_mae": self.median_relative_mae, "mean_accuracy": self.mean_accuracy,
                "cell_is_accumulator": self.accumulators,
                "threshold_seeds": None if self.bound is None else self.bound.kept}


def summarize_lengths(runs: list[RunRecord]) -> list[LengthCell]:
    cells = []
    for target in dict.fromkeys(run.target for run in runs):
        bound = solved_bound(runs, target)
        bound = bound if bound.thresholds else None
        for model in dict.fromkeys(run.model for run in runs if run.target == target):
            group = [run for run in runs if run.target == target and run.model == model]
            read = [run.metrics["formula_is_accumulator"] for run in group if "formula_is_accumulator" in run.metrics]
            accumulators = sum(read) if read else None
            for length in lengths_of(group[0]):
                mse = np.array([_metric(run, f"mse_{length}") for run in group])
                mae = np.array([_metric(run, f"mae_{length}") for run in group])
                relative = np.array([_metric(run, f"relative_mae_{length}") for run in group])
                accuracy = np.array([_metric(run, f"accuracy_{length}", 0.0) for run in group])
                threshold = None if bound is None else bound.thresholds.get(length)
                successes = None if threshold is None else int(np.sum(mse < threshold))
                cells.append(LengthCell(target, model, length, len(group), sum(run.diverged for run in group),
                                        successes, float(M.median_interval(mae)[0]),
                                        float(M.median_interval(relative)[0]), float(np.mean(accuracy)), accumulators,
                                        bound))
    return cells


def _metric(run: RunRecord, name: str, missing: float = math.inf) -> float:
    value = run.metrics.get(name)
    return missing if value is None or not math.isfinite(value) else float(value)


def render_lengths(cells: list[LengthCell], published=(), column: str = "length") -> str:
    """A table per target: rows are models, columns the test lengths (``column`` names them)."""
    lines = []
    bounds = {cell.target: cell.bound for cell in cells}
    for target, judged in bounds.items():
        mine = [cell for cell in cells if cell.target == target]
        lengths = sorted({cell.length for cell in mine})
        read_back = any(cell.accumulators is not None for cell in mine)
        lines += [f"### {target}", "",
                  (f"Success rate (successes/runs at the best validation step, against the solved model's threshold "
                   f"from the {judged.kept} of its {judged.solved} seeds that solved the task), " if judged else "")
                  + f"median MAE and mean accuracy of the final output, per test {column}"
                  + ("; and the seeds whose cell reads back as the solved accumulator, h + x or h·x "
                     "(`nalm explain RUN_ID`)" if read_back else "") + ":", "",
                  "| model | " + " | ".join(f"{column} {n}" for n in lengths)
                  + (" | cell = accumulator |" if read_back else " |"),
                  "|---|" + "---|" * (len(lengths) + read_back)]
        for model in dict.fromkeys(cell.model for cell in mine):
            row = {cell.length: cell for cell in mine if cell.model == model}
            first = next(iter(row.values()))
            diverged = max(cell.diverged for cell in row.values())
            name = model + (f" ({diverged} diverged)" if diverged else "")
            read = "–" if first.accumulators is None else f"{first.accumulators}/{first.runs}"
            lines.append(f"| {name} | " + " | ".join(_cell_text(row.get(n)) for n in lengths)
                         + (f" | {read} |" if read_back else " |"))
        for figure in published:
            if figure.target == target:
                lines += ["", f"Published ({figure.source}; {figure.note}), {figure.metric.replace('_', ' ')}:", "",
                          "| model | " + " | ".join(f"{column} {n}" for n in lengths) + " |",
                          "|---|" + "---|" * len(lengths)]
                for model, values in figure.values.items():
                    lines.append(f"| {model} | " + " | ".join("–" if n not in values else f"{values[n]:.1f}"
                                                              for n in lengths) + " |")
        lines.append("")
    if not lines:
        return "No stored runs.\n"
    return "\n".join(lines) + "\n"


def _cell_text(cell: LengthCell | None) -> str:
    if cell is None:
        return "–"
    errors = f"MAE {cell.median_mae:.3g}; acc {cell.mean_accuracy:.0%}"
    return errors if cell.successes is None else f"{cell.successes}/{cell.runs}; {errors}"


RELATIVE_CLIP = 1e4
"""Relative errors above are drawn at the top, so that one exploding model does not flatten the rest."""


def error_by_length_figure(cells: list[LengthCell], title: str, xlabel: str = "sequence length"):
    """Median relative MAE of the final output (MAE / mean |answer|) against test length, one
    panel per target: a model that accumulates keeps it flat as sequences grow."""
    import matplotlib
    from matplotlib.figure import Figure

    from . import style

    targets = list(dict.fromkeys(cell.target for cell in cells))
    with matplotlib.rc_context(style.RC):
        figure = Figure(figsize=(4.2 * len(targets), 3.4), layout="constrained")
        axes = figure.subplots(1, len(targets), squeeze=False)[0]
        for ax, target in zip(axes, targets):
            mine = [cell for cell in cells if cell.target == target]
            for i, model in enumerate(dict.fromkeys(cell.model for cell in mine)):
                points = sorted((cell.length, min(cell.median_relative_mae, RELATIVE_CLIP))
                                for cell in mine if cell.model == model)
                ax.plot(*zip(*points), marker="o", color=style.color(i), linestyle=style.line_style(i), label=model)
            ax.set(xscale="log", yscale="log", xlabel=xlabel, title=target,
                   ylabel=f"MAE / mean |answer| (median, ≤ {RELATIVE_CLIP:g})")
            ax.legend()
        figure.suptitle(title)
    return figure


@dataclass(frozen=True)
class SplitCell:
    """One model of the translation table, over seeds: median MAE per split at the best validation step."""

    model: str
    runs: int
    diverged: int
    mae: dict[str, float]  # split -> median MAE
    mean_accuracy: float  # test numbers exactly right, after rounding

    def as_row(self) -> dict:
        return {"model": self.model, "runs": self.runs, "diverged": self.diverged,
                **{f"median_{split}_mae": value for split, value in self.mae.items()},
                "mean_test_accuracy": self.mean_accuracy}


SPLITS = ("train", "valid", "test")


def summarize_splits(runs: list[RunRecord]) -> list[SplitCell]:
    cells = []
    for model in dict.fromkeys(run.model for run in runs):
        group = [run for run in runs if run.model == model]
        mae = {split: float(M.median_interval(np.array([_metric(run, f"{split}_mae") for run in group]))[0])
               for split in SPLITS}
        accuracy = float(np.mean([_metric(run, "test_accuracy", 0.0) for run in group]))
        cells.append(SplitCell(model, len(group), sum(run.diverged for run in group), mae, accuracy))
    return cells


def render_splits(cells: list[SplitCell]) -> str:
    if not cells:
        return "No stored runs.\n"
    lines = ["MAE (median over seeds, at each seed's best validation step) and the share of test numbers "
             "exactly right after rounding (mean over seeds):", "",
             "| model | runs | train MAE | validation MAE | test MAE | test accuracy |", "|---|---|---|---|---|---|"]
    for cell in cells:
        runs = f"{cell.runs}" + (f" ({cell.diverged} diverged)" if cell.diverged else "")
        lines.append(f"| {cell.model} | {runs} | " + " | ".join(f"{cell.mae[s]:.3g}" for s in SPLITS)
                     + f" | {cell.mean_accuracy:.0%} |")
    return "\n".join(lines) + "\n"


def curves_figure(runs: list[RunRecord], metric: str, title: str):
    """Median over seeds of a stored curve (``metric``, e.g. ``valid_mae``) against the step, per model."""
    import matplotlib
    from matplotlib.figure import Figure

    from . import style

    models = list(dict.fromkeys(run.model for run in runs))
    with matplotlib.rc_context(style.RC):
        figure = Figure(figsize=(5.5, 3.6), layout="constrained")
        ax = figure.subplots()
        for i, model in enumerate(models):
            group = [run for run in runs if run.model == model]
            steps = group[0].curve["step"]
            values = np.array([run.curve[metric] for run in group if run.curve["step"] == steps], dtype=float)
            ax.plot(steps, np.nanmedian(values, axis=0), color=style.color(i), linestyle=style.line_style(i),
                    label=model)
        ax.set(yscale="log", xlabel="step", ylabel=metric.replace("_", " ") + " (median over seeds)")
        ax.legend()
        figure.suptitle(title)
    return figure
