"""Summaries of stored runs: one row per (setting, model, target), computed, never printed here.

A setting is a task (with its ranges), an iteration count and a learning rate: runs of one
experiment made with other ranges, lengths or rates are never pooled into one median. Runs
whose data were drawn by different generators are refused altogether (:func:`one_generator`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..explain import READBACK_VERSION
from ..results import RunRecord
from ..scoring import metrics as M
from .selection import version_label


def task_key(task: dict) -> str:
    """A stored task config as one string: equal exactly when the tasks are the same."""
    return json.dumps(task, sort_keys=True)


class Setting(NamedTuple):
    """What must agree for runs to be pooled into one cell (hashable and ordered: a stable key)."""

    task_index: int
    task: str  # the task's config, as :func:`task_key`
    iterations: int
    lr: float


@dataclass
class Cell:
    """The aggregate of one (task, model, target) over its seeds."""

    task_index: int
    model: str
    target: str
    seeds: int
    diverged: int
    normalized_interpolation: tuple[float, float, float]  # median, low, high
    normalized_extrapolation: tuple[float, float, float]
    successes: int
    success_interval: tuple[float, float]
    solved_at: tuple[float, float, float] | None  # median, and a mean interval low/high, over successes
    sparsity_error: float | None  # mean over successful runs
    iterations: set = field(default_factory=set)
    task: dict = field(default_factory=dict)  # the task's stored config
    setting: Setting | None = None
    formulas: int | None = None  # seeds whose network computes the target exactly (None: see formula_matches)
    run_ids: tuple = ()  # the runs' ids, best first (by_extrapolation)
    solved_at_mean: float | None = None  # the mean of solved_at's interval
    sparsity_interval: tuple[float, float] | None = None  # sparsity_error's Student-t 95% interval
    extrapolation_mae: tuple[float, float, float] | None = None  # the final model's extrapolation MAE: median,
    # low, high (infinite for a diverged run, as its final model is nan); None where a run has none stored
    extrapolation_mse: tuple[float, float, float] | None = None  # likewise its extrapolation MSE
    best_extrapolation_mse: tuple[float, float, float] | None = None  # the extrapolation MSE success is judged
    # on (at the best interpolation step): median, low, high; infinite for a run that has none

    @property
    def success_rate(self) -> float:
        return self.successes / self.seeds

    @property
    def best_run(self) -> int | None:
        """The id of the run of lowest normalized extrapolation error (``nalm explain`` it)."""
        return self.run_ids[0] if self.run_ids else None

    @property
    def median_run(self) -> int | None:
        """The id of the run at the median normalized extrapolation error (the better of the two
        middle runs of an even count)."""
        return self.run_ids[(len(self.run_ids) - 1) // 2] if self.run_ids else None

    def as_row(self) -> dict:
        """The cell as one row of ``summary.csv`` and of :meth:`nalm.Results.summary`: counts as
        ints, numbers as floats, ``None`` where there is none (no success, no formula read back)."""
        return {
            "task_index": self.task_index, "model": self.model, "target": self.target, "seeds": self.seeds,
            "diverged": self.diverged,
            "normalized_interpolation_median": self.normalized_interpolation[0],
            "normalized_interpolation_low": self.normalized_interpolation[1],
            "normalized_interpolation_high": self.normalized_interpolation[2],
            "normalized_extrapolation_median": self.normalized_extrapolation[0],
            "normalized_extrapolation_low": self.normalized_extrapolation[1],
            "normalized_extrapolation_high": self.normalized_extrapolation[2],
            "success_rate": self.success_rate, "success_low": self.success_interval[0],
            "success_high": self.success_interval[1],
            "solved_at_median": None if self.solved_at is None else self.solved_at[0],
            "sparsity_error_mean": self.sparsity_error,
            "formula_matches": self.formulas,
            "iterations": max(self.iterations),  # one: the setting's
            "median_run": self.median_run, "best_run": self.best_run,
        }


OLD_GENERATOR = "PCG64 (before philox4x32-10)"
"""How reports name the generator of runs stored without one: numpy's PCG64 streams, which drew
every task's numbers before :data:`nalm.philox.GENERATOR`."""


def generator_name(config: dict) -> str:
    """The generator that drew a stored run's data, as reports name it."""
    generator = config.get("generator")
    return OLD_GENERATOR if generator is None else f"{generator['name']} version {generator['version']}"


def one_generator(configs) -> None:
    """Raise a ValueError when run configs name more than one generator.

    Runs drawn by different generators saw other numbers than a rerun of their configs would
    give them, so one table or figure of them could not be reproduced from one code version.
    """
    generators = {json.dumps(c.get("generator"), sort_keys=True): c for c in configs}
    if len(generators) > 1:
        names = sorted({generator_name(c) for c in generators.values()})
        if len(names) < len(generators):  # same name and version, other details
            names = sorted(generators)
        raise ValueError(f"the runs were drawn by {len(generators)} generators ({'; '.join(names)}), which one "
                         "report cannot mix: report each from its own store, or rerun the older runs")


def one_version_per_model(runs) -> None:
    """Raise a ValueError when the runs of one model come from two versions of a unit from outside
    nalm (``custom_units`` in their configs): their seeds would be pooled into one median.
    :func:`nalm.report.selection.select` keeps one version, or names each by version."""
    versions: dict[str, set] = {}
    for run in runs:
        versions.setdefault(run.model, set()).add(version_label(run.config))
    for model, labels in versions.items():
        if len(labels) > 1:
            raise ValueError(f"the runs of {model} come from {len(labels)} versions of its units' source "
                             f"({', '.join(sorted(map(str, labels)))}), which one table cannot pool: select the "
                             "current version or name each by version (nalm.report.selection.select, `--versions`)")


def one_table(configs) -> None:
    """Raise a ValueError when run configs cannot share one table: drawn by more than one
    generator (:func:`one_generator`), normalized by more than one baseline (an RNN baseline's
    readout init changed), or trained by more than one of the fused step, autograd and the Triton
    kernel (they agree to rounding, so a table of both would count a seed run twice). Versions of
    a unit from outside nalm may share a table, one model each (:mod:`nalm.report.selection`)."""
    configs = list(configs)
    one_generator(configs)
    for key, value, made in MIXES:
        if len({value(c) for c in configs}) > 1:
            raise ValueError(f"the runs were {made} (config {key!r}), which one report cannot mix: report each from its "
                             "own store, or delete the older runs (nalm runs delete) and rerun")


MIXES = (  # what a table's runs must share: (config key, its value in a config, what differs when it is not shared)
    ("baseline", lambda c: json.dumps(c.get("baseline"), sort_keys=True),
     "normalized by the errors of different baselines"),
    ("fused", lambda c: c.get("train", {}).get("fused", True), "trained both by the fused step and by autograd"),
    ("kernel", lambda c: c.get("train", {}).get("kernel"), "trained both by the Triton kernel and by the default step"),
)


def formula_matches(metrics: list[dict]) -> int | None:
    """How many runs' networks compute the target exactly, by their formulas read back; None when
    no run has a formula, or when one was read back by an earlier version of ``explain``
    (:data:`nalm.explain.READBACK_VERSION`), whose count meant something else."""
    checked = [m for m in metrics if m.get("formula_matches") is not None]
    if not checked or any(m.get("formula_readback", 1) != READBACK_VERSION for m in checked):
        return None
    return sum(m["formula_matches"] for m in checked)


def setting(run: RunRecord) -> Setting:
    """The run's :class:`Setting`."""
    config = run.config
    train = config["train"]
    return Setting(config["task_index"], task_key(config.get("task", {})), train["iterations"], train.get("lr", 0.0))


def summarize(runs: list[RunRecord]) -> list[Cell]:
    """Group runs by (setting, model, target) and aggregate them over seeds."""
    one_table(run.config for run in runs)
    one_version_per_model(runs)
    groups: dict[tuple, list[RunRecord]] = {}
    for run in runs:
        groups.setdefault((setting(run), run.model, run.target), []).append(run)
    cells = []
    for (run_setting, model, target), group in sorted(groups.items()):
        metrics = [r.metrics for r in group]
        successes = [m for m in metrics if m["success"]]
        solved = [m["solved_at"] for m in successes if m["solved_at"] is not None]
        solved_mean = M.mean_interval(solved) if solved else None
        # nan for a unit with no weight to measure (a unit of one's own): no sparsity error, as no weight
        sparsity = [m["sparsity_error"] for m in successes
                    if m["sparsity_error"] is not None and math.isfinite(m["sparsity_error"])]
        sparsity_mean = M.mean_interval(sparsity) if sparsity else None
        cells.append(Cell(
            task_index=run_setting.task_index, model=model, target=target, seeds=len(group),
            diverged=sum(r.diverged for r in group),
            normalized_interpolation=M.median_interval([m["normalized_interpolation"] for m in metrics]),
            normalized_extrapolation=M.median_interval([m["normalized_extrapolation"] for m in metrics]),
            successes=len(successes), success_interval=M.wilson_interval(len(successes), len(group)),
            solved_at=(float(np.median(solved)), *solved_mean[1:]) if solved else None,
            sparsity_error=sparsity_mean[0] if sparsity else None,
            iterations={run_setting.iterations}, task=json.loads(run_setting.task), setting=run_setting,
            formulas=formula_matches(metrics),
            run_ids=tuple(run.run_id for run in by_extrapolation(group)),
            solved_at_mean=solved_mean[0] if solved else None,
            sparsity_interval=sparsity_mean[1:] if sparsity else None,
            extrapolation_mae=final_error(group, "extrapolation_mae"),
            extrapolation_mse=final_error(group, "extrapolation_mse"),
            best_extrapolation_mse=scored_error(group),
        ))
    return cells


def final_error(runs: list[RunRecord], name: str) -> tuple[float, float, float] | None:
    """The median over ``runs`` of a final model's error ``name`` (e.g. ``extrapolation_mae``),
    with its interval; a diverged run's is infinite, as :func:`~nalm.scoring.success.score`
    ranks its normalized errors. None when a run has none stored."""
    if any(run.metrics.get(name) is None for run in runs):
        return None
    return M.median_interval([math.inf if run.diverged else run.metrics[name] for run in runs])


def scored_error(runs: list[RunRecord]) -> tuple[float, float, float]:
    """The median over ``runs`` of the extrapolation MSE at each run's best interpolation step
    (the one :func:`~nalm.scoring.success.score` judges success on), with its interval; a run
    with no scored evaluation counts as infinite."""
    values = [run.metrics.get("best_extrapolation_mse") for run in runs]
    return M.median_interval([math.inf if v is None else v for v in values])


def by_extrapolation(runs: list[RunRecord]) -> list[RunRecord]:
    """Runs from the lowest normalized extrapolation error to the highest (nan last), ties by id."""
    def key(run):
        error = run.metrics.get("normalized_extrapolation")
        error = math.inf if error is None or math.isnan(error) else error
        return error, run.run_id or 0

    return sorted(runs, key=key)


def baseline_name(model: str) -> str:
    """How reports name the untrained baseline that normalized errors divide by."""
    return {"mlp-relu6": "ReLU6 MLP", "lstm": "LSTM"}.get(model, model)


def model_order(declared, names) -> list[str]:
    """The models of ``names`` in the one order every table and figure of a report uses: those of
    ``declared`` (an experiment's models, as its paper lists them) in that order, then any other
    by name.

    Examples:
        >>> model_order(("mlp-relu6", "nac", "nalu"), ["nalu", "nau", "mlp-relu6", "nalu"])
        ['mlp-relu6', 'nalu', 'nau']
    """
    names = set(names)
    return [m for m in dict.fromkeys(declared) if m in names] + sorted(names - set(declared))
