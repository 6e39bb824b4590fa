"""Published results, put beside ours in reports and named on protocol cards."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Published:
    """A published table: ``values[label][target]`` for the model ``models[label]``; where the
    table also gives them, over its successful seeds, when they solved the task (``solved_at``:
    median, mean and the mean's 95% interval, in steps) and their sparsity error
    (``sparsity_error``: mean and its 95% interval), with ``intervals`` saying how those
    intervals were computed."""

    source: str
    metric: str  # a cell metric: "normalized_interpolation", "success_rate", "extrapolation_mae", "extrapolation_mse"
    # or "best_extrapolation_mse"
    models: dict[str, str]  # published label -> our model name
    values: dict[str, dict[str, float]]
    protocol: dict  # the settings the published numbers used, compared with ours in reports
    solved_at: dict[str, dict[str, tuple[float, float, float, float]]] = field(default_factory=dict)
    sparsity_error: dict[str, dict[str, tuple[float, float, float]]] = field(default_factory=dict)
    intervals: str = ""
    task: int = 0  # the index of the experiment's task (``workload.tasks``) the table was published for


@dataclass(frozen=True)
class PublishedFigure:
    """Published results of one model, per test length, in ``metric`` (e.g. ``success_rate``)."""

    source: str
    target: str
    metric: str
    values: dict[str, dict[int, float]]  # our model name -> {length: value}
    note: str  # how the values were obtained and how the protocol differs
