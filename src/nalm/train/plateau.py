"""Re-initializing members whose error has stopped falling (iNALU's scheme, :class:`~nalm.units.PlateauReset`)."""
from __future__ import annotations

import numpy as np
import torch

from ..units import PlateauReset, reinitialize_member_


class PlateauWatch:
    """Re-initializes the members whose stored errors stop falling (see :class:`PlateauReset`).

    After every optimizer step a member stores its interpolation MSE at the latest evaluation,
    as the NALM benchmark stores ``interpolation_error`` (experiments/single_layer_benchmark.py:697);
    the stored errors are therefore constant between evaluations, and a member's store is
    kept as the evaluations' errors and the step its store began. A re-initialized member
    draws its new weights under a seed derived from its model seed and how many times it has
    been re-initialized, so they do not depend on the population; its optimizer state is
    kept, as in the reference (only ``model.reset_parameters()`` is called, line 703).
    """

    def __init__(self, policy: PlateauReset, seeds: list[int]):
        self.policy = policy
        self.seeds = seeds
        self.eval_steps: list[int] = []
        self.eval_errors: list[np.ndarray] = []  # one (M,) row per evaluation
        self.since = np.zeros(len(seeds), dtype=np.int64)  # first step of each member's store
        self.reinitialized_at: list[list[int]] = [[] for _ in seeds]

    @classmethod
    def of(cls, net, seeds: list[int]) -> "PlateauWatch | None":
        policies = {unit.plateau_reset for unit in net.units()} - {None}
        if len(policies) > 1:
            raise ValueError(f"the network's units declare different plateau resets: {policies}")
        return cls(policies.pop(), seeds) if policies else None

    def state_dict(self) -> dict:
        return {"eval_steps": list(self.eval_steps), "eval_errors": [torch.from_numpy(e.copy()) for e in self.eval_errors],
                "since": torch.from_numpy(self.since.copy()), "reinitialized_at": [list(r) for r in self.reinitialized_at]}

    def load_state_dict(self, state: dict) -> None:
        self.eval_steps = list(state["eval_steps"])
        self.eval_errors = [e.numpy().copy() for e in state["eval_errors"]]
        self.since = state["since"].numpy().copy()
        self.reinitialized_at = [list(r) for r in state["reinitialized_at"]]

    def evaluated(self, step: int, interpolation: np.ndarray) -> None:
        self.eval_steps.append(step)
        self.eval_errors.append(np.asarray(interpolation, dtype=np.float64))

    def check(self, step: int, net, diverged: np.ndarray | None) -> None:
        """After the optimizer step at ``step``: re-initialize the members that plateau."""
        policy = self.policy
        if step % policy.every != 0 or step == 0:
            return
        stored = step + 1 - self.since
        candidates = stored > policy.min_stored
        if diverged is not None:
            candidates &= ~diverged
        if not candidates.any():
            return
        half = stored // 2
        mean_first, _ = self._moments(self.since, self.since + half)
        mean_last, std_last = self._moments(self.since + half, np.full_like(self.since, step + 1))
        with np.errstate(invalid="ignore"):
            plateaued = candidates & (mean_first <= mean_last + std_last) & (mean_last > policy.threshold)
        for index in np.flatnonzero(plateaued).tolist():
            self.reinitialized_at[index].append(step)
            seed = int(np.random.SeedSequence([self.seeds[index], len(self.reinitialized_at[index])])
                       .generate_state(1, np.uint64)[0])
            reinitialize_member_(net, index, seed)
            self.since[index] = step + 1

    def _moments(self, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's mean and population standard deviation of its stored errors at steps
        ``[start, end)``, from how many of those steps each evaluation's error was stored."""
        begins = np.asarray(self.eval_steps, dtype=np.int64)[:, None]  # (K, 1)
        ends = np.append(begins[1:, 0], np.iinfo(np.int64).max)[:, None]
        counts = np.clip(np.minimum(ends, end) - np.maximum(begins, start), 0, None)  # (K, M)
        errors = np.stack(self.eval_errors)
        used = counts > 0
        n = counts.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(used, counts * errors, 0.0).sum(0) / n
            variance = np.where(used, counts * (errors - mean) ** 2, 0.0).sum(0) / n
        return mean, np.sqrt(variance)

