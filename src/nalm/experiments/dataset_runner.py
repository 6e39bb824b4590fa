"""Run a data-set experiment into the results store: plan → train → store.

:func:`prepare` checks the selection, loads the data and resolves every run before a store is
touched; :func:`execute` skips the runs the store holds and trains the rest, one population
per (model, target) whose members are the seeds, each stored in one transaction as it ends
(which also deletes its checkpoint; a population in training saves one every few minutes
and at Ctrl-C, and the same command resumes it). Progress is reported as for the synthetic
experiments (:class:`~nalm.experiments.progress.Progress`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UnknownNameError
from ..explain import READBACK_VERSION
from ..results import ResultsStore, RunKey, RunRecord, config_hash
from ..tasks import GENERATOR
from ..train import CHECKPOINT_EVERY, TrainingInterrupted
from ..train.supervised import DatasetTrainConfig, train_dataset_population
from . import cluster
from .dataset_spec import DatasetExperiment
from .progress import Progress
from .runner import RunInterrupted, RunSummary, environment, train_parts
from .workers import available_cores, store_checkpointing


@dataclass
class DatasetRun:
    model: str
    target: str
    seed: int
    config: DatasetTrainConfig
    stored: dict  # the config as stored; its hash is part of the run's key

    @property
    def key(self) -> RunKey:
        return RunKey(self.stored["experiment"], self.model, self.target, self.seed, config_hash(self.stored))


@dataclass
class DatasetPlan:
    experiment: DatasetExperiment
    data: Any
    data_path: str | None  # where ``data`` was loaded from, absolute (None: the bundled substitute)
    models: list[str]
    targets: list[str]
    runs: list[DatasetRun]

    def populations(self) -> list[list[DatasetRun]]:
        """Runs grouped as they train: one population per (model, target)."""
        groups: dict[tuple, list[DatasetRun]] = {}
        for run in self.runs:
            groups.setdefault((run.model, run.target), []).append(run)
        return list(groups.values())


def prepare(experiment: DatasetExperiment, *, models=None, targets=None, seeds=None, overrides: dict | None = None,
            data: str | None = None) -> DatasetPlan:
    chosen = targets is not None
    models, targets = list(models or experiment.models), list(targets or experiment.targets)
    for model in models:
        if model not in experiment.known_models:
            raise UnknownNameError(f"{experiment.name} has no model {model!r}; "
                                   f"known: {', '.join(experiment.known_models)}")
    for target in targets:
        if target not in experiment.targets:
            raise UnknownNameError(f"{experiment.name} has no target {target!r}; "
                                   f"known: {', '.join(experiment.targets)}")
    seeds = experiment.seeds if seeds is None else seeds
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    loaded = experiment.load(data)
    runs = []
    for model in models:
        for target in targets:
            if not (chosen or experiment.runs_by_default(model, target)):
                continue
            config = experiment.config_for(model, target, overrides)
            try:  # one member built up front: bad unit options fail before anything trains
                experiment.trainable(model, target, loaded, [0], config)
            except TypeError as error:
                raise ValueError(f"model {model}: {error}") from None
            for seed in range(seeds):
                stored = {"experiment": experiment.name, "model": model, "target": target, "seed": seed,
                          "task": experiment.task(target).to_dict(), "data": loaded.fingerprint(),
                          "train": config.to_dict(), "generator": GENERATOR}
                runs.append(DatasetRun(model, target, seed, config, stored))
    return DatasetPlan(experiment, loaded, None if data is None else os.path.abspath(data), models, targets, runs)


@dataclass
class DatasetPart:
    """One population to train, as a worker process needs it: the experiment by name, the data by
    path (loaded once per process), the model, target, seeds and config."""

    population: str  # names its checkpoint in the store
    experiment: str
    data: str | None
    model: str
    target: str
    seeds: list[int]
    config: DatasetTrainConfig

    @property
    def size(self) -> int:
        """Its members (one per seed)."""
        return len(self.seeds)

    @property
    def label(self) -> str:
        """What a progress line calls it."""
        return f"{self.model} on {self.target}"


_LOADED: dict = {}  # (experiment, data path) -> data, once per process


def train_dataset_part(part: DatasetPart, checkpoints, every: float, stop: Callable[[], bool],
                       on_steps: Callable[[int], None] | None = None):
    """Train ``part`` from its latest checkpoint (if any), saving checkpoints as it goes; its
    results, or the :class:`~nalm.train.TrainingInterrupted` where it stopped, or ``None`` if it
    was stopped before it began (the outcomes of :func:`~nalm.experiments.workers.train_part`)."""
    from . import get_experiment

    if stop():
        return None
    experiment = get_experiment(part.experiment)
    key = (part.experiment, part.data)
    if key not in _LOADED:
        _LOADED[key] = experiment.load(part.data)
    trainable = experiment.trainable(part.model, part.target, _LOADED[key], part.seeds, part.config)
    checkpointing = store_checkpointing(checkpoints, part.population, part.experiment, part.model, len(part.seeds),
                                        every, stop)
    try:
        return train_dataset_population(trainable, part.seeds, part.config, progress=on_steps or False,
                                        checkpointing=checkpointing)
    except TrainingInterrupted as interrupted:
        return interrupted


WORK_PER_WORKER = 10_000
"""Member-steps each worker process must have to be worth starting: a worker starts in a second
or two, and these networks train about 200-500 member-steps a second on a core (README)."""


def workers_for(populations: list[int]) -> int:
    """The default workers for populations of these member-steps: one per available core, but no
    more than the populations, nor than the work keeps busy (:data:`WORK_PER_WORKER`)."""
    return max(1, min(available_cores(), len(populations), sum(populations) // WORK_PER_WORKER))


def execute(plan: DatasetPlan, store: ResultsStore, *, progress: bool = False,
            checkpoint_every: float = CHECKPOINT_EVERY, stop: Callable[[], bool] = lambda: False,
            workers: int | None = 1, ray: str | None = None) -> RunSummary:
    """Train and store what the store lacks, one population per (model, target), in this process
    or in ``workers`` processes (``None``: :func:`workers_for`), one population each at a time,
    or with ``ray`` (a cluster address, ``auto`` for this machine's) as one Ray task per
    population (:mod:`nalm.experiments.cluster`; each loads the data from ``plan.data_path``
    on its own machine); a member's result does not depend on where it trains. A population in
    training saves a checkpoint to the store every ``checkpoint_every`` seconds and resumes from
    it when run again; when ``stop()`` turns true it saves one at once and
    :class:`~nalm.experiments.runner.RunInterrupted` is raised."""
    stored = {run.key for run in plan.runs if store.has(run.key)}
    summary = RunSummary(0, len(stored), 0)
    groups = {}
    for group in plan.populations():
        group = [run for run in group if run.key not in stored]
        if group:
            first = group[0]
            population = config_hash({"experiment": plan.experiment.name, "model": first.model, "target": first.target,
                                      "runs": sorted(run.key.config_hash for run in group)})
            groups[population] = group
    parts = [DatasetPart(population, plan.experiment.name, plan.data_path, group[0].model, group[0].target,
                         [run.seed for run in group], group[0].config) for population, group in groups.items()]
    if ray is not None and parts:
        cluster.connect(ray)
    if workers is None:
        workers = workers_for([part.size * part.config.iterations for part in parts])
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    bar = Progress(parts, progress)
    outcomes = train_parts(parts, store, checkpoint_every, stop, workers=workers, ray=ray,
                           on_steps=bar.steps_of if bar.terminal else None, train=train_dataset_part)
    stopped_at = []
    try:
        for part, outcome in outcomes:
            if not isinstance(outcome, list):
                stopped_at += [] if outcome is None else [outcome.step]
                continue
            bar.finished_part(part)
            store_population(plan, store, groups[part.population], part.population, outcome, summary)
    finally:  # on an error here too, workers and tasks are told to stop at once
        outcomes.close()
        bar.close()
    if summary.trained < len(plan.runs) - len(stored):
        raise RunInterrupted(summary, stopped_at)
    return summary


def store_population(plan: DatasetPlan, store: ResultsStore, runs: list[DatasetRun], population: str, results,
                     summary: RunSummary) -> None:
    """Store a trained population's runs, with their read-back formulas, in one transaction that
    also deletes its checkpoint."""
    records = [RunRecord(experiment=plan.experiment.name, model=run.model, target=run.target, seed=run.seed,
                         config=run.stored, environment=environment("cpu", run.config.threads),
                         metrics={"best_step": result.best_step, "diverged_at": result.diverged_at, **result.best,
                                  **read_back(plan.experiment, run, result.weights)},
                         curve=result.curve, weights=result.weights, diverged=result.diverged)
               for run, result in zip(runs, results)]
    store.put_many(records, finishes=population)
    summary.trained += len(records)
    summary.diverged += sum(record.diverged for record in records)


def read_back(experiment: DatasetExperiment, run: DatasetRun, weights: dict) -> dict:
    """What is stored of a run's formula read back (:attr:`DatasetExperiment.read_back`): none
    where its model has no arithmetic part."""
    reading = experiment.read_back(run.model, run.target, weights, run.config.unit_options)
    if reading is None:
        return {}
    return {"formula": str(reading.explanation), "formula_is_accumulator": reading.is_accumulator,
            "formula_readback": READBACK_VERSION}
