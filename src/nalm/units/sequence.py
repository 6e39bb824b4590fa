"""Networks over sequences of digit images or of words, with an arithmetic unit inside.

:class:`DigitSequenceNetwork` (Trask et al. 2018, section 4.2; stable-nalu
``stable_nalu/network/sequential_mnist.py``): a CNN reads each image to a number (or to 10 for
counting) and a recurrent cell accumulates them, ``h_t = cell([x_t, h_{t-1}])``; its state is
the output at every step. :class:`WordsToNumberNetwork` (section 4.3): word embeddings, an LSTM,
and an output layer (linear, or an arithmetic unit) on its state at every step.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import ArithmeticUnit
from .mlp import Linear
from .recurrent import LSTMCell
from .registry import unit_class
from .vision import DigitCNN

MULTIPLICATIVE_CELLS = ("nmu", "snmu", "nac-mul", "nac-mul-sigma", "nac-mul-nmu")
"""Cells whose state starts at 1, not 0 (stable-nalu ``stable_nalu/network/sequential_mnist.py:45-56``:
the NMU and the NAC• cells, ``--nac-mul normal`` or ``mnac``, NAC•,σ and NAC•,NMU among them; the
sNMU is an NMU)."""

SOLVED = "solved"
"""The model whose arithmetic is given, not learned: ``h + x`` (count, sum) or ``h · x`` (prod),
only its CNN trains. Madsen & Johansen's success threshold comes from it
(``--model-simplification solved-accumulator``, stable-nalu
``stable_nalu/network/sequential_mnist.py:97-119``)."""

LSTM = "lstm"


def _each_step(step, x: Tensor, state):
    """Run ``step(x_t, state) -> (output_t, state)`` over the time axis (-2) of ``x``."""
    outputs = []
    for t in range(x.shape[-2]):
        out, state = step(x[..., t, :], state)
        outputs.append(out)
    return torch.stack(outputs, dim=-2)


def _lstm_step(cell: LSTMCell):
    """An LSTM cell as a step of :func:`_each_step`: its output is h."""
    def step(x_t, state):
        state = cell(x_t, state)
        return state[0], state
    return step


class DigitSequenceNetwork(nn.Module):
    """A CNN per image, then a recurrent cell over the sequence of its outputs.

    Args:
        model: a unit name (the cell; its state is the output), ``'lstm'`` (an LSTM cell of
            ``hidden`` units read out by a linear layer) or ``'solved'`` (:data:`SOLVED`).
        image_size: the images' side (28 for MNIST: LeNet; 8 for the bundled digits).
        outputs: numbers per step (10 for counting, else 1); the CNN gives as many per image.
        multiply: for ``'solved'``, accumulate by product rather than sum.
        hidden: the LSTM's hidden size.
        unit_options: per unit name, options for the cell (regularizer schedules).
        members, device, dtype: as for :class:`~nalm.units.nac.NAC`.

    Shape:
        Input ``(M, B, T, H, W)`` images (``(B, T, H, W)`` without members); output
        ``(M, B, T, outputs)``, the running value after each image.

    Examples::

        >>> net = DigitSequenceNetwork("nau", image_size=8, outputs=1, members=2)
        >>> net(torch.rand(2, 4, 5, 8, 8)).shape
        torch.Size([2, 4, 5, 1])
    """

    def __init__(self, model: str, *, image_size: int, outputs: int, multiply: bool = False, hidden: int = 10,
                 unit_options: dict | None = None, members=None, device=None, dtype=None):
        super().__init__()
        factory = {"members": members, "device": device, "dtype": dtype}
        self.model, self.outputs, self.members = model, outputs, members
        self.cnn = DigitCNN(image_size, outputs, **factory)
        self.cell, self.readout = None, None
        if model == LSTM:
            self.cell = LSTMCell(outputs, hidden, **factory)
            self.readout = Linear(hidden, outputs, **factory)
        elif model != SOLVED:
            self.cell = unit_class(model)(2 * outputs, outputs, **(unit_options or {}).get(model, {}), **factory)
        self.multiply = multiply if model == SOLVED else model in MULTIPLICATIVE_CELLS
        self.initial_value = 1.0 if self.multiply else 0.0

    def arithmetic_units(self) -> list[ArithmeticUnit]:
        """The layers after the CNN: the cell and the LSTM's readout."""
        return [layer for layer in (self.cell, self.readout) if layer is not None]

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        terms = [unit.regularization(step, error) for unit in self.arithmetic_units()]
        return sum(terms) if terms else self.cnn.fc2.new_zeros_per_member()

    def project_(self) -> None:
        for unit in self.arithmetic_units():
            unit.project_()

    def features(self, images: Tensor) -> Tensor:
        """The CNN's numbers for ``(N, H, W)`` (shared) or ``(M, N, H, W)`` images."""
        return self.cnn(images)

    def recur(self, x: Tensor) -> Tensor:
        """Running outputs ``(*, B, T, outputs)`` from the CNN's numbers ``(*, B, T, outputs)``."""
        batch = x.shape[:-2]
        if self.model == SOLVED:
            return torch.cumprod(x, dim=-2) if self.multiply else torch.cumsum(x, dim=-2)
        if self.model == LSTM:
            zeros = x.new_zeros(*batch, self.cell.out_features)
            states = _each_step(_lstm_step(self.cell), x, (zeros, zeros))
            return self.readout(states.flatten(-3, -2)).view(*batch, x.shape[-2], self.outputs)
        start = x.new_full((*batch, self.outputs), self.initial_value)

        def step(x_t, h):
            h = self.cell(torch.cat([x_t, h], dim=-1))
            return h, h
        return _each_step(step, x, start)

    def forward(self, images: Tensor) -> Tensor:
        lead, (steps, h, w) = images.shape[:-4], images.shape[-3:]
        batch = images.shape[-4]
        features = self.features(images.reshape(*lead, batch * steps, h, w))
        return self.recur(features.view(*features.shape[:-2], batch, steps, self.outputs))

    def extra_repr(self) -> str:
        return f"model={self.model!r}, outputs={self.outputs}, initial_value={self.initial_value}"


class Embedding(ArithmeticUnit):
    """``torch.nn.Embedding`` (weights N(0, 1)) that can also hold a population.

    Shape:
        ``(*)`` indices → ``(*, dim)``; for M members ``(M, *)`` → ``(M, *, dim)``, member m
        looking up ``ids[m]``.

    Examples::

        >>> Embedding(30, 4, members=2)(torch.tensor([[1, 2, 3], [4, 5, 6]])).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, members=None, device=None, dtype=None):
        super().__init__(num_embeddings, embedding_dim, members=members, device=device, dtype=dtype)
        self.weight = self.new_parameter(num_embeddings, embedding_dim)
        self.reset_parameters()

    def init_member(self, weight: Tensor) -> None:
        nn.init.normal_(weight)  # torch.nn.Embedding.reset_parameters

    def forward(self, ids: Tensor) -> Tensor:
        if self.members is None:
            return self.weight[ids]
        if ids.dim() == 0 or ids.shape[0] != self.members:
            raise ValueError(f"Embedding with {self.members} members expected indices of shape ({self.members}, *), "
                             f"got {tuple(ids.shape)}")
        members = torch.arange(self.members, device=ids.device).view(-1, *[1] * (ids.dim() - 1))
        return self.weight[members, ids]


class WordsToNumberNetwork(nn.Module):
    """Word embeddings, an LSTM, and an output layer on its state after every word (Trask et al.
    2018, section 4.3: "a single LSTM layer followed by" a linear layer, a NAC or a NALU).

    Args:
        head: ``'linear'`` or a unit name: the output layer, from the LSTM's state to one number.
        vocabulary: words (index 0 is padding, never read).
        embedding, hidden: sizes of the word embeddings and of the LSTM.
        unit_options, members, device, dtype: as for :class:`DigitSequenceNetwork`.

    Shape:
        Input ``(B, T)`` word indices (the same for every member) or ``(M, B, T)``; output
        ``(M, B, T)`` (``(B, T)`` without members), the number after each word.

    Examples::

        >>> net = WordsToNumberNetwork("nalu", vocabulary=31, members=2)
        >>> net(torch.tensor([[5, 29, 30, 16, 0]])).shape
        torch.Size([2, 1, 5])
    """

    def __init__(self, head: str, *, vocabulary: int, embedding: int = 32, hidden: int = 32,
                 unit_options: dict | None = None, members=None, device=None, dtype=None):
        super().__init__()
        factory = {"members": members, "device": device, "dtype": dtype}
        self.head_name, self.members = head, members
        self.embedding = Embedding(vocabulary, embedding, **factory)
        self.lstm = LSTMCell(embedding, hidden, **factory)
        self.head = (Linear(hidden, 1, **factory) if head == "linear"
                     else unit_class(head)(hidden, 1, **(unit_options or {}).get(head, {}), **factory))

    def regularization(self, step: int, error: Tensor | None = None) -> Tensor:
        return self.head.regularization(step, error)

    def project_(self) -> None:
        self.head.project_()

    def forward(self, ids: Tensor) -> Tensor:
        if self.members is not None and ids.dim() == 2:  # (B, T): the same words for every member
            ids = ids.expand(self.members, *ids.shape)
        x = self.embedding(ids)  # (M, B, T, E)
        zeros = x.new_zeros(*x.shape[:-2], self.lstm.out_features)
        states = _each_step(_lstm_step(self.lstm), x, (zeros, zeros))  # (M, B, T, hidden)
        return self.head(states.flatten(-3, -2)).view(*states.shape[:-1])

    def extra_repr(self) -> str:
        return f"head={self.head_name!r}"
