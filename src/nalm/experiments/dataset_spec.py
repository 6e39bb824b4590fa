"""What defines a data-set experiment: arithmetic units inside larger networks, trained on
images or words rather than on drawn numbers (Trask et al. 2018, sections 4.2-4.3).

Such an experiment differs from a synthetic one (:class:`~nalm.experiments.spec.Experiment`)
in its data, its networks and its metrics, which it supplies itself (:class:`DatasetExperiment`'s
callables); the store, the resume, the protocol card and the command line are shared.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from ..train.supervised import DatasetTrainConfig, Trainable
from .spec import Deviation


@dataclass(frozen=True)
class PublishedFigure:
    """Published results of one model, per test length, in ``metric`` (e.g. ``success_rate``)."""

    source: str
    target: str
    metric: str
    values: dict[str, dict[int, float]]  # our model name -> {length: value}
    note: str  # how the values were obtained and how the protocol differs


@dataclass(frozen=True)
class CellReading:
    """The formula read back from a trained arithmetic part, and whether it is the solved one."""

    explanation: Any  # nalm.explain.Explanation
    is_accumulator: bool


@dataclass(frozen=True)
class DatasetExperiment:
    """A data-set benchmark.

    ``load(path)`` reads its data (``None``: the bundled substitute); ``task(target)`` is the
    task of one target; ``trainable(model, target, data, seeds, config)`` builds a population
    of ``model`` and what trains and evaluates it (:class:`~nalm.train.supervised.Trainable`);
    ``summarize(runs)`` turns stored runs into the report's cells (objects with ``as_row()``),
    which need not be scored when they are stored (a success threshold may come from other
    runs); ``render(cells)`` is the report's Markdown and ``plot(runs, cells, folder)`` draws its
    figures. ``read_back(model, target, weights, unit_options)`` reads the formula of a trained
    run's arithmetic part (a :class:`CellReading`, or ``None`` where it has none); it is stored
    with each run. ``unit_options(model, target, iterations)`` gives per-unit options, so
    regularizer schedules scale with the run's length.
    """

    name: str
    description: str
    models: tuple[str, ...]
    targets: tuple[str, ...]
    seeds: int
    train: DatasetTrainConfig
    load: Callable[[str | None], Any]
    task: Callable[[str], Any]
    trainable: Callable[..., Trainable]
    summarize: Callable[[list], list]
    render: Callable[[list], str]
    plot: Callable[[list, list, Any], list]
    evaluation: str = ""  # the evaluation sets, formatted with the training config (protocol card)
    settings: dict[str, str] = field(default_factory=dict)  # protocol-card rows of the experiment's own
    read_back: Callable[[str, str, dict, dict], CellReading | None] = lambda *run: None
    paper_scale: dict = field(default_factory=dict)
    paper_seeds: int | None = None
    model_targets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit_options: Callable[[str, str, int], dict] = lambda model, target, iterations: {}
    known_models: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    deviations: tuple[Deviation, ...] = ()
    published: tuple[PublishedFigure, ...] = ()

    def all_deviations(self) -> tuple[Deviation, ...]:
        from .spec import RANDOM_NUMBERS
        return self.deviations + (RANDOM_NUMBERS,)

    def at_paper_scale(self) -> "DatasetExperiment":
        return dataclasses.replace(self, train=self.train.replace(**self.paper_scale),
                                   seeds=self.paper_seeds or self.seeds)

    def runs_by_default(self, model: str, target: str) -> bool:
        return target in self.model_targets.get(model, self.targets)

    def config_for(self, model: str, target: str, overrides: dict | None = None) -> DatasetTrainConfig:
        """Defaults, then overrides; unit options given in the overrides replace the experiment's per unit."""
        config = self.train.replace(**(overrides or {}))
        return config.replace(unit_options={**self.unit_options(model, target, config.iterations),
                                            **config.unit_options})
