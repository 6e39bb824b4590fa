"""The data a population trains on: one random stream per (task, seed), shared by members.

Members with the same task and seed (e.g. one seed trained on several targets) see the same
inputs. Every value is a pure function of (seed, stream, step, position) (Philox, see
:mod:`nalm.philox`), so what a member sees never depends on which other members are in
the population, and the batch of any step can be drawn directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..philox import Draws, blocks_per_row, uniform_torch
from ..tasks.targets import TARGETS
from ..streams import EXTRAPOLATION, INTERPOLATION, TRAIN
from .kernels.draw import draw_batch, quiet_compilation
from .population import Member


class PopulationData:
    """Training batches and fixed evaluation sets for a list of members.

    Inputs come as ``(M, batch, d)`` (recurrent tasks: ``(M, batch, T, d)``), targets as
    ``(M, batch, 1)``. Fresh training batches of static and recurrent tasks are drawn on the
    CPU by :func:`nalm.train.kernels.draw.draw_batch` (inputs and operands together) and on
    other devices by the same Philox draws in PyTorch.
    """

    def __init__(self, members: list[Member], *, batch_size: int, eval_samples: int, device, dtype):
        self.members = members
        self.batch_size = batch_size
        self.device, self.dtype = torch.device(device), dtype
        self.np_dtype = np.float32 if dtype == torch.float32 else np.float64
        self.keys = list(dict.fromkeys((m.task, m.seed) for m in members))
        index = {key: i for i, key in enumerate(self.keys)}
        self.stream_of_member = np.array([index[(m.task, m.seed)] for m in members])
        self.key_of_member = torch.tensor(self.stream_of_member, device=device)
        self.stream_per_member = len(self.keys) == len(members)  # member i uses stream i, its own
        # (S, 2, d), the left operand: bmm then takes its fast BLAS path, as in the units.
        self.layouts = self._tensor(np.stack([task.layout(seed).T for task, seed in self.keys]))
        self.target_groups = [
            (TARGETS[t], torch.tensor([i for i, m in enumerate(members) if m.target == t], device=device))
            for t in dict.fromkeys(m.target for m in members)
        ]
        tasks = list(dict.fromkeys(task for task, _ in self.keys))
        shapes = {task.input_shape for task in tasks}
        if len(shapes) > 1:
            raise ValueError(f"members' tasks give inputs of different shapes {sorted(shapes)}")
        self.input_shape = shapes.pop()
        fixed = {task.train_samples is not None for task in tasks}
        if len(fixed) > 1:
            raise ValueError("a population cannot mix tasks with fixed training sets and fresh batches")
        # Tasks whose inputs are uniform draws mapped to a range (static and recurrent) are drawn
        # by the kernels; others (PoolTask) by their own ``sample``.
        self.streams = StreamArrays.of(self.keys, self.np_dtype) if all(task.uniform_inputs for task in tasks) else None
        self.recurrent = any(task.recurrent for task in tasks)
        self.fixed_train = self._fixed_batch = None
        if fixed == {True}:
            self.fixed_train = self._draw(lambda task: task.train_samples, TRAIN, extrapolation=False)
        self.eval_sets = {
            "interpolation": self._draw(lambda task: eval_samples, INTERPOLATION, extrapolation=False),
            "extrapolation": self._draw(lambda task: eval_samples, EXTRAPOLATION, extrapolation=True),
        }

    def _tensor(self, array: np.ndarray) -> Tensor:
        return torch.as_tensor(array, dtype=self.dtype).to(self.device)

    def _draw(self, size, which: int, extrapolation: bool) -> Tensor:
        """One fixed set per stream, stacked to (S, n, d)."""
        sets = [task.sample(size(task), Draws(seed, which), extrapolation, self.np_dtype)
                for task, seed in self.keys]
        if len({s.shape for s in sets}) > 1:
            raise ValueError("members' tasks give training sets of different sizes")
        return self._tensor(np.stack(sets))

    def train_batch(self, step: int) -> tuple[Tensor, Tensor]:
        """The training batch of ``step``: a fresh draw per stream, or the whole fixed set."""
        if self.fixed_train is not None:
            if self._fixed_batch is None:
                self._fixed_batch = self.per_member(self.fixed_train)
            return self._fixed_batch
        shape = (len(self.keys), self.batch_size, *self.input_shape)
        if self.streams is None:
            batch = np.stack([task.sample(self.batch_size, Draws(seed, TRAIN, step), False, self.np_dtype)
                              for task, seed in self.keys])
            return self.per_member(self._tensor(batch))
        if self.device.type != "cpu":
            return self.per_member(self.streams.draw_torch(self.keys, step, shape, self.dtype, self.device))
        x = np.empty(shape, dtype=self.np_dtype)
        operands = np.empty((len(self.keys), self.batch_size, 2), dtype=self.np_dtype)
        streams = self.streams
        with quiet_compilation():
            draw_batch(x.reshape(len(self.keys), self.batch_size, -1), operands, streams.words(step),
                       streams.row_blocks, streams.a_masks, streams.b_masks, streams.spans, *streams.ranges)
        return self._members(torch.from_numpy(x), torch.from_numpy(operands))

    def eval_chunks(self, which: str, max_elements: int = 1 << 24):
        """``(x, y)`` chunks covering one fixed evaluation set, bounded in memory."""
        data = self.eval_sets[which]
        n = data.shape[1]
        chunk = max(1, min(n, max_elements // (len(self.members) * math.prod(data.shape[2:]))))
        for start in range(0, n, chunk):
            yield self.per_member(data[:, start:start + chunk])

    def per_member(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Inputs for the population and each member's targets, from per-stream inputs."""
        totals = x.sum(dim=2) if self.recurrent else x  # (S, batch, d): sequences summed over time
        operands = torch.bmm(self.layouts, totals.transpose(1, 2)).transpose(1, 2)  # (S, batch, 2): a and b
        return self._members(x, operands)

    def _members(self, x: Tensor, operands: Tensor) -> tuple[Tensor, Tensor]:
        """Per-member inputs and targets from per-stream inputs and operands (S, batch, 2)."""
        # Always one contiguous (M, batch, d) block, even when members share a stream: a
        # broadcast input takes another matmul kernel, whose rounding differs, and members
        # must compute exactly what they would alone.
        if self.stream_per_member:
            x_members = x
        else:
            x_members = x[self.key_of_member]  # (M, batch, d)
            operands = operands[self.key_of_member]
        y = operands.new_empty(operands.shape[:2] + (1,))  # (M, batch, 1)
        for op, index in self.target_groups:
            picked = operands[index]
            y[index, :, 0] = op(picked[..., 0], picked[..., 1])
        return x_members, y


@dataclass
class StreamArrays:
    """What the kernels need to draw each stream's training rows: Philox words, ranges, subsets.

    ``ranges`` are ``(lows, highs, ends, starts, counts)``, one row per stream, padded: the
    interpolation range's :meth:`~nalm.tasks.ranges.Range.arrays` and its number of intervals.
    """

    keys: np.ndarray  # (S, 5) uint32: k0, k1 (the TRAIN stream), and c3; c1, c2 set per step
    row_blocks: int
    a_masks: np.ndarray  # (S, d) 0/1: the inputs of one time step summed into a
    b_masks: np.ndarray
    spans: np.ndarray  # (S, 4): [start, end) of a's and of b's run of ones, or -1 where a mask is not one run
    ranges: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, keys: list, dtype) -> "StreamArrays":
        tasks = [task for task, _ in keys]
        columns = math.prod(tasks[0].input_shape)
        words = np.array([Draws(seed, TRAIN).words() for _, seed in keys], dtype=np.uint32)
        layouts = np.stack([task.layout(seed) for task, seed in keys]).astype(dtype)  # (S, d, 2)
        intervals = [task.interpolation.intervals for task in tasks]
        size = max(map(len, intervals))
        lows, highs, ends, starts = (np.zeros((len(keys), size), dtype=dtype) for _ in range(4))
        for s, task in enumerate(tasks):
            for padded, array in zip((lows, highs, ends, starts), task.interpolation.arrays(dtype)):
                padded[s, :len(array)] = array
        counts = np.array([len(parts) for parts in intervals], dtype=np.int64)
        spans = np.array([[*_run(layout[:, 0]), *_run(layout[:, 1])] for layout in layouts], dtype=np.int64)
        spans[(spans < 0).any(axis=1)] = -1
        return cls(words, blocks_per_row(columns, dtype), np.ascontiguousarray(layouts[:, :, 0]),
                   np.ascontiguousarray(layouts[:, :, 1]), spans, (lows, highs, ends, starts, counts))

    def words(self, step: int) -> np.ndarray:
        """(S, 5) Philox words of every stream at ``step``."""
        words = self.keys.copy()
        words[:, 2], words[:, 3] = step & 0xFFFFFFFF, step >> 32
        return words

    def draw_torch(self, keys: list, step: int, shape, dtype, device) -> Tensor:
        """The same inputs as the CPU kernel, drawn with PyTorch on ``device``: (S, batch, ...)."""
        lows, highs, ends, starts, counts = (torch.as_tensor(a, device=device) for a in self.ranges)
        u = uniform_torch([Draws(seed, TRAIN, step) for _, seed in keys], shape[1:], dtype, device)
        flat = u.reshape(len(keys), -1)  # (S, n)
        last = (counts - 1)[:, None]
        t = flat * ends.gather(1, last)
        # The interval: how many of a stream's ends (before its last) lie at or below t.
        below = (ends[:, None, :] <= t[:, :, None]) & (torch.arange(ends.shape[1], device=device) < last)[:, None, :]
        k = below.sum(-1)
        low, high = lows.gather(1, k), highs.gather(1, k)
        x = low + (t - starts.gather(1, k))
        return torch.minimum(torch.maximum(x, low), high).reshape(shape)


def _run(mask: np.ndarray) -> tuple[int, int]:
    """``[start, end)`` of a 0/1 mask that is one run of ones, else ``(-1, -1)``."""
    ones = np.flatnonzero(mask)
    if len(ones) and ones[-1] - ones[0] + 1 == len(ones):
        return int(ones[0]), int(ones[-1]) + 1
    return -1, -1
