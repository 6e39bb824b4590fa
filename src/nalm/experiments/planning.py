"""``nalm run --dry-run``: what a command implies, and how long it should take here.

The pending runs of a :class:`~nalm.experiments.runner.Plan` (or of a data-set experiment's
:class:`~nalm.experiments.dataset_runner.DatasetPlan`) are grouped into populations as
``execute`` groups them. Each population's cost is measured, not assumed: a sample of its
members trains on this machine (after an untimed warm-up that compiles and loads the kernels)
for 0, k and 2k steps, k doubled until the k more steps take at least
:data:`CALIBRATION_SECONDS`, which separates the cost of a step, of an evaluation and of
setting up; the formula read-back of a sample run and a sample of the untrained baselines are timed
too. Costs are scaled by member counts. Nothing is stored.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..results import ResultsStore
from ..train import train_population
from ..train.supervised import train_dataset_population
from . import dataset_runner
from .dataset_runner import DatasetPlan, DatasetRun
from .runner import Baselines, Plan, Run, populations_of, workers_for
from .workers import formula

CALIBRATION_MEMBERS = 100
"""Members a population is calibrated with at most: costs grow in proportion beyond them."""
CALIBRATION_SECONDS = 1.0
"""The steps timed by difference take at least this long (a few steps are too noisy to time)."""
FORMULA_SAMPLES = 3
"""Untrained networks whose formula read-back is timed per population (the search of every
reading is the slow case, so this errs long)."""


@dataclass(frozen=True)
class PopulationEstimate:
    """One population of the plan: its model, size, work and measured costs."""

    model: str
    members: int
    iterations: int
    evaluations: int
    step_seconds: float  # one step of the whole population
    evaluation_seconds: float  # one evaluation of the whole population
    setup_seconds: float
    formula_seconds: float  # the read-back of every member

    @property
    def model_steps(self) -> int:
        return self.members * self.iterations

    @property
    def seconds(self) -> float:
        return (self.setup_seconds + self.evaluations * self.evaluation_seconds + self.iterations * self.step_seconds
                + self.formula_seconds)


@dataclass(frozen=True)
class Estimate:
    """The plan's pending work and its measured cost on this machine."""

    experiment: str
    stored: int  # runs the store holds already (skipped)
    populations: list[PopulationEstimate]
    baseline_seconds: float  # the untrained baselines the pending runs need
    workers: int

    @property
    def members(self) -> int:
        return sum(p.members for p in self.populations)

    @property
    def model_steps(self) -> int:
        return sum(p.model_steps for p in self.populations)

    @property
    def core_seconds(self) -> float:
        return sum(p.seconds for p in self.populations) + self.baseline_seconds


def pending_runs(plan: Plan | DatasetPlan, store_path) -> tuple[list, int]:
    """The runs a store at ``store_path`` lacks (all of them without a store), and how many it
    holds. The store is only read; none is created."""
    if not Path(store_path).exists():
        return list(plan.runs), 0
    with ResultsStore(store_path) as store:
        pending = [run for run in plan.runs if not store.has(run.key)]
    return pending, len(plan.runs) - len(pending)


def estimate(plan: Plan, store_path, workers: int | None = None) -> Estimate:
    """Group the pending runs into populations and time each kind, and the baselines, on this
    machine (``workers``: as ``nalm run --workers``, None for its default)."""
    pending, stored = pending_runs(plan, store_path)
    baselines = sum(time_part(part.model, part.members, part.config)
                    for part in Baselines(plan, [run.baseline_key for run in pending]).parts())
    return Estimate(plan.experiment.name, stored, [calibrate(runs) for runs in populations_of(pending)], baselines,
                    workers or workers_for(pending))


def estimate_dataset(plan: DatasetPlan, store_path, workers: int | None = None) -> Estimate:
    """:func:`estimate` for a data-set experiment: one population per (model, target), no
    baselines; workers train whole populations side by side."""
    pending, stored = pending_runs(plan, store_path)
    keys = {run.key for run in pending}
    populations = [[run for run in group if run.key in keys] for group in plan.populations()]
    populations = [group for group in populations if group]
    default = dataset_runner.workers_for([len(group) * group[0].config.iterations for group in populations])
    return Estimate(plan.experiment.name, stored, [calibrate_dataset(plan, runs) for runs in populations], 0.0,
                    workers or default)


REPEATS = 2
"""Each calibration run is timed this many times and the fastest kept: a shared machine's
noise only ever adds time."""


def timed(train: Callable, config) -> tuple[float, list]:
    """The fastest of :data:`REPEATS` calls of ``train(config)``, and the results of the last."""
    best, results = math.inf, []
    for _ in range(REPEATS):
        start = time.perf_counter()
        results = train(config)
        best = min(best, time.perf_counter() - start)
    return best, results


def time_part(model: str, members, config) -> float:
    """Seconds to train ``members`` as ``config`` says, from a sample of at most CALIBRATION_MEMBERS."""
    sample = members[:CALIBRATION_MEMBERS]
    return timed(lambda c: train_population(model, sample, c), config)[0] * len(members) / len(sample)


@dataclass(frozen=True)
class Costs:
    """Seconds of a sample's step, evaluation and setup, and the sample's untrained results."""

    step: float
    evaluation: float
    setup: float
    untrained: list


def costs(train: Callable, config) -> Costs:
    """The costs of ``train(config)`` (a sample's training), from 0, k and 2k steps evaluated at
    the first and last step only: a step costs (T(2k) - T(k)) / k, an evaluation
    T(k) - T(0) - k·step, the setup what is left of T(0)."""
    timed(train, config.replace(iterations=2, eval_every=1))  # warm-up: the kernels compile or load
    zero, untrained = timed(train, config.replace(iterations=0))
    k = 8
    once = timed(train, config.replace(iterations=k, eval_every=k))[0]
    while True:  # until the k steps between the two runs take long enough to time (evaluations cancel)
        twice = timed(train, config.replace(iterations=2 * k, eval_every=2 * k))[0]
        if twice - once >= CALIBRATION_SECONDS or 2 * k >= config.iterations:
            break
        k, once = 2 * k, twice
    step = max(twice - once, 0.0) / k
    evaluation = max(once - zero - k * step, 0.0)
    return Costs(step, evaluation, max(zero - evaluation, 0.0), untrained)


def read_back_seconds(read: Callable, untrained: list) -> float:
    """Seconds per run of ``read(result)``, the formula read-back, timed on a few untrained results."""
    start, sampled = time.perf_counter(), untrained[:FORMULA_SAMPLES]
    for result in sampled:
        read(result)
    return (time.perf_counter() - start) / len(sampled) if sampled else 0.0


def population_estimate(runs: list, sample: list, config, measured: Costs, per_formula: float) -> PopulationEstimate:
    """A population of ``runs`` from the costs of ``sample`` of them, scaled."""
    scale = len(runs) / len(sample)
    return PopulationEstimate(runs[0].model, len(runs), config.iterations,
                              math.ceil(config.iterations / config.eval_every) + 1, measured.step * scale,
                              measured.evaluation * scale, measured.setup * scale, per_formula * len(runs))


def calibrate(runs: list[Run]) -> PopulationEstimate:
    """A synthetic population's costs, from a sample of its members (:func:`costs`)."""
    config, model = runs[0].config, runs[0].model
    sample = [run.member for run in runs[:CALIBRATION_MEMBERS]]
    measured = costs(lambda c: train_population(model, sample, c), config)
    per_formula = read_back_seconds(lambda result: formula(model, result, config), measured.untrained)
    return population_estimate(runs, sample, config, measured, per_formula)


def calibrate_dataset(plan: DatasetPlan, runs: list[DatasetRun]) -> PopulationEstimate:
    """A data-set population's costs, from a sample of its seeds (:func:`costs`)."""
    config, model, target = runs[0].config, runs[0].model, runs[0].target
    seeds = [run.seed for run in runs[:CALIBRATION_MEMBERS]]

    def train(c):
        return train_dataset_population(plan.experiment.trainable(model, target, plan.data, seeds, c), seeds, c)
    measured = costs(train, config)
    per_formula = read_back_seconds(lambda result: dataset_runner.read_back(plan.experiment, runs[0], result.weights),
                                    measured.untrained)
    return population_estimate(runs, seeds, config, measured, per_formula)
