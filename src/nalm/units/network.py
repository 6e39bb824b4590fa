"""Networks of units: stacks with the engine interface, the MLP baseline, and model names.

A model name is what the CLI and the results store use:

* a registered unit name, used in every layer: ``nalu``;
* two unit names joined by a slash, first layer then second: ``nau/nmu``;
* an MLP baseline ``mlp-<activation>``; ``mlp-none`` is the linear network;
* for recurrent tasks, a recurrent baseline: ``lstm``, ``gru``, ``rnn-tanh`` or ``rnn-relu``
  (a unit name there makes a unit cell, see :mod:`~nalm.units.recurrent`).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from .base import ArithmeticUnit, unit_regularization
from .mlp import ACTIVATIONS, Linear, make_activation
from .recurrent import BASELINE_CELLS, RecurrentNetwork, recurrent_network
from .registry import UNITS, unit_class


class Network(nn.Sequential):
    """``nn.Sequential`` of units that sums their regularizers and projects each of them."""

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        """The units' terms summed; ``error`` reaches the units that read it."""
        terms = [unit_regularization(m, step, error) for m in self if isinstance(m, ArithmeticUnit)]
        return torch.stack(terms).sum(0)

    def project_(self) -> None:
        for m in self:
            if isinstance(m, ArithmeticUnit):
                m.project_()

    @property
    def members(self) -> int | None:
        return self[0].members

    def units(self) -> list[ArithmeticUnit]:
        return [m for m in self if isinstance(m, ArithmeticUnit)]


class MLP(Network):
    r"""Multi-layer perceptron baseline: Linear layers with an activation between them.

    Args:
        in_features, out_features: sizes of the input and output.
        hidden: width of the single hidden layer, or a sequence of widths (Trask et al.'s
            identity experiment uses ``(8, 8, 8)``); ``()`` gives one linear layer.
        activation: one of :data:`~nalm.units.mlp.ACTIVATIONS` or ``None`` (a linear
            network, the paper's "None" row).
        members, device, dtype: as for :class:`~nalm.units.nac.NAC`.

    Shape:
        As for :class:`~nalm.units.nac.NAC`.

    Examples::

        >>> import torch
        >>> mlp = MLP(2, 1, hidden=(8, 8, 8), activation="relu6")
        >>> mlp(torch.rand(4, 2)).shape
        torch.Size([4, 1])
        >>> MLP(2, 1, activation="softsign", members=3)(torch.rand(4, 2)).shape
        torch.Size([3, 4, 1])
    """

    def __init__(self, in_features: int, out_features: int, hidden: int | Sequence[int] = 2,
                 activation: str | None = "relu6", *, members=None, device=None, dtype=None):
        if activation is not None and activation != "none" and activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: none, {', '.join(ACTIVATIONS)}")
        widths = [in_features, *([hidden] if isinstance(hidden, int) else hidden), out_features]
        factory = {"members": members, "device": device, "dtype": dtype}
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
            if i:
                layers.append(make_activation(activation, **factory))
            layers.append(Linear(n_in, n_out, **factory))
        super().__init__(*layers)
        self.activation = activation


BASELINES = ("mlp", "rnn")


def parse_model(name: str) -> tuple[str, ...]:
    """Split a model name into its layer unit names, ``('mlp', activation)`` or ``('rnn', cell)``.

    >>> parse_model("nau/nmu"), parse_model("mlp-relu6"), parse_model("lstm")
    (('nau', 'nmu'), ('mlp', 'relu6'), ('rnn', 'lstm'))
    """
    if name in BASELINE_CELLS:
        return ("rnn", name)
    if name.startswith("mlp-"):
        act = name[len("mlp-"):]
        if act != "none" and act not in ACTIVATIONS:
            raise ValueError(f"unknown MLP activation in {name!r}; known: none, {', '.join(ACTIVATIONS)}")
        return ("mlp", act)
    parts = tuple(name.split("/"))
    if len(parts) > 2:
        raise ValueError(f"model {name!r}: join at most two unit names with '/'")
    for part in parts:
        unit_class(part)  # raises, listing the known units
    return parts


def is_baseline(name: str) -> bool:
    """Whether a model name is an MLP or RNN baseline rather than a network of units."""
    return parse_model(name)[0] in BASELINES


def build_model(name: str, in_features: int, out_features: int, *, hidden: int | None = 2,
                unit_options: dict | None = None, recurrent: bool = False, members=None, device=None,
                dtype=None) -> Network | RecurrentNetwork:
    """Build the network a model name describes.

    ``hidden=None`` makes a single layer (the single-module benchmark); otherwise the network
    has two layers with ``hidden`` units between them. A slash name needs two layers.
    ``unit_options`` maps a unit name to keyword arguments for that unit's constructor.
    ``recurrent=True`` builds a :class:`~nalm.units.recurrent.RecurrentNetwork` whose cell
    reads ``in_features`` per time step and keeps ``hidden`` numbers of state.

    >>> build_model("nau/nmu", 100, 1, members=4)
    Network(
      (0): NAU(in_features=100, out_features=2, members=4, ...)
      (1): NMU(in_features=2, out_features=1, members=4, ...)
    )
    """
    factory = {"members": members, "device": device, "dtype": dtype}
    layers = parse_model(name)
    if recurrent:
        if layers[0] == "mlp":
            raise ValueError(f"model {name!r} is not recurrent; use a unit name or one of {', '.join(BASELINE_CELLS)}")
        if hidden is None:
            raise ValueError(f"recurrent model {name!r} needs a hidden (state) size")
        return recurrent_network(layers, in_features, out_features, hidden, unit_options=unit_options or {},
                                 **factory)
    if layers[0] == "rnn":
        raise ValueError(f"model {name!r} is recurrent; it needs a recurrent task")
    if layers[0] == "mlp":
        act = None if layers[1] == "none" else layers[1]
        return MLP(in_features, out_features, () if hidden is None else hidden, act, **factory)
    if hidden is None:
        if len(layers) == 2:
            raise ValueError(f"model {name!r} has two layers; give a hidden size")
        sizes = [(layers[0], in_features, out_features)]
    else:
        first, second = layers if len(layers) == 2 else layers * 2
        sizes = [(first, in_features, hidden), (second, hidden, out_features)]
    options = unit_options or {}
    return Network(*(unit_class(u)(n_in, n_out, **options.get(u, {}), **factory) for u, n_in, n_out in sizes))
