"""What every arithmetic unit offers the training loop, so the loop needs no special cases.

A unit is a ``torch.nn.Module`` with these extra duties:

* ``regularization(step, error=None)``: the term added to the loss at a training step (by
  default, the sum of the terms of the units it is made of, :meth:`~ArithmeticUnit.parts`:
  zero for most); ``error`` is each member's interpolation MSE at the latest evaluation, for
  regularizers that switch on once a member fits (iNALU's), and the others ignore it;
* ``plateau_reset``: ``None``, or a :class:`PlateauReset` under which the training loop
  re-initializes a member whose error has stopped falling;
* ``step_schedules()``: what the unit does from fixed training steps on (a regularizer's ramp,
  a re-initialization's first step: :class:`StepSchedule`), so that a run too short for it is
  told before it trains (``nalm run`` warns, ``nalm show`` states them);
* ``project_()``: an in-place correction applied after every optimizer step (by default,
  each part's; NAU and NMU clip their weights here);
* ``kernel_layer()``: optionally, the unit's forward pass as one of the layer kinds of the
  fused CPU step (:mod:`nalm.train.kernels`), with its effective weights (or a parameter and
  the bounds it is clamped to, which the step applies itself); a network whose
  units all describe one trains without PyTorch's per-operation overhead, and a recurrent
  cell whose layer is ``linear`` (x·Wᵀ exactly) takes every step's input part in one product,
  unless ``trains_through_forward`` says training must call the unit's own ``forward``;
* populations: ``members=M`` gives every parameter a leading member dimension, so one module
  holds M independent units that train at once. ``reset_member(m)`` initializes member m
  exactly as ``reset_parameters()`` initializes a standalone unit, drawing from the global
  random generator in the same order, so seeding that generator per member reproduces a
  standalone unit built under the same seed (see :func:`seed_members_`).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import torch
from torch import Tensor, nn

from . import functional as F


WEIGHT_MAPS = ("clamp", "nac", "sigmoid", "mcfc")
"""How a :class:`KernelLayer`'s trained parameters give its weight (``weight_map``)."""


def unregularized(step: int) -> float:
    """λ(step) of a unit without a regularizer: 0 at every step (:attr:`KernelLayer.sparsity_weight`)."""
    return 0.0


@dataclass(frozen=True)
class KernelLayer:
    r"""A unit's forward pass as a layer kind of the fused CPU step
    (:func:`nalm.train.kernels.step.fused_step`).

    With :math:`\ell_i = \log(|x_i| + \epsilon)` and :math:`g = \sigma(x G^T + b)`, the kinds are
    ``'linear'``: :math:`x W^T`; ``'nmu'``: :math:`\prod_i (W_{ji} x_i + 1 - W_{ji})`;
    ``'log-linear'``: :math:`\exp(\ell V^T)`; ``'nalu'``: :math:`g \odot x W^T + (1 - g) \odot
    \exp(\ell V^T)`, G with one row per output or one row shared by all.

    The tensors are the effective weights, computed from the parameters with autograd: the
    kernel returns the loss gradient with respect to each, and autograd carries it on to the
    parameters (a tensor may appear twice, as a NALU's shared W and V).

    ``weight_bounds`` ``(low, high)``: the bounds of a ``'clamp'`` map (below); where ``weight``
    is that parameter itself (NAU, NMU), the layer's W is ``weight.clamp(low, high)``: the fused
    step clamps ``weight`` itself and passes its gradient only where ``low <= weight <= high``,
    as ``torch.clamp`` and its backward do, so a clamped parameter (the NAU's and the NMU's)
    goes to the kernel without an autograd node: PyTorch's clamp backward took 80 µs for 100
    NAUs' 20,000 weights, 3% of their step.

    ``parameters`` and ``weight_map``: the trained parameters that give the layer's weight (its
    ``weight``, or a ``'log-linear'`` layer's ``log_weight``) and how, for a kernel that steps
    the optimizer itself (:mod:`nalm.train.gpu`): ``'clamp'``, the one parameter clamped to
    ``weight_bounds`` (itself, without bounds); ``'nac'``, :math:`\tanh(p_0) \odot \sigma(p_1)`;
    ``'sigmoid'``, :math:`\sigma(p_0)`; ``'mcfc'``, :math:`\sigma(p_1 + p_2) \odot
    \mathrm{softmax}(p_0)^T` (MC-FC's junction ``(in, out)``, gate weight ``(out, 1)`` and bias
    ``(out,)``) (:data:`WEIGHT_MAPS`), each parameter first multiplied by
    ``parameter_scale`` (a G-NALU's ln φ); a ``'nalu'`` layer's shared W and V. Empty: not
    described, and such kernels refuse the unit. ``gate_parameter``: the trained matrix whose
    product with ``parameter_scale`` is ``gate``.

    ``sparsity_weight``: where the unit's :meth:`~ArithmeticUnit.regularization` is exactly
    λ(step)·mean(min(\|W\|, \|1 - \|W\|\|)) over the raw weight ``parameters[0]`` (NAU, NMU),
    the function λ; a kernel that steps the optimizer itself computes that term from it;
    :func:`unregularized` for a unit without a regularizer. With ``regularizer`` ``'squares'``
    it is instead the λ of −λ·Σ mean(p²), a mean over each parameter (MC-FC's). ``None``: the
    regularizer is not described, and such kernels refuse the unit.
    """

    kind: str
    weight: Tensor | None = None
    log_weight: Tensor | None = None
    gate: Tensor | None = None
    gate_bias: Tensor | None = None
    eps: float = 0.0
    weight_bounds: tuple[float, float] | None = None
    sparsity_weight: Callable[[int], float] | None = None
    parameters: tuple[Tensor, ...] = ()
    weight_map: str = "clamp"
    gate_parameter: Tensor | None = None
    parameter_scale: float = 1.0
    regularizer: str = "sparsity"

    def effective_weight(self) -> Tensor | None:
        """W as the layer computes with it: ``weight``, clamped where the layer has bounds."""
        if self.weight_bounds is None or self.weight is None:
            return self.weight
        return self.weight.clamp(*self.weight_bounds)


@dataclass(frozen=True)
class PlateauReset:
    """When the training loop re-initializes a member whose error has stopped falling.

    Every ``every`` steps, once more than ``min_stored`` errors have been stored since the
    member's last (re-)initialization (one per step: the member's interpolation MSE at the
    latest evaluation), the stored errors are split into halves; the member is re-initialized,
    and its store emptied, when the first half's mean is at most the second half's mean plus
    its (population) standard deviation and the second half's mean exceeds ``threshold``.
    The defaults are iNALU's scheme as the NALM benchmark runs it (bmistry4/nalm-benchmark
    experiments/single_layer_benchmark.py:324-338 and 696-707).
    """

    every: int = 10
    min_stored: int = 5000
    threshold: float = 1.0

    def step_schedule(self) -> "Switch":
        """The first step a member can be re-initialized at: one checked (a multiple of ``every``)
        once more than ``min_stored`` errors are stored."""
        first = max(self.every, math.ceil(self.min_stored / self.every) * self.every)
        return Switch("re-initialization on plateaus", ("min_stored", "every"), first,
                      never="never re-initializes a member")


def steps(value: float) -> str:
    """A step count as the card and warnings print it: ``5,000``, ``246.8``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


@dataclass(frozen=True)
class StepSchedule:
    """Something a unit does from fixed training steps on, set by its ``options``: where a run
    ends before it, the unit does not train as its source trains it.

    Subclasses say what it is (:meth:`describe`) and what a run of some length misses of it
    (:meth:`cut`). A training run takes steps 0 to ``iterations - 1``.
    """

    what: str  # "regularizer", "re-initialization on plateaus"
    options: tuple[str, ...]  # the unit's options that set it

    def describe(self) -> str:
        raise NotImplementedError

    def cut(self, iterations: int) -> str | None:
        """What a run of ``iterations`` steps misses of it (``"never turns on"``), or ``None``
        where the run holds all of it."""
        raise NotImplementedError


@dataclass(frozen=True)
class Ramp(StepSchedule):
    """A weight ramped linearly from 0 at step ``start`` to ``scale`` at step ``end``
    (:func:`~nalm.units.functional.ramp`)."""

    scale: float = 0.0
    start: float = 0.0
    end: float = 0.0

    def describe(self) -> str:
        return (f"{self.what} λ 0 → {self.scale:g} over steps {steps(self.start)} → {steps(self.end)} "
                f"({', '.join(self.options)})")

    def cut(self, iterations: int) -> str | None:
        """Cut where it ends after the run (a ramp that ends with the run is whole)."""
        last = F.ramp(iterations - 1, self.scale, self.start, self.end)
        if last == 0:
            return "never turns on"
        if self.end > iterations:
            return f"reaches {last / self.scale:.0%} of its weight (λ {last:.3g} of {self.scale:g})"
        return None


@dataclass(frozen=True)
class Switch(StepSchedule):
    """Something on from step ``start`` (its conditions apart)."""

    start: float = 0.0
    never: str = "never turns on"

    def describe(self) -> str:
        return f"{self.what} from step {steps(self.start)} ({', '.join(self.options)})"

    def cut(self, iterations: int) -> str | None:
        return self.never if iterations - 1 < self.start else None


@dataclass(frozen=True)
class Growth(StepSchedule):
    """A weight from ``start``, multiplied by ``growth`` every ``every`` steps until it reaches
    ``end`` (:func:`~nalm.units.functional.grown`; divided, where ``start > end``)."""

    start: float = 0.0
    end: float = 0.0
    growth: float = 1.0
    every: int = 1

    def __post_init__(self) -> None:
        if not self.growth > 1 or not self.every >= 1:  # else it would never reach its end
            raise ValueError(f"a growth must be above 1 every positive number of steps, got ×{self.growth} "
                             f"every {self.every}")

    def at(self, step: int) -> float:
        return F.grown(step, self.start, self.end, self.growth, self.every)

    def full_step(self) -> int:
        """The first step at which it holds its final value."""
        final, step = self.at(2 ** 62), 0
        while self.at(step) != final:
            step += self.every
        return step

    def describe(self) -> str:
        return (f"{self.what} {self.start:g} → {self.end:g}, ×{self.growth:g} every {steps(self.every)} steps, "
                f"final from step {steps(self.full_step())} ({', '.join(self.options)})")

    def cut(self, iterations: int) -> str | None:
        last, final = self.at(iterations - 1), self.at(2 ** 62)
        if last == final:
            return None
        return f"never leaves {self.start:g}" if last == self.start else f"reaches only {last:g} of {final:g}"


def step_schedules(module: nn.Module) -> list[tuple[str, StepSchedule]]:
    """The step schedules of every unit in ``module`` that declares them, each once per unit
    class (a network's layers of one unit share theirs), as (class name, schedule)."""
    found = {}
    for unit in module.modules():
        declared = getattr(unit, "step_schedules", None)
        if callable(declared):
            for schedule in declared():
                found.setdefault((type(unit).__name__, schedule), None)
    return list(found)


class ArithmeticUnit(nn.Module):
    """Base class: shapes, members, input checks, and the training loop's interface.

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
        """Initialize member ``index`` (``None``: the standalone unit) from the global RNG: its own
        parameters, then those of the units it is made of (:meth:`parts`), in their order."""
        with torch.no_grad():
            self.init_member(**self.member_parameters(index))
        for part in self.parts():
            part.reset_member(index)

    def parts(self) -> list["ArithmeticUnit"]:
        """The units this unit is made of (its child modules that are units; none for most):
        by default they are reset, regularized and projected with it."""
        return [m for m in self.children() if isinstance(m, ArithmeticUnit)]

    def member_parameters(self, index: int | None) -> dict[str, Tensor]:
        """This unit's own parameters, or views of member ``index`` of each."""
        own = self.named_parameters(recurse=False)
        return {name: p if index is None else p[index] for name, p in own}

    def init_member(self, **parameters: Tensor) -> None:
        """Fill one member's parameters (standalone shapes) in place."""
        raise NotImplementedError

    init_scheme: str | None = None
    """The unit's fixed initialization with its source, for protocol cards (units whose init
    is a constructor option report it through :meth:`options` instead)."""

    init_options: tuple[str, ...] = ()
    """The constructor options that choose the initialization, which :meth:`options` reports
    only where they differ from their defaults; :attr:`init_scheme` describes those defaults."""

    def init_description(self) -> str | None:
        """:attr:`init_scheme`, unless an option of :attr:`init_options` replaced the init it
        describes (the card then shows that option, not the scheme)."""
        return None if any(name in self.options() for name in self.init_options) else self.init_scheme

    stochastic: bool = False
    """Training forward passes draw noise (the sNMU), so two calls on the same input differ;
    in eval mode the unit is deterministic."""

    positive_inputs_only: bool = False
    """The unit is defined on positive inputs only (MulMCFC: a log without eps or |·|); on
    others it gives nan, as its reference does."""

    # -- the training loop's interface ------------------------------------------------------
    plateau_reset: PlateauReset | None = None
    """Re-initialize members whose error has stopped falling (``None``: never)."""

    def step_schedules(self) -> list[StepSchedule]:
        """What this unit does from fixed training steps on (:class:`StepSchedule`): by default
        its :attr:`plateau_reset`'s first step. A unit whose options fix steps (a regularizer
        from step 5,000 on) lists them here, so that a run too short for them is warned of."""
        return [] if self.plateau_reset is None else [self.plateau_reset.step_schedule()]

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        """The loss term at ``step``: a scalar, or one value per member ``(M,)``. By default the
        sum of the parts' terms (:meth:`parts`), zero for a unit without parts.

        ``error``: each member's interpolation MSE at the latest evaluation, scalar or ``(M,)``
        (``None`` when unknown); units whose regularizer does not depend on it ignore it.
        """
        terms = [part.regularization(step, error) for part in self.parts()]
        return sum(terms) if terms else self.new_zeros_per_member()

    def project_(self) -> None:
        """Called after each optimizer step; the default projects each part (:meth:`parts`)."""
        for part in self.parts():
            part.project_()

    @property
    def trains_through_forward(self) -> bool:
        """Training must call this unit's ``forward`` (it keeps what it sees, as R_z keeps its
        inputs, or draws noise, as the sNMU), so neither the fused step nor the recurrent linear
        shortcut may stand in for it; :meth:`kernel_layer` still describes its forward pass in
        evaluation (``explain`` reads it). By default, whether any part (:meth:`parts`) must."""
        return any(part.trains_through_forward for part in self.parts())

    def kernel_layer(self) -> KernelLayer | None:
        """This unit's forward pass for the fused CPU step, or ``None`` (the default): trained
        with PyTorch's autograd. A unit that returns one must compute exactly that in ``forward``
        (in training too, unless :attr:`trains_through_forward`)."""
        return None

    def sparsity_error(self) -> Tensor:
        """How far the unit is from a discrete solution: a scalar, or one value per member ``(M,)``.

        Madsen & Johansen's sparsity error (ICLR 2020, section 4.1), the largest distance of a
        weight from {-1, 0, 1}, ``max min(|w|, |1 - |w||)`` (stable-nalu
        ``stable_nalu/functional/sparsity_error.py:4-6``), taken by default over the effective
        ``self.weight`` (NAC, NAC•, NAU, NMU: nalm-benchmark ``stable_nalu/layer/nac.py:74-78``,
        ``re_regualized_linear_nac.py:63-66``, ``re_regualized_linear_mnac.py:69-75``). Units
        with other weights override it; a unit without a ``weight`` is measured on its
        parameter ``W``, and one with neither gives nan. nan when a weight is nan.
        """
        for name in ("weight", "W"):
            if hasattr(self, name):
                return self.largest_distance_from_integers(getattr(self, name))
        p = next(self.parameters())
        return p.new_full(() if self.members is None else (self.members,), float("nan"))

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


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in evaluation mode (``module.eval()``) for the block, then back in its mode:
    units that compute differently in training (the NRU's smooth |W|, the NMRU's eps) are
    measured as they are meant to be used."""
    training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(training)


class Scheduled(ArithmeticUnit):
    """A unit whose regularizer is scaled by λ(t), ramping linearly from 0 at ``regularizer_start``
    to ``regularizer_scale`` at ``regularizer_end`` (Madsen & Johansen's schedule,
    :func:`~nalm.units.functional.ramp`); an argument left out (None) takes its default from the
    class's ``schedule``."""

    schedule: tuple[float, float, float]  # the default scale, start and end

    def __init__(self, in_features: int, out_features: int, *, regularizer_scale: float | None = None,
                 regularizer_start: float | None = None, regularizer_end: float | None = None, members=None,
                 device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        given = (regularizer_scale, regularizer_start, regularizer_end)
        self.regularizer_scale, self.regularizer_start, self.regularizer_end = (
            default if value is None else value for value, default in zip(given, self.schedule))

    def regularizer_weight(self, step: int) -> float:
        """λ(step)."""
        return F.ramp(step, self.regularizer_scale, self.regularizer_start, self.regularizer_end)

    def step_schedules(self) -> list[StepSchedule]:
        """The regularizer's ramp (none where its scale is 0), and any plateau reset's."""
        ramp = Ramp("regularizer", ("regularizer_start", "regularizer_end"), self.regularizer_scale,
                    self.regularizer_start, self.regularizer_end)
        return ([ramp] if self.regularizer_scale else []) + super().step_schedules()

    def options(self) -> dict:
        return {"regularizer_scale": self.regularizer_scale, "regularizer_start": self.regularizer_start,
                "regularizer_end": self.regularizer_end}


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
    layers = population_layers(module)
    seeds = list(seeds)
    for layer in layers:
        if layer.members != len(seeds):
            raise ValueError(f"{len(seeds)} seeds given for a layer of {layer.members} members")
    with torch.random.fork_rng(devices=_cuda_devices(module)):
        for index, seed in enumerate(seeds):
            torch.manual_seed(seed)
            for layer in layers:
                layer.reset_member(index)


def reinitialize_member_(module: nn.Module, index: int, seed: int) -> None:
    """Initialize member ``index`` of every population layer of ``module`` again, under ``seed``.

    Member ``index`` gets the weights that :func:`seed_members_` gives a member seeded with
    ``seed``, on any device: the draws are made on the CPU (CUDA's generator draws other
    numbers) and copied in. Other members and the global RNG state are untouched.
    """
    layers = population_layers(module)
    with torch.random.fork_rng(devices=_cuda_devices(module)), torch.no_grad():
        torch.manual_seed(seed)
        for layer in layers:
            own = list(layer.parameters())
            placed = [p.data for p in own]
            for p in own:
                p.data = p.data.to("cpu", copy=True)
            try:
                layer.reset_member(index)
            finally:
                for p, data in zip(own, placed):
                    data[index].copy_(p.data[index])
                    p.data = data


def population_layers(module: nn.Module) -> list[nn.Module]:
    """The layers of ``module`` that initialize members (``reset_member``), in registration order;
    a unit made of units stands for its parts, which it initializes itself."""
    found: list[nn.Module] = []

    def visit(m: nn.Module) -> None:
        if hasattr(m, "reset_member"):
            found.append(m)
            return
        for child in m.children():
            visit(child)

    visit(module)
    return found


def _cuda_devices(module: nn.Module) -> list[int]:
    return sorted({p.device.index for p in module.parameters() if p.device.type == "cuda"})
