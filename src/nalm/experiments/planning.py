"""``nalm run --dry-run``: what a command implies, and how long it should take here.

The pending runs of a :class:`~nalm.experiments.runner.Plan` are grouped into populations as
:func:`~nalm.experiments.runner.execute` groups them. Each population's cost is measured, not
assumed: a sample of its members trains on this machine (after an untimed warm-up that
compiles and loads the kernels) for 0, k and 2k steps, k doubled until the k more steps take
at least :data:`CALIBRATION_SECONDS`, which separates the cost of a step, of an evaluation and of
setting up; the formula read-back of a sample run and a sample of the untrained baselines are timed
too. Costs are scaled by member counts. Nothing is stored.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from ..results import ResultsStore
from ..train import train_population
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


def pending_runs(plan: Plan, store_path) -> tuple[list[Run], int]:
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


REPEATS = 2
"""Each calibration run is timed this many times and the fastest kept: a shared machine's
noise only ever adds time."""


def timed(model: str, members, config) -> tuple[float, list]:
    """The fastest of :data:`REPEATS` trainings of ``members``, and its results."""
    best, results = math.inf, []
    for _ in range(REPEATS):
        start = time.perf_counter()
        results = train_population(model, members, config)
        best = min(best, time.perf_counter() - start)
    return best, results


def time_part(model: str, members, config) -> float:
    """Seconds to train ``members`` as ``config`` says, from a sample of at most CALIBRATION_MEMBERS."""
    sample = members[:CALIBRATION_MEMBERS]
    return timed(model, sample, config)[0] * len(members) / len(sample)


def calibrate(runs: list[Run]) -> PopulationEstimate:
    """Time a sample of the population for 0, k and 2k steps, evaluating at the first and last
    step only: a step costs (T(2k) - T(k)) / k, an evaluation T(k) - T(0) - k·step, the setup
    what is left of T(0); and the formula read-back of a few of the untrained sample."""
    config, model = runs[0].config, runs[0].model
    sample = [run.member for run in runs[:CALIBRATION_MEMBERS]]
    timed(model, sample[:2], config.replace(iterations=2, eval_every=1, eval_samples=8))  # warm-up: kernels
    zero, untrained = timed(model, sample, config.replace(iterations=0))
    k = 8
    once = timed(model, sample, config.replace(iterations=k, eval_every=k))[0]
    while True:  # until the k steps between the two runs take long enough to time (evaluations cancel)
        twice = timed(model, sample, config.replace(iterations=2 * k, eval_every=2 * k))[0]
        if twice - once >= CALIBRATION_SECONDS or 2 * k >= config.iterations:
            break
        k, once = 2 * k, twice
    step = max(twice - once, 0.0) / k
    evaluation = max(once - zero - k * step, 0.0)
    start, sampled = time.perf_counter(), untrained[:FORMULA_SAMPLES]
    for result in sampled:
        formula(model, result, config)
    per_formula = (time.perf_counter() - start) / len(sampled) if sampled else 0.0
    scale = len(runs) / len(sample)
    return PopulationEstimate(model, len(runs), config.iterations, math.ceil(config.iterations / config.eval_every) + 1,
                              step * scale, evaluation * scale, max(zero - evaluation, 0.0) * scale,
                              per_formula * len(runs))
