"""What the training loop trains, and what it gives back for each member.

A :class:`Population` is M models of one network trained at once: its network holds every
parameter with a leading member dimension, ``fit(step)`` gives each member's data loss on its
batch of that step, and ``evaluate()`` each member's evaluated metrics. The loop
(:func:`nalm.train.train`) does the rest the same way for every experiment: the units'
regularizers, divergence, the optimizer, each member's best step, checkpoints. Two kinds
exist: members on arithmetic tasks (:class:`~nalm.train.arithmetic.ArithmeticPopulation`, with
the fused CPU step), and a data-set experiment's networks, which give their ``fit`` and
``evaluate`` as functions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from torch import Tensor, nn

from .config import TrainConfig


@dataclass(frozen=True)
class Member:
    """One model of a population: its seed, target and task.

    ``seed`` selects the data stream and, unless ``init_seed`` is given, the initialization;
    ``lr``, if given, replaces the training config's learning rate for this member. The task
    says which targets it computes (``task.check_target``).
    """

    seed: int
    target: str
    task: object
    init_seed: int | None = None
    lr: float | None = None

    @property
    def model_seed(self) -> int:
        return self.seed if self.init_seed is None else self.init_seed

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        self.task.check_target(self.target)


@dataclass
class MemberResult:
    """What training one member produced.

    ``curve`` holds ``step`` and the population's curve metrics at every evaluation;
    ``best_step`` is the member's evaluation with the lowest selection metric (``None``: none
    was finite) and ``best`` every evaluated metric there; ``metrics`` is what the population
    and the runner add (an arithmetic population's final errors and sparsity error, a formula
    read back); ``weights`` are the member's parameters, standalone shapes, at the end of
    training or at its best step, as the population keeps them.
    """

    member: Member
    diverged_at: int | None
    curve: dict
    metrics: dict
    weights: dict[str, np.ndarray]
    best_step: int | None = None
    best: dict[str, float] = field(default_factory=dict)
    kernel: str = "autograd"  # what trained it: the population's kernel (Population.kernel)

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


class Population:
    """Members of one network, and how each is fitted and evaluated.

    Give ``fit`` and ``evaluate`` as functions, or subclass and define them. The class
    attributes say how the loop treats the population:

    * ``select``: the evaluated metric whose lowest value is a member's best step;
    * ``error``: the evaluated metric that the units' regularizers and plateau resets read,
      each member's value at the latest evaluation (``None``: they are given none);
    * ``curve``: the metrics kept at every evaluation (``None``: all of them);
    * ``keeps_best_weights``: results hold each member's weights at its best step (else the
      final weights);
    * ``kernel``: what takes its steps, as its results and stored runs record it: ``"autograd"``
      (PyTorch's autograd and the loop's optimizer), or a population's own (``"fused"``,
      ``"triton"``).
    """

    select: str
    error: str | None = None
    curve: tuple[str, ...] | None = None
    keeps_best_weights: bool = True
    kernel: str = "autograd"

    def __init__(self, model: str, net: nn.Module, members: list[Member], config: TrainConfig, *,
                 fit: Callable[[int], Tensor] | None = None, evaluate: Callable[[], dict[str, Tensor]] | None = None,
                 select: str | None = None):
        if not members:
            raise ValueError("a population needs at least one member")
        self.model, self.net, self.members, self.config = model, net, list(members), config
        if fit is not None:
            self.fit = fit
        if evaluate is not None:
            self.evaluate = evaluate
        if select is not None:
            self.select = select
        if not getattr(self, "select", None):
            raise ValueError("a population names the evaluated metric its best step minimizes (select)")

    @property
    def rates(self) -> list[float]:
        """Each member's learning rate: its own, else the config's."""
        return [self.config.lr if member.lr is None else member.lr for member in self.members]

    def fit(self, step: int) -> Tensor:
        """Each member's data loss on its batch of ``step``, shape ``(M,)``."""
        raise NotImplementedError

    def backward(self, objective: Tensor) -> None:
        """Add the gradients of ``objective`` (the loss summed over members) to the parameters."""
        objective.backward()

    def evaluate(self) -> dict[str, Tensor]:
        """Each member's evaluated metrics, ``(M,)`` each; called without gradients, in eval mode."""
        raise NotImplementedError

    def step_kernel(self, optimizer):
        """What trains many steps per call in place of :meth:`fit`, :meth:`backward`, the
        optimizer and the units' projection, or ``None`` (the default: the loop steps one at a
        time). It is called as ``train(start, count, diverged, diverged_at)`` and trains steps
        ``start ...`` up to ``start + count - 1`` in place (network, ``optimizer``'s state and step
        count), marking members whose loss is not finite in ``diverged`` (M,) and ``diverged_at``
        (their first such step) and leaving them as they were at that step."""
        return None

    def finish(self, results: list[MemberResult], tracker) -> None:
        """Add the population's own metrics to ``results`` once training ends (``tracker``: the
        loop's :class:`~nalm.train.tracking.BestSteps`)."""
