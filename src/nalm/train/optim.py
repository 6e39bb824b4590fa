"""Optimizers for populations: every member steps independently, frozen members not at all.

The updates are those of ``torch.optim`` (same formulas and defaults, so a population of one
follows ``torch.optim.Adam`` to rounding), applied to parameters whose first dimension is
the member. ``step(active)`` takes a boolean mask of shape (M,): inactive (diverged) members
keep their parameters and optimizer state untouched. Element-wise updates never mix
members, so each member's trajectory is the one it would have alone.

On the CPU a step is one compiled pass over each parameter (:func:`_step_rows`) rather than a
dozen PyTorch operations over all of them: the same formulas in the same order and precision,
equal to PyTorch's to rounding (its vectorized square root differs in the last bit at times;
tests/train/test_optim.py). Every member takes that path, alone or in a population.
"""
from __future__ import annotations

import math

import numba
import numpy as np
import torch
from torch import Tensor

OPTIMIZERS = ("adam", "rmsprop", "sgd")
ADAM, RMSPROP, SGD = range(len(OPTIMIZERS))  # each one's number in compiled code: its index in OPTIMIZERS
CORRECTIONS = [4, 5]  # where PopulationOptimizer.constants() changes with the step count
BETA1, BETA2, RMS_ALPHA, EPS = 0.9, 0.999, 0.99, 1e-8  # torch.optim's defaults


class PopulationOptimizer:
    """Adam, RMSprop or SGD over population parameters, with an ``active`` member mask.

    Args:
        params: parameters with a leading member dimension.
        name: ``'adam'`` (β = 0.9, 0.999, ε = 1e-8), ``'rmsprop'`` (α = 0.99, ε = 1e-8) or
            ``'sgd'``, with PyTorch's defaults.
        lr: learning rate, one for all members or one per member (a sequence or tensor of M).
        grad_clip: clip each gradient element to [-grad_clip, grad_clip] first (iNALU).
        grad_norm_clip: first scale each member's gradient, all its parameters together, down
            to this L2 norm when it is longer (``torch.nn.utils.clip_grad_norm_`` per member,
            its 1e-6 included; the NMRU's benchmark).
    """

    def __init__(self, params, name: str = "adam", lr: float = 1e-3, grad_clip: float | None = None,
                 grad_norm_clip: float | None = None):
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
        self._arrays = None  # numpy views for the compiled step
        self.name, self.grad_clip, self.grad_norm_clip = name, grad_clip, grad_norm_clip
        self.steps = 0  # shared: all active members step together, frozen ones never resume
        # One (M, n) block per state slot for all parameters together, each parameter a column
        # range of it: a step is then a dozen PyTorch operations in all rather than a dozen per
        # parameter (the updates are element-wise, so each element's arithmetic is unchanged).
        self.sizes = [p[0].numel() if p.dim() else 1 for p in self.params]
        template = self.params[0].reshape(members, -1) if self.params else torch.zeros(members, 0)
        self.flat_state = [template.new_zeros(members, sum(self.sizes)) for _ in range(self.slots)]
        self.state = [[s.split(self.sizes, dim=1)[i].view_as(p) for s in self.flat_state]
                      for i, p in enumerate(self.params)]

    def state_dict(self) -> dict:
        """The step count and every member's state, copied (for a checkpoint)."""
        return {"steps": self.steps, "state": [s.detach().cpu().clone() for s in self.flat_state]}

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output, in place (the compiled step's views stay valid)."""
        if len(state["state"]) != len(self.flat_state):
            raise ValueError(f"optimizer state has {len(state['state'])} slots, {self.name} needs {len(self.flat_state)}")
        for mine, saved in zip(self.flat_state, state["state"]):
            mine.copy_(saved)
        self.steps = int(state["steps"])

    @property
    def slots(self) -> int:
        return {"adam": 2, "rmsprop": 1, "sgd": 0}[self.name]

    @torch.no_grad()
    def step(self, active: Tensor | None = None) -> None:
        self.steps += 1
        if self.grad_norm_clip is not None:
            self._clip_norms_()
        if len({p.dtype for p in self.params}) == 1:  # one flat state
            if all(p.device.type == "cpu" and p.is_contiguous() for p in self.params):
                self._step_compiled(active)
                return
            if all(p.grad is not None for p in self.params):
                self._step_flat(active)
                return
        for p, state in zip(self.params, self.state):  # one parameter at a time, those with a gradient
            if p.grad is not None:
                p.sub_(self._apply(p.grad, state, None if active is None else active.view(-1, *[1] * (p.dim() - 1))))

    @torch.no_grad()
    def _clip_norms_(self) -> None:
        """Scale each member's gradients by min(1, max_norm / (‖g‖ + 1e-6)), ‖g‖ the L2 norm of the
        parameters' norms, as ``torch.nn.utils.clip_grad_norm_`` computes it for one model."""
        grads = [p.grad for p in self.params if p.grad is not None]
        if not grads:
            return
        members = grads[0].shape[0]
        norms = torch.stack([torch.linalg.vector_norm(g.reshape(members, -1), dim=1) for g in grads], dim=1)
        scale = (self.grad_norm_clip / (torch.linalg.vector_norm(norms, dim=1) + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *[1] * (g.dim() - 1)))

    def _step_flat(self, active: Tensor | None) -> None:
        """:meth:`step` for all parameters at once, as one (M, n) block."""
        members = self.flat_state[0].shape[0] if self.flat_state else self.params[0].shape[0]
        g = torch.cat([p.grad.reshape(members, -1) for p in self.params], dim=1)
        update = self._apply(g, self.flat_state, None if active is None else active.view(-1, 1))
        for p, part in zip(self.params, update.split(self.sizes, dim=1)):
            p.sub_(part.view_as(p))

    def _step_compiled(self, active: Tensor | None) -> None:
        """:meth:`step` on the CPU through :func:`_step_rows`, one parameter at a time (those
        with a gradient)."""
        members = self.flat_state[0].shape[0] if self.flat_state else self.params[0].shape[0]
        dtype = self.params[0].detach().numpy().dtype.type
        keep = np.ones(members, np.bool_) if active is None else active.numpy()
        constants = self.constants(self.steps, dtype)
        if self._arrays is None:  # views of the state and the rates, made once: the step updates them in place
            self._arrays = ([s.numpy() for s in self.flat_state] + [np.empty((members, 0), dtype)] * (2 - self.slots),
                            self._rates_like(self.params[0].reshape(members, -1)).numpy().reshape(members))
        state, rates = self._arrays
        offset = 0
        for p, size in zip(self.params, self.sizes):
            if p.grad is None:
                offset += size
                continue
            _step_rows(OPTIMIZERS.index(self.name), p.detach().numpy().reshape(members, size),
                       np.ascontiguousarray(p.grad.numpy()).reshape(members, size), state[0], state[1], offset,
                       rates, keep, constants)
            offset += size

    def constants(self, t: int, dtype) -> np.ndarray:
        """The compiled step's constants (:func:`_step_rows`'s ``c``) at step count ``t`` (the
        t-th step), in ``dtype``: β1, 1 - β1, β2, 1 - β2, Adam's bias corrections 1 - β1^t and
        √(1 - β2^t) (at :data:`CORRECTIONS`), ε, RMSprop's α and 1 - α, and the clipping bound
        (inf: none)."""
        return np.array([BETA1, 1 - BETA1, BETA2, 1 - BETA2, 1 - BETA1 ** t, math.sqrt(1 - BETA2 ** t), EPS, RMS_ALPHA,
                         1 - RMS_ALPHA, math.inf if self.grad_clip is None else self.grad_clip], dtype=dtype)

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
            square_avg = square_avg * RMS_ALPHA + (1 - RMS_ALPHA) * g * g
            return [square_avg], lr * g / (square_avg.sqrt() + EPS)
        exp_avg, exp_avg_sq = state
        exp_avg = exp_avg * BETA1 + (1 - BETA1) * g  # not lerp: its fused kernel rounds differently on short tensors
        exp_avg_sq = exp_avg_sq * BETA2 + (1 - BETA2) * g * g
        bias1 = 1 - BETA1 ** self.steps
        bias2 = 1 - BETA2 ** self.steps
        denom = exp_avg_sq.sqrt() / math.sqrt(bias2) + EPS
        return [exp_avg, exp_avg_sq], (lr / bias1) * exp_avg / denom

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


@numba.njit(cache=True, error_model="numpy", fastmath=False)  # numpy's division: inf, nan, and vector loops
def _step_rows(kind, p, g, state1, state2, offset, rates, keep, c):
    """Step parameter ``p`` (M, n) in place from its gradient ``g`` (M, n): optimizer
    ``OPTIMIZERS[kind]`` as :meth:`PopulationOptimizer._update` computes it, operation for
    operation in p's precision (PyTorch rounds its Python-float constants to it too).
    ``state1``, ``state2``: the flat state slots, p's in columns ``offset ...``; ``rates`` (M,);
    members where ``keep`` is False are left alone; ``c``: β1, 1 - β1, β2, 1 - β2, the bias
    corrections 1 - β1^t and √(1 - β2^t), ε, RMSprop's α and 1 - α, the clipping bound."""
    beta1, rest1, beta2, rest2, bias1, root_bias2, eps, alpha, rest_alpha, clip = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9])
    start = np.uint64(offset)  # unsigned column indices: no wrap-around check, so the loops vectorize
    for m in range(p.shape[0]):
        if not keep[m]:
            continue
        # one loop per optimizer (a nan gradient stays nan, as in torch.clamp)
        if kind == ADAM:
            rate = rates[m] / bias1
            for i in range(p.shape[1]):
                j = start + np.uint64(i)
                gi = clip if g[m, i] > clip else (-clip if g[m, i] < -clip else g[m, i])
                a = state1[m, j] * beta1 + rest1 * gi
                b = state2[m, j] * beta2 + rest2 * gi * gi
                state1[m, j], state2[m, j] = a, b
                p[m, i] -= rate * a / (np.sqrt(b) / root_bias2 + eps)
        elif kind == RMSPROP:
            for i in range(p.shape[1]):
                j = start + np.uint64(i)
                gi = clip if g[m, i] > clip else (-clip if g[m, i] < -clip else g[m, i])
                b = state1[m, j] * alpha + rest_alpha * gi * gi
                state1[m, j] = b
                p[m, i] -= rates[m] * gi / (np.sqrt(b) + eps)
        else:  # sgd
            for i in range(p.shape[1]):
                gi = clip if g[m, i] > clip else (-clip if g[m, i] < -clip else g[m, i])
                p[m, i] -= rates[m] * gi
