"""The gated NAU/NMU of Madsen & Johansen (2020)'s appendix: the NALU's gate between an NAU and an NMU."""
from __future__ import annotations

import torch
from torch import Tensor

from . import functional as F
from .base import _cuda_devices
from .nalu import _Gated
from .nau_nmu import NAU, NMU


class GatedNAUNMU(_Gated):
    r"""Gated NAU/NMU: a NALU whose additive path is an NAU and whose multiplicative path an NMU.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, appendix (the gating experiment,
    "Gated NAU/NMU"); stable-nalu ``stable_nalu/layer/re_regualized_linear_nalu.py`` (the
    NALU of ``layer/_abstract_nalu.py`` with ``--nalu-two-nac --nalu-mul mnac``):

    .. math::
        a = x W_a^T,\quad m_j = \prod_i (W_{m,ji} x_i + 1 - W_{m,ji}),\quad
        g = \sigma(x G^T),\quad y = g \odot a + (1 - g) \odot m

    with :math:`W_a \in [-1, 1]` an :class:`~nalm.units.NAU`'s weight and :math:`W_m \in [0, 1]`
    an :class:`~nalm.units.NMU`'s, each clamped, clipped and drawn as its unit's. The gate is the
    NALU's (``xavier_uniform_`` with gain 1, ``_abstract_nalu.py:90-92``) and has no regularizer
    (``--nalu-gate normal``). One λ(t) weighs both paths' sparsity regularizers, each the mean
    over its own weights, summed, as the reference's one ``--regualizer`` weighs every layer's
    term (``experiments/simple_function_static.py:374``); by default the NMU's 10, ramped over
    steps 1e6 → 2e6.

    Each member draws its gate, then its NAU's weight, then its NMU's (the reference draws the gate
    last), so that a member of a population draws as the standalone unit does.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`~nalm.units.nac.NAC`.
        gate, gate_bias: as for :class:`~nalm.units.NALU`.
        regularizer_scale, regularizer_start, regularizer_end: λ(t) of both paths, as for
            :class:`~nalm.units.NMU` (its defaults).
        clip: as for :class:`~nalm.units.NAU`, for both paths.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Attributes:
        add: the NAU of the additive path; mul: the NMU of the multiplicative path.
        G: the gate matrix; gate_bias: the gate bias or ``None``.

    Examples::

        >>> import torch
        >>> unit = GatedNAUNMU(3, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.add.W.copy_(torch.tensor([[1.0, -1.0, 0.0]]))
        ...     _ = unit.mul.W.copy_(torch.tensor([[1.0, 1.0, 0.0]]))
        ...     _ = unit.G.fill_(-40.0)  # gate on the multiplicative path
        >>> x = torch.tensor([[3.0, 4.0, 9.0]], dtype=torch.float64)
        >>> unit(x)
        tensor([[12.]], dtype=torch.float64, grad_fn=<...>)
        >>> with torch.no_grad():
        ...     _ = unit.G.fill_(40.0)  # on the additive path
        >>> unit(x)
        tensor([[-1.]], dtype=torch.float64, grad_fn=<...>)
    """

    def __init__(self, in_features: int, out_features: int, *, gate: str = "vector", gate_bias: bool = False,
                 regularizer_scale: float | None = None, regularizer_start: float | None = None,
                 regularizer_end: float | None = None, clip: bool = True, members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, gate=gate, gate_bias=gate_bias, eps=0.0, init="stable-nalu",
                         members=members, device=device, dtype=dtype)
        scale, start, end = (NMU.schedule[i] if value is None else value
                             for i, value in enumerate((regularizer_scale, regularizer_start, regularizer_end)))
        paths = {"regularizer_scale": scale, "regularizer_start": start, "regularizer_end": end, "clip": clip,
                 "members": members, "device": device, "dtype": dtype}
        with torch.random.fork_rng(devices=_cuda_devices(self)):  # drawn again below, each member in turn
            self.add = NAU(in_features, out_features, **paths)
            self.mul = NMU(in_features, out_features, **paths)
        self.reset_parameters()

    def init_member(self, G: Tensor, gate_bias: Tensor | None = None) -> None:
        self.init_gate(G, gate_bias)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.gated_mix(self.gate_values(x), self.add(x), self.mul(x))

    def sparsity_error(self) -> Tensor:
        """The larger of the two paths' sparsity errors; the gate is not measured (stable-nalu
        logs each path's ``W/sparsity_error`` and its export keeps the largest,
        ``export/function_task_static_nalu.r:62``)."""
        return torch.maximum(self.add.sparsity_error(), self.mul.sparsity_error())

    def options(self) -> dict:
        return {"gate": self.gate, "gate_bias": self.gate_bias is not None, **self.mul.options()}
