"""The population engine: many models of one architecture trained at once.

Each member has its own seed (initialization and data stream), target, optimizer state,
regularizer schedule, weight projection and best-step tracking; the unit interface
(``regularization(step)``, ``project_()``) means no unit needs special handling here. A
member whose loss becomes nan/inf is frozen at its last finite weights and recorded as
diverged; the rest train on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..units import build_model, seed_members_
from .allocator import keep_freed_memory
from .config import TrainConfig
from .data import Member, PopulationData
from .optim import PopulationOptimizer


@dataclass
class MemberResult:
    """What one member's training produced."""

    member: Member
    diverged: bool
    diverged_at: int | None
    curve: dict  # step, interpolation and extrapolation MSE at each evaluation
    metrics: dict  # final and best-step errors
    weights: dict[str, np.ndarray]  # final parameters, standalone shapes
    best_weights: dict[str, np.ndarray] = field(default_factory=dict)  # at the best step


def train_population(model: str, members: list[Member], config: TrainConfig, *, progress: bool = False) -> list[MemberResult]:
    """Train one population of ``model`` (a model name, see :func:`nalm.build_model`)."""
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
    rates = [config.lr if member.lr is None else member.lr for member in members]
    optimizer = PopulationOptimizer(net.parameters(), config.optimizer, rates, config.grad_clip)
    tracker = _Tracker(net, m)

    diverged = torch.zeros(m, dtype=torch.bool, device=device)
    diverged_at: list[int | None] = [None] * m
    any_diverged = False
    bar = tqdm(total=config.iterations, disable=not progress, desc=model, unit="step", leave=False)
    for step in range(config.iterations + 1):
        if step % config.eval_every == 0 or step == config.iterations:
            tracker.evaluate(step, data)
        if step == config.iterations:
            break
        x, y = data.train_batch()
        loss = ((net(x) - y) ** 2).mean(dim=(1, 2)) + net.regularization(step)  # (M,)
        bad = ~torch.isfinite(loss)
        if bad.any():  # one host sync per step; rare divergences then cost a little more
            for i in torch.nonzero(bad & ~diverged).flatten().tolist():
                diverged_at[i] = step
            diverged |= bad
            any_diverged = True
        optimizer.zero_grad()
        if any_diverged:
            torch.where(diverged, 0.0, loss).sum().backward()
            optimizer.step(~diverged)
        else:
            loss.sum().backward()
            optimizer.step()
        net.project_()
        bar.update()
    bar.close()
    return tracker.results(members, diverged.tolist(), diverged_at)


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

    @torch.no_grad()
    def evaluate(self, step: int, data: PopulationData) -> None:
        errors = {}
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

        # nan compares False, so a member is never "improved" by a nan error.
        improved = interpolation < self.best_mse
        self.best_mse = torch.where(improved, interpolation, self.best_mse)
        self.best_step = torch.where(improved, step, self.best_step)
        self.best_extrapolation = torch.where(improved, extrapolation, self.best_extrapolation)
        for name, p in self.net.named_parameters():
            keep = improved.to(p.device).view(-1, *[1] * (p.dim() - 1))
            self.best_params[name] = torch.where(keep, p, self.best_params[name])

    def results(self, members: list[Member], diverged: list[bool], diverged_at: list) -> list[MemberResult]:
        final = {name: p.detach().cpu().numpy() for name, p in self.net.named_parameters()}
        best = {name: p.cpu().numpy() for name, p in self.best_params.items()}
        (i_mse, i_mae), (e_mse, e_mae) = self.last["interpolation"], self.last["extrapolation"]
        out = []
        for i, member in enumerate(members):
            metrics = {
                "interpolation_mse": float(i_mse[i]), "interpolation_mae": float(i_mae[i]),
                "extrapolation_mse": float(e_mse[i]), "extrapolation_mae": float(e_mae[i]),
                "best_step": int(self.best_step[i]), "best_interpolation_mse": float(self.best_mse[i]),
                "best_extrapolation_mse": float(self.best_extrapolation[i]),
            }
            curve = {
                "step": list(self.curve["step"]),
                "interpolation": [row[i] for row in self.curve["interpolation"]],
                "extrapolation": [row[i] for row in self.curve["extrapolation"]],
            }
            out.append(MemberResult(
                member=member, diverged=diverged[i], diverged_at=diverged_at[i], curve=curve, metrics=metrics,
                weights={k: v[i].copy() for k, v in final.items()},
                best_weights={k: v[i].copy() for k, v in best.items()},
            ))
        return out
