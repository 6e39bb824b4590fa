"""The NAC•'s two ablations of Madsen & Johansen (2020): NAC•,σ and NAC•,NMU.

Both keep the NAC•'s log space, :math:`y = \\exp(\\log(|x| + \\epsilon) W^T)`, and change only its
weight: NAC•,σ takes :math:`W = \\sigma(\\hat W)` in (0, 1), NAC•,NMU the NMU's weight (clamped to
[0, 1], its init and its sparsity regularizer). Weights between 0 and 1 can multiply inputs
in or leave them out, but not divide. The paper's rows put them under a NAC and an NAU:
``nac/nac-mul-sigma`` and ``nau/nac-mul-nmu`` (ICLR 2020, Table 1 and section 4.1.2).
"""
from __future__ import annotations

from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit, unregularized
from .nac import LogSpaceProduct
from .nau_nmu import NMU, _Regularized


class MultiplicativeNACSigma(LogSpaceProduct, ArithmeticUnit):
    r"""NAC•,σ: a NAC• whose weight is a sigmoid, :math:`y = \exp(\log(|x| + \epsilon)\, \sigma(\hat W)^T)`.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, section 4.1.2 (the NAC• without
    the tanh of its weight, so that weights lie in (0, 1), as the NMU's do); stable-nalu
    ``stable_nalu/layer/pos_nac.py`` (``PosNACLayer``) applied in log space by
    ``stable_nalu/network/simple_function_static.py:60-61``. No regularizer.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        eps: added to :math:`|x|` before the log; default 1e-7, as stable-nalu's network
            (``simple_function_static.py:9``).
        members: if given, hold that many independent units as one population.
        device, dtype: factory keyword arguments for the parameters.

    Shape:
        - Input: :math:`(*, H_{in})`; with ``members=M``, :math:`(B, H_{in})` shared by all
          members or :math:`(M, B, H_{in})`.
        - Output: :math:`(*, H_{out})`; with ``members=M``, :math:`(M, B, H_{out})`.

    Attributes:
        W_hat: the trained matrix, shape ``(out_features, in_features)``, initialized
            ``xavier_normal_`` (``pos_nac.py:26-27``).
        weight: the effective weight :math:`\sigma(\hat W)` (read only).

    Examples::

        >>> import torch
        >>> unit = MultiplicativeNACSigma(3, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W_hat.copy_(torch.tensor([[40.0, 40.0, -40.0]]))  # W = [1, 1, 0]
        >>> unit(torch.tensor([[3.0, 4.0, 9.0]], dtype=torch.float64))
        tensor([[12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    init_scheme = "Ŵ xavier_normal_, gain 1 (stable-nalu stable_nalu/layer/pos_nac.py:26-27)"
    weight_range = (0.0, 1.0)

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, members=None, device=None,
                 dtype=None):
        super().__init__(in_features, out_features, members=members, device=device, dtype=dtype)
        self.eps = eps
        self.W_hat = self.new_parameter(out_features, in_features)
        self.reset_parameters()

    def init_member(self, W_hat: Tensor) -> None:
        nn.init.xavier_normal_(W_hat)

    @property
    def weight(self) -> Tensor:
        """The effective weight σ(Ŵ); a derived tensor, never a Parameter."""
        return F.sigmoid(self.W_hat)

    def weight_source(self) -> dict:
        """The :class:`~nalm.units.base.KernelLayer` fields that say how Ŵ gives the weight (no
        regularizer)."""
        return dict(parameters=(self.W_hat,), weight_map="sigmoid", sparsity_weight=unregularized)

    def options(self) -> dict:
        return {"eps": self.eps}


class MultiplicativeNACNMU(LogSpaceProduct, _Regularized):
    r"""NAC•,NMU: a NAC• with the NMU's weight, :math:`y = \exp(\log(|x| + \epsilon) W^T)`, :math:`W \in [0, 1]`.

    Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020, section 4.1.2: the NMU's weight
    (clamped to [0, 1] in the forward pass and clipped after every optimizer step, drawn from
    U[0.25, 0.75], pulled to 0 or 1 by :math:`\lambda(t) \cdot \text{mean}(\min(|W|, |1-W|))`
    with the NMU's schedule 10, 1e6 → 2e6) in the NAC•'s log space, which isolates what the
    NMU's product form adds. stable-nalu ``stable_nalu/layer/re_regualized_linear_pos_nac.py``
    (``ReRegualizedLinearPosNACLayer``) applied in log space by
    ``stable_nalu/network/simple_function_static.py:60-61``.

    Its input regularizer R_z is the NMU's, :math:`\text{mean}((1 - W) \cdot (1 - \bar x)^2)`, over
    what its linear map sees: the log-space inputs :math:`\log(|x| + \epsilon)`, as the
    reference's layer keeps the inputs the network gives it after taking their log
    (``re_regualized_linear_pos_nac.py:39-41,62,66-68``; ``stable_nalu/network/sequential_mnist.py:81-85``).
    Madsen & Johansen's sequential MNIST product runs it with and without R_z
    (``lfs_batch_jobs/sequential_mnist_prod_long.sh``).

    Args:
        in_features, out_features, members, device, dtype: as for :class:`MultiplicativeNACSigma`.
        eps: as for :class:`MultiplicativeNACSigma`.
        regularizer_scale, regularizer_start, regularizer_end, regularizer_z: as for :class:`~nalm.units.NMU`.

    Shape:
        As for :class:`MultiplicativeNACSigma`.

    Attributes:
        W: the trained weight, initialized U[0.25, 0.75] (``re_regualized_linear_pos_nac.py:46-49``).
        weight: W clamped to [0, 1] (read only).

    Examples::

        >>> import torch
        >>> unit = MultiplicativeNACNMU(3, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = unit.W.copy_(torch.tensor([[1.0, 1.0, 0.0]]))
        >>> unit(torch.tensor([[3.0, -4.0, 9.0]], dtype=torch.float64))  # |3| |-4|: the sign is lost
        tensor([[12.0000]], dtype=torch.float64, grad_fn=<...>)
    """

    lower = 0.0
    z_input = 1.0  # the NMU's R_z, on the log-space inputs
    schedule = NMU.schedule
    init_scheme = "U[0.25, 0.75] (stable-nalu stable_nalu/layer/re_regualized_linear_pos_nac.py:46-49)"
    init_member = NMU.init_member  # the NMU's draw, as the reference's layer copies it

    def __init__(self, in_features: int, out_features: int, *, eps: float = 1e-7, **kwargs):
        self.eps = eps
        super().__init__(in_features, out_features, **kwargs)

    @property
    def weight_range(self) -> tuple[float, float]:
        return self.bounds

    def keep_log_input(self, logs: Tensor) -> None:
        self.remember_input(logs)

    z_magnitude = NMU.z_magnitude  # 1 - W on the raw W, as the reference's RegualizerNMUZ(self.W)

    def options(self) -> dict:
        return {"eps": self.eps, **super().options()}
