"""The fused CPU training step: data, forward and backward in one compiled pass per member.

A network of one or two units that all describe a :class:`~nalm.units.base.KernelLayer`
(NAC, NAC•, NAU, NMU, NALU), trained on a task whose inputs are fresh uniform draws each step
(:class:`~nalm.tasks.StaticTask`), runs its data loss and weight gradients through
:func:`nalm.train.kernels.fused_step`. PyTorch still computes the effective weights from the
parameters, the regularizers and the optimizer step, and autograd carries the kernel's
gradients back to the parameters, so units keep one definition of their weights. PyTorch's
autograd path (``TrainConfig(fused=False)``) is the reference; the two agree to rounding
(tests/train/test_fused.py).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..units.network import Network
from . import kernels
from .data import PopulationData


class FusedStep:
    """Data loss and gradients of a population step from :func:`~nalm.train.kernels.fused_step`.

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
            np.array([kernels.OPS.index(m.target) for m in data.members], dtype=np.int64),
        )
        self.np_dtype = data.np_dtype
        self._pending: list[tuple[Tensor, Tensor]] = []
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
        if any(unit.kernel_layer() is None for unit in units):
            return None
        return cls(net, data)

    def fit(self, step: int) -> Tensor:
        """Each member's mean squared error on the batch of ``step``, shape (M,), no autograd graph."""
        words = self.data.streams.words(step)[self.streams]
        layers = [unit.kernel_layer() for unit in self.units] + [None] * (2 - len(self.units))
        kinds = [kernels.NONE if layer is None else kernels.KINDS[layer.kind] for layer in layers]
        weights, gradients, self._pending = [], [], []
        for layer in layers:
            for array, tensor in self._arrays(layer):
                gradient = np.zeros_like(array)
                weights.append(array)
                gradients.append(gradient)
                if tensor is not None and tensor.requires_grad:
                    self._pending.append((tensor, torch.from_numpy(gradient)))
            weights.append(self.np_dtype(0 if layer is None else layer.eps))
        loss = np.empty(len(self.data.members), dtype=self.np_dtype)
        with kernels.quiet_compilation():
            kernels.fused_step(*kinds)(self.streams, words, *self.data_arrays, *weights, loss, *gradients,
                                       *self._buffers(layers))
        return torch.from_numpy(loss)

    def _arrays(self, layer) -> list[tuple[np.ndarray, Tensor | None]]:
        """A layer's W, V, G and B for the kernel, each with the tensor it came from: empty arrays
        where the layer has none (a gate without bias: zeros), all four empty for no layer."""
        members, dtype = len(self.data.members), self.np_dtype
        tensors = (None,) * 4 if layer is None else (layer.weight, layer.log_weight, layer.gate, layer.gate_bias)
        out = []
        for index, tensor in enumerate(tensors):
            if tensor is not None:
                out.append((np.ascontiguousarray(tensor.detach().numpy()), tensor))
            elif index == 3 and layer is not None and layer.gate is not None:
                out.append((np.zeros(layer.gate.shape[:2], dtype=dtype), None))
            else:
                out.append((np.zeros((members, 0, 0) if index < 3 else (members, 0), dtype=dtype), None))
        return out

    def _buffers(self, layers: list) -> tuple:
        """The kernel's row, operand, target and work buffers, made on the first step and reused."""
        if self._work is None:
            inputs, hidden, outputs = (self.units[0].in_features, self.units[0].out_features,
                                       self.units[-1].out_features)
            gates = [0 if layer is None or layer.gate is None else layer.gate.shape[1] for layer in layers]
            dtype, batch = self.np_dtype, self.data.batch_size
            self._work = (np.empty((batch, inputs), dtype), np.empty((batch, 2), dtype), np.empty(batch, dtype),
                          kernels.workspace(batch, inputs, hidden, outputs, *gates, dtype))
        return self._work

    def backward(self, objective: Tensor) -> None:
        """Add the kernel's gradients of the last :meth:`fit` and those of ``objective`` (a scalar
        computed in PyTorch) to the parameters' gradients."""
        tensors = [tensor for tensor, _ in self._pending]
        grads = [grad for _, grad in self._pending]
        if objective.requires_grad:
            tensors.append(objective)
            grads.append(torch.ones_like(objective))
        torch.autograd.backward(tensors, grads)
        self._pending = []
