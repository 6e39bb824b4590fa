"""Run a data-set experiment into the results store: plan → train → store.

:func:`prepare` checks the selection, loads the data and resolves every run before a store is
touched; :func:`execute` skips the runs the store holds and trains the rest, one population
per (model, target) whose members are the seeds, each stored in one transaction as it ends
(which also deletes its checkpoint; a population in training saves one every few minutes
and at Ctrl-C, and the same command resumes it).
A progress bar of member-steps shows when standard error is a terminal.
"""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Any, Callable

import torch

from tqdm.auto import tqdm

from ..errors import UnknownNameError
from ..results import Checkpoint, ResultsStore, RunKey, RunRecord, config_hash
from ..tasks import GENERATOR
from ..train import CHECKPOINT_EVERY, Checkpointing, TrainingInterrupted
from ..train.supervised import DatasetTrainConfig, train_dataset_population
from .dataset_spec import DatasetExperiment
from .runner import RunInterrupted, RunSummary, environment


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
    return DatasetPlan(experiment, loaded, models, targets, runs)


def execute(plan: DatasetPlan, store: ResultsStore, *, progress: bool = False,
            checkpoint_every: float = CHECKPOINT_EVERY, stop: Callable[[], bool] = lambda: False) -> RunSummary:
    """Train and store what the store lacks. A population in training saves a checkpoint to the
    store every ``checkpoint_every`` seconds and resumes from it when run again; when ``stop()``
    turns true it saves one at once and :class:`~nalm.experiments.runner.RunInterrupted` is raised."""
    stored = {run.key for run in plan.runs if store.has(run.key)}
    summary = RunSummary(0, len(stored), 0)
    populations = [[run for run in group if run.key not in stored] for group in plan.populations()]
    populations = [group for group in populations if group]
    total = sum(len(group) * group[0].config.iterations for group in populations)
    terminal = progress and sys.stderr.isatty()
    with tqdm(total=total, disable=not terminal, unit="member-step", unit_scale=True, leave=False) as bar:
        for group in populations:
            first = group[0]
            seeds = [run.seed for run in group]
            trainable = plan.experiment.trainable(first.model, first.target, plan.data, seeds, first.config)
            population = config_hash({"experiment": plan.experiment.name, "model": first.model, "target": first.target,
                                      "runs": sorted(run.key.config_hash for run in group)})
            saved = store.checkpoint(population)

            def save(state: dict, population=population, group=group) -> None:
                buffer = io.BytesIO()
                torch.save(state, buffer)
                store.put_checkpoint(Checkpoint(population, plan.experiment.name, group[0].model, len(group),
                                                state["step"], buffer.getvalue()))

            resume = None if saved is None else torch.load(io.BytesIO(saved.state), weights_only=True)
            try:
                results = train_dataset_population(
                    trainable, seeds, first.config,
                    progress=(lambda n, m=len(group): bar.update(n * m)) if progress else False,
                    checkpointing=Checkpointing(save=save, every=checkpoint_every, resume=resume, stop=stop))
            except TrainingInterrupted as interrupted:
                raise RunInterrupted(summary, [interrupted.step]) from None
            records = [RunRecord(experiment=plan.experiment.name, model=run.model, target=run.target, seed=run.seed,
                                 config=run.stored, environment=environment("cpu", run.config.threads),
                                 metrics={"best_step": result.best_step, "diverged_at": result.diverged_at,
                                          **result.best, **plan.experiment.stored_read_back(
                                              run.model, run.target, result.weights, run.config.unit_options)},
                                 curve=result.curve, weights=result.weights, diverged=result.diverged)
                       for run, result in zip(group, results)]
            store.put_many(records, finishes=population)
            summary.trained += len(records)
            summary.diverged += sum(record.diverged for record in records)
    return summary
