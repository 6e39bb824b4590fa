"""A unit of work, and how it trains wherever it runs.

A *part* is a population, or one of the shares a population is split into so that several
processes can train it at once (a member's result does not depend on which share it trains
in). Wherever it trains, in this process, a worker process or a Ray task, a part reaches the
outside through a :class:`Channel`: where its latest checkpoint is and where new ones go,
whether to stop, and who counts its steps. Its results, with the formulas read back from
the trained weights, go back to the main process, which alone scores and stores runs.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import torch

from ..results import Checkpoint, ResultsStore
from ..train import Checkpointing, Member, MemberResult, TrainConfig, TrainingInterrupted, train


@dataclass
class Part:
    """One population to train, or a share of one, as a worker process or a Ray task needs it.

    ``population`` names its checkpoint in the store; ``workload`` is the experiment's, which
    builds the population (:meth:`~nalm.experiments.spec.Workload.population`) and reads the
    trained networks back; ``data`` is where the experiment's data is read from (``None``: it
    draws its own, or uses its bundled substitute).
    """

    population: str
    experiment: str
    model: str
    members: list[Member]
    config: TrainConfig
    workload: Any
    data: str | None = None
    label: str = ""  # what progress lines call it (default: the model)
    runs: list[str] = field(default_factory=list)  # the config hashes of the runs it trains (none: nothing is stored)

    def __post_init__(self) -> None:
        self.label = self.label or self.model

    @property
    def size(self) -> int:
        """Its members."""
        return len(self.members)

    @property
    def work(self) -> int:
        """Its member-steps (an untrained population counts a step per member)."""
        return self.size * max(self.config.iterations, 1)


@dataclass
class Outcome:
    """How a part ended: its ``results``, or ``None`` where it stopped on request, then with the
    step its checkpoint was saved at (``None``: it was stopped before it began)."""

    results: list[MemberResult] | None = None
    stopped_at: int | None = None

    @property
    def finished(self) -> bool:
        return self.results is not None


class Channel(Protocol):
    """What a part in training talks to: the store (or, on a cluster, a go-between that the main
    process empties into the store), the stop request, and the progress count."""

    every: float  # seconds between checkpoints

    def checkpoint(self, population: str) -> Checkpoint | None: ...

    def put_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    def stop(self) -> bool: ...

    def count(self, steps: int) -> None: ...


@dataclass
class StoreChannel:
    """A :class:`Channel` to a results store this process has open."""

    store: ResultsStore
    every: float
    stop: Callable[[], bool]
    count: Callable[[int], None] = lambda steps: None

    def checkpoint(self, population: str) -> Checkpoint | None:
        return self.store.checkpoint(population)

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.store.put_checkpoint(checkpoint)


def train_part(part: Part, channel: Channel) -> Outcome:
    """Train ``part`` from its latest checkpoint (if any), saving checkpoints as it goes, and read
    its trained networks back (:meth:`~nalm.experiments.spec.Workload.read_back`)."""
    if channel.stop():
        return Outcome()
    population = part.workload.population(part)
    try:
        results = train(population, on_step=channel.count, checkpointing=checkpointing(part, channel))
    except TrainingInterrupted as interrupted:
        return Outcome(stopped_at=interrupted.step)
    part.workload.read_back(part, results)
    return Outcome(results)


def checkpointing(part: Part, channel: Channel) -> Checkpointing:
    """A part's :class:`~nalm.train.Checkpointing` through ``channel``: it resumes from the latest
    saved state of ``part.population`` and saves new ones there (``torch.save`` bytes)."""
    saved = channel.checkpoint(part.population)

    def save(state: dict) -> None:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        channel.put_checkpoint(Checkpoint(part.population, part.experiment, part.model, part.size, state["step"],
                                          buffer.getvalue(), members=tuple(part.runs)))

    resume = None if saved is None else torch.load(io.BytesIO(saved.state), weights_only=True)
    return Checkpointing(save=save, every=channel.every, resume=resume, stop=channel.stop)


@dataclass
class Session:
    """What every part of one run shares, wherever it trains: the store (checkpoints go there),
    the seconds between checkpoints, the stop request, and the run's progress
    (:class:`~nalm.runner.progress.Progress`)."""

    store: ResultsStore
    every: float
    stop: Callable[[], bool]
    progress: Any

    def channel(self, part: Part) -> StoreChannel:
        """The channel of a part trained in this process."""
        return StoreChannel(self.store, self.every, self.stop, self.progress.steps_of(part))
