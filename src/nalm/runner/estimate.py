"""``nalm run --dry-run``: what a command implies, and how long it should take here.

The pending runs of a :class:`~nalm.runner.plan.Plan` are grouped into populations as
:func:`~nalm.runner.execute.execute` groups them. Each population's cost is measured, not assumed: a sample of its
members trains on this machine (after an untimed warm-up that compiles and loads the kernels)
for 0, k and 2k steps, k doubled until the k more steps take at least
:data:`CALIBRATION_SECONDS`, which separates the cost of a step, of an evaluation and of
setting up; the formula read-back of a sample run and a sample of what scoring needs first (the
untrained baselines) are timed too. Costs are scaled by member counts. Nothing is stored.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..results import ResultsStore
from ..train import train
from .execute import part_of, workers_for
from .parts import Part
from .plan import Plan, populations_of

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


def pending_runs(plan: Plan, store_path) -> tuple[list, int]:
    """The runs a store at ``store_path`` lacks (all of them without a store), and how many it
    holds. The store is only read; none is created."""
    if not Path(store_path).exists():
        return list(plan.runs), 0
    with ResultsStore(store_path, readonly=True) as store:
        stored = store.intact_keys(plan.experiment.name)
    pending = [run for run in plan.runs if run.key not in stored]
    return pending, len(plan.runs) - len(pending)


def estimate(plan: Plan, store_path, workers: int | None = None) -> Estimate:
    """Group the pending runs into populations and time each kind, and what scoring needs first,
    on this machine (``workers``: as ``nalm run --workers``, None for its default)."""
    pending, stored = pending_runs(plan, store_path)
    needed = sum(time_part(part) for part in plan.scoring.scorer(pending).parts)
    return Estimate(plan.experiment.name, stored, [calibrate(plan, runs) for runs in populations_of(pending)], needed,
                    workers or workers_for(plan.experiment.workload, pending))


REPEATS = 2
"""Each calibration run is timed this many times and the fastest kept: a shared machine's
noise only ever adds time."""


def timed(training: Callable, config) -> tuple[float, list]:
    """The fastest of :data:`REPEATS` calls of ``training(config)``, and the results of the last."""
    best, results = math.inf, []
    for _ in range(REPEATS):
        start = time.perf_counter()
        results = training(config)
        best = min(best, time.perf_counter() - start)
    return best, results


def sampled(part: Part, config=None) -> Part:
    """``part`` with at most :data:`CALIBRATION_MEMBERS` of its members (and ``config``, if given)."""
    return dataclasses.replace(part, members=part.members[:CALIBRATION_MEMBERS], config=config or part.config)


def time_part(part: Part) -> float:
    """Seconds to train ``part`` as its config says, from a sample of at most CALIBRATION_MEMBERS."""
    sample = sampled(part)
    return timed(lambda c: train(part.workload.population(sampled(part, c))), part.config)[0] * part.size / sample.size


@dataclass(frozen=True)
class Costs:
    """Seconds of a sample's step, evaluation and setup, and the sample's untrained results."""

    step: float
    evaluation: float
    setup: float
    untrained: list


def costs(training: Callable, config) -> Costs:
    """The costs of ``training(config)`` (a sample's training), from 0, k and 2k steps evaluated at
    the first and last step only: a step costs (T(2k) - T(k)) / k, an evaluation
    T(k) - T(0) - k·step, the setup what is left of T(0)."""
    timed(training, config.replace(iterations=2, eval_every=1))  # warm-up: the kernels compile or load
    zero, untrained = timed(training, config.replace(iterations=0))
    k = 8
    once = timed(training, config.replace(iterations=k, eval_every=k))[0]
    while True:  # until the k steps between the two runs take long enough to time (evaluations cancel)
        twice = timed(training, config.replace(iterations=2 * k, eval_every=2 * k))[0]
        if twice - once >= CALIBRATION_SECONDS or 2 * k >= config.iterations:
            break
        k, once = 2 * k, twice
    step = max(twice - once, 0.0) / k
    evaluation = max(once - zero - k * step, 0.0)
    return Costs(step, evaluation, max(zero - evaluation, 0.0), untrained)


def read_back_seconds(part: Part, untrained: list) -> float:
    """Seconds per run of reading the trained networks back, timed on a few untrained results."""
    start, sampled_results = time.perf_counter(), untrained[:FORMULA_SAMPLES]
    part.workload.read_back(part, sampled_results)
    return (time.perf_counter() - start) / len(sampled_results) if sampled_results else 0.0


def calibrate(plan: Plan, runs: list) -> PopulationEstimate:
    """A population's costs, from a sample of its members (:func:`costs`), scaled to all of them."""
    part = part_of(plan, "calibration", runs)
    sample = sampled(part)
    config = part.config
    measured = costs(lambda c: train(part.workload.population(sampled(part, c))), config)
    scale = len(runs) / sample.size
    return PopulationEstimate(part.model, len(runs), config.iterations,
                              math.ceil(config.iterations / config.eval_every) + 1, measured.step * scale,
                              measured.evaluation * scale, measured.setup * scale,
                              read_back_seconds(sample, measured.untrained) * len(runs))
