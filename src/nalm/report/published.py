"""Published results, put beside ours in reports and named on protocol cards."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """A published table: ``values[label][target]`` for the model ``models[label]``."""

    source: str
    metric: str  # "normalized_interpolation" or "success_rate"
    models: dict[str, str]  # published label -> our model name
    values: dict[str, dict[str, float]]
    protocol: dict  # the settings the published numbers used, compared with ours in reports


@dataclass(frozen=True)
class PublishedFigure:
    """Published results of one model, per test length, in ``metric`` (e.g. ``success_rate``)."""

    source: str
    target: str
    metric: str
    values: dict[str, dict[int, float]]  # our model name -> {length: value}
    note: str  # how the values were obtained and how the protocol differs
