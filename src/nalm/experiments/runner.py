"""Run an experiment into the results store, as a pipeline: plan → train → score → store.

* :func:`prepare` resolves the experiment and the user's overrides into a :class:`Plan`: one
  :class:`Run` per (model, task, target, learning rate, seed), each with its final training
  config, success threshold and stored config, everything checked before a store is touched.
* :func:`execute` skips the runs the store holds, trains the rest as populations
  (:func:`nalm.train.train_population`), scores each member (:func:`score`: the metrics of
  shared/PROTOCOLS.md section 3 on top of what the engine measured: success, solved-at, and
  the normalized errors against untrained baseline models, ReLU6 MLPs or LSTMs for
  recurrent tasks, on the same data) and stores each population in one transaction.
"""
from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from .. import __version__
from ..results import ResultsStore, RunKey, RunRecord, config_hash
from ..tasks import GENERATOR, Task, check_target, task_to_dict
from ..train import CHECKPOINT_EVERY, Member, MemberResult, TrainConfig
from ..scoring import metrics as M
from ..units import build_model, is_baseline, parse_model
from ..units.custom import source_record
from ..units.registry import custom_unit
from .spec import Experiment
from . import cluster
from .progress import Progress
from .workers import Outcome, Part, available_cores, in_process, in_processes, train_part


@dataclass
class RunSummary:
    trained: int
    skipped: int
    diverged: int


def selection(experiment: Experiment, models=None, targets=None, seeds=None) -> tuple[list, list, list]:
    """Validated models, targets and seeds (defaults: the experiment's)."""
    models = list(models or experiment.models)
    for model in models:
        parse_model(model)  # raises naming the unknown unit or activation
    targets = list(targets or experiment.targets)
    for target in targets:
        check_target(target)
    seeds = experiment.seeds if seeds is None else seeds
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    return models, targets, list(range(seeds))


def run_config(experiment: Experiment, model: str, target: str, seed: int, task_index: int, train: TrainConfig) -> dict:
    """Everything that defines one member run, as stored (its hash is part of the run's key). A
    model with units from outside nalm also records each one's import path and source hash
    (``custom_units``), so that a changed unit makes new runs rather than resuming old ones."""
    config = {
        "experiment": experiment.name, "model": model, "target": target, "seed": seed,
        "task_index": task_index, "task": task_to_dict(experiment.tasks[task_index]),
        "train": train.to_dict(), "baseline": {"model": experiment.baseline_model, "count": experiment.baseline_models},
        "threshold": experiment.threshold_rule.to_dict(), "generator": GENERATOR,
    }
    custom = custom_units(model)
    if custom:
        config["custom_units"] = custom
    return config


def custom_units(model: str) -> dict[str, dict]:
    """Per unit name of ``model`` from outside nalm: its :func:`~nalm.units.custom.source_record`."""
    if is_baseline(model):
        return {}
    return {name: source_record(custom_unit(name)) for name in parse_model(model) if custom_unit(name) is not None}


def environment(device: str, threads: int) -> dict:
    """What a run was computed with, stored beside its config."""
    return {
        "nalm": __version__, "torch": torch.__version__, "numpy": np.__version__,
        "python": sys.version.split()[0], "platform": platform.platform(),
        "device": device, "threads": threads,
        "cuda_device": torch.cuda.get_device_name() if device.startswith("cuda") else None,
    }


@dataclass
class Run:
    """One member run of an experiment, fully resolved: what it trains, how, and how it is scored."""

    model: str
    task_index: int
    task: Task
    target: str
    seed: int
    config: TrainConfig  # one learning rate: a swept list is resolved into one run per rate
    threshold: float  # the success threshold of (task, target)
    stored: dict  # the config as stored (:func:`run_config`)

    @property
    def key(self) -> RunKey:
        return RunKey(self.stored["experiment"], self.model, self.target, self.seed, config_hash(self.stored))

    @property
    def member(self) -> Member:
        return Member(self.seed, self.target, self.task, lr=self.config.lr)

    @property
    def baseline_key(self) -> tuple:
        """What its baseline errors depend on: the data (task, seed, target)."""
        return self.task_index, self.seed, self.target

    def population_key(self) -> tuple:
        """Runs with equal keys train as one population: the same model and config but the
        learning rate, which is per member."""
        settings = {name: value for name, value in self.config.to_dict().items() if name != "lr"}
        return self.model, json.dumps(settings, sort_keys=True)


@dataclass
class Plan:
    """A validated selection, every run resolved: everything checked, nothing trained."""

    experiment: Experiment
    models: list[str]
    targets: list[str]
    runs: list[Run]
    baselines: dict[str, TrainConfig]  # per target: the untrained baseline networks' config


def prepare(experiment: Experiment, *, models=None, targets=None, seeds=None, overrides: dict | None = None) -> Plan:
    """Resolve every run's config and threshold, and check every model, config and device, so that
    bad input fails before a store is touched. This is the one place where an experiment and
    the user's overrides become the configs that train (paper scale and ranges are the
    experiment's own: :meth:`Experiment.at_paper_scale`, :meth:`Experiment.with_ranges`)."""
    chosen = targets is not None
    models, targets, seeds = selection(experiment, models, targets, seeds)
    pairs = [(model, target) for model in models for target in targets
             if chosen or experiment.runs_by_default(model, target)]
    configs = {(model, target): experiment.config_for(model, target, overrides) for model, target in pairs}
    baselines = {target: experiment.baseline_config(target, overrides) for target in targets}
    checked = set()
    for model, config in [(m, c) for (m, _), c in configs.items()] + [(experiment.baseline_model, c)
                                                                      for c in baselines.values()]:
        key = (model, json.dumps(config.to_dict(), sort_keys=True))
        if key in checked:
            continue
        checked.add(key)
        config.check_device()
        try:  # one standalone build per distinct config catches bad hidden sizes and unit options
            build_model(model, experiment.tasks[0].in_features, 1, hidden=config.hidden,
                        unit_options=config.unit_options, recurrent=experiment.tasks[0].recurrent,
                        device=config.device)
        except TypeError as error:
            raise ValueError(f"model {model}: {error}") from None
    thresholds = {(i, target): threshold(experiment, i, target)
                  for i in range(len(experiment.tasks)) for target in targets}
    runs = []
    for model, target in pairs:
        for task_index, task in enumerate(experiment.tasks):
            for lr in configs[(model, target)].rates:
                config = configs[(model, target)].replace(lr=lr)
                for seed in seeds:
                    runs.append(Run(model, task_index, task, target, seed, config, thresholds[(task_index, target)],
                                    run_config(experiment, model, target, seed, task_index, config)))
    return Plan(experiment, models, targets, runs, baselines)


def run_experiment(experiment: Experiment, store: ResultsStore, *, models=None, targets=None, seeds=None,
                   overrides: dict | None = None, progress: bool = False, **execution) -> RunSummary:
    """Train and store every member run of the experiment that the store does not hold yet
    (``execution``: :func:`execute`'s options)."""
    plan = prepare(experiment, models=models, targets=targets, seeds=seeds, overrides=overrides)
    return execute(plan, store, progress=progress, **execution)


def populations_of(runs: list[Run]) -> list[list[Run]]:
    """The runs grouped as they train: one population per :meth:`Run.population_key`."""
    populations: dict[tuple, list[Run]] = {}
    for run in runs:
        populations.setdefault(run.population_key(), []).append(run)
    return list(populations.values())


class RunInterrupted(Exception):
    """``execute`` stopped on request; ``summary`` counts what was stored, ``checkpoints`` the
    steps at which the populations in training saved their state."""

    def __init__(self, summary: RunSummary, checkpoints: list[int]):
        super().__init__("interrupted")
        self.summary, self.checkpoints = summary, checkpoints


def execute(plan: Plan, store: ResultsStore, *, progress: bool = False, checkpoint_every: float = CHECKPOINT_EVERY,
            stop: Callable[[], bool] = lambda: False, workers: int | None = 1, ray: str | None = None) -> RunSummary:
    """Plan → train → score → store, for each population of the runs the store lacks.

    Runs of one model whose configs agree but for the learning rate (all of them, unless unit
    options depend on the target) train as one population; with ``workers`` > 1 each is split
    into that many sub-populations, trained in parallel processes (``None``: :func:`workers_for`),
    or with ``ray`` (a cluster address, ``auto`` for this machine's) as Ray tasks
    (:mod:`nalm.experiments.cluster`; ``workers=None``: one share per CPU, or GPU, of the cluster).
    Baseline errors are computed once per (task, seed, target), whichever models need them. A
    population in training saves a checkpoint to the store every ``checkpoint_every`` seconds
    and resumes from it when it is run again; when ``stop()`` turns true, it saves one at once
    and :class:`RunInterrupted` is raised.
    """
    pending = [run for run in plan.runs if not store.has(run.key)]
    summary = RunSummary(0, len(plan.runs) - len(pending), 0)
    slots = None
    if ray is not None and pending:
        resources = cluster.connect(ray)
        slots = int(resources.get("GPU" if pending[0].config.device != "cpu" else "CPU", 1))
    workers = workers_for(pending, slots) if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    parts = {}
    for runs in populations_of(pending):
        for share in split(runs, workers):
            parts[population_id(plan.experiment, share)] = share
    baselines = Baselines(plan, [run.baseline_key for run in pending])
    work = baselines.parts() + [Part(population, plan.experiment.name, runs[0].model, [run.member for run in runs],
                                     runs[0].config) for population, runs in parts.items()]
    bar = Progress(work, progress)
    outcomes = train_parts(work, store, checkpoint_every, stop, workers=workers, ray=ray,
                           gpus=any(p.config.device != "cpu" for p in work), on_steps=bar.steps_of if bar.terminal else None)
    stopped_at, waiting = [], []
    try:
        for part, outcome in outcomes:
            if not isinstance(outcome, list):
                stopped_at += [] if outcome is None else [outcome.step]
                continue
            bar.finished_part(part)
            if part.population not in parts:
                baselines.add(part, outcome)
            else:
                waiting.append((parts[part.population], part.population, outcome))
            while waiting and baselines.complete:  # scored once every baseline is known
                store_population(plan, store, *waiting.pop(), baselines, summary)
    finally:  # on an error here too, workers and tasks are told to stop at once
        outcomes.close()
        bar.close()
    if waiting:  # stopped before the baselines were computed: compute them here, keep the trained parts
        for part in baselines.parts():
            if part.population not in baselines.done:
                baselines.add(part, train_part(part, store, checkpoint_every, lambda: False))
        for runs, population, results in waiting:
            store_population(plan, store, runs, population, results, baselines, summary)
    if summary.trained < len(pending):
        raise RunInterrupted(summary, stopped_at)
    return summary


def train_parts(parts: list, store: ResultsStore, every: float, stop: Callable[[], bool], *, workers: int,
                ray: str | None, gpus: bool = False, on_steps: Callable | None = None,
                train: Callable = train_part) -> Iterator[tuple[Part, Outcome]]:
    """Each part with its outcome as it finishes, trained by ``train`` (:func:`~nalm.experiments.workers.train_part`,
    or a data-set experiment's): as Ray tasks with ``ray`` (a cluster address), else in this
    process for one worker or one part, else in ``workers`` worker processes; checkpoints every
    ``every`` seconds, and ``on_steps(part)`` told of each part's steps (see :mod:`~nalm.experiments.workers`).
    Close it to stop the parts in training (they save a checkpoint)."""
    if ray is not None:
        return cluster.in_ray(parts, store, every, stop, gpus=gpus, on_steps=on_steps, train=train)
    if workers == 1 or len(parts) == 1:
        return in_process(parts, store, every, stop, on_steps, train=train)
    return in_processes(parts, workers, str(store.path), every, stop, train=train, on_steps=on_steps)


def store_population(plan: Plan, store: ResultsStore, runs: list[Run], population: str, results: list[MemberResult],
                     baselines: "Baselines", summary: RunSummary) -> None:
    """Score a trained population's runs and store them in one transaction, which also deletes
    its checkpoint: all of it or nothing."""
    records = [record(plan.experiment, run, result, baselines.errors[run.baseline_key])
               for run, result in zip(runs, results)]
    store.put_many(records, finishes=population)
    summary.trained += len(records)
    summary.diverged += sum(r.diverged for r in records)


WORK_PER_WORKER = 1_000_000
"""Member-steps each worker process must have to be worth starting: a worker starts in a second
or two, and a core trains 1e6 member-steps in about a minute (README, Speed)."""


def workers_for(runs: list[Run], slots: int | None = None) -> int:
    """One worker per available core (or ``slots``: a cluster's CPUs or GPUs), but no more
    than the members to train, nor than the pending work keeps busy (:data:`WORK_PER_WORKER`);
    on this machine, one for GPU runs, which the device parallelizes."""
    if not runs or (slots is None and any(run.config.device != "cpu" for run in runs)):
        return 1
    work = sum(run.config.iterations for run in runs)
    return max(1, min(available_cores() if slots is None else slots, len(runs), work // WORK_PER_WORKER))


def split(runs: list[Run], parts: int) -> list[list[Run]]:
    """``runs`` in at most ``parts`` contiguous shares of near-equal size."""
    parts = min(parts, len(runs))
    bounds = [len(runs) * i // parts for i in range(parts + 1)]
    return [runs[a:b] for a, b in zip(bounds, bounds[1:])]


def population_id(experiment: Experiment, runs: list[Run]) -> str:
    """What names a population's checkpoint: its experiment, model and member runs."""
    return config_hash({"experiment": experiment.name, "model": runs[0].model,
                        "runs": sorted(config_hash(run.stored) for run in runs)})


def record(experiment: Experiment, run: Run, result: MemberResult, baseline: dict) -> RunRecord:
    """The stored record of a trained run."""
    return RunRecord(
        experiment=experiment.name, model=run.model, target=run.target, seed=run.seed, config=run.stored,
        environment=environment(run.config.device, run.config.threads), metrics=score(result, run.threshold, baseline),
        curve=result.curve, weights=result.weights, diverged=result.diverged,
    )


def threshold(experiment: Experiment, task_index: int, target: str) -> float:
    """The success threshold of one task and target, by the experiment's threshold rule."""
    return experiment.threshold_rule.threshold(experiment.tasks[task_index], target)


class Baselines:
    """Mean MAE of the experiment's untrained baseline models per (task, seed, target), on each
    run's own data: one untrained population per target (:meth:`parts`), trained beside the
    runs' populations, for every (task, seed, target) that a pending run needs, whichever its
    model. Each of a key's ``baseline_models`` networks is initialized from its own seed, so
    none depends on the others."""

    def __init__(self, plan: Plan, keys: list[tuple]):
        self.plan = plan
        self.keys = list(dict.fromkeys(keys))
        self.errors: dict[tuple, dict] = {}
        self.done: set[str] = set()  # the parts added

    @property
    def complete(self) -> bool:
        return len(self.errors) == len(self.keys)

    def parts(self) -> list[Part]:
        experiment, k = self.plan.experiment, self.plan.experiment.baseline_models
        out = []
        for target in dict.fromkeys(key[2] for key in self.keys):
            members = [Member(seed, target, experiment.tasks[task_index], init_seed=1_000_000 + seed * k + i)
                       for task_index, seed, key_target in self.keys if key_target == target for i in range(k)]
            out.append(Part(f"baselines {target}", experiment.name, experiment.baseline_model, members,
                            self.plan.baselines[target]))
        return out

    def add(self, part: Part, untrained: list[MemberResult]) -> None:
        """The errors of one of :meth:`parts`, from its results (k networks per key, in order)."""
        self.done.add(part.population)
        k = self.plan.experiment.baseline_models
        target = untrained[0].member.target
        for j, key in enumerate(key for key in self.keys if key[2] == target):
            group = untrained[j * k:(j + 1) * k]
            self.errors[key] = {which: float(np.mean([r.metrics[f"{which}_mae"] for r in group]))
                                for which in ("interpolation", "extrapolation")}


def score(result: MemberResult, threshold_mse: float, baseline: dict) -> dict:
    """The metrics of training (the engine's, and the formula read back, :func:`~nalm.experiments.workers.train_part`)
    plus success, solved-at and normalized errors; the best step's sparsity error only where it
    is the scored best step's.

    A member that diverged is scored on the evaluations it had before it diverged, as the
    reference scores the evaluations it has: it evaluates, then steps, with no check on the
    loss (stable-nalu ``experiments/simple_function_static.py:353-388``), so after a nan loss
    every evaluation is nan, and its R export skips nan evaluations when it picks the best step (``which.min``), finds the first
    solved step (``which``) and reads success at the best step (stable-nalu
    ``export/function_task_static.r:14-30,49-55``). So a member that met the threshold at its best
    interpolation step before it blew up succeeds, with its solved-at; ``diverged`` and
    ``diverged_at`` still say that it diverged. The engine keeps evaluating a diverged member's
    frozen weights; those evaluations (after ``diverged_at``) are not scored, and its best-step
    metrics are those of the curve up to ``diverged_at``.

    Normalized errors (Trask et al.'s, of the final model) of a diverged member are infinite:
    the reference's final model is nan, and an infinite error ranks it worst in the median over
    seeds, as :func:`~nalm.scoring.metrics.median_interval` ranks nan. The frozen weights' finite
    error is not used: no reference run ever has those weights at the end of training.
    """
    metrics = dict(result.metrics)
    steps, interpolation, extrapolation = scored_curve(result)
    if result.diverged:
        best = M.best_step_index(interpolation)
        metrics["best_step"] = None if best is None else int(steps[best])
        metrics["best_interpolation_mse"] = None if best is None else float(interpolation[best])
        metrics["best_extrapolation_mse"] = None if best is None else float(extrapolation[best])
    metrics["threshold"] = threshold_mse
    metrics["success"] = M.is_success(interpolation, extrapolation, threshold_mse)
    metrics["solved_at"] = M.solved_at(steps, extrapolation, threshold_mse)
    # The engine's best weights are from its own best step, which after a divergence may be an
    # evaluation of the frozen weights: their sparsity is then not that of the scored best step.
    if result.diverged and metrics["best_step"] != result.metrics.get("best_step"):
        metrics["sparsity_error"] = None
    metrics["diverged_at"] = result.diverged_at
    for which in ("interpolation", "extrapolation"):
        metrics[f"baseline_{which}_mae"] = baseline[which]
        error = np.inf if result.diverged else metrics[f"{which}_mae"]
        metrics[f"normalized_{which}"] = float(M.normalized_error(np.asarray(error), baseline[which]))
    return metrics


def scored_curve(result: MemberResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, interpolation and extrapolation MSE of the evaluations that count: all of them, or
    for a diverged member those up to ``diverged_at`` (the evaluation at ``diverged_at`` itself is
    of the weights before the step whose loss was not finite)."""
    steps = np.asarray(result.curve["step"])
    keep = slice(None) if result.diverged_at is None else steps <= result.diverged_at
    return (steps[keep], np.asarray(result.curve["interpolation"], dtype=float)[keep],
            np.asarray(result.curve["extrapolation"], dtype=float)[keep])
