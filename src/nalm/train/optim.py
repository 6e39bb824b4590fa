"""Optimizers for populations: every member steps independently, frozen members not at all.

The updates are those of ``torch.optim`` (same formulas and defaults, so a population of one
follows ``torch.optim.Adam`` to rounding), applied to parameters whose first dimension is
the member. ``step(active)`` takes a boolean mask of shape (M,): inactive (diverged) members
keep their parameters and optimizer state untouched. Element-wise updates never mix
members, so each member's trajectory is the one it would have alone.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

OPTIMIZERS = ("adam", "rmsprop", "sgd")


class PopulationOptimizer:
    """Adam, RMSprop or SGD over population parameters, with an ``active`` member mask.

    Args:
        params: parameters with a leading member dimension.
        name: ``'adam'`` (β = 0.9, 0.999, ε = 1e-8), ``'rmsprop'`` (α = 0.99, ε = 1e-8) or
            ``'sgd'``, with PyTorch's defaults.
        lr: learning rate, one for all members or one per member (a sequence or tensor of M).
        grad_clip: clip each gradient element to [-grad_clip, grad_clip] first (iNALU).
    """

    def __init__(self, params, name: str = "adam", lr: float = 1e-3, grad_clip: float | None = None):
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
        self.params = [p for p in params if p.requires_grad]
        members = self.params[0].shape[0] if self.params and self.params[0].dim() else 1
        rates = torch.as_tensor(lr, dtype=torch.float64).flatten()
        if rates.numel() == 1:
            rates = rates.expand(members)
        if rates.numel() != members or not bool((rates > 0).all()):
            raise ValueError(f"learning rate must be positive, one or one per member ({members}), got {lr}")
        # Kept per member even when all are equal, so a member's arithmetic never depends on
        # whether its neighbours share its rate.
        self.rates = rates
        self._rates: dict = {}
        self.name, self.grad_clip = name, grad_clip
        self.steps = 0  # shared: all active members step together, frozen ones never resume
        # One (M, n) block per state slot for all parameters together, each parameter a column
        # range of it: a step is then a dozen PyTorch operations in all rather than a dozen per
        # parameter (the updates are element-wise, so each element's arithmetic is unchanged).
        self.sizes = [p[0].numel() if p.dim() else 1 for p in self.params]
        template = self.params[0].reshape(members, -1) if self.params else torch.zeros(members, 0)
        self.flat_state = [template.new_zeros(members, sum(self.sizes)) for _ in range(self.slots)]
        self.state = [[s.split(self.sizes, dim=1)[i].view_as(p) for s in self.flat_state]
                      for i, p in enumerate(self.params)]

    @property
    def slots(self) -> int:
        return {"adam": 2, "rmsprop": 1, "sgd": 0}[self.name]

    @torch.no_grad()
    def step(self, active: Tensor | None = None) -> None:
        self.steps += 1
        if all(p.grad is not None for p in self.params) and len({p.dtype for p in self.params}) == 1:
            members = self.flat_state[0].shape[0] if self.flat_state else self.params[0].shape[0]
            g = torch.cat([p.grad.reshape(members, -1) for p in self.params], dim=1)
            update = self._apply(g, self.flat_state, None if active is None else active.view(-1, 1))
            for p, part in zip(self.params, update.split(self.sizes, dim=1)):
                p.sub_(part.view_as(p))
            return
        for p, state in zip(self.params, self.state):  # one parameter at a time, those with a gradient
            if p.grad is not None:
                p.sub_(self._apply(p.grad, state, None if active is None else active.view(-1, *[1] * (p.dim() - 1))))

    def _apply(self, g: Tensor, state: list[Tensor], keep: Tensor | None) -> Tensor:
        """Update ``state`` in place from gradient ``g`` and return the step to subtract; members
        where ``keep`` is False keep their state and take no step."""
        if self.grad_clip is not None:
            g = g.clamp(-self.grad_clip, self.grad_clip)
        if keep is not None:
            g = torch.where(keep, g, 0.0)  # a diverged member's nan must not reach its state
        new_state, update = self._update(g, state, self._rates_like(g))
        for s, new in zip(state, new_state):
            s.copy_(new if keep is None else torch.where(keep, new, s))
        return update if keep is None else torch.where(keep, update, 0.0)

    def _rates_like(self, p: Tensor) -> Tensor:
        """The per-member rates in p's dtype and device, shaped to broadcast over p (cached)."""
        key = (p.device, p.dtype, p.dim())
        if key not in self._rates:
            self._rates[key] = self.rates.to(p.device, p.dtype).view(-1, *[1] * (p.dim() - 1))
        return self._rates[key]

    def _update(self, g: Tensor, state: list[Tensor], lr: Tensor) -> tuple[list[Tensor], Tensor]:
        if self.name == "sgd":
            return [], lr * g
        if self.name == "rmsprop":
            (square_avg,) = state
            square_avg = square_avg * 0.99 + (1 - 0.99) * g * g
            return [square_avg], lr * g / (square_avg.sqrt() + 1e-8)
        exp_avg, exp_avg_sq = state
        beta1, beta2 = 0.9, 0.999
        exp_avg = exp_avg * beta1 + (1 - beta1) * g  # not lerp: its fused kernel rounds differently on short tensors
        exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) * g * g
        bias1 = 1 - beta1 ** self.steps
        bias2 = 1 - beta2 ** self.steps
        denom = exp_avg_sq.sqrt() / math.sqrt(bias2) + 1e-8
        return [exp_avg, exp_avg_sq], (lr / bias1) * exp_avg / denom

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None
