"""The Neural Addition Unit and Neural Multiplication Unit of Madsen & Johansen (2020)."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .. import streams
from ..philox import Draws, uniform_torch
from . import functional as F
from .base import KernelLayer, Scheduled, member_indices
from .input_regularizer import InputRegularized


class _Regularized(InputRegularized, Scheduled):
    """A unit with a clamped weight and Madsen & Johansen's ramped sparsity regularizer, and
    (NAU, NMU) their input regularizer R_z, weighted by ``regularizer_z`` (0: off;
    :class:`~nalm.units.input_regularizer.InputRegularized`).

    ``clip=False`` keeps W as the optimizer leaves it (the forward pass still clamps it): the
    reference's ``--oob-mode regualized`` with ``--regualizer-oob 0``, the "no W-clamp" rows of
    its ablation (stable-nalu ``stable_nalu/layer/re_regualized_linear_nac.py:48-52, 65``,
    ``re_regualized_linear_mnac.py:53-57, 70-72``)."""

    lower: float  # W's range is [lower, 1], enforced in forward and (clip) by project_()
    init_options = ("init",)
    inits: tuple[str, ...] = ("stable-nalu",)  # W's initializations (``init``), its paper's first

    def __init__(self, in_features: int, out_features: int, *, regularizer_z: float = 0.0, init: str = "stable-nalu",
                 clip: bool = True, **kwargs):
        super().__init__(in_features, out_features, **kwargs)
        if init not in self.inits:
            raise ValueError(f"{type(self).__name__} init must be one of {self.inits}, got {init!r}")
        if not isinstance(clip, bool):
            raise ValueError(f"clip must be true or false, got {clip!r}")
        self.init, self.clip = init, clip
        self._init_input_regularizer(regularizer_z)
        self.W = self.new_parameter(out_features, self.weight_columns())
        self.reset_parameters()

    def weight_columns(self) -> int:
        """Columns of W: one per input (units that weigh more than the inputs say how many)."""
        return self.in_features

    @property
    def bounds(self) -> tuple[float, float]:
        """The range W is clamped to in the forward pass and by :meth:`project_`."""
        return self.lower, 1.0

    @property
    def weight(self) -> Tensor:
        return self.W.clamp(*self.bounds)

    def weight_source(self) -> dict:
        """The :class:`~nalm.units.base.KernelLayer` fields that say how W gives the weight: clamped
        to :attr:`bounds`, under the sparsity regularizer's λ."""
        return dict(parameters=(self.W,), weight_bounds=self.bounds, sparsity_weight=self.regularizer_weight)

    def sparsity(self) -> Tensor:
        """R = mean(min(|W|, |1 - |W||)) per member over the raw, unclamped W: zero exactly when
        every |W| is 0 or 1, with gradient 0 there (``|·|`` has gradient 0 at 0 in PyTorch).

        As stable-nalu ``stable_nalu/functional/regualizer.py:21-25`` (NMU) and ``:42-47``
        (NAU), applied to the raw parameter (``layer/re_regualized_linear_nac.py:54-59``,
        ``layer/re_regualized_linear_mnac.py:59-64``); the mean is over all of a layer's
        weights, and the layers' terms are summed (``abstract/_extended_torch_module.py:35-48``).
        For the NMU's W ∈ [0, 1], :math:`|1 - |W|| = |1 - W|`, the reference's form.
        """
        w = self.W.abs()
        return self.per_member_mean(torch.minimum(w, (1 - w).abs()))

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        scale = self.regularizer_weight(step)
        total = self.new_zeros_per_member() if scale == 0 else scale * self.sparsity()
        z = self.input_regularization()
        return total if z is None else total + z

    def project_(self) -> None:
        """Clip W to its bounds (unless ``clip`` is off), and drop the inputs kept for R_z (the
        training loop calls this after every optimizer step, where the reference's ``optimize``
        does both)."""
        if self.clip:
            with torch.no_grad():
                self.W.clamp_(*self.bounds)
        self.forget_inputs()

    def options(self) -> dict:
        return {**super().options(), **self.input_regularizer_options(),
                **({"init": self.init} if self.init != self.inits[0] else {}), **({} if self.clip else {"clip": False})}

    @property
    def trains_through_forward(self) -> bool:
        """While R_z is on (it needs every training forward pass's input), and without ``clip``
        (the fused steps clip W after each step)."""
        return super().trains_through_forward or not self.clip


class NAU(_Regularized):
    r"""Neural addition unit: :math:`y = x W^T` with :math:`W \in [-1, 1]`.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, section 2.3. The weight is
    clamped to [-1, 1] in the forward pass and clipped in place after every optimizer step
    (:meth:`project_`). The regularizer :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-|W||))`
    (on the raw W, see :meth:`sparsity`)
    pulls weights to -1, 0 or 1, with :math:`\lambda(t)` ramping linearly from 0 at
    ``regularizer_start`` to ``regularizer_scale`` at ``regularizer_end`` (defaults: the
    paper's 0.01, 5e3 and 5e4).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        regularizer_scale, regularizer_start, regularizer_end: the schedule above; one left out
            (None) takes its default from ``schedule``.
        regularizer_z: the weight of the input regularizer R_z (:meth:`input_regularizer`),
            added unramped; 0 (off) by default, as stable-nalu's ``--regualizer-z``
            (``experiments/sequential_mnist.py:30-34``). While it is on, every training forward
            pass keeps its input until :meth:`project_`, and the fused step is not used.
        init: ``'stable-nalu'`` (below), or ``'small-uniform'``: U[0, 0.1), the ``"rand"`` init of
            Heim et al.'s arithmetic task (nmheim/NeuralPowerUnits ``src/arithmetic_models.jl:37-38``).
        clip: clip W to [-1, 1] after every optimizer step (default); ``False`` leaves W as the
            optimizer does, clamped in the forward pass only (Madsen & Johansen's ablation,
            "no W-clamp"), and trains without the fused step.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W: the trained weight, initialized :math:`U[-r, r]`,
            :math:`r = \min(0.5, \sqrt{3} \sqrt{2 / (in + out)})` (Madsen & Johansen 2020), by default.
        weight: W clamped to [-1, 1] (read only).

    Examples::

        >>> import torch
        >>> nau = NAU(3, 1)
        >>> with torch.no_grad():
        ...     _ = nau.W.copy_(torch.tensor([[1.0, -1.0, 0.0]]))
        >>> nau(torch.tensor([[5.0, 2.0, 9.0]]))
        tensor([[3.]], grad_fn=<...>)
    """

    lower = -1.0
    z_input = 0.0
    inits = ("stable-nalu", "small-uniform")
    schedule = (0.01, 5e3, 5e4)
    init_scheme = ("U[-r, r], r = min(0.5, √3·√(2/(in+out))) "
                   "(stable-nalu stable_nalu/layer/re_regualized_linear_nac.py:44-46)")

    def init_member(self, W: Tensor) -> None:
        if self.init == "small-uniform":
            nn.init.uniform_(W, 0.0, 0.1)
            return
        r = min(0.5, math.sqrt(3.0) * math.sqrt(2.0 / (self.in_features + self.out_features)))
        nn.init.uniform_(W, -r, r)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        self.remember_input(x)
        return F.linear(x, self.weight)

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("linear", weight=self.W, **self.weight_source())


class NMU(_Regularized):
    r"""Neural multiplication unit: :math:`y_j = \prod_i (W_{ji} x_i + 1 - W_{ji})`, :math:`W \in [0, 1]`.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, section 2.4. A weight of 1
    multiplies its input in, a weight of 0 leaves a factor of 1. Weights are clamped to
    [0, 1] in the forward pass and clipped after every optimizer step; the regularizer is
    :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-W|))` with the paper's defaults 10, 1e6 and
    2e6 (shorter benchmarks move the ramp earlier).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        regularizer_scale, regularizer_start, regularizer_end, regularizer_z, init, clip: as for
            :class:`NAU` (``clip``: to [0, 1]).

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W: the trained weight, initialized :math:`U[0.25, 0.75]` (Madsen & Johansen 2020) by default.
        weight: W clamped to [0, 1] (read only).

    Numerics:
        A product of many large inputs can overflow to ``inf``; nothing is clamped.

    Examples::

        >>> import torch
        >>> nmu = NMU(3, 1)
        >>> with torch.no_grad():
        ...     _ = nmu.W.copy_(torch.tensor([[1.0, 1.0, 0.0]]))
        >>> nmu(torch.tensor([[5.0, -2.0, 9.0]]))
        tensor([[-10.]], grad_fn=<...>)
    """

    lower = 0.0
    z_input = 1.0
    inits = ("stable-nalu", "small-uniform")
    schedule = (10.0, 1e6, 2e6)
    init_scheme = "U[0.25, 0.75] (stable-nalu stable_nalu/layer/re_regualized_linear_mnac.py:47-49)"

    def init_member(self, W: Tensor) -> None:
        if self.init == "small-uniform":
            nn.init.uniform_(W, 0.0, 0.1)
        else:
            nn.init.uniform_(W, 0.25, 0.75)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        self.remember_input(x)
        return F.nmu(x, self.over_batch(self.weight))

    def kernel_layer(self) -> KernelLayer:
        return KernelLayer("nmu", weight=self.W, **self.weight_source())

    def sparsity(self) -> Tensor:
        """R = mean(min(|W|, |1 - W|)) per member over the raw W, the reference's form
        (``stable_nalu/functional/regualizer.py:21-25``): the NAU's on [0, 1], and on a W that
        ``clip=False`` lets fall below -0.5 it pulls toward 0, where the NAU's would pull to -1."""
        return self.per_member_mean(torch.minimum(self.W.abs(), (1 - self.W).abs()))

    def z_magnitude(self) -> Tensor:
        """W itself, the reference's ``1 - W`` (``regualizer_nmu_z.py:17``): equal to |W| on
        [0, 1], but at W = 0, where a projected weight often sits, its gradient is -1, not |·|'s 0."""
        return self.W


class StochasticNMU(NMU):
    r"""Stochastic NMU (sNMU): an NMU trained on noisy inputs with the noise divided back out,
    :math:`y = \text{NMU}(x \odot n) / \text{NMU}(n)`, :math:`n \sim U[a, b]` per input element
    and sample, redrawn at every training step; in evaluation it is the NMU.

    Mistry, Farrahi & Hare, "Improving the Robustness of Neural Multiplication Units with
    Reversible Stochasticity" (2022); bmistry4/nalm-robust-nmu
    ``stable_nalu/layer/re_regualized_linear_mnac.py:69-79,101-104`` (noise U[1, 5],
    ``--noise-range``). The division cancels the noise exactly only where W is 0 or 1, which is
    what pushes W there.

    The reference draws the noise from PyTorch's global generator. Here member m's noise at
    its t-th training forward pass is Philox of (its noise key, the sNMU stream, t): the key is
    drawn from the global generator when the member is initialized, after W, so a member's
    noise does not depend on its population, and a seeded standalone unit draws the same. The
    count of training forward passes is kept with the weights (``noise_step``, part of the
    state dict and so of checkpoints), one per training step as the trainers call it.

    Args:
        noise_range: (a, b), the noise's bounds; default (1, 5).
        others: as for :class:`NMU`.

    Examples::

        >>> import torch
        >>> snmu = StochasticNMU(2, 1)
        >>> with torch.no_grad():
        ...     _ = snmu.W.copy_(torch.tensor([[1.0, 1.0]]))
        >>> x = torch.tensor([[3.0, 4.0]])
        >>> snmu(x).detach().round(decimals=4), snmu.eval()(x)  # noise cancels at W in {0, 1}, to rounding
        (tensor([[12.]]), tensor([[12.]], grad_fn=<...>))
    """

    def __init__(self, in_features: int, out_features: int, *, noise_range: tuple[float, float] = (1.0, 5.0),
                 **kwargs):
        low, high = (float(v) for v in noise_range)
        if not 0 < low < high:
            raise ValueError(f"noise_range must be (a, b) with 0 < a < b, got {noise_range!r}")
        self.noise_range = (low, high)
        super().__init__(in_features, out_features, **kwargs)
        device = self.W.device
        self.register_buffer("noise_key", torch.zeros(self.W.shape[:-2], dtype=torch.int64, device=device))
        self.register_buffer("noise_step", torch.zeros((), dtype=torch.int64, device=device))
        for index in member_indices(self.members):
            self._draw_key(index)

    def reset_member(self, index: int | None) -> None:
        super().reset_member(index)
        if hasattr(self, "noise_key"):  # not yet while the NMU's constructor draws W
            self._draw_key(index)

    def _draw_key(self, index: int | None) -> None:
        key = int(torch.randint(0, 2 ** 62, (), dtype=torch.int64))
        (self.noise_key if index is None else self.noise_key[index]).fill_(key)

    def noise(self, shape: torch.Size) -> Tensor:
        """This training step's noise for one member's inputs of ``shape``: ``shape``, or
        ``(M, *shape)`` for a population."""
        low, high = self.noise_range
        step = int(self.noise_step)
        keys = self.noise_key.tolist()
        draws = (Draws(keys, streams.SNMU_NOISE, step) if self.members is None
                 else [Draws(key, streams.SNMU_NOISE, step) for key in keys])
        rows = math.prod(shape[:-1])
        u = uniform_torch(draws, (rows, self.in_features), dtype=self.W.dtype, device=self.W.device)
        return (low + (high - low) * u).view(*self.W.shape[:-2], *shape)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return super().forward(x)
        self.check_input(x)
        n = self.noise(x.shape if self.members is None or x.dim() == 2 else x.shape[1:])
        self.noise_step += 1
        weight = self.over_batch(self.weight)
        return F.nmu(x * n, weight) / F.nmu(n, weight)

    @property
    def trains_through_forward(self) -> bool:
        """Always: its training forward draws noise, which the NMU's fused kernel does not."""
        return True

    stochastic = True
    z_input = None  # its noisy training forward does not keep inputs for R_z, so R_z is not offered

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # Stored runs keep parameters only: a unit loaded from them keeps its own key and count,
        # which matter in training alone (a checkpoint's state dict holds both).
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        for name in ("noise_key", "noise_step"):
            if prefix + name in missing_keys:
                missing_keys.remove(prefix + name)

    def options(self) -> dict:
        return {**super().options(), "noise_range": self.noise_range}
