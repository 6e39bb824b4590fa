"""The host side of the Triton trainer: what a launch needs, and what it changes.

:class:`TritonSteps` checks that a population's network, task and config are ones the kernel
trains (:func:`check`, one ValueError naming what is not supported yet), gathers each member's
Philox words, range, operand spans and target once, and per launch computes the per-step
constants that the loop's optimizer and the units would compute (Adam's bias corrections, the
regularizers' λ(step)), launches :func:`~nalm.train.gpu.kernel.train_kernel` on the
population's own parameters and optimizer state, in place, and reports divergence as the loop
records it. A checkpoint taken between launches is the loop's, unchanged.
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import torch
from torch import Tensor

from ...units.base import WEIGHT_MAPS
from ..data import PopulationData
from ..kernels.draw import OPS
from ..kernels.layers import KINDS, LINEAR, LOG_LINEAR, NALU, NMU, NONE
from ..optim import CORRECTIONS, OPTIMIZERS, PopulationOptimizer

TRAINED = (LINEAR, NMU, LOG_LINEAR, NALU)  # the layer kinds it trains (numbered as the fused CPU step numbers them)
REGULARIZERS = ("sparsity", "squares")  # those of KernelLayer.regularizer the kernel computes
PARAMETERS = {"clamp": 1, "nac": 2, "sigmoid": 1, "mcfc": 3}  # each weight map's parameters
MAX_HIDDEN = 16  # the second layer's inputs: an NMU's product runs over all pairs of them
ROWS = 16  # batch rows per tile: on sm_90 157 registers (216 at 32) for as many instructions (gpu_static.py)
WARPS = 4
SHAPE = ("B", "D", "FULL", "BR", "BD4")  # the constexprs of a batch, which draw_kernel takes too
SUPPORTED = ("NAU, NMU, NAC, NAC•, NAC•,σ, NAC•,NMU and MC-FC layers, alone or in pairs, and NALU and G-NALU "
             "layers (one shared weight, a gate per output, no gate bias) alone or in pairs, so far (without "
             "regularizer_z)")


def check(net, data: PopulationData, config) -> list:
    """The network's kernel layers, after checking that the kernel trains this population;
    else a ValueError naming the first thing it does not support yet. The network and the task
    are checked before this process's Triton, so that a refusal of them reads the same on
    every machine."""
    if config.dtype != "float32":
        raise ValueError(f"kernel triton trains float32 only so far; dtype {config.dtype} is not supported yet")
    if config.grad_norm_clip is not None:
        raise ValueError("kernel triton does not support grad_norm_clip yet")
    if data.streams is None or data.fixed_train is not None or len(data.input_shape) != 1:
        raise ValueError("kernel triton trains on static tasks with fresh uniform batches only so far")
    units = net.units() if hasattr(net, "units") else []
    if not units or len(units) != len(net) or len(units) > 2 or net.members is None:
        raise ValueError("kernel triton trains networks of one or two arithmetic units only so far")
    layers = [None if unit.trains_through_forward else unit.kernel_layer() for unit in units]
    names = "→".join(type(unit).__name__ for unit in units)
    if not all(_described(layer, unit, net.members) for layer, unit in zip(layers, units)):
        raise ValueError(f"kernel triton trains {SUPPORTED}; {names} is not supported yet")
    if len(layers) == 2 and units[0].out_features > MAX_HIDDEN:
        raise ValueError(f"kernel triton trains hidden widths up to {MAX_HIDDEN} so far, not {units[0].out_features}")
    if units[-1].out_features != 1:
        raise ValueError(f"kernel triton trains networks of one output so far, not {units[-1].out_features}")
    trained, described = [p for p in net.parameters() if p.requires_grad], [p for l in layers for p in _parameters(l)]
    if len(trained) != len(described) or {id(p) for p in trained} != {id(p) for p in described}:
        raise ValueError(f"kernel triton needs the layers' described parameters as the network's only parameters; "
                         f"{names} has others")
    counts, spans = data.streams.ranges[4], data.streams.spans
    if (counts != 1).any():
        raise ValueError("kernel triton draws inputs from one interval so far; "
                         "a union of intervals is not supported yet")
    if (spans < 0).any():
        raise ValueError("kernel triton sums operands over runs of consecutive inputs only so far")
    if importlib.util.find_spec("triton") is None:
        raise ValueError("kernel triton needs Triton installed (pip install 'nalm[gpu]')")
    if data.device.type == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError("kernel triton on the cpu runs through Triton's interpreter: set TRITON_INTERPRET=1, "
                         "or train on --device cuda")
    return layers


def default_kernel(config, device: torch.device) -> str | None:
    """The kernel that trains on ``device`` where the config names none: ``"triton"`` on a CUDA
    device where Triton is installed, else ``None`` (the fused step or autograd); a config with
    ``fused: false`` asks for autograd everywhere, so it never gets the kernel by default."""
    if config.kernel is not None or not config.fused:
        return config.kernel
    return "triton" if device.type == "cuda" and importlib.util.find_spec("triton") is not None else None


def kernel_layers(net, data: PopulationData, config) -> list | None:
    """The layers the Triton trainer trains this population with, or ``None`` where it does not
    train it: ``kernel: "triton"`` asks for it (a population it does not train is refused:
    :func:`check`'s ValueError); where the config names no kernel, :func:`default_kernel` may
    choose it, and a population it does not train goes to PyTorch's autograd without a word
    (a run of many models would otherwise warn for each); ``"autograd"`` never uses it."""
    if config.uses_kernel:
        return check(net, data, config)
    if config.kernel is not None or config.iterations == 0 or default_kernel(config, data.device) != "triton":
        return None
    try:
        return check(net, data, config)
    except ValueError:
        return None


def _described(layer, unit, members) -> bool:
    """Whether the kernel trains ``layer``: a kind it has, a weight map of (M, out, in) parameters (a
    NALU's gate matrix too, without a bias), a scale only where the map has one, and a described
    regularizer."""
    if layer is None or KINDS.get(layer.kind) not in TRAINED or layer.sparsity_weight is None:
        return False
    if (layer.kind == "nalu") != (layer.gate_parameter is not None) or layer.gate_bias is not None:
        return False
    if layer.parameter_scale != 1 and layer.weight_map in ("clamp", "mcfc"):
        return False
    if (layer.regularizer == "squares") != (layer.weight_map == "mcfc") or layer.regularizer not in REGULARIZERS:
        return False
    shape = (members, unit.out_features, unit.in_features)
    shapes = [shape] * (len(layer.parameters) + (layer.gate_parameter is not None))
    if layer.weight_map == "mcfc":  # the junction (in, out), the gate's weight (out, 1) and bias (out)
        shapes = [(members, unit.in_features, unit.out_features), (members, unit.out_features, 1),
                  (members, unit.out_features)]
    parameters = _parameters(layer)
    return PARAMETERS.get(layer.weight_map) == len(layer.parameters) and len(shapes) == len(parameters) and all(
        tuple(p.shape) == s and p.is_contiguous() for p, s in zip(parameters, shapes))


def _parameters(layer) -> list[Tensor]:
    """A layer's trained parameters: its weight's, then its gate's."""
    return list(layer.parameters) + ([] if layer.gate_parameter is None else [layer.gate_parameter])


def constexprs(layers: list[tuple[str, str]], hidden: int, batch_size: int, inputs: int, row_blocks: int,
               optimizer: str, rows: int = ROWS) -> dict:
    """The training kernel's constexprs for a launch that trains (``GRADIENTS`` False): ``layers``,
    one or two (kind, weight map) of :class:`~nalm.units.base.KernelLayer` (``hidden``: the
    first one's outputs), batches of ``batch_size`` rows of ``inputs`` drawn in ``row_blocks``
    Philox blocks a row, ``rows`` rows per tile, ``optimizer`` (one of
    :data:`~nalm.train.optim.OPTIMIZERS`). The trainer launches with them, and
    benchmarks/gpu_static.py compiles with them."""
    pair = len(layers) == 2
    (kind1, map1), (kind2, map2) = layers[0], layers[1] if pair else (None, "clamp")
    return dict(B=batch_size, BB=_pow2(batch_size), D=inputs, FULL=4 * (inputs // 4),
                BR=min(rows, _pow2(batch_size)), BD4=_pow2(row_blocks), H=hidden, H2=hidden if pair else 0,
                BH=max(2, _pow2(hidden)), KIND1=KINDS[kind1], KIND2=KINDS[kind2] if pair else NONE,
                MAP1=WEIGHT_MAPS.index(map1), MAP2=WEIGHT_MAPS.index(map2), OPTIMIZER=OPTIMIZERS.index(optimizer),
                GRADIENTS=False)


class TritonSteps:
    """Trains a population's members ``count`` steps per launch, in place of the loop's step.

    ``net``, ``data`` and ``config``: the population's; ``optimizer``: the loop's
    :class:`~nalm.train.optim.PopulationOptimizer`, whose settings the kernel follows and whose
    state and step count it reads and advances; ``layers``: :func:`check`'s answer for this
    population where the caller has it (else it is checked here).
    """

    def __init__(self, net, data: PopulationData, config, optimizer: PopulationOptimizer, layers: list | None = None):
        self.layers = check(net, data, config) if layers is None else layers
        self.units, self.optimizer = net.units(), optimizer
        device = data.device
        members, streams = data.stream_of_member, data.streams
        words = streams.keys[members].astype(np.int64)  # (M, 5): k0, k1, c1, c2, c3
        lows, highs, ends = (r[members, 0] for r in streams.ranges[:3])

        def on_device(array, dtype):
            return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

        self.keys = on_device(words[:, 0] | (words[:, 1] << 32), torch.int64)
        self.c3s = on_device(words[:, 4], torch.int64)
        self.lows, self.widths, self.highs = (on_device(a, torch.float32) for a in (lows, ends, highs))
        self.spans = on_device(streams.spans[members], torch.int64)
        self.ops = on_device([OPS.index(m.target) for m in data.members], torch.int32)
        self.row_blocks = int(streams.row_blocks)
        self.batch_size, self.inputs = data.batch_size, data.input_shape[0]
        self.rates = optimizer.rates.to(device, torch.float32)
        m = len(data.members)
        self.diverged_at = torch.empty(m, dtype=torch.int64, device=device)
        self.losses = torch.empty(m, dtype=torch.float32, device=device)
        self.nothing = torch.zeros(1, dtype=torch.float32, device=device)
        self.targets = torch.empty(m, _pow2(self.batch_size), dtype=torch.float32, device=device)  # the kernel's
        # What every launch passes unchanged, in float32 as the CPU's step rounds it: the layers'
        # bounds, the optimizer's constants but Adam's corrections, the constexprs.
        f32 = np.float32
        samples = f32(self.batch_size)  # rows × one output
        unbounded = (-np.inf, np.inf)
        bounds = [b for layer in self.layers for b in layer.weight_bounds or unbounded]
        bounds += [0.0, 0.0] * (2 - len(self.layers))
        eps = [layer.eps for layer in self.layers] + [0.0] * (2 - len(self.layers))
        scales = [layer.parameter_scale for layer in self.layers] + [1.0] * (2 - len(self.layers))
        fixed = np.delete(optimizer.constants(1, f32), CORRECTIONS)
        self.scalars = [float(samples), float(f32(2) / samples), *map(float, fixed),
                        *(float(f32(b)) for b in bounds + eps + scales)]
        # Where each of P1, Q1, G1, P2, Q2 keeps its optimizer state: its columns in the
        # optimizer's flat state (0 for one a layer does not have).
        starts = {id(p): int(start) for p, start in zip(optimizer.params, np.cumsum([0] + optimizer.sizes))}
        self.offsets = on_device([starts.get(id(p), 0) for p in _pointers(self.layers)], torch.int64)
        self.constexprs = constexprs([(layer.kind, layer.weight_map) for layer in self.layers],
                                     self.units[0].out_features, self.batch_size, self.inputs, self.row_blocks,
                                     optimizer.name)

    def constants(self, start: int, count: int) -> tuple[Tensor, ...]:
        """Per step of a launch: Adam's 1 - β1^t and √(1 - β2^t) (t the optimizer's step count),
        and each layer's regularizer weight λ(step), in float32 as the CPU's step rounds them."""
        device = self.keys.device
        steps = self.optimizer.steps
        corrections = np.stack([self.optimizer.constants(t, np.float32)[CORRECTIONS]
                                for t in range(steps + 1, steps + 1 + count)])
        lambdas = [np.array([layer.sparsity_weight(step) for step in range(start, start + count)], dtype=np.float32)
                   for layer in self.layers] + [np.zeros(count, np.float32)] * (2 - len(self.layers))
        return tuple(torch.as_tensor(np.ascontiguousarray(a), device=device) for a in (*corrections.T, *lambdas))

    def train(self, start: int, count: int, diverged: Tensor, diverged_at: list) -> None:
        """Train steps ``start`` to ``start + count - 1``: each member not yet ``diverged`` takes
        them all, or stops at its first non-finite loss, which marks it in ``diverged`` and
        ``diverged_at`` as the loop marks it."""
        self._launch(start, count, diverged.to(torch.int8), self.optimizer.flat_state)
        self.optimizer.steps += count
        for i in torch.nonzero(self.diverged_at >= 0).flatten().tolist():
            diverged_at[i] = int(self.diverged_at[i])
            diverged[i] = True

    def gradients(self, step: int) -> tuple[Tensor, list[Tensor]]:
        """Each member's loss at ``step`` (data and regularizers) and the gradient of it with
        respect to each of the layers' parameters, shaped as the parameter, as the kernel computes
        them; nothing is trained (for checks against autograd)."""
        parameters, sizes = self.optimizer.params, self.optimizer.sizes  # (the state's layout)
        slot = torch.zeros(len(self.rates), sum(sizes), dtype=torch.float32, device=self.keys.device)
        self._launch(step, 1, torch.zeros(len(self.rates), dtype=torch.int8, device=slot.device), [slot],
                     gradients=True)
        return self.losses.clone(), [g.reshape(p.shape) for g, p in zip(slot.split(sizes, dim=1), parameters)]

    def batch(self, step: int) -> tuple[Tensor, Tensor]:
        """Each member's inputs (M, batch, inputs) and targets (M, batch) at ``step``, as the kernel
        draws them."""
        from .draws import draw_kernel

        m = len(self.rates)
        x = torch.empty(m, self.batch_size, self.inputs, dtype=torch.float32, device=self.keys.device)
        y = torch.empty(m, self.batch_size, dtype=torch.float32, device=x.device)
        draw_kernel[(m,)](x, y, self.keys, self.c3s, self.lows, self.widths, self.highs, self.spans, self.ops, step,
                          self.row_blocks, **{name: self.constexprs[name] for name in SHAPE}, enable_fp_fusion=False)
        return x, y

    def _launch(self, start: int, count: int, frozen: Tensor, state: list[Tensor], gradients: bool = False) -> None:
        """One launch of the training kernel over every member (``frozen`` ones stay as they are)."""
        from .kernel import train_kernel

        bias1, root_bias2, lambdas1, lambdas2 = self.constants(start, count)
        pointers = [self.nothing if p is None else p.detach() for p in _pointers(self.layers)]
        columns = state[0].shape[1] if state else 0
        state = list(state) + [self.nothing] * (2 - len(state))
        train_kernel[(len(self.rates),)](
            *pointers, state[0], state[1], columns, self.offsets, self.rates, self.keys, self.c3s, self.lows,
            self.widths, self.highs, self.spans, self.ops, frozen, self.targets, start, count, bias1, root_bias2,
            lambdas1, lambdas2, self.diverged_at, self.losses, self.row_blocks, *self.scalars,
            **{**self.constexprs, "GRADIENTS": gradients}, num_warps=WARPS, enable_fp_fusion=False)


def _pointers(layers: list) -> list:
    """The kernel's P1, Q1, G1, P2, Q2, G2: each layer's weight parameters (the first again for a
    second its map does not have), then its third (a gate matrix, an MC-FC's gate bias); ``None``
    where there is none."""
    pointers = []
    for layer in layers:
        own = _parameters(layer)
        pointers += [own[0], own[min(1, len(own) - 1)], own[2] if len(own) > 2 else None]
    return pointers + [None] * (6 - len(pointers))


def _pow2(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()
