"""The NALU of Trask et al. (2018) and the seed blog's FauxNALU ablation.

Both mix an additive path and a log-space multiplicative path with a learned sigmoid gate;
they differ only in the weight the paths use (a NAC's constrained weight, or a plain linear
layer), so the gate lives in one shared base class.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit, KernelLayer, unregularized
from .nac import check_init, init_nac_

GATES = ("vector", "scalar")


class _Gated(ArithmeticUnit):
    """Gate parameters and mixing shared by :class:`NALU` and :class:`FauxNALU`."""

    def __init__(self, in_features, out_features, *, gate, gate_bias, eps, init, members, device, dtype):
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.gate, self.eps, self.init = gate, eps, check_init(init)
        # 'scalar' is the seed blog's own code: one gate row shared by every output.
        self.G = self.new_parameter(1 if gate == "scalar" else out_features, in_features)
        self.gate_bias = self.new_parameter(1 if gate == "scalar" else out_features) if gate_bias else None

    def init_gate(self, G: Tensor, gate_bias: Tensor | None) -> None:
        """``'stable-nalu'``: ``xavier_uniform_`` with sigmoid's gain, 1 (stable-nalu
        ``stable_nalu/layer/_abstract_nalu.py:90-92``, nalm-benchmark
        ``stable_nalu/layer/_abstract_nalu.py:89-91``); ``'blog'``: ``kaiming_uniform_(a=√5)``
        (vrxacs/NALU-pytorch ``models/nalu.py:31``, ``models/fauxnalu.py:28``);
        ``'small-uniform'``: U[0, 0.1) (nmheim/NeuralPowerUnits ``src/arithmetic_models.jl:57-65``)."""
        if self.init == "stable-nalu":
            nn.init.xavier_uniform_(G, gain=nn.init.calculate_gain("sigmoid"))
        elif self.init == "small-uniform":
            nn.init.uniform_(G, 0.0, 0.1)
        else:
            nn.init.kaiming_uniform_(G, a=math.sqrt(5))
        if gate_bias is not None:
            nn.init.zeros_(gate_bias)  # start undecided between the paths

    gate_base_log = 1.0
    """ln of the gate sigmoid's base: σ_b(z) = 1/(1 + b^-z) = σ(z ln b); e here (the G-NALU's: φ)."""

    @property
    def gate_matrix(self) -> Tensor:
        """The matrix whose product with x is the gate's logits (G, scaled by :attr:`gate_base_log`)."""
        return self.G if self.gate_base_log == 1.0 else self.gate_base_log * self.G

    @property
    def gate_offset(self) -> Tensor | None:
        """The gate bias as it enters the logits (scaled as :attr:`gate_matrix`), or ``None``."""
        if self.gate_bias is None or self.gate_base_log == 1.0:
            return self.gate_bias
        return self.gate_base_log * self.gate_bias

    def gate_values(self, x: Tensor) -> Tensor:
        """g = σ(x Gᵀ [+ b]), shape ``(..., batch, out)`` or ``(..., batch, 1)``."""
        return self._gate(F.linear(x, self.gate_matrix))

    def _gate(self, logits: Tensor) -> Tensor:
        if self.gate_bias is not None:
            logits = logits + self.over_batch(self.gate_offset)
        return F.sigmoid(logits)

    def linear_and_gate(self, x: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
        """(x Wᵀ, g) from one matmul, so a large input is read once for both."""
        out = F.linear(x, torch.cat([weight, self.gate_matrix], dim=-2))
        linear, logits = out.split([weight.shape[-2], self.G.shape[-2]], dim=-1)
        return linear, self._gate(logits)

    def options(self) -> dict:
        return {"gate": self.gate, "gate_bias": self.gate_bias is not None, "eps": self.eps, "init": self.init}


class NALU(_Gated):
    r"""Neural arithmetic logic unit: a gated mix of a NAC and a NAC in log space.

    Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018, eq. 2:

    .. math::
        a = x W_a^T,\quad m = \exp(\log(|x| + \epsilon) W_m^T),\quad
        g = \sigma(x G^T),\quad y = g \odot a + (1 - g) \odot m

    with NAC weights :math:`W = \tanh(\hat W) \odot \sigma(\hat M)`. In the paper both paths
    share one weight (:math:`W_a = W_m`), which is the default.

    Args:
        in_features, out_features: sizes of each input and output sample.
        gate: ``'vector'`` (the paper: G has shape ``(out, in)``, one gate per output) or
            ``'scalar'`` (the seed blog's code: G has shape ``(1, in)``, shared by all outputs).
        shared_weights: one NAC weight for both paths (the paper); ``False`` gives each path
            its own ``W_hat``/``M_hat`` (as iNALU later did).
        gate_bias: add a trainable bias to the gate logits (zero-initialized).
        eps: added to :math:`|x|` before the log; default 1e-7 as in stable-nalu
            ``stable_nalu/layer/_abstract_nalu.py:17`` and nalm-benchmark (the seed blog's
            code uses 1e-10, vrxacs/NALU-pytorch ``models/nalu.py:25``).
        init: ``'stable-nalu'`` (default: the NAC matrices by
            :func:`~nalm.units.nac.init_nac_`, the gate ``xavier_uniform_`` with gain 1, as
            Madsen & Johansen's and Mistry et al.'s code), ``'blog'`` (every matrix
            ``kaiming_uniform_(a=√5)``, as the seed blog's code) or ``'small-uniform'`` (every
            matrix U[0, 0.1), as Heim et al.'s arithmetic task); the paper gives none.
        members, device, dtype: as for :class:`~nalm.units.nac.NAC`.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        W_hat, M_hat: the NAC matrices (of the additive path when weights are separate).
        W_hat_mul, M_hat_mul: the multiplicative path's matrices, only when
            ``shared_weights=False``.
        G: the gate matrix; gate_bias: the gate bias or ``None``.
        weight: the additive path's effective weight; ``mul_weight``: the multiplicative one.
        All are initialized by ``init``.

    Numerics:
        The multiplicative path is not clamped: in float32 ``exp`` overflows to ``inf`` once
        :math:`\log(|x|+\epsilon) W_m^T` exceeds about 88, and with the gate closed on that
        path :math:`0 \cdot \infty` gives ``nan``. This is the paper's unit, faithful to its
        failure modes; the training loop records such a member as diverged and goes on.

    Examples::

        >>> import torch
        >>> nalu = NALU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = nalu.W_hat.fill_(30.0), nalu.M_hat.fill_(30.0)  # W = [1, 1]
        ...     _ = nalu.G.fill_(-30.0)  # gate on the multiplicative path
        >>> nalu(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
        tensor([[12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        gate: str = "vector",
        shared_weights: bool = True,
        gate_bias: bool = False,
        eps: float = 1e-7,
        init: str = "stable-nalu",
        members=None,
        device=None,
        dtype=None,
    ):
        super().__init__(in_features, out_features, gate=gate, gate_bias=gate_bias, eps=eps, init=init,
                         members=members, device=device, dtype=dtype)
        self.shared_weights = shared_weights
        self.W_hat = self.new_parameter(out_features, in_features)
        self.M_hat = self.new_parameter(out_features, in_features)
        if not shared_weights:
            self.W_hat_mul = self.new_parameter(out_features, in_features)
            self.M_hat_mul = self.new_parameter(out_features, in_features)
        self.reset_parameters()

    def init_member(self, G, W_hat, M_hat, gate_bias=None, W_hat_mul=None, M_hat_mul=None):
        self.init_gate(G, gate_bias)
        for p in (W_hat, M_hat, W_hat_mul, M_hat_mul):
            if p is not None:
                init_nac_(p, self.init, self.in_features, self.out_features)

    @property
    def weight(self) -> Tensor:
        return F.nac_weight(self.W_hat, self.M_hat)

    @property
    def mul_weight(self) -> Tensor:
        if self.shared_weights:
            return self.weight
        return F.nac_weight(self.W_hat_mul, self.M_hat_mul)

    def options(self) -> dict:
        return {**super().options(), "shared_weights": self.shared_weights}

    def sparsity_error(self) -> Tensor:
        """The larger of the two paths' sparsity errors; the gate is not measured.

        Each path's NAC logs its own error and the reader keeps the largest (nalm-benchmark
        ``stable_nalu/layer/_abstract_nalu.py:36-44``, ``stable_nalu/reader/tensorboard_metric_reader.py:108-116``).
        """
        return torch.maximum(self.largest_distance_from_integers(self.weight),
                             self.largest_distance_from_integers(self.mul_weight))

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        add, gate = self.linear_and_gate(x, self.weight)
        mul = F.exp(F.linear(F.log_magnitude(x, self.eps), self.mul_weight))
        return F.gated_mix(gate, add, mul)

    def kernel_layer(self) -> KernelLayer:
        weight = self.weight
        # W from Ŵ and M̂, and the gate from G, each scaled by the base's log first; the
        # separate paths' weights are not described to kernels that step the optimizer.
        source = dict(parameters=(self.W_hat, self.M_hat), weight_map="nac", sparsity_weight=unregularized,
                      gate_parameter=self.G, parameter_scale=self.gate_base_log) if self.shared_weights else {}
        return KernelLayer("nalu", weight=weight, log_weight=weight if self.shared_weights else self.mul_weight,
                           gate=self.gate_matrix, gate_bias=self.gate_offset, eps=self.eps, **source)


class SeparateNALU(NALU):
    r"""The NALU with separate weights: its additive and multiplicative paths each have a NAC.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, appendix (the gating experiment's
    "NALU (separate)" row); stable-nalu ``--layer-type NALU --nalu-two-nac``
    (``lfs_batch_jobs/function_task_static_nalu.sh:16-20``, ``stable_nalu/layer/_abstract_nalu.py:40-42``).
    It is :class:`NALU` with ``shared_weights=False``, under its own name so that a model and its
    report tell it from the paper's NALU.

    Args:
        As for :class:`NALU`; ``shared_weights`` may only be ``False`` (the shared NALU is ``nalu``).

    Examples::

        >>> import torch
        >>> unit = SeparateNALU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat.fill_(30.0), unit.M_hat.fill_(30.0)  # the additive path: W = [1, 1]
        ...     _ = unit.W_hat_mul.fill_(-30.0), unit.M_hat_mul.fill_(30.0)  # the multiplicative: [-1, -1]
        ...     _ = unit.G.fill_(-30.0)  # gate on the multiplicative path
        >>> unit(torch.tensor([[2.0, 4.0]], dtype=torch.float64))
        tensor([[0.1250]], dtype=torch.float64, grad_fn=<...>)
    """

    def __init__(self, in_features: int, out_features: int, *, shared_weights: bool = False, **kwargs):
        if shared_weights:
            raise ValueError("SeparateNALU has separate weights: for shared ones, use NALU (nalu)")
        super().__init__(in_features, out_features, shared_weights=False, **kwargs)


LN_GOLDEN_RATIO = math.log((1 + math.sqrt(5)) / 2)
"""ln φ: base-φ functions are the natural ones of a scaled argument, φ^z = exp(z ln φ)."""


class GNALU(NALU):
    r"""Golden-ratio NALU: a NALU whose tanh, sigmoid and exponential have base φ.

    Mistry, Farrahi & Hare, "A Primer for Neural Arithmetic Logic Modules", JMLR 23(185), 2022
    (the G-NALU of their single-module benchmark), as bmistry4/nalm-benchmark codes it: the
    NALU with ``--nalu-gate golden-ratio --nalu-mul golden-ratio --nac-weight golden-ratio``
    (``lfs_batch_jobs/single_layer_task/benchmarking/single_layer_benchmark.sh:94-103``):

    .. math::
        W = \tanh_\varphi(\hat W) \odot \sigma_\varphi(\hat M),\quad
        g = \sigma_\varphi(x G^T),\quad
        y = g \odot x W^T + (1 - g) \odot \varphi^{\log(|x| + \epsilon) W^T / \ln\varphi}

    with :math:`\tanh_\varphi(z) = (\varphi^{2z} - 1)/(\varphi^{2z} + 1) = \tanh(z \ln\varphi)` and
    :math:`\sigma_\varphi(z) = 1/(1 + \varphi^{-z}) = \sigma(z \ln\varphi)`
    (``stable_nalu/functional/golden_ratio_base.py:4-6``, ``nac_weight.py:86-87``,
    ``layer/_abstract_nalu.py:113-114, 158-160``). The flatter functions saturate more slowly
    than the NALU's. The multiplicative path equals the NALU's :math:`\exp(\log(|x| + \epsilon) W^T)`.
    No regularizer and no clipping; the same init as :class:`NALU` (the reference keeps the
    natural-base NAC init, ``layer/nac.py:55-58``).

    Computed here through the natural functions of the scaled argument, which equal the
    reference's powers except where those overflow: its :math:`\tanh_\varphi` gives nan for
    arguments above about 92 in float32 (:math:`\varphi^{2z}` is inf), this one gives 1.

    Args:
        As for :class:`NALU`.

    Examples::

        >>> import torch
        >>> unit = GNALU(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat.fill_(80.0), unit.M_hat.fill_(80.0)  # tanh_φ(80)·σ_φ(80) ≈ 1
        ...     _ = unit.G.fill_(80.0)  # gate on the additive path
        >>> unit(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
        tensor([[7.]], dtype=torch.float64, grad_fn=<...>)
    """

    @property
    def weight(self) -> Tensor:
        return F.nac_weight(LN_GOLDEN_RATIO * self.W_hat, LN_GOLDEN_RATIO * self.M_hat)

    @property
    def mul_weight(self) -> Tensor:
        if self.shared_weights:
            return self.weight
        return F.nac_weight(LN_GOLDEN_RATIO * self.W_hat_mul, LN_GOLDEN_RATIO * self.M_hat_mul)

    gate_base_log = LN_GOLDEN_RATIO  # σ_φ(x Gᵀ + b) = σ(ln φ · (x Gᵀ + b))


class FauxNALU(_Gated):
    r"""The seed blog's FauxNALU: a NALU whose NAC is a plain linear layer with bias.

    Named in the seed blog (vrxacs, "A quick introduction to Neural Arithmetic Logic Units")
    after early ports that stored :math:`W` itself as a Parameter and so trained an
    unconstrained linear layer. It is an ablation: the NALU's gate and log-space path
    without the NAC's weight constraint. One linear layer serves both paths:

    .. math::
        a = x W^T + b,\quad m = \exp(\log(|x| + \epsilon) W^T + b),\quad
        y = g \odot a + (1 - g) \odot m,\quad g = \sigma(x G^T)

    Args:
        in_features, out_features, gate, gate_bias, members, device, dtype: as for
            :class:`NALU`.
        eps: as for :class:`NALU`; default 1e-10, the seed blog's (vrxacs/NALU-pytorch
            ``models/fauxnalu.py:22``), the only code of this unit.
        init: how the gate is drawn, as for :class:`NALU`; default ``'blog'``
            (``models/fauxnalu.py:28``). The linear layer is ``torch.nn.Linear``'s in both
            (``models/fauxnalu.py:25``).

    Shape:
        As for :class:`NALU`.

    Attributes:
        weight, bias: the linear layer, initialized as ``torch.nn.Linear`` does.
        G, gate_bias: as for :class:`NALU`.

    Numerics:
        As for :class:`NALU`: the multiplicative path may overflow to ``inf``.

    Examples::

        >>> import torch
        >>> FauxNALU(100, 2, members=4)(torch.rand(8, 100)).shape
        torch.Size([4, 8, 2])
    """

    def __init__(self, in_features: int, out_features: int, *, gate: str = "vector", gate_bias: bool = False,
                 eps: float = 1e-10, init: str = "blog", members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, gate=gate, gate_bias=gate_bias, eps=eps, init=init,
                         members=members, device=device, dtype=dtype)
        self.weight = self.new_parameter(out_features, in_features)
        self.bias = self.new_parameter(out_features)
        self.reset_parameters()

    def init_member(self, G, weight, bias, gate_bias=None):
        self.init_gate(G, gate_bias)
        init_linear_(weight, bias)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        bias = self.over_batch(self.bias)
        linear, gate = self.linear_and_gate(x, self.weight)
        mul = F.exp(F.linear(F.log_magnitude(x, self.eps), self.weight) + bias)
        return F.gated_mix(gate, linear + bias, mul)


def init_linear_(weight: Tensor, bias: Tensor | None) -> None:
    """``torch.nn.Linear.reset_parameters``: kaiming_uniform_(a=√5) and U(±1/√fan_in) bias."""
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1 / math.sqrt(weight.shape[1])
        nn.init.uniform_(bias, -bound, bound)
