"""Networks of units: stacks with the training loop's interface, the MLP baseline, and model names.

A model name is what the CLI and the results store use:

* a registered unit name, used in every layer: ``nalu``;
* two unit names joined by a slash, first layer then second: ``nau/nmu``;
* an MLP baseline ``mlp-<activation>``; ``mlp-none`` is the linear network;
* for recurrent tasks, a recurrent baseline: ``lstm``, ``gru``, ``rnn-tanh`` or ``rnn-relu``
  (a unit name there makes a unit cell, see :mod:`~nalm.units.recurrent`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .base import ArithmeticUnit
from .mlp import MLP_INITS, STABLE_NALU_INITS, Linear, make_activation
from .recurrent import READOUT_OPTIONS, RecurrentNetwork, recurrent_network
from .registry import ACTIVATIONS, BASELINE_CELLS, unit_class


class Network(nn.Sequential):
    """``nn.Sequential`` of units that sums their regularizers and projects each of them."""

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        """The units' terms summed; ``error`` reaches the units that read it."""
        terms = [m.regularization(step, error) for m in self if isinstance(m, ArithmeticUnit)]
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
        activation: one of :data:`~nalm.units.registry.ACTIVATIONS` or ``None`` (a linear
            network, the paper's "None" row).
        init: ``'torch'`` (default: every layer as ``torch.nn.Linear``, as the seed blog's
            code) or ``'stable-nalu'`` (Madsen & Johansen's code: zero biases, each layer
            followed by the activation drawn per
            :data:`~nalm.units.mlp.STABLE_NALU_INITS`, e.g. ``kaiming_uniform_`` with ReLU's
            gain for ReLU and ReLU6, and the output layer ``xavier_uniform_`` with gain 1,
            ``stable_nalu/layer/basic.py:20-73``; only the activations it has).
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
                 activation: str | None = "relu6", *, init: str = "torch", members=None, device=None, dtype=None):
        if activation is not None and activation != "none" and activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: none, {', '.join(ACTIVATIONS)}")
        activation = None if activation == "none" else activation
        if init not in MLP_INITS:
            raise ValueError(f"init must be one of {MLP_INITS}, got {init!r}")
        if init == "stable-nalu" and activation not in STABLE_NALU_INITS:
            raise ValueError(f"stable-nalu has no initialization for activation {activation!r}; it has "
                             f"{', '.join(str(a) for a in STABLE_NALU_INITS if a)} and none")
        widths = [in_features, *([hidden] if isinstance(hidden, int) else hidden), out_features]
        factory = {"members": members, "device": device, "dtype": dtype}
        layers: list[nn.Module] = []
        last = len(widths) - 2
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
            if i:
                layers.append(make_activation(activation, **factory))
            scheme = "torch" if init == "torch" else STABLE_NALU_INITS[None if i == last else activation]
            layers.append(Linear(n_in, n_out, init=scheme, **factory))
        super().__init__(*layers)
        self.activation = activation
        self.init = init


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


def sparsity_error(name: str, net: Network | RecurrentNetwork) -> Tensor | None:
    """Madsen & Johansen's sparsity error of the network a model name describes: the largest of
    its units' own :meth:`~nalm.units.base.ArithmeticUnit.sparsity_error` (each unit says which
    of its weights count), as the reference reader keeps the largest error logged at a step
    (nalm-benchmark ``stable_nalu/reader/tensorboard_metric_reader.py:108-116``). A scalar, or
    ``(M,)`` for a population; nan where a weight is nan; ``None`` for the MLP and RNN
    baselines, which have no discrete solution to be near.

    >>> net = load_network("nau/nmu", {"0.W": [[1.0, 0.1], [0.0, -1.0]], "1.W": [[0.7, 1.0]]},
    ...                    in_features=2, hidden=2, dtype=torch.float64)
    >>> round(float(sparsity_error("nau/nmu", net)), 6), sparsity_error("mlp-relu6", build_model("mlp-relu6", 2, 1))
    (0.3, None)
    """
    if is_baseline(name):
        return None
    with torch.no_grad():
        return torch.stack([unit.sparsity_error() for unit in net.units()]).amax(0)


def build_model(name: str, in_features: int, out_features: int, *, hidden: int | None = 2,
                unit_options: dict | None = None, recurrent: bool = False, members=None, device=None,
                dtype=None) -> Network | RecurrentNetwork:
    """Build the network a model name describes.

    ``hidden=None`` makes a single layer (the single-module benchmark); otherwise the network
    has two layers with ``hidden`` units between them. A slash name needs two layers.
    ``unit_options`` maps a unit name to keyword arguments for that unit's constructor, and
    ``"mlp"`` to keyword arguments of :class:`MLP` (its ``init``).
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
        return MLP(in_features, out_features, () if hidden is None else hidden, act,
                   **(unit_options or {}).get("mlp", {}), **factory)
    if isinstance(hidden, (list, tuple)):
        raise ValueError(f"model {name!r} is a network of units, which takes one hidden size (or none for a single "
                         f"layer); hidden {list(hidden)} describes a deep MLP")
    if hidden is None:
        if len(layers) == 2:
            raise ValueError(f"model {name!r} has two layers; give a hidden size")
        sizes = [(layers[0], in_features, out_features)]
    else:
        first, second = layers if len(layers) == 2 else layers * 2
        sizes = [(first, in_features, hidden), (second, hidden, out_features)]
    options = unit_options or {}
    return Network(*(unit_class(u)(n_in, n_out, **options.get(u, {}), **factory) for u, n_in, n_out in sizes))


def load_network(name: str, weights: dict, *, in_features: int, hidden: int | None, unit_options: dict | None = None,
                 recurrent: bool = False, members: int | None = None, dtype=None) -> Network | RecurrentNetwork:
    """The network :func:`build_model` gives, holding stored weights: ``weights`` maps each
    parameter name to an array, one member's (standalone shapes), or with ``members`` the
    members' stacked along a first dimension.

    >>> net = load_network("nac", {"0.W_hat": [[9.0, 9.0]], "0.M_hat": [[9.0, 9.0]]}, in_features=2, hidden=None)
    >>> round(float(net(torch.tensor([[1.0, 2.0]])).detach()), 3)
    3.0
    """
    net = build_model(name, in_features, 1, hidden=hidden, unit_options=unit_options, recurrent=recurrent,
                      members=members, dtype=dtype)
    net.load_state_dict({key: torch.as_tensor(np.asarray(value)) for key, value in weights.items()})
    return net


def option_keys(name: str) -> set[str]:
    """The keys of ``build_model``'s ``unit_options`` that the model called ``name`` reads.

    >>> sorted(option_keys("nau/nmu")), option_keys("mlp-relu6"), option_keys("lstm")
    (['nau', 'nmu'], {'mlp'}, {'linear'})
    """
    layers = parse_model(name)
    if layers[0] == "rnn":
        return {READOUT_OPTIONS}  # the readout's; the cell has none
    return {"mlp"} if layers[0] == "mlp" else set(layers)
