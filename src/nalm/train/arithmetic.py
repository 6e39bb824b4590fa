"""Populations on arithmetic tasks: many models of one architecture learning their targets at once.

Each member has its own seed (initialization and data stream), target, task and learning rate;
its batches and evaluation sets come from :class:`~nalm.train.data.PopulationData`, so they
never depend on the population it trains in. A network of NAC, NAC•, NAU, NMU, NALU, G-NALU or
MC-FC layers on fresh batches takes the fused CPU step (:mod:`nalm.train.fused`), which agrees
with PyTorch's autograd to rounding. A member's best step is its lowest interpolation MSE (the
validation error of Madsen & Johansen's protocol); results hold the final weights, with the
sparsity error of the best step's.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor

from ..units import build_model, seed_members_, sparsity_error
from .config import TrainConfig
from .data import PopulationData
from .fused import FusedStep
from .gpu.trainer import TritonSteps, kernel_layers
from .loop import Checkpointing, train
from .population import Member, MemberResult, Population
from .tracking import BestSteps


class ArithmeticPopulation(Population):
    """A population of ``model`` (a model name, see :func:`nalm.build_model`) for ``members``.

    Its evaluated metrics are the ``interpolation`` and ``extrapolation`` MSE (the curves) and
    MAE (``interpolation_mae``, ``extrapolation_mae``) on each member's fixed evaluation sets.
    """

    select = "interpolation"
    error = "interpolation"
    curve = ("interpolation", "extrapolation")
    keeps_best_weights = False

    def __init__(self, model: str, members: list[Member], config: TrainConfig):
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
        dtype = getattr(torch, config.dtype)
        # Initialized on the CPU and then moved, so that a seed starts from the same weights on
        # any device (CUDA's generator draws other numbers); the data is device-independent too.
        net = build_model(model, in_features.pop(), 1, hidden=config.hidden, unit_options=config.unit_options,
                          recurrent=recurrent.pop(), members=len(members), dtype=dtype)
        seed_members_(net, [member.model_seed for member in members])
        net.to(config.device)
        super().__init__(model, net, members, config)
        self.data = PopulationData(members, batch_size=config.batch_size, eval_samples=config.eval_samples,
                                   device=config.device, dtype=dtype)
        # Checked here, before anything trains; the trainer takes the layers the check found.
        self.kernel_layers = kernel_layers(net, self.data, config)
        default = config.kernel is None and self.kernel_layers is None
        self.fused = FusedStep.of(net, self.data) if config.fused and default else None
        self.kernel = "triton" if self.kernel_layers is not None else "fused" if self.fused is not None else "autograd"

    def fit(self, step: int) -> Tensor:
        if self.fused is not None:
            return self.fused.fit(step)
        x, y = self.data.train_batch(step)
        return ((self.net(x) - y) ** 2).mean(dim=(1, 2))

    def backward(self, objective: Tensor) -> None:
        if self.fused is None:
            objective.backward()
        else:
            self.fused.backward(objective)

    def step_kernel(self, optimizer) -> TritonSteps | None:
        """The Triton trainer where it trains this population (:func:`~nalm.train.gpu.trainer.kernel_layers`)."""
        if self.kernel_layers is None:
            return None
        return TritonSteps(self.net, self.data, self.config, optimizer, self.kernel_layers)

    def evaluate(self) -> dict[str, Tensor]:
        squared, absolute = {}, {}
        for which in ("interpolation", "extrapolation"):
            squared[which] = absolute[which] = 0.0
            n = 0
            for x, y in self.data.eval_chunks(which):
                diff = (self.net(x) - y).double()  # (M, chunk, 1)
                squared[which] = squared[which] + (diff ** 2).sum(dim=(1, 2))
                absolute[which] = absolute[which] + diff.abs().sum(dim=(1, 2))
                n += y.shape[1]
            squared[which], absolute[which] = squared[which] / n, absolute[which] / n
        return {**squared, **{f"{which}_mae": error for which, error in absolute.items()}}

    def finish(self, results: list[MemberResult], tracker: BestSteps) -> None:
        """The final errors, the best step's MSEs and its sparsity error, as the runner scores them."""
        sparsity = self.best_sparsity(tracker)
        last = tracker.last
        for i, result in enumerate(results):
            result.metrics.update({
                "interpolation_mse": float(last["interpolation"][i]), "interpolation_mae": float(last["interpolation_mae"][i]),
                "extrapolation_mse": float(last["extrapolation"][i]), "extrapolation_mae": float(last["extrapolation_mae"][i]),
                "best_step": 0 if result.best_step is None else result.best_step,
                "best_interpolation_mse": result.best.get("interpolation", float("inf")),
                "best_extrapolation_mse": result.best.get("extrapolation", float("inf")),
                "sparsity_error": None if sparsity is None else float(sparsity[i]),
            })

    @torch.no_grad()
    def best_sparsity(self, tracker: BestSteps) -> np.ndarray | None:
        """Each member's sparsity error at its best step (:func:`nalm.units.sparsity_error`),
        measured on the population network with the best weights swapped in and then out."""
        params = dict(self.net.named_parameters())
        final = {name: p.clone() for name, p in params.items()}
        for name, p in params.items():
            p.copy_(tracker.params[name])
        errors = sparsity_error(self.model, self.net)
        for name, p in params.items():
            p.copy_(final[name])
        return None if errors is None else errors.double().cpu().numpy()


def train_population(model: str, members: list[Member], config: TrainConfig, *,
                     on_step: Callable[[int], None] | None = None,
                     checkpointing: Checkpointing | None = None) -> list[MemberResult]:
    """Train ``members`` as one :class:`ArithmeticPopulation` of ``model`` (:func:`~nalm.train.train`)."""
    return train(ArithmeticPopulation(model, members, config), on_step=on_step, checkpointing=checkpointing)
