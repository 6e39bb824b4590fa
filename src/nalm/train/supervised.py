"""Training a population on a data set: the digit-sequence and number-word experiments.

The loop is the population engine's (:mod:`nalm.train.engine`) without its synthetic-task
machinery: each step every member draws its own batch (a function of its seed and the step),
the loss is the member's fit plus its units' regularizer, a member whose loss is not finite is
frozen and recorded as diverged while the rest train on, and every ``eval_every`` steps each
member is evaluated (in eval mode, without gradients). Each member keeps the weights and the
metrics of its best evaluation by one selection metric (a validation error), as the
references select a model on their validation set. Checkpoints are the engine's
(:class:`~nalm.train.Checkpointing`): a population saves its state every few minutes and when
asked to stop, and resumes from it bit for bit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..units import evaluating
from .engine import Checkpointing, TrainingInterrupted
from .optim import OPTIMIZERS, PopulationOptimizer

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class DatasetTrainConfig:
    """How a data-set experiment's population trains and is evaluated.

    Args:
        optimizer, lr: as :class:`~nalm.train.TrainConfig`'s (Adam, 1e-3: ``torch.optim``'s defaults).
        batch_size: sequences per step and member.
        iterations: optimizer steps.
        eval_every: evaluate every this many steps, and after the last.
        eval_sequences: sequences per evaluation set (per test length).
        hidden: hidden size of the LSTM (and of the encoder, where the experiment has one).
        unit_options: keyword arguments per unit name (regularizer schedules).
        dtype, threads: float32 or float64; PyTorch's CPU threads.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 64
    iterations: int = 2000
    eval_every: int = 200
    eval_sequences: int = 200
    hidden: int = 10
    unit_options: dict = field(default_factory=dict)
    dtype: str = "float32"
    threads: int = 1

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; known: {', '.join(OPTIMIZERS)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        for name in ("batch_size", "iterations", "eval_every", "eval_sequences", "hidden", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "iterations" else 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    def replace(self, **changes) -> "DatasetTrainConfig":
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return DatasetTrainConfig(**{**asdict(self), **changes})

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DatasetResult:
    """One member's training: its curve, its best evaluation and the weights it had then."""

    seed: int
    diverged_at: int | None
    curve: dict[str, list[float]]  # "step" and every evaluated metric, per evaluation
    best_step: int | None  # None: no evaluation had a finite selection metric
    best: dict[str, float]  # every evaluated metric at the best step
    weights: dict[str, np.ndarray]  # standalone shapes, at the best step

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


@dataclass
class Trainable:
    """What a population needs to train: the network (members first), each member's loss at a
    step ``fit(step) -> (M,)``, and ``evaluate() -> {metric: (M,)}``, of which ``select`` is
    minimized to choose each member's best step."""

    net: nn.Module
    fit: Callable[[int], Tensor]
    evaluate: Callable[[], dict[str, Tensor]]
    select: str


def train_dataset_population(trainable: Trainable, seeds: list[int], config: DatasetTrainConfig, *,
                             progress: bool | Callable[[int], None] = False,
                             checkpointing: Checkpointing | None = None) -> list[DatasetResult]:
    """Train every member of ``trainable.net`` (member m is ``seeds[m]``'s) for ``config.iterations`` steps.

    With ``checkpointing`` (:class:`~nalm.train.Checkpointing`), the population resumes from
    ``checkpointing.resume`` if given and saves its state as it goes (the step, the network's
    state, the optimizer's, the best evaluations and the divergence record; the data is a
    function of the step), so that a resumed population ends where it would have ended.
    """
    torch.set_num_threads(config.threads)
    net, m = trainable.net, len(seeds)
    optimizer = PopulationOptimizer(net.parameters(), config.optimizer, config.lr)
    best = _Best(net, m, trainable.select)
    diverged = torch.zeros(m, dtype=torch.bool)
    diverged_at: list[int | None] = [None] * m
    start = 0

    population = {"members": m}

    def checkpoint(step: int) -> dict:
        return Checkpointing.state(step, population, net, optimizer, diverged, diverged_at, best=best.state_dict())

    saved = None if checkpointing is None else checkpointing.begin(population, net, optimizer, diverged)
    if saved is not None:
        start = int(saved["step"])
        best.load_state_dict(saved["best"])
        diverged_at = list(saved["diverged_at"])
    bar = tqdm(total=config.iterations, initial=start, disable=progress is not True, unit="step", leave=False)
    advance = progress if callable(progress) else bar.update
    for step in range(start, config.iterations + 1):
        if checkpointing is not None and step > start and checkpointing.at_step(step, checkpoint):
            bar.close()
            raise TrainingInterrupted(step)
        if step % config.eval_every == 0 or step == config.iterations:
            with torch.no_grad(), evaluating(net):
                best.evaluated(step, trainable.evaluate(), frozen=diverged)
        if step == config.iterations:
            break
        loss = trainable.fit(step) + net.regularization(step)
        bad = ~torch.isfinite(loss.detach())
        for i in torch.nonzero(bad & ~diverged).flatten().tolist():
            diverged_at[i] = step
        diverged |= bad
        optimizer.zero_grad()
        torch.where(diverged, 0.0, loss).sum().backward()
        optimizer.step(~diverged if diverged.any() else None)
        net.project_()
        advance(1)
    bar.close()
    return best.results(seeds, diverged_at)


class _Best:
    """The curve of every evaluated metric and each member's best evaluation by ``select``."""

    def __init__(self, net: nn.Module, members: int, select: str):
        self.net, self.select = net, select
        self.curve: dict[str, list[list[float]]] = {"step": []}
        self.step = [None] * members
        self.score = torch.full((members,), float("inf"), dtype=torch.float64)
        self.metrics: list[dict[str, float]] = [{} for _ in range(members)]
        self.params = {name: p.detach().clone() for name, p in net.named_parameters()}

    def state_dict(self) -> dict:
        return {"curve": {k: [list(r) if isinstance(r, list) else r for r in v] for k, v in self.curve.items()},
                "step": list(self.step), "score": self.score.clone(), "metrics": [dict(m) for m in self.metrics],
                "params": {k: v.clone() for k, v in self.params.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.curve = {k: list(v) for k, v in state["curve"].items()}
        self.step, self.score = list(state["step"]), state["score"].clone()
        self.metrics = [dict(m) for m in state["metrics"]]
        self.params = {k: v.clone() for k, v in state["params"].items()}

    def evaluated(self, step: int, metrics: dict[str, Tensor], frozen: Tensor) -> None:
        self.curve["step"].append(step)
        values = {name: value.detach().double().cpu() for name, value in metrics.items()}
        for name, value in values.items():
            self.curve.setdefault(name, []).append(value.tolist())
        # nan compares False: a nan evaluation is never best; a frozen member keeps its best.
        improved = (values[self.select] < self.score) & ~frozen
        self.score = torch.where(improved, values[self.select], self.score)
        for i in torch.nonzero(improved).flatten().tolist():
            self.step[i] = step
            self.metrics[i] = {name: float(value[i]) for name, value in values.items()}
        for name, p in self.net.named_parameters():
            keep = improved.view(-1, *[1] * (p.dim() - 1))
            self.params[name] = torch.where(keep, p.detach(), self.params[name])

    def results(self, seeds: list[int], diverged_at: list[int | None]) -> list[DatasetResult]:
        out = []
        for i, seed in enumerate(seeds):
            curve = {name: [row if name == "step" else row[i] for row in rows] for name, rows in self.curve.items()}
            out.append(DatasetResult(seed, diverged_at[i], curve, self.step[i], self.metrics[i],
                                     {name: p[i].cpu().numpy().copy() for name, p in self.params.items()}))
        return out
