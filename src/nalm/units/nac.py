"""The neural accumulators of Trask et al. (2018): NAC (additive) and NAC• (multiplicative)."""
from __future__ import annotations

from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit


class NAC(ArithmeticUnit):
    r"""Neural accumulator: :math:`y = x W^T` with :math:`W = \tanh(\hat W) \odot \sigma(\hat M)`.

    Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018, eq. 1. The weight is a
    function of two trained matrices, recomputed in every forward pass, so saturating it
    pulls each entry toward -1, 0 or 1 and the unit adds and subtracts its inputs without
    scaling them. No bias.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        members: if given, hold that many independent units as one population.
        device, dtype: factory keyword arguments for the parameters.

    Shape:
        - Input: :math:`(*, H_{in})`; with ``members=M``, :math:`(B, H_{in})` shared by all
          members or :math:`(M, B, H_{in})`.
        - Output: :math:`(*, H_{out})`; with ``members=M``, :math:`(M, B, H_{out})`.

    Attributes:
        W_hat, M_hat: the trained matrices, shape ``(out_features, in_features)`` (with a
            leading member dimension in a population), initialized with
            ``kaiming_uniform_`` as in the port the seed blog used (the paper gives no init).
        weight: the effective weight :math:`W` (read only).

    Examples::

        >>> import torch
        >>> nac = NAC(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = nac.W_hat.fill_(20.0), nac.M_hat.fill_(20.0)  # saturate: W = [1, 1]
        >>> nac(torch.tensor([[3.0, 4.0]], dtype=torch.float64))
        tensor([[7.0000]], dtype=torch.float64, grad_fn=<...>)
        >>> NAC(2, 1, members=8)(torch.rand(16, 2)).shape
        torch.Size([8, 16, 1])
    """

    linear_map = True

    def __init__(self, in_features: int, out_features: int, *, members=None, device=None, dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.W_hat = self.new_parameter(out_features, in_features)
        self.M_hat = self.new_parameter(out_features, in_features)
        self.reset_parameters()

    def init_member(self, W_hat: Tensor, M_hat: Tensor) -> None:
        nn.init.kaiming_uniform_(W_hat)
        nn.init.kaiming_uniform_(M_hat)

    @property
    def weight(self) -> Tensor:
        """The effective weight tanh(Ŵ)⊙σ(M̂); a derived tensor, never a Parameter."""
        return F.nac_weight(self.W_hat, self.M_hat)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.linear(x, self.weight)


class MultiplicativeNAC(NAC):
    r"""NAC•: a NAC in log space, :math:`y = \exp(\log(|x| + \epsilon) W^T)`.

    Trask et al. (2018), the multiplicative path of the NALU used on its own (Madsen &
    Johansen 2020 call it NAC•). Weights of 1 and -1 multiply and divide; the sign of the
    input is lost.

    Args:
        in_features, out_features, members, device, dtype: as for :class:`NAC`.
        eps: added to :math:`|x|` before the log so that a zero input stays finite.

    Shape:
        As for :class:`NAC`.

    Attributes:
        W_hat, M_hat, weight: as for :class:`NAC`.

    Numerics:
        ``exp`` overflows to ``inf`` once :math:`\log(|x|+\epsilon) W^T` passes about 88 in
        float32 (709 in float64); the unit does not clamp it, so the output is then ``inf``
        and the training engine records the member as diverged.

    Examples::

        >>> import torch
        >>> unit = MultiplicativeNAC(2, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat.copy_(torch.tensor([[20.0, -20.0]])), unit.M_hat.fill_(20.0)
        >>> unit(torch.tensor([[6.0, 3.0]], dtype=torch.float64))  # W = [1, -1]: a / b
        tensor([[2.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    linear_map = False

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, members=None, device=None, dtype=None):
        self.eps = eps
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)

    def options(self) -> dict:
        return {"eps": self.eps}

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.exp(F.linear(F.log_magnitude(x, self.eps), self.weight))
