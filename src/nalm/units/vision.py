"""Image models for the digit-sequence experiments: a population-capable convolution and the
CNN that reads one digit image.

A population's M convolutions run as one grouped convolution (``groups=M``): member m's
channels only ever meet member m's filters, so each member computes what it computes alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch  # noqa: F401  (the doctests use it)
import torch.nn.functional as torch_F
from torch import Tensor, nn

from .base import ArithmeticUnit
from .mlp import Linear
from .nalu import init_linear_


class Conv2d(ArithmeticUnit):
    r"""``torch.nn.Conv2d`` (square kernel, stride 1) that can also hold a population.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: the kernel's side.
        padding: zeros added on each side.
        members, device, dtype: as for :class:`~nalm.units.nac.NAC`.

    Shape:
        - Input: ``(N, C_in, H, W)``, or for M members ``(M, N, C_in, H, W)`` or a shared
          ``(N, C_in, H, W)``.
        - Output: ``(N, C_out, H', W')``, or ``(M, N, C_out, H', W')``.

    Examples::

        >>> Conv2d(1, 4, 3, padding=1, members=2)(torch.rand(5, 1, 8, 8)).shape
        torch.Size([2, 5, 4, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int = 0, members=None,
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, members=members, device=device, dtype=dtype)
        self.kernel_size, self.padding = kernel_size, padding
        self.weight = self.new_parameter(out_channels, in_channels, kernel_size, kernel_size)
        self.bias = self.new_parameter(out_channels)
        self.reset_parameters()

    def init_member(self, weight: Tensor, bias: Tensor) -> None:
        # torch.nn.Conv2d.reset_parameters: the weight kaiming_uniform_(a=√5), the bias
        # U(±1/√fan_in), as torch.nn.Linear's (which init_linear_ reproduces).
        init_linear_(weight.view(weight.shape[0], -1), bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.members is None:
            return torch_F.conv2d(x, self.weight, self.bias, padding=self.padding)
        m = self.members
        if x.dim() == 4:
            x = x.expand(m, *x.shape)
        _, n, c, h, w = x.shape
        grouped = x.transpose(0, 1).reshape(n, m * c, h, w)
        y = torch_F.conv2d(grouped, self.weight.flatten(0, 1), self.bias.flatten(), padding=self.padding, groups=m)
        return y.view(n, m, self.out_features, *y.shape[2:]).transpose(0, 1)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", kernel_size={self.kernel_size}, padding={self.padding}"


@dataclass(frozen=True)
class CNNShape:
    """Two convolutions (each ReLU, then 2×2 max-pooling) and a hidden layer."""

    channels: tuple[int, int]
    kernel_size: int
    padding: int
    hidden: int

    def flat_features(self, image_size: int) -> int:
        side = image_size
        for _ in range(2):
            side = (side + 2 * self.padding - self.kernel_size + 1) // 2
        if side < 1:
            raise ValueError(f"{image_size}×{image_size} images are too small for {self}")
        return self.channels[1] * side * side


LENET = CNNShape(channels=(20, 50), kernel_size=5, padding=0, hidden=500)
"""pytorch/examples' MNIST network, which stable-nalu uses (``stable_nalu/network/regression_mnist.py:17-19``)
and says Trask et al. used (``paper/sections/results.tex:68``)."""

SMALL = CNNShape(channels=(8, 16), kernel_size=3, padding=1, hidden=64)
"""nalm's scaled-down network for the bundled 8×8 digits: LeNet's 5×5 kernels do not fit them
twice, and a tenth of its width trains the default scale in minutes."""


def cnn_shape(image_size: int) -> CNNShape:
    """LeNet for MNIST's 28×28 images, :data:`SMALL` for the bundled 8×8 digits."""
    return LENET if image_size >= 28 else SMALL


class DigitCNN(nn.Module):
    """One image to ``out_features`` numbers: conv, ReLU, pool, conv, ReLU, pool, linear, ReLU,
    linear (stable-nalu ``stable_nalu/network/regression_mnist.py:36-42``), for a population.

    Examples::

        >>> cnn = DigitCNN(8, 10, members=3)
        >>> cnn(torch.rand(7, 8, 8)).shape
        torch.Size([3, 7, 10])
    """

    def __init__(self, image_size: int, out_features: int, *, shape: CNNShape | None = None, members=None,
                 device=None, dtype=None):
        super().__init__()
        self.shape = shape or cnn_shape(image_size)
        factory = {"members": members, "device": device, "dtype": dtype}
        (c1, c2), k, pad = self.shape.channels, self.shape.kernel_size, self.shape.padding
        self.conv1 = Conv2d(1, c1, k, padding=pad, **factory)
        self.conv2 = Conv2d(c1, c2, k, padding=pad, **factory)
        self.fc1 = Linear(self.shape.flat_features(image_size), self.shape.hidden, **factory)
        self.fc2 = Linear(self.shape.hidden, out_features, **factory)
        self.members = members

    def forward(self, images: Tensor) -> Tensor:
        """``(N, H, W)`` images (shared by all members) or ``(M, N, H, W)`` → ``(M, N, out)``."""
        x = images.unsqueeze(-3)  # one channel
        for conv in (self.conv1, self.conv2):
            x = pool(conv(x).relu())
        return self.fc2(self.fc1(x.flatten(-3)).relu())


def pool(x: Tensor) -> Tensor:
    """2×2 max-pooling over the last two dimensions of ``(*, C, H, W)``, whatever ``*`` is."""
    pooled = torch_F.max_pool2d(x.reshape(-1, *x.shape[-3:]), 2)
    return pooled.view(*x.shape[:-3], *pooled.shape[-3:])
