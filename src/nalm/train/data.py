"""The data a population trains on: one random stream per (task, seed), shared by members.

Members with the same task and seed (e.g. one seed trained on several targets) see the same
inputs; each (task, seed) has its own generators, so what a member sees never depends on
which other members are in the population.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..tasks.ranges import uniform_streams
from ..tasks.static import EXTRAPOLATION, INTERPOLATION, TARGETS, TRAIN, check_target, stream


@dataclass(frozen=True)
class Member:
    """One model of a population: its seed, target and task.

    ``seed`` selects the data stream and, unless ``init_seed`` is given, the initialization;
    ``lr``, if given, replaces the training config's learning rate for this member.
    """

    seed: int
    target: str
    task: object
    init_seed: int | None = None
    lr: float | None = None

    @property
    def model_seed(self) -> int:
        return self.seed if self.init_seed is None else self.init_seed

    def __post_init__(self) -> None:
        check_target(self.target)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")


class PopulationData:
    """Training batches and fixed evaluation sets for a list of members.

    Inputs come as ``(M, batch, d)`` (recurrent tasks: ``(M, batch, T, d)``), targets as
    ``(M, batch, 1)``.
    """

    def __init__(self, members: list[Member], *, batch_size: int, eval_samples: int, device, dtype):
        self.members = members
        self.batch_size = batch_size
        self.device, self.dtype = device, dtype
        self.np_dtype = np.float32 if dtype == torch.float32 else np.float64
        self.keys = list(dict.fromkeys((m.task, m.seed) for m in members))
        index = {key: i for i, key in enumerate(self.keys)}
        self.key_of_member = torch.tensor([index[(m.task, m.seed)] for m in members], device=device)
        self.identity = len(self.keys) == len(members)  # member i uses stream i
        # (S, 2, d), the left operand: bmm then takes its fast BLAS path, as in the units.
        self.layouts = self._tensor(np.stack([task.layout(seed).T for task, seed in self.keys]))
        self.target_groups = [
            (TARGETS[t], torch.tensor([i for i, m in enumerate(members) if m.target == t], device=device))
            for t in dict.fromkeys(m.target for m in members)
        ]
        self.train_rngs = [stream(seed, TRAIN) for _, seed in self.keys]
        # How each stream's U[0, 1) draws become inputs; None where a task samples otherwise (PoolTask).
        self.train_maps = (None if not all(hasattr(task, "from_uniform") for task, _ in self.keys)
                           else [task.from_uniform for task, _ in self.keys])
        tasks = list(dict.fromkeys(task for task, _ in self.keys))
        shapes = {task.input_shape for task in tasks}
        if len(shapes) > 1:
            raise ValueError(f"members' tasks give inputs of different shapes {sorted(shapes)}")
        self.input_shape = shapes.pop()
        fixed = {task.train_samples is not None for task in tasks}
        if len(fixed) > 1:
            raise ValueError("a population cannot mix tasks with fixed training sets and fresh batches")
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
        sets = []
        for task, seed in self.keys:
            rng = stream(seed, which)
            sets.append(task.sample(size(task), rng, extrapolation, self.np_dtype, seed=seed))
        if len({s.shape for s in sets}) > 1:
            raise ValueError("members' tasks give training sets of different sizes")
        return self._tensor(np.stack(sets))

    def train_batch(self) -> tuple[Tensor, Tensor]:
        """The next training batch: a fresh draw per stream, or the whole fixed set."""
        if self.fixed_train is not None:
            if self._fixed_batch is None:
                self._fixed_batch = self.per_member(self.fixed_train)
            return self._fixed_batch
        if self.train_maps is None:
            batch = np.stack([task.sample(self.batch_size, rng, False, self.np_dtype, seed=seed)
                              for (task, seed), rng in zip(self.keys, self.train_rngs)])
            return self.per_member(self._tensor(batch))
        batch = uniform_streams(self.train_rngs, self.batch_size * math.prod(self.input_shape), self.np_dtype,
                                maps=self.train_maps)
        batch = batch.reshape(len(self.keys), self.batch_size, *self.input_shape)  # (S, batch, [T,] d)
        return self.per_member(self._tensor(batch))

    def eval_chunks(self, which: str, max_elements: int = 1 << 24):
        """``(x, y)`` chunks covering one fixed evaluation set, bounded in memory."""
        data = self.eval_sets[which]
        n = data.shape[1]
        chunk = max(1, min(n, max_elements // (len(self.members) * math.prod(data.shape[2:]))))
        for start in range(0, n, chunk):
            yield self.per_member(data[:, start:start + chunk])

    def per_member(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Inputs for the population and each member's targets, from per-stream inputs."""
        totals = x if x.dim() == 3 else x.sum(dim=2)  # (S, batch, d): sequences summed over time
        operands = torch.bmm(self.layouts, totals.transpose(1, 2)).transpose(1, 2)  # (S, batch, 2): a and b
        # Always one contiguous (M, batch, d) block, even when members share a stream: a
        # broadcast input takes another matmul kernel, whose rounding differs, and members
        # must compute exactly what they would alone.
        if self.identity:
            x_members = x
        else:
            x_members = x[self.key_of_member]  # (M, batch, d)
            operands = operands[self.key_of_member]
        y = operands.new_empty(operands.shape[:2] + (1,))  # (M, batch, 1)
        for op, index in self.target_groups:
            picked = operands[index]
            y[index, :, 0] = op(picked[..., 0], picked[..., 1])
        return x_members, y
