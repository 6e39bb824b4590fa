"""What every arithmetic unit offers the training engine, so the engine needs no special cases.

A unit is a ``torch.nn.Module`` with three extra duties:

* ``regularization(step)``: the term added to the loss at a training step (zero by default);
* ``project_()``: an in-place correction applied after every optimizer step (a no-op by
  default; NAU and NMU clip their weights here);
* populations: ``members=M`` gives every parameter a leading member dimension, so one module
  holds M independent units that train at once. ``reset_member(m)`` initializes member m
  exactly as ``reset_parameters()`` initializes a standalone unit, drawing from the global
  random generator in the same order, so seeding that generator per member reproduces a
  standalone unit built under the same seed (see :func:`seed_members_`).
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import Tensor, nn


class ArithmeticUnit(nn.Module):
    """Base class: shapes, members, input checks, and the engine interface.

    Subclasses create their parameters with :meth:`new_parameter` and implement
    :meth:`init_member` and ``forward``; they end ``__init__`` with ``self.reset_parameters()``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        members: int | None = None,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not _is_count(value):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if members is not None and not _is_count(members):
            raise ValueError(f"members must be a positive integer or None, got {members!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.members = members
        self._factory = {"device": device, "dtype": dtype}

    # -- parameters and initialization ---------------------------------------------------
    def new_parameter(self, *shape: int) -> nn.Parameter:
        """An uninitialized parameter of the given per-member shape."""
        lead = () if self.members is None else (self.members,)
        return nn.Parameter(torch.empty(*lead, *shape, **self._factory))

    def reset_parameters(self) -> None:
        for index in member_indices(self.members):
            self.reset_member(index)

    def reset_member(self, index: int | None) -> None:
        """Initialize member ``index`` (``None``: the standalone unit) from the global RNG."""
        with torch.no_grad():
            self.init_member(**self.member_parameters(index))

    def member_parameters(self, index: int | None) -> dict[str, Tensor]:
        """This unit's own parameters, or views of member ``index`` of each."""
        own = self.named_parameters(recurse=False)
        return {name: p if index is None else p[index] for name, p in own}

    def init_member(self, **parameters: Tensor) -> None:
        """Fill one member's parameters (standalone shapes) in place."""
        raise NotImplementedError

    linear_map = False
    """Whether ``forward(x)`` is exactly ``functional.linear(x, self.weight)`` (NAC, NAU):
    a recurrent cell of such a unit then splits its weight into input and state parts."""

    # -- engine interface ----------------------------------------------------------------
    def regularization(self, step: int) -> Tensor:
        """The loss term at ``step``: a scalar, or one value per member ``(M,)``."""
        return self.new_zeros_per_member()

    def project_(self) -> None:
        """Called after each optimizer step; the default does nothing."""

    def sparsity_error(self) -> Tensor:
        """How far the unit is from a discrete solution: a scalar, or one value per member ``(M,)``.

        Madsen & Johansen's sparsity error (ICLR 2020, section 4.1), the largest distance of a
        weight from {-1, 0, 1}, ``max min(|w|, |1 - |w||)`` (stable-nalu
        ``stable_nalu/functional/sparsity_error.py:4-6``), taken by default over the effective
        ``self.weight`` (NAC, NAC•, NAU, NMU: nalm-benchmark ``stable_nalu/layer/nac.py:74-78``,
        ``re_regualized_linear_nac.py:63-66``, ``re_regualized_linear_mnac.py:69-75``). Units
        with other weights override it. nan when a weight is nan.
        """
        return self.largest_distance_from_integers(self.weight)

    def largest_distance_from_integers(self, w: Tensor) -> Tensor:
        """``max min(|w|, |1 - |w||)`` over everything but the member dimension."""
        w = w.abs()
        distance = torch.minimum(w, (1 - w).abs())
        return distance.amax() if self.members is None else distance.flatten(1).amax(1)

    # -- helpers for subclasses ----------------------------------------------------------
    def new_zeros_per_member(self) -> Tensor:
        p = next(self.parameters())
        return p.new_zeros(() if self.members is None else (self.members,))

    def per_member_mean(self, t: Tensor) -> Tensor:
        """Mean over everything but the member dimension."""
        return t.mean() if self.members is None else t.flatten(1).mean(1)

    def per_member_sum(self, t: Tensor) -> Tensor:
        """Sum over everything but the member dimension."""
        return t.sum() if self.members is None else t.flatten(1).sum(1)

    def over_batch(self, t: Tensor) -> Tensor:
        """Insert a batch axis after the member axis, so ``(M, ...)`` meets ``(M, batch, ...)``."""
        return t if self.members is None else t.unsqueeze(1)

    def check_input(self, x: Tensor) -> None:
        """Raise a ValueError naming the expected and actual shapes."""
        name = type(self).__name__
        if x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{name} expected input of shape (*, {self.in_features}), got {tuple(x.shape)}"
            )
        if self.members is None:
            return
        m, n = self.members, self.in_features
        if x.dim() not in (2, 3) or (x.dim() == 3 and x.shape[0] != m):
            raise ValueError(
                f"{name} with {m} members expected input of shape (batch, {n}) or "
                f"({m}, batch, {n}), got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}"
        if self.members is not None:
            text += f", members={self.members}"
        options = self.options()
        return text + "".join(f", {k}={v!r}" for k, v in options.items())

    def options(self) -> dict:
        """Constructor options shown by ``repr`` (beyond the shapes)."""
        return {}


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def member_indices(members: int | None) -> Iterable[int | None]:
    return [None] if members is None else range(members)


def seed_members_(module: nn.Module, seeds: Iterable[int]) -> None:
    """Re-initialize member m of every population layer of ``module`` under seed ``seeds[m]``.

    Layers are visited in registration order, the order in which a standalone model's
    constructor initializes them, so member m starts exactly where
    ``torch.manual_seed(seeds[m]); Model(...)`` would. The global RNG state is restored.
    """
    layers = [layer for layer in module.modules() if hasattr(layer, "reset_member")]
    seeds = list(seeds)
    for layer in layers:
        if layer.members != len(seeds):
            raise ValueError(f"{len(seeds)} seeds given for a layer of {layer.members} members")
    devices = sorted({p.device.index for p in module.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=devices):
        for index, seed in enumerate(seeds):
            torch.manual_seed(seed)
            for layer in layers:
                layer.reset_member(index)
