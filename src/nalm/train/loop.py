"""The training loop: every population, of every experiment, trains here.

A step draws each member's batch and its data loss (:meth:`Population.fit`), adds the units'
regularizers, backpropagates the sum over members and steps the optimizer; every
``eval_every`` steps each member is evaluated and its best step kept
(:class:`~nalm.train.tracking.BestSteps`). Members never mix: each has its own seed (data and
initialization), learning rate, optimizer state and regularizer schedule, so a member trains
as it would alone. A member whose loss is not finite is frozen at its last finite weights and
recorded as diverged; the rest train on. Checkpoints and progress are the caller's
(:class:`Checkpointing`, ``on_step``). A population with a step kernel
(:meth:`Population.step_kernel`, the Triton trainer) takes every step up to the next
evaluation in one call of it instead, with the same evaluations, divergence record and checkpoints.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor, nn

from ..units import evaluating
from .allocator import keep_freed_memory
from .defaults import CHECKPOINT_EVERY
from .optim import PopulationOptimizer
from .plateau import PlateauWatch
from .population import MemberResult, Population
from .tracking import BestSteps

CHECKPOINT_VERSION = 2


@dataclass
class Checkpointing:
    """How a population saves its state while it trains, and the state it resumes from.

    ``save`` receives a checkpoint (a dict of tensors and plain values, see :func:`train`) at
    the start of a step, when ``every`` seconds have passed since the last one, and when
    ``stop()`` turns true (then :class:`TrainingInterrupted` is raised).
    Everything else a member's training depends on is a function of the step (its data, its
    regularizer schedule, a re-initialization's seed), so training resumed from a checkpoint
    ends bit for bit where it would have ended uninterrupted.
    """

    save: Callable[[dict], None]
    every: float = CHECKPOINT_EVERY
    resume: dict | None = None
    stop: Callable[[], bool] = lambda: False
    saved_at: float = field(default_factory=time.monotonic, init=False)

    def begin(self, population: dict, net: nn.Module, optimizer, diverged: Tensor) -> dict | None:
        """As training begins: the checkpoint to resume from, if any, after checking that this nalm
        reads its format and that it is of ``population`` (its model and member count), with the
        network's and optimizer's state and the divergence mask loaded in place; the loop
        restores the rest. Checkpoints are due ``every`` seconds from now."""
        self.saved_at = time.monotonic()
        saved = self.resume
        if saved is None:
            return None
        if saved.get("version") == 1:
            saved = from_format_1(saved, population)
        if saved.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"the checkpoint of this population was saved by another version of nalm "
                             f"(checkpoint format {saved.get('version')}, this nalm reads {CHECKPOINT_VERSION}) and "
                             "is not resumed: finish the run with the nalm that started it, or start it afresh in "
                             "another results store")
        if {key: saved.get(key) for key in population} != population:
            described = ", ".join(f"{key} {value}" for key, value in population.items())
            raise ValueError(f"the checkpoint is not of this population ({described})")
        with torch.no_grad():
            net.load_state_dict(saved["net"])
        optimizer.load_state_dict(saved["optimizer"])
        diverged.copy_(saved["diverged"])
        return saved

    def at_step(self, step: int, state: Callable[[int], dict]) -> bool:
        """At the start of a resumed or continued ``step``: save ``state(step)`` if a checkpoint is
        due or a stop was asked; whether training must stop (then the caller raises
        :class:`TrainingInterrupted`)."""
        stopping = self.stop()
        if stopping or time.monotonic() - self.saved_at >= self.every:
            self.save(state(step))
            self.saved_at = time.monotonic()
        return stopping


def from_format_1(saved: dict, population: dict) -> dict:
    """A checkpoint of format 1 (nalm before one training loop) in this format: the same state,
    its best-step tracker as :class:`~nalm.train.tracking.BestSteps` keeps it. The arithmetic
    tasks' engine kept the best interpolation and extrapolation MSE (its best step's MAE, which
    no result stores, is nan here), the data sets' trainer every metric at the best step."""
    if "tracker" in saved:  # an arithmetic population's
        old = saved["tracker"]
        improved = torch.isfinite(old["best_mse"])
        score = old["best_mse"].double()
        best = {"interpolation": score, "extrapolation": old["best_extrapolation"].double()}
        best.update({f"{which}_mae": torch.full_like(score, math.nan) for which in ("interpolation", "extrapolation")})
        last = {name: value for which, (mse, mae) in old["last"].items()
                for name, value in ((which, mse), (f"{which}_mae", mae))}
        tracker = {"curve": old["curve"], "score": score, "best": best, "last": last, "params": old["best_params"],
                   "step": [int(step) if done else None for step, done in zip(old["best_step"], improved)]}
    else:  # a data-set population's
        old = saved["best"]
        names = list(dict.fromkeys(name for metrics in old["metrics"] for name in metrics))
        best = {name: torch.tensor([metrics.get(name, math.nan) for metrics in old["metrics"]], dtype=torch.float64)
                for name in names}
        tracker = {"curve": old["curve"], "step": old["step"], "score": old["score"], "best": best, "last": {},
                   "params": old["params"]}
    return {**saved, "model": saved.get("model", population["model"]), "version": CHECKPOINT_VERSION,
            "tracker": tracker, "plateau": saved.get("plateau")}


class TrainingInterrupted(Exception):
    """Training stopped on request, after saving a checkpoint at ``step``."""

    def __init__(self, step: int):
        super().__init__(step)
        self.step = step

    def __str__(self) -> str:
        return f"training stopped at step {self.step}; a checkpoint was saved"


def train(population: Population, *, on_step: Callable[[int], None] | None = None,
          checkpointing: Checkpointing | None = None,
          on_evaluated: Callable[[int], None] | None = None) -> list[MemberResult]:
    """Train every member of ``population`` for ``population.config.iterations`` steps.

    ``on_step(count)`` is told of the steps taken, each one or each launch of a step kernel (a
    run's progress, :mod:`nalm.runner.progress`); ``on_evaluated(step)`` of each evaluation done
    (the calibration of ``nalm run --dry-run`` times steps apart from evaluations).
    With ``checkpointing``, the population starts from ``checkpointing.resume`` if given (a
    checkpoint of the same model and members) and saves checkpoints as it goes: the step, the
    network's and the optimizer's state, the divergence record, the best-step tracker and the
    plateau watch. Everything else is a function of the step (each batch, each regularizer
    weight, a re-initialization's seed), so a resumed population ends bit for bit where it
    would have ended.
    """
    config, net, members = population.config, population.net, population.members
    torch.set_num_threads(config.threads)
    keep_freed_memory()
    m, device = len(members), next(net.parameters()).device
    optimizer = PopulationOptimizer(net.parameters(), config.optimizer, population.rates, config.grad_clip,
                                    config.grad_norm_clip)
    tracker = BestSteps(net, m, population.select, population.curve)
    # Plateau resets and error-dependent regularizers read the population's error metric.
    plateau = None if population.error is None else PlateauWatch.of(net, [member.model_seed for member in members])
    error = None  # each member's error at the latest evaluation, on the device
    diverged = torch.zeros(m, dtype=torch.bool, device=device)
    diverged_at: list[int | None] = [None] * m
    identity = {"model": population.model, "members": m}

    def checkpoint(step: int) -> dict:
        """The state at the start of ``step``, with what it is of (checked on resume)."""
        return {"version": CHECKPOINT_VERSION, "step": step, **identity,
                "net": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
                "optimizer": optimizer.state_dict(), "diverged": diverged.cpu().clone(),
                "diverged_at": list(diverged_at), "tracker": tracker.state_dict(),
                "plateau": None if plateau is None else plateau.state_dict()}

    start = 0
    saved = None if checkpointing is None else checkpointing.begin(identity, net, optimizer, diverged)
    if saved is not None:
        start, diverged_at = int(saved["step"]), list(saved["diverged_at"])
        tracker.load_state_dict(saved["tracker"])
        if plateau is not None:
            plateau.load_state_dict(saved["plateau"])
        if population.error is not None and tracker.last:
            error = tracker.last[population.error].to(device)
    any_diverged = bool(diverged.any())
    kernel = population.step_kernel(optimizer)
    step = start
    while step <= config.iterations:
        if checkpointing is not None and step > start and checkpointing.at_step(step, checkpoint):
            raise TrainingInterrupted(step)
        if step % config.eval_every == 0 or step == config.iterations:
            with torch.no_grad(), evaluating(net):
                tracker.evaluated(step, population.evaluate(), diverged)
            if population.error is not None:
                error = tracker.last[population.error].to(device)
                if plateau is not None:
                    plateau.evaluated(step, tracker.last[population.error].numpy())
            if on_evaluated is not None:
                on_evaluated(step)
        if step == config.iterations:
            break
        if kernel is not None:  # every step up to the next evaluation in one call
            count = min(config.iterations, (step // config.eval_every + 1) * config.eval_every) - step
            kernel.train(step, count, diverged, diverged_at)
            step += count
            if on_step is not None:
                on_step(count)
            continue
        loss = population.fit(step) + net.regularization(step, error)  # (M,)
        total = loss.sum()
        if not math.isfinite(total.item()):  # one host sync per step; members are checked only if needed
            bad = ~torch.isfinite(loss.detach())
            for i in torch.nonzero(bad & ~diverged).flatten().tolist():
                diverged_at[i] = step
            diverged |= bad
            any_diverged = any_diverged or bool(bad.any())
        optimizer.zero_grad()
        population.backward(torch.where(diverged, 0.0, loss).sum() if any_diverged else total)
        optimizer.step(~diverged if any_diverged else None)
        net.project_()
        if plateau is not None:
            plateau.check(step, net, diverged.cpu().numpy() if any_diverged else None)
        if on_step is not None:
            on_step(1)
        step += 1
    return results(population, tracker, diverged_at, plateau)


def results(population: Population, tracker: BestSteps, diverged_at: list[int | None],
            plateau: PlateauWatch | None) -> list[MemberResult]:
    """Each member's result: its curves, best step, weights (final or best, as the population
    keeps them) and the population's own metrics."""
    kept = tracker.params if population.keeps_best_weights else dict(population.net.named_parameters())
    weights = {name: p.detach().cpu().numpy() for name, p in kept.items()}
    out = [MemberResult(member=member, diverged_at=diverged_at[i], curve=tracker.curve_of(i), metrics={},
                        weights={k: v[i].copy() for k, v in weights.items()}, best_step=tracker.step[i],
                        best=tracker.best_of(i), kernel=population.kernel)
           for i, member in enumerate(population.members)]
    population.finish(out, tracker)
    if plateau is not None:
        for result, steps in zip(out, plateau.reinitialized_at):
            result.metrics["reinitialized_at"] = steps
    return out
