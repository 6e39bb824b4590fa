"""Run an experiment into the results store: plan → train → score → store.

:func:`execute` skips the runs the store holds and trains the rest as populations (one per
model and config, or per model, target and config where the workload's populations hold one
target), split into shares for the workers where a member trains bit for bit as it would alone.
Beside them train the parts that scoring needs first (the untrained baseline networks of the
arithmetic tasks). Each population is scored (:meth:`Workload.scoring`) and stored in one
transaction, which also deletes its checkpoint: all of it or nothing.
"""
from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .. import __version__
from ..errors import Fault
from ..results import ResultsStore, RunRecord, config_hash
from ..results.records import pinned_versions
from ..train import CHECKPOINT_EVERY, MemberResult
from . import cluster
from .backends import available_cores, train_parts
from .claims import Claims
from .parts import Part, Session, StoreChannel, train_part
from .plan import Plan, Run, populations_of, prepare
from .progress import Progress


@dataclass
class RunSummary:
    trained: int
    skipped: int
    diverged: int


class RunInterrupted(Exception):
    """``execute`` stopped on request; ``summary`` counts what was stored, ``checkpoints`` the
    steps at which the populations in training saved their state."""

    def __init__(self, summary: RunSummary, checkpoints: list[int]):
        super().__init__("interrupted")
        self.summary, self.checkpoints = summary, checkpoints


def run_experiment(experiment, store: ResultsStore, *, models=None, targets=None, seeds=None,
                   overrides: dict | None = None, data: str | None = None, progress: bool = False,
                   **execution) -> RunSummary:
    """Train and store every member run of the experiment that the store does not hold yet
    (``execution``: :func:`execute`'s options)."""
    plan = prepare(experiment, models=models, targets=targets, seeds=seeds, overrides=overrides, data=data)
    return execute(plan, store, progress=progress, **execution)


def execute(plan: Plan, store: ResultsStore, *, progress: bool = False, checkpoint_every: float = CHECKPOINT_EVERY,
            stop: Callable[[], bool] = lambda: False, workers: int | None = 1, ray: str | None = None) -> RunSummary:
    """Plan → train → score → store, for each population of the runs the store lacks.

    With ``workers`` > 1 the populations train in that many processes (``None``:
    :func:`workers_for`), each split into as many shares where its members are independent;
    with ``ray`` (a cluster address, ``auto`` for this machine's) as Ray tasks
    (:mod:`nalm.runner.cluster`; ``workers=None``: one share per CPU, or GPU, of the cluster).
    A population in training saves a checkpoint to the store every ``checkpoint_every`` seconds
    and resumes from it when it is run again; when ``stop()`` turns true, it saves one at once
    and :class:`RunInterrupted` is raised. The runs it trains are claimed in the store
    (:mod:`nalm.runner.claims`): those another command is training are waited for until they
    are stored, or trained here if that command ends without storing them.
    """
    name = plan.experiment.name
    store.pin_versions(name, pinned_versions(run.stored for run in plan.runs))  # what reports show as current
    stored = store.intact_keys(name)  # a damaged run is trained again
    pending = [run for run in plan.runs if run.key not in stored]
    summary = RunSummary(0, len(plan.runs) - len(pending), 0)
    slots = None
    if ray is not None and pending:
        resources = cluster.connect(ray)
        slots = int(resources.get("GPU" if pending[0].config.device != "cpu" else "CPU", 1))
    workers = workers_for(plan.experiment.workload, pending, slots) if workers is None else workers
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    said = False
    with Claims(store) as claims:
        while pending:
            held = claims.take(pending)
            if held:  # a command that held some of them before may have stored them since
                stored = store.intact_keys(name)
            mine = [run for run in held if run.key not in stored]
            if mine:
                train_runs(plan, store, mine, summary, progress=progress, checkpoint_every=checkpoint_every, stop=stop,
                           workers=workers, ray=ray)
            elif not held:  # another command trains them all: wait until it stores them, or ends without
                if progress and not said:
                    print(f"nalm: {len(pending)} runs are in training by another command ({', '.join(claims.others(pending))}"
                          "); waiting for them", file=sys.stderr, flush=True)
                    said = True
                if stop():
                    raise RunInterrupted(summary, [])
                time.sleep(WAIT)
            stored = store.completed_keys(name)
            left = [run for run in pending if run.key not in stored]
            summary.skipped += len(pending) - len(left) - len(mine)  # stored by another command
            pending = left
    return summary


WAIT = 1.0
"""Seconds between a waiting command's looks at the runs another command is training."""


def train_runs(plan: Plan, store: ResultsStore, pending: list[Run], summary: RunSummary, *, progress: bool,
               checkpoint_every: float, stop: Callable[[], bool], workers: int, ray: str | None) -> None:
    """Train, score and store ``pending`` (see :func:`execute`), counting them into ``summary``."""
    workload = plan.experiment.workload
    trained_before = summary.trained
    shares = {}
    for runs in populations_of(pending):
        for share in split(runs, workers) if workload.members_independent else [runs]:
            shares[population_id(plan.experiment.name, share)] = share
    scorer = plan.scoring.scorer(pending)  # with the parts it needs first, trained beside the populations
    parts = scorer.parts + [part_of(plan, population, runs) for population, runs in shares.items()]
    bar = Progress(parts, progress)
    session = Session(store, checkpoint_every, stop, bar)
    outcomes = train_parts(parts, session, workers=workers, ray=ray)
    stopped_at, waiting = [], []
    try:
        for part, outcome in outcomes:
            if not outcome.finished:
                stopped_at += [] if outcome.stopped_at is None else [outcome.stopped_at]
                continue
            bar.finished_part(part)
            if part.population in shares:
                waiting.append((shares[part.population], part.population, outcome.results))
            else:
                scorer.add(part, outcome.results)
            while waiting and scorer.complete:  # scored once what scoring needs is known
                store_population(store, scorer, *waiting.pop(), summary)
    finally:  # on an error here too, workers and tasks are told to stop at once
        outcomes.close()
        bar.close()
    if waiting:  # stopped before scoring could: finish what it needs here, keep the trained parts
        for part in scorer.missing():
            scorer.add(part, train_part(part, StoreChannel(store, checkpoint_every, lambda: False)).results)
        for runs, population, results in waiting:
            store_population(store, scorer, runs, population, results, summary)
    if summary.trained - trained_before < len(pending):
        raise RunInterrupted(summary, stopped_at)


def part_of(plan: Plan, population: str, runs: list[Run]) -> Part:
    """The part that trains ``runs`` as population ``population``."""
    first = runs[0]
    return Part(population, plan.experiment.name, first.model, [run.member for run in runs], first.config,
                plan.experiment.workload, plan.data_path, label=first.label, runs=[run.key.config_hash for run in runs])


def store_population(store: ResultsStore, scorer, runs: list[Run], population: str, results: list[MemberResult],
                     summary: RunSummary) -> None:
    """Score a trained population's runs and store them in one transaction, which also deletes
    its checkpoint: all of it or nothing."""
    records = [record(scorer, run, result) for run, result in zip(runs, results)]
    try:
        store.put_many(records, finishes=population)
    except Fault as error:  # the store cannot take them: keep them beside it
        raise Fault(f"{error}; {kept_beside(store.path, records)}") from None
    summary.trained += len(records)
    summary.diverged += sum(r.diverged for r in records)


def kept_beside(path: Path, records: list[RunRecord]) -> str:
    """Where runs trained but not storable in the store at ``path`` are kept: a store of their own
    beside it (``nalm report --results`` reads it), named with the time."""
    beside = path.with_name(f"{path.stem}.unstored-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
    try:
        with ResultsStore(beside) as store:
            store.put_many(records)
    except Exception as error:  # noqa: BLE001 (a second failure must not hide the first)
        return f"the {len(records)} runs just trained could not be kept elsewhere either ({error})"
    return f"the {len(records)} runs just trained are kept in {beside}"


def record(scorer, run: Run, result: MemberResult) -> RunRecord:
    """The stored record of a trained run: its config and environment, the metrics its
    experiment scores it by, its curves and weights."""
    return RunRecord(
        experiment=run.stored["experiment"], model=run.model, target=run.target, seed=run.seed, config=run.stored,
        environment=environment(run.config.device, run.config.threads, result.kernel), metrics=scorer.metrics(run, result),
        curve=result.curve, weights=result.weights, diverged=result.diverged,
    )


def environment(device: str, threads: int, kernel: str) -> dict:
    """What a run was computed with, stored beside its config: ``kernel`` is what took its steps
    (:attr:`~nalm.train.population.Population.kernel`), which a config's ``kernel: null``
    leaves to the device and the network."""
    return {
        "nalm": __version__, "torch": torch.__version__, "numpy": np.__version__,
        "python": sys.version.split()[0], "platform": platform.platform(),
        "device": device, "threads": threads, "kernel": kernel,
        "cuda_device": torch.cuda.get_device_name() if device.startswith("cuda") else None,
    }


def workers_for(workload, runs: list[Run], slots: int | None = None) -> int:
    """One worker per available core (or ``slots``: a cluster's CPUs or GPUs), but no more than
    the shares the runs can be trained in (members, or whole populations where members are
    not independent), nor than the pending work keeps busy (the workload's ``worker_steps``
    member-steps each); on this machine, one for GPU runs, which the device parallelizes."""
    if not runs or (slots is None and any(run.config.device != "cpu" for run in runs)):
        return 1
    shares = len(runs) if workload.members_independent else len(populations_of(runs))
    work = sum(run.config.iterations for run in runs)
    return max(1, min(available_cores() if slots is None else slots, shares, work // workload.worker_steps))


def split(runs: list, parts: int) -> list[list]:
    """``runs`` in at most ``parts`` contiguous shares of near-equal size."""
    parts = min(parts, len(runs))
    bounds = [len(runs) * i // parts for i in range(parts + 1)]
    return [runs[a:b] for a, b in zip(bounds, bounds[1:])]


def population_id(experiment: str, runs: list[Run]) -> str:
    """What names a population's checkpoint: its experiment, what its runs share (its model, and
    target where a population holds one) and its member runs."""
    return config_hash({"experiment": experiment, **runs[0].group, "runs": sorted(config_hash(run.stored) for run in runs)})
