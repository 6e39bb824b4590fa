"""Where populations train: in this process, or split over worker processes, one thread each.

A *part* is a population, or one of the sub-populations a population is split into so that
several processes can train it at once. A member's data and initialization depend only on its
own seed, so its result does not depend on which part it trains in. Each part saves its
checkpoints to the store itself (SQLite serializes the writers) and resumes from its own;
the results, with the formulas read back from the trained weights, come back to the caller,
which alone scores and stores runs.
"""
from __future__ import annotations

import ctypes
import io
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import torch

from ..errors import Fault
from ..explain import READBACK_VERSION, ExplainError, explain_and_verify
from ..results import Checkpoint, ResultsStore
from ..train import Checkpointing, Member, MemberResult, TrainConfig, TrainingInterrupted, train_population
from ..units import is_baseline

Outcome = list[MemberResult] | TrainingInterrupted | None
"""A part's results; or where it stopped, on request; or None if it was stopped before it began."""


@dataclass
class Part:
    """One population to train: ``population`` names its checkpoint in the store."""

    population: str
    experiment: str
    model: str
    members: list[Member]
    config: TrainConfig

    @property
    def size(self) -> int:
        """Its members."""
        return len(self.members)

    @property
    def label(self) -> str:
        """What a progress line calls it: the model, or the baselines' population name."""
        return self.population if self.population.startswith("baselines") else self.model


def available_cores() -> int:
    """The cores this process may run on (its affinity, where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Checkpoints(Protocol):
    """Where a part finds its latest checkpoint and saves new ones: the store itself
    (:class:`~nalm.results.ResultsStore`), or on a cluster a go-between that the main process
    empties into the store (:mod:`nalm.experiments.cluster`)."""

    def checkpoint(self, population: str) -> Checkpoint | None: ...

    def put_checkpoint(self, checkpoint: Checkpoint) -> None: ...


def train_part(part: Part, checkpoints: Checkpoints, every: float, stop: Callable[[], bool],
               on_steps: Callable[[int], None] | None = None) -> Outcome:
    """Train ``part`` from its latest checkpoint (if any), saving checkpoints as it goes
    (``on_steps(n)``: told of each step, see :func:`~nalm.train.train_population`)."""
    if stop():
        return None
    checkpointing = store_checkpointing(checkpoints, part.population, part.experiment, part.model,
                                        len(part.members), every, stop)
    try:
        results = train_population(part.model, part.members, part.config, progress=on_steps or False,
                                   checkpointing=checkpointing)
    except TrainingInterrupted as interrupted:
        return interrupted
    for result in results:
        result.metrics["formula"], result.metrics["formula_matches"] = formula(part.model, result, part.config)
        result.metrics["formula_readback"] = READBACK_VERSION
    return results


def store_checkpointing(checkpoints: Checkpoints, population: str, experiment: str, model: str, runs: int,
                        every: float, stop: Callable[[], bool]) -> Checkpointing:
    """A population's :class:`~nalm.train.Checkpointing` through ``checkpoints``: it resumes from
    the latest saved state of ``population`` and saves new ones there (``torch.save`` bytes)."""
    saved = checkpoints.checkpoint(population)

    def save(state: dict) -> None:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        checkpoints.put_checkpoint(Checkpoint(population, experiment, model, runs, state["step"], buffer.getvalue()))

    resume = None if saved is None else torch.load(io.BytesIO(saved.state), weights_only=True)
    return Checkpointing(save=save, every=every, resume=resume, stop=stop)


def formula(model: str, result: MemberResult, config: TrainConfig) -> tuple[str | None, bool | None]:
    """The formula of the final weights and whether the network computes the target exactly
    (:attr:`nalm.explain.Verification.matches_target`)
    (``None`` for networks that have no formula: MLPs, FauxNALU, complex NPU weights,
    recurrent networks). Read here, beside training, so that worker processes share the work."""
    if is_baseline(model) or result.diverged:
        return None, None
    member = result.member
    net = config.load_network(model, member.task, result.weights)
    try:
        explanation, verification = explain_and_verify(net, member.task, member.target, member.seed)
    except ExplainError:
        return None, None
    return str(explanation), verification.matches_target


def in_process(parts: list, store: ResultsStore, every: float, stop: Callable[[], bool],
               on_steps: Callable[[Part], Callable[[int], None]] | None = None,
               train: Callable = train_part) -> Iterator[tuple[Part, Outcome]]:
    """Train the parts one after another in this process (``on_steps(part)``: the function told
    of each of its steps; ``train``, as for :func:`in_processes`), until one stops."""
    for part in parts:
        outcome = train(part, store, every, stop, None if on_steps is None else on_steps(part))
        yield part, outcome
        if not isinstance(outcome, list):
            return


def in_processes(parts: list, workers: int, store_path: str, every: float, stop: Callable[[], bool],
                 train: Callable = train_part, on_steps: Callable[[Part], Callable[[int], None]] | None = None
                 ) -> Iterator[tuple[Part, Outcome]]:
    """Train the parts in ``workers`` processes, yielding each as it finishes (``train(part, store,
    every, stop, on_steps)``, a module-level function: :func:`train_part`, or a data-set
    experiment's :func:`~nalm.experiments.dataset_runner.train_dataset_part`); ``on_steps(part)``,
    as for :func:`in_process`, is told of each part's steps every ``POLL`` seconds.

    Workers ignore Ctrl-C; when ``stop()`` turns true (polled every ``POLL`` seconds), they
    are told through a flag in shared memory, save a checkpoint at the end of their step and return; parts
    not yet begun are not begun. Each part counts its steps in a shared array, which the main
    process reads as it polls.
    """
    context = multiprocessing.get_context("forkserver" if sys.platform.startswith("linux") else "spawn")
    if context.get_start_method() == "forkserver":  # the server imports nalm once; each worker forks from it
        context.set_forkserver_preload([__name__])
    stopping = context.RawValue(ctypes.c_bool, False)  # shared memory, no lock: one writer, read every step
    steps = context.RawArray(ctypes.c_int64, max(len(parts), 1))  # each part's steps, written by its worker only
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(store_path, stopping, steps)) as pool:
        running = {pool.submit(_train_in_worker, train, part, every, index): (index, part)
                   for index, part in enumerate(parts)}
        tell = [None if on_steps is None else on_steps(part) for part in parts]
        shown = [0] * len(parts)  # the steps each part's ``tell`` has been told of
        try:
            while running:
                done, _ = wait(running, timeout=POLL, return_when=FIRST_COMPLETED)
                for index, _ in running.values() if on_steps is not None else ():
                    now = steps[index]
                    if now > shown[index]:
                        tell[index](now - shown[index])
                        shown[index] = now
                if stop() and not stopping.value:
                    stopping.value = True
                    for future in running:
                        future.cancel()
                for future in done:
                    _, part = running.pop(future)
                    if not future.cancelled():
                        try:
                            outcome = future.result()
                        except BrokenProcessPool:
                            raise Fault("a worker process died (killed, or out of memory; from a Python script, "
                                        "one without an `if __name__ == '__main__':` guard): the runs stored and "
                                        "the checkpoints saved so far are kept; the same command resumes") from None
                        yield part, outcome
        finally:  # on any way out (a second Ctrl-C, an error), workers save and stop within a step
            stopping.value = True


POLL = 0.2
"""Seconds between the main process's checks for a stop request while workers train."""

_worker: dict = {}  # in a worker process: its store, its stop() and the parts' step counts


def _start_worker(store_path: str, stopping, steps) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop
    parent = os.getppid()
    _worker["store"] = ResultsStore(store_path)
    _worker["stop"] = lambda: stopping.value or os.getppid() != parent  # told to, or orphaned
    _worker["steps"] = steps


def _train_in_worker(train: Callable, part, every: float, index: int) -> Outcome:
    steps = _worker["steps"]

    def count(n: int) -> None:
        steps[index] += n
    return train(part, _worker["store"], every, _worker["stop"], count)
