"""``nalm run --dry-run``: what a command implies, and how long it should take here.

The pending runs of a :class:`~nalm.runner.plan.Plan` are grouped into populations and split
into shares for the workers as :func:`~nalm.runner.execute.execute` would, beside the parts
that scoring needs first (the untrained baselines). Their costs are measured, not assumed:
each cost shape once, on small samples, within a few seconds for the whole command, or read
from the calibrations an earlier command measured on this machine with this code
(:mod:`nalm.runner.calibration`). Each cost is a :class:`~nalm.runner.calibration.Span`: a
likely value and the range it may fall in. Nothing is stored in the results store.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..results import ResultsStore
from .calibration import ZERO, CalibrationCache, Span, calibrate, evaluations, shape_of
from .execute import part_of, split, workers_for
from .plan import Plan, populations_of
from .progress import name


@dataclass(frozen=True)
class PopulationEstimate:
    """One population of the plan (or the untrained baselines of one target): its work and cost."""

    label: str  # what progress lines call it: its model and targets (nalm.runner.progress.name)
    members: int
    iterations: int
    evaluations: int
    seconds: Span  # on one core, its shares together, formulas included
    shares: tuple[Span, ...]  # each share's, as the workers would train them
    kernel: str = "autograd"  # what takes its steps, as calibrated (Population.kernel)

    @property
    def model_steps(self) -> int:
        return self.members * self.iterations


@dataclass(frozen=True)
class Estimate:
    """The plan's pending work, its cost on this machine, and how it was calibrated."""

    experiment: str
    stored: int  # runs the store holds already (skipped)
    populations: list[PopulationEstimate]
    baselines: list[PopulationEstimate]  # the untrained baselines the pending runs need
    workers: int
    measured: int = 0  # cost shapes measured by this command
    cached: int = 0  # cost shapes read from the cache
    calibration_seconds: float = 0.0
    cached_since: float | None = None  # when the oldest calibration read from the cache was measured

    @property
    def members(self) -> int:
        return sum(p.members for p in self.populations)

    @property
    def model_steps(self) -> int:
        return sum(p.model_steps for p in self.populations)

    @property
    def baseline_seconds(self) -> Span:
        return sum((p.seconds for p in self.baselines), ZERO)

    @property
    def core_seconds(self) -> Span:
        """On one core."""
        return sum((p.seconds for p in self.populations), self.baseline_seconds)

    @property
    def wall_seconds(self) -> Span:
        """On :attr:`workers` workers, each share taken in turn by the first one free, as the
        workers take them (perfect scaling: no worker is slower for the others)."""
        shares = [share for p in self.baselines + self.populations for share in p.shares]
        return Span(*(scheduled([getattr(s, which) for s in shares], self.workers)
                      for which in ("low", "likely", "high")))


def scheduled(seconds: list[float], workers: int) -> float:
    """When the last of jobs of ``seconds``, taken in order by the first of ``workers`` free, ends."""
    free = [0.0] * workers
    for job in seconds:
        first = free.index(min(free))
        free[first] += job
    return max(free)


def pending_runs(plan: Plan, store_path) -> tuple[list, int]:
    """The runs a store at ``store_path`` lacks (all of them without a store), and how many it
    holds. The store is only read; none is created."""
    if not Path(store_path).exists():
        return list(plan.runs), 0
    with ResultsStore(store_path, readonly=True) as store:
        stored = store.intact_keys(plan.experiment.name)
    pending = [run for run in plan.runs if run.key not in stored]
    return pending, len(plan.runs) - len(pending)


def estimate(plan: Plan, store_path, workers: int | None = None, cache: CalibrationCache | None = None,
             budget: float | None = None) -> Estimate:
    """The cost of the runs a store at ``store_path`` lacks, on this machine (``workers``: as
    ``nalm run --workers``, None for its default; ``cache``: the calibrations kept between
    commands, by default the user's; ``budget``: seconds of measuring, by default
    :data:`~nalm.runner.calibration.BUDGET`)."""
    pending, stored = pending_runs(plan, store_path)
    workload = plan.experiment.workload
    workers = workers or workers_for(workload, pending)
    populations = [(part_of(plan, "estimate", runs), split(runs, workers) if workload.members_independent else [runs])
                   for runs in populations_of(pending)]
    baselines = [(part, [part.members]) for part in plan.scoring.scorer(pending).parts]
    groups: dict[str, list] = {}
    for part, _ in baselines + populations:
        groups.setdefault(shape_of(part), []).append(part)
    cache = CalibrationCache() if cache is None and groups else cache
    start = time.perf_counter()
    calibrations = calibrate(groups, cache, **({} if budget is None else {"budget": budget}))
    seconds = time.perf_counter() - start

    def estimated(part, shares) -> PopulationEstimate:
        config = part.config
        calibration = calibrations[shape_of(part)]
        costs = tuple(calibration.cost(len(share), config.iterations, evaluations(config))
                      for share in shares)
        return PopulationEstimate(name(part), part.size, config.iterations, evaluations(config), sum(costs, ZERO),
                                  costs, calibration.kernel)

    cached = [c for c in calibrations.values() if c.cached]
    measured = [c for c in calibrations.values() if not c.cached]
    return Estimate(plan.experiment.name, stored, [estimated(*p) for p in populations],
                    [estimated(*p) for p in baselines], workers, len(measured), len(cached),
                    seconds, min((c.measured_at for c in cached), default=None))
