"""The population engine: many models of one architecture trained at once.

Each member has its own seed (initialization and data stream), target, optimizer state,
regularizer schedule, weight projection, re-initializations and best-step tracking; the unit
interface (``regularization(step, error)``, ``project_()``, ``plateau_reset``) means no unit
needs special handling here. A member whose loss becomes nan/inf is frozen at its last finite
weights and recorded as diverged; the rest train on.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..units import PlateauReset, build_model, evaluating, reinitialize_member_, seed_members_, sparsity_error
from .allocator import keep_freed_memory
from .config import TrainConfig
from .data import Member, PopulationData
from .fused import FusedStep
from .optim import PopulationOptimizer


@dataclass
class MemberResult:
    """What one member's training produced."""

    member: Member
    diverged: bool
    diverged_at: int | None
    curve: dict  # step, interpolation and extrapolation MSE at each evaluation
    metrics: dict  # final and best-step errors, the sparsity error at the best step
    weights: dict[str, np.ndarray]  # final parameters, standalone shapes


CHECKPOINT_VERSION = 1
CHECKPOINT_EVERY = 300.0
"""Seconds between a population's checkpoints by default: a few minutes of work at most is lost."""


@dataclass
class Checkpointing:
    """How a population saves its state while it trains, and the state it resumes from.

    ``save`` receives a checkpoint (a dict of tensors and plain values, see
    :func:`train_population`) at the start of a step, when ``every`` seconds have passed since
    the last one, and when ``stop()`` turns true (then :class:`TrainingInterrupted` is raised).
    Everything else a member's training depends on is a function of the step (its data, its
    regularizer schedule, a re-initialization's seed), so training resumed from a checkpoint
    ends bit for bit where it would have ended uninterrupted.
    """

    save: Callable[[dict], None]
    every: float = CHECKPOINT_EVERY
    resume: dict | None = None
    stop: Callable[[], bool] = lambda: False
    saved_at: float = field(default_factory=time.monotonic, init=False)

    @staticmethod
    def state(step: int, population: dict, net: nn.Module, optimizer, diverged: Tensor,
              diverged_at: list[int | None], **parts) -> dict:
        """A checkpoint at the start of ``step``: the format version, ``population`` (what it is
        of, e.g. the model and member count, checked on resume), the network's and optimizer's
        state, the divergence record and the trainer's own ``parts`` (its best-step tracker)."""
        return {"version": CHECKPOINT_VERSION, "step": step, **population,
                "net": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
                "optimizer": optimizer.state_dict(), "diverged": diverged.cpu().clone(),
                "diverged_at": list(diverged_at), **parts}

    def begin(self, population: dict, net: nn.Module, optimizer, diverged: Tensor) -> dict | None:
        """As training begins: the checkpoint to resume from, if any, after checking that this nalm
        reads its format and that it is of ``population`` (see :meth:`state`), with the
        network's and optimizer's state and the divergence mask loaded in place; the caller
        restores its own parts. Checkpoints are due ``every`` seconds from now."""
        self.saved_at = time.monotonic()
        saved = self.resume
        if saved is None:
            return None
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


class TrainingInterrupted(Exception):
    """Training stopped on request, after saving a checkpoint at ``step``."""

    def __init__(self, step: int):
        super().__init__(step)  # the only argument, so that the exception pickles (worker processes)
        self.step = step

    def __str__(self) -> str:
        return f"training stopped at step {self.step}; a checkpoint was saved"


def train_population(model: str, members: list[Member], config: TrainConfig, *,
                     progress: bool | Callable[[int], None] = False,
                     checkpointing: Checkpointing | None = None) -> list[MemberResult]:
    """Train one population of ``model`` (a model name, see :func:`nalm.build_model`).

    ``progress``: a bar of this population's steps, or a function told of each step taken
    (``progress(1)``; a whole run's report, :mod:`nalm.experiments.progress`).

    With ``checkpointing``, the population starts from ``checkpointing.resume`` if given (a
    checkpoint of the same model, members and config) and saves checkpoints as it goes: the
    step, the network's weights, the optimizer's state, the learning curves and best-step
    tracker, the divergence record and the plateau watch.
    """
    if not members:
        raise ValueError("a population needs at least one member")
    in_features = {m.task.in_features for m in members}
    if len(in_features) != 1:
        raise ValueError(f"members' tasks have different input sizes {sorted(in_features)}")
    recurrent = {m.task.recurrent for m in members}
    if len(recurrent) != 1:
        raise ValueError("a population cannot mix recurrent and static tasks")
    if isinstance(config.lr, list) and any(member.lr is None for member in members):
        raise ValueError("a list of learning rates needs a rate per member (Member.lr)")
    config.check_device()
    torch.set_num_threads(config.threads)
    keep_freed_memory()
    device = torch.device(config.device)
    dtype = getattr(torch, config.dtype)
    m = len(members)

    # Initialized on the CPU and then moved, so that a seed starts from the same weights on
    # any device (CUDA's generator draws other numbers); the data is device-independent too.
    net = build_model(model, in_features.pop(), 1, hidden=config.hidden, unit_options=config.unit_options,
                      recurrent=recurrent.pop(), members=m, dtype=dtype)
    seed_members_(net, [member.model_seed for member in members])
    net.to(device)
    data = PopulationData(members, batch_size=config.batch_size, eval_samples=config.eval_samples,
                          device=device, dtype=dtype)
    fused = FusedStep.of(net, data) if config.fused else None
    rates = [config.lr if member.lr is None else member.lr for member in members]
    optimizer = PopulationOptimizer(net.parameters(), config.optimizer, rates, config.grad_clip, config.grad_norm_clip)
    tracker = _Tracker(net, m)
    plateau = _PlateauWatch.of(net, [member.model_seed for member in members])
    error = None  # each member's interpolation MSE at the latest evaluation, on the device

    diverged = torch.zeros(m, dtype=torch.bool, device=device)
    diverged_at: list[int | None] = [None] * m
    any_diverged = False
    start = 0

    population = {"model": model, "members": m}

    def checkpoint(step: int) -> dict:
        return Checkpointing.state(step, population, net, optimizer, diverged, diverged_at,
                                   tracker=tracker.state_dict(),
                                   plateau=None if plateau is None else plateau.state_dict())

    saved = None if checkpointing is None else checkpointing.begin(population, net, optimizer, diverged)
    if saved is not None:
        start = int(saved["step"])
        tracker.load_state_dict(saved["tracker"])
        diverged_at = list(saved["diverged_at"])
        any_diverged = bool(diverged.any())
        if plateau is not None:
            plateau.load_state_dict(saved["plateau"])
        if tracker.last:
            error = tracker.last["interpolation"][0].to(device)
    bar = tqdm(total=config.iterations, initial=start, disable=progress is not True, desc=model, unit="step",
               leave=False)
    advance = progress if callable(progress) else bar.update
    for step in range(start, config.iterations + 1):
        if checkpointing is not None and step > start and checkpointing.at_step(step, checkpoint):
            bar.close()
            raise TrainingInterrupted(step)
        if step % config.eval_every == 0 or step == config.iterations:
            tracker.evaluate(step, data, diverged)
            interpolation = tracker.last["interpolation"][0]
            error = interpolation.to(device)
            if plateau is not None:
                plateau.evaluated(step, interpolation.numpy())
        if step == config.iterations:
            break
        if fused is None:
            x, y = data.train_batch(step)
            fit = ((net(x) - y) ** 2).mean(dim=(1, 2))  # (M,)
        else:
            fit = fused.fit(step)
        loss = fit + net.regularization(step, error)  # (M,)
        total = loss.sum()
        if not math.isfinite(total.item()):  # one host sync per step; members are checked only if needed
            bad = ~torch.isfinite(loss)
            for i in torch.nonzero(bad & ~diverged).flatten().tolist():
                diverged_at[i] = step
            diverged |= bad
            any_diverged = any_diverged or bool(bad.any())
        optimizer.zero_grad()
        objective = torch.where(diverged, 0.0, loss).sum() if any_diverged else total
        if fused is None:
            objective.backward()
        else:
            fused.backward(objective)
        optimizer.step(~diverged if any_diverged else None)
        net.project_()
        if plateau is not None:
            plateau.check(step, net, diverged.cpu().numpy() if any_diverged else None)
        advance(1)
    bar.close()
    results = tracker.results(model, members, diverged.tolist(), diverged_at)
    if plateau is not None:
        for result, steps in zip(results, plateau.reinitialized_at):
            result.metrics["reinitialized_at"] = steps
    return results


class _PlateauWatch:
    """Re-initializes the members whose stored errors stop falling (see :class:`PlateauReset`).

    After every optimizer step a member stores its interpolation MSE at the latest evaluation,
    as the NALM benchmark stores ``interpolation_error`` (experiments/single_layer_benchmark.py:697);
    the stored errors are therefore constant between evaluations, and a member's store is
    kept as the evaluations' errors and the step its store began. A re-initialized member
    draws its new weights under a seed derived from its model seed and how many times it has
    been re-initialized, so they do not depend on the population; its optimizer state is
    kept, as in the reference (only ``model.reset_parameters()`` is called, line 703).
    """

    def __init__(self, policy: PlateauReset, seeds: list[int]):
        self.policy = policy
        self.seeds = seeds
        self.eval_steps: list[int] = []
        self.eval_errors: list[np.ndarray] = []  # one (M,) row per evaluation
        self.since = np.zeros(len(seeds), dtype=np.int64)  # first step of each member's store
        self.reinitialized_at: list[list[int]] = [[] for _ in seeds]

    @classmethod
    def of(cls, net, seeds: list[int]) -> "_PlateauWatch | None":
        policies = {unit.plateau_reset for unit in net.units()} - {None}
        if len(policies) > 1:
            raise ValueError(f"the network's units declare different plateau resets: {policies}")
        return cls(policies.pop(), seeds) if policies else None

    def state_dict(self) -> dict:
        return {"eval_steps": list(self.eval_steps), "eval_errors": [torch.from_numpy(e.copy()) for e in self.eval_errors],
                "since": torch.from_numpy(self.since.copy()), "reinitialized_at": [list(r) for r in self.reinitialized_at]}

    def load_state_dict(self, state: dict) -> None:
        self.eval_steps = list(state["eval_steps"])
        self.eval_errors = [e.numpy().copy() for e in state["eval_errors"]]
        self.since = state["since"].numpy().copy()
        self.reinitialized_at = [list(r) for r in state["reinitialized_at"]]

    def evaluated(self, step: int, interpolation: np.ndarray) -> None:
        self.eval_steps.append(step)
        self.eval_errors.append(np.asarray(interpolation, dtype=np.float64))

    def check(self, step: int, net, diverged: np.ndarray | None) -> None:
        """After the optimizer step at ``step``: re-initialize the members that plateau."""
        policy = self.policy
        if step % policy.every != 0 or step == 0:
            return
        stored = step + 1 - self.since
        candidates = stored > policy.min_stored
        if diverged is not None:
            candidates &= ~diverged
        if not candidates.any():
            return
        half = stored // 2
        mean_first, _ = self._moments(self.since, self.since + half)
        mean_last, std_last = self._moments(self.since + half, np.full_like(self.since, step + 1))
        with np.errstate(invalid="ignore"):
            plateaued = candidates & (mean_first <= mean_last + std_last) & (mean_last > policy.threshold)
        for index in np.flatnonzero(plateaued).tolist():
            self.reinitialized_at[index].append(step)
            seed = int(np.random.SeedSequence([self.seeds[index], len(self.reinitialized_at[index])])
                       .generate_state(1, np.uint64)[0])
            reinitialize_member_(net, index, seed)
            self.since[index] = step + 1

    def _moments(self, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's mean and population standard deviation of its stored errors at steps
        ``[start, end)``, from how many of those steps each evaluation's error was stored."""
        begins = np.asarray(self.eval_steps, dtype=np.int64)[:, None]  # (K, 1)
        ends = np.append(begins[1:, 0], np.iinfo(np.int64).max)[:, None]
        counts = np.clip(np.minimum(ends, end) - np.maximum(begins, start), 0, None)  # (K, M)
        errors = np.stack(self.eval_errors)
        used = counts > 0
        n = counts.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(used, counts * errors, 0.0).sum(0) / n
            variance = np.where(used, counts * (errors - mean) ** 2, 0.0).sum(0) / n
        return mean, np.sqrt(variance)


class _Tracker:
    """Learning curves, final errors and each member's best step (lowest interpolation MSE)."""

    def __init__(self, net, members: int):
        self.net = net
        self.curve = {"step": [], "interpolation": [], "extrapolation": []}
        self.best_mse = torch.full((members,), float("inf"))
        self.best_step = torch.zeros(members, dtype=torch.long)
        self.best_extrapolation = torch.full((members,), float("inf"))
        self.best_params = {name: p.detach().clone() for name, p in net.named_parameters()}
        self.last: dict[str, Tensor] = {}

    def state_dict(self) -> dict:
        return {"curve": {k: list(v) for k, v in self.curve.items()}, "best_mse": self.best_mse.clone(),
                "best_step": self.best_step.clone(), "best_extrapolation": self.best_extrapolation.clone(),
                "best_params": {k: v.detach().cpu().clone() for k, v in self.best_params.items()},
                "last": {k: list(v) for k, v in self.last.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.curve = {k: list(v) for k, v in state["curve"].items()}
        self.best_mse, self.best_step = state["best_mse"].clone(), state["best_step"].clone()
        self.best_extrapolation = state["best_extrapolation"].clone()
        for name, p in self.best_params.items():
            p.copy_(state["best_params"][name])
        self.last = {k: tuple(v) for k, v in state["last"].items()}

    @torch.no_grad()
    def evaluate(self, step: int, data: PopulationData, frozen: Tensor) -> None:
        """Evaluate every member; ``frozen`` members (diverged before this step) keep their best."""
        errors = {}
        with evaluating(self.net):
            for which in ("interpolation", "extrapolation"):
                squared = absolute = 0.0
                n = 0
                for x, y in data.eval_chunks(which):
                    diff = (self.net(x) - y).double()  # (M, chunk, 1)
                    squared = squared + (diff ** 2).sum(dim=(1, 2))
                    absolute = absolute + diff.abs().sum(dim=(1, 2))
                    n += y.shape[1]
                errors[which] = (squared / n).cpu(), (absolute / n).cpu()
        interpolation, extrapolation = errors["interpolation"][0], errors["extrapolation"][0]
        self.curve["step"].append(step)
        self.curve["interpolation"].append(interpolation.tolist())
        self.curve["extrapolation"].append(extrapolation.tolist())
        self.last = errors

        # nan compares False, so a member is never "improved" by a nan error; nor is a frozen
        # member, whose weights the reference would have replaced by nan.
        improved = (interpolation < self.best_mse) & ~frozen.cpu()
        self.best_mse = torch.where(improved, interpolation, self.best_mse)
        self.best_step = torch.where(improved, step, self.best_step)
        self.best_extrapolation = torch.where(improved, extrapolation, self.best_extrapolation)
        for name, p in self.net.named_parameters():
            keep = improved.to(p.device).view(-1, *[1] * (p.dim() - 1))
            self.best_params[name] = torch.where(keep, p, self.best_params[name])

    def results(self, model: str, members: list[Member], diverged: list[bool], diverged_at: list) -> list[MemberResult]:
        final = {name: p.detach().cpu().numpy() for name, p in self.net.named_parameters()}
        sparsity = self.best_sparsity(model)
        (i_mse, i_mae), (e_mse, e_mae) = self.last["interpolation"], self.last["extrapolation"]
        out = []
        for i, member in enumerate(members):
            metrics = {
                "interpolation_mse": float(i_mse[i]), "interpolation_mae": float(i_mae[i]),
                "extrapolation_mse": float(e_mse[i]), "extrapolation_mae": float(e_mae[i]),
                "best_step": int(self.best_step[i]), "best_interpolation_mse": float(self.best_mse[i]),
                "best_extrapolation_mse": float(self.best_extrapolation[i]),
                "sparsity_error": None if sparsity is None else float(sparsity[i]),
            }
            curve = {
                "step": list(self.curve["step"]),
                "interpolation": [row[i] for row in self.curve["interpolation"]],
                "extrapolation": [row[i] for row in self.curve["extrapolation"]],
            }
            out.append(MemberResult(
                member=member, diverged=diverged[i], diverged_at=diverged_at[i], curve=curve, metrics=metrics,
                weights={k: v[i].copy() for k, v in final.items()},
            ))
        return out

    @torch.no_grad()
    def best_sparsity(self, model: str) -> np.ndarray | None:
        """Each member's sparsity error at its best step (:func:`nalm.units.sparsity_error`),
        measured on the population network with the best weights swapped in and then out."""
        params = dict(self.net.named_parameters())
        final = {name: p.clone() for name, p in params.items()}
        for name, p in params.items():
            p.copy_(self.best_params[name])
        errors = sparsity_error(model, self.net)
        for name, p in params.items():
            p.copy_(final[name])
        return None if errors is None else errors.double().cpu().numpy()
