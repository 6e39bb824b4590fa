"""The fused CPU training step: data, forward and backward in one compiled pass per member.

A network of one or two units that all describe a :class:`~nalm.units.base.KernelLayer`
(NAC, NAC•, NAU, NMU, NALU), trained on a task whose inputs are fresh uniform draws each step
(:class:`~nalm.tasks.StaticTask`), runs its data loss and weight gradients through
:func:`nalm.train.kernels.step.fused_step`. PyTorch still computes the effective weights from the
parameters, the regularizers and the optimizer step, and autograd carries the kernel's
gradients back to the parameters, so units keep one definition of their weights. PyTorch's
autograd path (``TrainConfig(fused=False)``) is the reference; the two agree to rounding
(tests/train/test_fused.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..units.network import Network
from .kernels.draw import OPS, quiet_compilation
from .kernels.layers import KINDS, NONE, clamp_gradient, clamp_into
from .kernels.step import fused_step, workspace
from .data import PopulationData


class FusedStep:
    """Data loss and gradients of a population step from :func:`~nalm.train.kernels.step.fused_step`.

    Build it with :meth:`of`, which returns ``None`` where the network or the data do not
    allow it; then, per step, :meth:`fit` gives each member's MSE on its batch, and
    :meth:`backward` adds the gradients to the parameters' ``.grad`` (with those of a term
    computed in PyTorch, such as the regularizers).
    """

    def __init__(self, net: Network, data: PopulationData):
        self.net, self.data = net, data
        self.units = net.units()
        members = data.stream_of_member
        streams = data.streams
        self.streams = np.ascontiguousarray(members, dtype=np.int64)  # each member's stream
        self.data_arrays = (
            streams.row_blocks, *(a[members] for a in streams.ranges),
            streams.a_masks[members], streams.b_masks[members], streams.spans[members],
            np.array([OPS.index(m.target) for m in data.members], dtype=np.int64),
        )
        self.np_dtype = data.np_dtype
        self._pending: list[_Weight] = []  # the weights of the last fit whose gradients go back
        self._work = None

    @classmethod
    def of(cls, net, data: PopulationData) -> "FusedStep | None":
        if data.device.type != "cpu" or data.streams is None or data.fixed_train is not None:
            return None
        if len(data.input_shape) != 1 or not isinstance(net, Network):
            return None
        units = net.units()
        if len(units) != len(net) or len(units) not in (1, 2) or net.members is None:
            return None
        if any(unit.kernel_layer() is None or unit.trains_through_forward for unit in units):
            return None
        return cls(net, data)

    def fit(self, step: int) -> Tensor:
        """Each member's mean squared error on the batch of ``step``, shape (M,), no autograd graph."""
        words = self.data.streams.words(step)[self.streams]
        layers = [unit.kernel_layer() for unit in self.units] + [None] * (2 - len(self.units))
        kinds = [NONE if layer is None else KINDS[layer.kind] for layer in layers]
        weights, gradients, self._pending = [], [], []
        for layer in layers:
            for weight in self._weights(layer):
                weights.append(weight.array)
                gradients.append(weight.gradient)
            weights.append(self.np_dtype(0 if layer is None else layer.eps))
        loss = np.empty(len(self.data.members), dtype=self.np_dtype)
        with quiet_compilation():
            fused_step(*kinds)(self.streams, words, *self.data_arrays, *weights, loss, *gradients,
                               *self._buffers(layers))
        for weight in self._pending:
            if weight.bounds is not None:
                clamp_gradient(weight.raw, *weight.bounds, weight.gradient)
        return torch.from_numpy(loss)

    def _weights(self, layer) -> list["_Weight"]:
        """A layer's W, V, G and B for the kernel: empty arrays where the layer has none (a gate
        without bias: zeros), all four empty for no layer. Those with a gradient to carry back
        are also kept for :meth:`backward`."""
        members, dtype = len(self.data.members), self.np_dtype
        tensors = (None,) * 4 if layer is None else (layer.weight, layer.log_weight, layer.gate, layer.gate_bias)
        out = []
        for index, tensor in enumerate(tensors):
            if tensor is not None:
                bounds = layer.weight_bounds if index == 0 else None
                weight = _Weight.of(tensor, None if bounds is None else tuple(map(dtype, bounds)))
                if tensor.requires_grad:
                    self._pending.append(weight)
            elif index == 3 and layer is not None and layer.gate is not None:
                weight = _Weight.empty(np.zeros(layer.gate.shape[:2], dtype=dtype))
            else:
                weight = _Weight.empty(np.zeros((members, 0, 0) if index < 3 else (members, 0), dtype=dtype))
            out.append(weight)
        return out

    def _buffers(self, layers: list) -> tuple:
        """The kernel's row, operand, target and work buffers, made on the first step and reused."""
        if self._work is None:
            inputs, hidden, outputs = (self.units[0].in_features, self.units[0].out_features,
                                       self.units[-1].out_features)
            gates = [0 if layer is None or layer.gate is None else layer.gate.shape[1] for layer in layers]
            dtype, batch = self.np_dtype, self.data.batch_size
            self._work = (np.empty((batch, inputs), dtype), np.empty((batch, 2), dtype), np.empty(batch, dtype),
                          workspace(batch, inputs, hidden, outputs, *gates, dtype))
        return self._work

    def backward(self, objective: Tensor) -> None:
        """Add the kernel's gradients of the last :meth:`fit` and those of ``objective`` (a scalar
        computed in PyTorch) to the parameters' gradients: a parameter's directly (as autograd
        accumulates a leaf's), a computed weight's through autograd."""
        tensors, grads = [], []
        for weight in self._pending:
            gradient = torch.from_numpy(weight.gradient)
            if weight.tensor.is_leaf:
                if weight.tensor.grad is None:
                    weight.tensor.grad = gradient
                else:
                    weight.tensor.grad += gradient
            else:
                tensors.append(weight.tensor)
                grads.append(gradient)
        if objective.requires_grad:
            tensors.append(objective)
            grads.append(torch.ones_like(objective))
        if tensors:
            torch.autograd.backward(tensors, grads)
        self._pending = []


@dataclass
class _Weight:
    """One weight array of the kernel, its zeroed gradient, and where that gradient goes."""

    array: np.ndarray  # what the kernel reads: the tensor's values, clamped to ``bounds`` if given
    gradient: np.ndarray
    tensor: Tensor | None = None
    raw: np.ndarray | None = None  # the tensor's values
    bounds: tuple | None = None

    @classmethod
    def of(cls, tensor: Tensor, bounds: tuple | None) -> "_Weight":
        raw = np.ascontiguousarray(tensor.detach().numpy())
        array = raw
        if bounds is not None:
            array = np.empty_like(raw)
            clamp_into(raw, *bounds, array)
        return cls(array, np.zeros_like(raw), tensor, raw, bounds)

    @classmethod
    def empty(cls, array: np.ndarray) -> "_Weight":
        return cls(array, np.zeros_like(array))
