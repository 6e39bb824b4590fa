"""Recurrent networks: an arithmetic unit (or an RNN baseline cell) applied at every time step.

Following Madsen & Johansen's recurrent static-function network (stable-nalu,
``SimpleFunctionRecurrentNetwork``): a unit cell computes ``h_t = unit([x_t, h_{t-1}])`` with a
hidden state of 2, and an output layer maps the last state to the target: the same kind of
unit for unit cells (or the second unit of a slash name, so ``nau/nmu`` accumulates a and b
with a NAU and multiplies them with an NMU), a linear layer for the RNN, GRU and LSTM
baselines. The linear readout takes :class:`~nalm.units.mlp.Linear`'s options from
``unit_options[READOUT_OPTIONS]``: stable-nalu's is Xavier-uniform with gain 1 and a zero bias
(``init="xavier"``; c434f99 ``stable_nalu/network/simple_function_recurrent.py:32-38``,
``stable_nalu/layer/basic.py:42-43,69-72``), PyTorch's ``nn.Linear`` init by default.

The first state is zero, as in PyTorch's RNNs, unless ``learn_initial_state=True``:
Madsen & Johansen learn it as a parameter initialized to zeros, for every cell including the
LSTM's (h, c) (stable-nalu c434f99 ``stable_nalu/network/simple_function_recurrent.py:16-25,
41-46``). Through :func:`recurrent_network` it is the network option
``unit_options[NETWORK_OPTIONS]["learn_initial_state"]``. a and b are sums over time and
start at 0; a learned start can instead compensate for recurrent weights short of 1 on the
training length (a recurrent NAC settled at weights near 0.98 with a start near 3, which
fails on longer sequences).

The baseline cells are ``torch.nn.RNNCell``, ``GRUCell`` and ``LSTMCell`` with PyTorch's
initialization and gate order, written with the population-aware linear of
:mod:`~nalm.units.functional` so that they too can hold many members.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from . import functional as F
from .base import ArithmeticUnit
from .mlp import Linear
from .registry import BASELINE_CELLS, unit_class

State = tuple[Tensor, ...]

NETWORK_OPTIONS = "recurrent"
"""The ``unit_options`` key whose options go to :class:`RecurrentNetwork` rather than to a unit
(no unit is registered under this name)."""

READOUT_OPTIONS = "linear"
"""The ``unit_options`` key whose options go to an RNN baseline's linear readout (:class:`~nalm.units.mlp.Linear`'s
``init``)."""


class _BaselineCell(ArithmeticUnit):
    """A PyTorch recurrent cell: ``gates`` stacked blocks of ``hidden_size`` rows per weight."""

    gates: int
    state_size = 1  # tensors of state: 1, or 2 for the LSTM's (h, c)

    def __init__(self, input_size: int, hidden_size: int, *, members=None, device=None, dtype=None):
        super().__init__(input_size, hidden_size, members=members, device=device, dtype=dtype)
        rows = self.gates * hidden_size
        self.weight_ih = self.new_parameter(rows, input_size)
        self.weight_hh = self.new_parameter(rows, hidden_size)
        self.bias_ih = self.new_parameter(rows)
        self.bias_hh = self.new_parameter(rows)
        self.reset_parameters()

    def init_member(self, **parameters: Tensor) -> None:
        # torch.nn.RNNCellBase.reset_parameters: every parameter U(-1/√hidden, 1/√hidden), in
        # registration order, so a member matches the PyTorch cell built under the same seed.
        bound = 1.0 / math.sqrt(self.out_features)
        for p in parameters.values():
            nn.init.uniform_(p, -bound, bound)

    def projections(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """``x W_ih^T + b_ih`` and ``h W_hh^T + b_hh``, each ``(*, batch, gates · hidden)``."""
        return (F.linear(x, self.weight_ih) + self.over_batch(self.bias_ih),
                F.linear(h, self.weight_hh) + self.over_batch(self.bias_hh))


class RNNCell(_BaselineCell):
    r"""Elman cell, ``torch.nn.RNNCell``: :math:`h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`.

    Args:
        input_size, hidden_size: sizes of x and h.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        members, device, dtype: as for :class:`~nalm.units.nac.NAC`.

    Examples::

        >>> import torch
        >>> cell = RNNCell(3, 2, nonlinearity="relu", members=4)
        >>> (h,) = cell(torch.rand(5, 3), (torch.zeros(4, 5, 2),))
        >>> h.shape
        torch.Size([4, 5, 2])
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, *, nonlinearity: str = "tanh", members=None,
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, members=members, device=device, dtype=dtype)

    def forward(self, x: Tensor, state: State) -> State:
        x_part, h_part = self.projections(x, state[0])
        pre = x_part + h_part
        return (torch.relu(pre) if self.nonlinearity == "relu" else F.simd(torch.tanh, pre),)

    def options(self) -> dict:
        return {"nonlinearity": self.nonlinearity}


class GRUCell(_BaselineCell):
    r"""Gated recurrent unit, ``torch.nn.GRUCell`` (gates r, z, n in PyTorch's order).

    Examples::

        >>> import torch
        >>> (h,) = GRUCell(3, 2)(torch.rand(5, 3), (torch.zeros(5, 2),))
        >>> h.shape
        torch.Size([5, 2])
    """

    gates = 3

    def forward(self, x: Tensor, state: State) -> State:
        (h,) = state
        x_part, h_part = self.projections(x, h)
        x_r, x_z, x_n = x_part.chunk(3, dim=-1)
        h_r, h_z, h_n = h_part.chunk(3, dim=-1)
        r = F.sigmoid(x_r + h_r)
        z = F.sigmoid(x_z + h_z)
        n = F.simd(torch.tanh, x_n + r * h_n)
        return ((1 - z) * n + z * h,)


class LSTMCell(_BaselineCell):
    r"""Long short-term memory cell, ``torch.nn.LSTMCell`` (gates i, f, g, o); state ``(h, c)``.

    Examples::

        >>> import torch
        >>> h, c = LSTMCell(3, 2)(torch.rand(5, 3), (torch.zeros(5, 2), torch.zeros(5, 2)))
        >>> h.shape, c.shape
        (torch.Size([5, 2]), torch.Size([5, 2]))
    """

    gates = 4
    state_size = 2

    def forward(self, x: Tensor, state: State) -> State:
        h, c = state
        x_part, h_part = self.projections(x, h)
        i, f, g, o = (x_part + h_part).chunk(4, dim=-1)
        c = F.sigmoid(f) * c + F.sigmoid(i) * F.simd(torch.tanh, g)
        return F.sigmoid(o) * F.simd(torch.tanh, c), c


def rnn_tanh(*args, **kwargs) -> RNNCell:
    """The Elman cell with tanh: ``rnn-tanh`` of :data:`~nalm.units.registry.BASELINE_CELLS`."""
    return RNNCell(*args, nonlinearity="tanh", **kwargs)


def rnn_relu(*args, **kwargs) -> RNNCell:
    """The Elman cell with ReLU: ``rnn-relu`` of :data:`~nalm.units.registry.BASELINE_CELLS`."""
    return RNNCell(*args, nonlinearity="relu", **kwargs)


class RecurrentNetwork(nn.Module):
    r"""A recurrent cell over a sequence, then an output layer on the last state.

    Args:
        cell: an :class:`~nalm.units.base.ArithmeticUnit` with ``in_features = d + hidden``
            and ``out_features = hidden`` (a unit cell: ``h_t = cell([x_t, h_{t-1}])``), or a
            baseline cell from :data:`~nalm.units.registry.BASELINE_CELLS` (``cell(x_t, state)``).
        output: a unit or :class:`~nalm.units.mlp.Linear` from the hidden state to the output.
        input_size: d, the size of one time step's input.
        learn_initial_state: learn the first state (initialized to zeros) instead of
            starting every sequence from zeros.

    Shape:
        - Input: ``(batch, T, d)``, or ``(M, batch, T, d)`` / ``(batch, T, d)`` for a
          population of M members.
        - Output: ``(batch, out)``, or ``(M, batch, out)``.

    Attributes:
        initial_state: the first state, ``(state_size, hidden)`` per member: a parameter if
            learned, else a (non-persistent) buffer of zeros.

    Examples::

        >>> import torch
        >>> from nalm import NAC
        >>> net = RecurrentNetwork(NAC(3 + 2, 2), NAC(2, 1), input_size=3)
        >>> net(torch.rand(4, 10, 3)).shape
        torch.Size([4, 1])
    """

    def __init__(self, cell: ArithmeticUnit, output: ArithmeticUnit, *, input_size: int,
                 learn_initial_state: bool = False):
        super().__init__()
        self.unit_cell = not isinstance(cell, _BaselineCell)
        hidden = cell.out_features
        if self.unit_cell and cell.in_features != input_size + hidden:
            raise ValueError(f"a unit cell needs in_features = input_size + hidden = {input_size + hidden}, "
                             f"got {cell.in_features}")
        if output.in_features != hidden or output.members != cell.members:
            raise ValueError("the output layer must read the cell's hidden state and have as many members")
        self.input_size = input_size
        self.hidden_size = hidden
        self.cell = cell
        self.output = output
        states = getattr(cell, "state_size", 1)
        lead = () if cell.members is None else (cell.members,)
        zeros = next(cell.parameters()).detach().new_zeros(*lead, states, hidden)
        if learn_initial_state:
            self.initial_state = nn.Parameter(zeros)
        else:
            self.register_buffer("initial_state", zeros, persistent=False)

    @property
    def members(self) -> int | None:
        return self.cell.members

    def units(self) -> list[ArithmeticUnit]:
        return [self.cell, self.output]

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        return self.cell.regularization(step, error) + self.output.regularization(step, error)

    def project_(self) -> None:
        self.cell.project_()
        self.output.project_()

    def forward(self, x: Tensor) -> Tensor:
        m = self.members
        if x.dim() not in (3, 4) or x.shape[-1] != self.input_size or (x.dim() == 4 and (m is None or x.shape[0] != m)):
            shape = f"(batch, T, {self.input_size})"
            if m is not None:
                shape = f"({m}, batch, T, {self.input_size}) or {shape}"
            raise ValueError(f"{type(self).__name__} expected input of shape {shape}, got {tuple(x.shape)}")
        if m is not None and x.dim() == 3:
            x = x.expand(m, *x.shape)
        batch_shape = x.shape[:-2]  # (batch,) or (M, batch)
        start = self.initial_state.unsqueeze(-3)  # (*, 1, states, hidden)
        state = tuple(start[..., i, :].expand(*batch_shape, self.hidden_size) for i in range(start.shape[-2]))
        return self.output(self.last_state(x, state)[0])

    def step(self, x_t: Tensor, state: State) -> State:
        """One time step, the one cell protocol: ``(x_t, state) → state``. A baseline cell has it
        as its own forward; a unit cell reads its input and the last state side by side,
        ``h_t = cell([x_t, h_{t-1}])``."""
        if not self.unit_cell:
            return self.cell(x_t, state)
        return (self.cell(torch.cat([x_t, state[0]], dim=-1)),)

    def last_state(self, x: Tensor, state: State) -> State:
        """The state after the whole sequence: :meth:`step` at every time step.

        A cell whose kernel is linear (NAC, NAU: ``h_t = x_t W_x^T + h_{t-1} W_h^T``) gets the
        same result with its weight computed once and the input part of every step from one
        matmul.
        """
        layer = self.cell.kernel_layer() if self.unit_cell and not self.cell.trains_through_forward else None
        if layer is None or layer.kind != "linear":
            for t in range(x.shape[-2]):
                state = self.step(x[..., t, :], state)
            return state
        weight = layer.effective_weight()
        w_x, w_h = weight[..., :self.input_size], weight[..., self.input_size:]
        lead, (batch, steps) = x.shape[:-3], x.shape[-3:-1]
        inputs = F.linear(x.reshape(*lead, batch * steps, self.input_size), w_x)  # (*, batch·T, hidden)
        inputs = inputs.view(*lead, batch, steps, self.hidden_size)
        h = state[0]
        for t in range(steps):
            h = inputs[..., t, :] + F.linear(h, w_h)  # (*, batch, hidden)
        return (h,)

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"


def recurrent_network(layers: tuple[str, ...], input_size: int, out_features: int, hidden: int, *,
                      unit_options: dict, members=None, device=None, dtype=None) -> RecurrentNetwork:
    """The recurrent network of a parsed model name (see :func:`~nalm.units.network.parse_model`).

    ``unit_options[NETWORK_OPTIONS]`` holds :class:`RecurrentNetwork`'s own keyword options, and
    ``unit_options[READOUT_OPTIONS]`` those of an RNN baseline's linear readout.

    >>> net = recurrent_network(("nac",), 3, 1, 2, unit_options={"recurrent": {"learn_initial_state": True}})
    >>> [name for name, _ in net.named_parameters()]
    ['initial_state', 'cell.W_hat', 'cell.M_hat', 'output.W_hat', 'output.M_hat']
    """
    factory = {"members": members, "device": device, "dtype": dtype}
    if layers[0] == "rnn":
        cell = BASELINE_CELLS[layers[1]](input_size, hidden, **factory)
        output = Linear(hidden, out_features, **unit_options.get(READOUT_OPTIONS, {}), **factory)
    else:
        first, second = layers if len(layers) == 2 else layers * 2
        cell = unit_class(first)(input_size + hidden, hidden, **unit_options.get(first, {}), **factory)
        output = unit_class(second)(hidden, out_features, **unit_options.get(second, {}), **factory)
    return RecurrentNetwork(cell, output, input_size=input_size, **unit_options.get(NETWORK_OPTIONS, {}))
