"""Each member's best step, the learning curves and the latest evaluation, as training goes."""
from __future__ import annotations

import torch
from torch import Tensor, nn


class BestSteps:
    """The evaluations of a population: curves, the latest, and each member's best.

    A member's best step is its evaluation with the lowest ``select`` metric, as the references
    choose a model on their validation (or interpolation) error. nan compares False, so a nan
    evaluation is never best; nor is one of a ``frozen`` member (diverged before it), whose
    weights the reference would have replaced by nan: it keeps the best it had. The best
    step's metrics and weights are kept for every member.

    Args:
        net: the population's network, whose parameters are kept at each member's best step.
        members: M.
        select: the metric a best step minimizes.
        curve: the metrics kept at every evaluation (``None``: all).
    """

    def __init__(self, net: nn.Module, members: int, select: str, curve: tuple[str, ...] | None = None):
        self.net, self.select, self.kept = net, select, curve
        self.curve: dict[str, list] = {"step": []}
        self.step: list[int | None] = [None] * members
        self.score = torch.full((members,), float("inf"), dtype=torch.float64)
        self.best: dict[str, Tensor] = {}  # every metric at each member's best step, (M,) each
        self.last: dict[str, Tensor] = {}  # every metric at the latest evaluation
        self.params = {name: p.detach().clone() for name, p in net.named_parameters()}

    def evaluated(self, step: int, metrics: dict[str, Tensor], frozen: Tensor) -> None:
        """Record the evaluation at ``step`` (``metrics``: ``(M,)`` each); ``frozen`` members keep their best."""
        values = {name: value.detach().double().cpu() for name, value in metrics.items()}
        self.curve["step"].append(step)
        for name, value in values.items():
            if self.kept is None or name in self.kept:
                self.curve.setdefault(name, []).append(value.tolist())
        self.last = values
        improved = (values[self.select] < self.score) & ~frozen.cpu()
        self.score = torch.where(improved, values[self.select], self.score)
        for i in torch.nonzero(improved).flatten().tolist():
            self.step[i] = step
        for name, value in values.items():
            self.best[name] = torch.where(improved, value, self.best.get(name, value))
        for name, p in self.net.named_parameters():
            keep = improved.to(p.device).view(-1, *[1] * (p.dim() - 1))
            self.params[name] = torch.where(keep, p.detach(), self.params[name])

    def curve_of(self, index: int) -> dict[str, list]:
        """Member ``index``'s curves."""
        return {name: list(rows) if name == "step" else [row[index] for row in rows] for name, rows in self.curve.items()}

    def best_of(self, index: int) -> dict[str, float]:
        """Every metric at member ``index``'s best step (empty when it has none)."""
        if self.step[index] is None:
            return {}
        return {name: float(value[index]) for name, value in self.best.items()}

    def state_dict(self) -> dict:
        return {"curve": {name: list(rows) for name, rows in self.curve.items()}, "step": list(self.step),
                "score": self.score.clone(), "best": {k: v.clone() for k, v in self.best.items()},
                "last": {k: v.clone() for k, v in self.last.items()},
                "params": {k: v.detach().cpu().clone() for k, v in self.params.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.curve = {name: list(rows) for name, rows in state["curve"].items()}
        self.step, self.score = list(state["step"]), state["score"].clone()
        self.best = {k: v.clone() for k, v in state["best"].items()}
        self.last = {k: v.clone() for k, v in state["last"].items()}
        for name, p in self.params.items():
            self.params[name] = state["params"][name].to(p.device).clone()
