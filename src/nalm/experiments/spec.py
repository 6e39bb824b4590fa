"""What defines an experiment: tasks, models, targets, seeds, the training protocol, and the
published numbers to put beside ours."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from ..tasks import Range
from ..train import TrainConfig
from ..units import is_baseline
from ..scoring.thresholds import PerturbedWeights, ThresholdRule


@dataclass(frozen=True)
class Published:
    """A published table: ``values[label][target]`` for the model ``models[label]``."""

    source: str
    metric: str  # "normalized_interpolation" or "success_rate"
    models: dict[str, str]  # published label -> our model name
    values: dict[str, dict[str, float]]
    protocol: dict  # the settings the published numbers used, compared with ours in reports


@dataclass(frozen=True)
class Deviation:
    """A deliberate departure from the experiment's source, shown on its protocol card and
    under its report's table."""

    setting: str  # a setting of the card, e.g. "iterations" or "model nau/nmu"
    reference: str  # what the source does, e.g. "5e6 iterations (Madsen & Johansen 2020, section 4.1)"
    ours: str  # what this experiment does instead, e.g. "5e4 iterations by default"
    reason: str


RANDOM_NUMBERS = Deviation(
    setting="random numbers",
    reference="each reference draws its data with its own generator (numpy or PyTorch), seeded per run",
    ours="every value is Philox4x32-10 (Salmon et al. 2011) of (seed, stream, step, row, column)",
    reason="a member's data must not depend on the population it trains in, any step's batch must be "
           "drawable directly, and CPU and GPU must draw the same numbers; the distributions are the "
           "reference's, the draws are not",
)
"""The departure every experiment shares: no reference's random stream is reproduced."""


@dataclass(frozen=True)
class Experiment:
    """A benchmark: every (task, model, target, seed) it trains and how.

    ``train`` holds the default (quick) scale; ``paper_scale`` the training changes and
    ``paper_seeds`` the seed count that give the published protocol, with ``paper_tasks``
    (if given) in place of ``tasks``. ``unit_options(model, target, iterations)`` gives the
    per-unit options of one model on one target, so regularizer schedules scale with the run's
    length and may differ per model (one schedule for both layers of ``nau/nmu``) or per target
    (the NPU's on division); runs whose configs differ train as separate populations. ``model_train`` overrides training
    settings per model (e.g. a learning rate for the NPU units); ``unit_train`` those of every
    model made of units (not an MLP or RNN baseline) that has no entry of its own, so that any
    unit, a user's too, runs as the experiment's own units do (trask2018-identity: one layer). ``model_targets`` limits a model
    to the targets its source benchmarks it on (a division unit on ÷), unless the targets are
    chosen explicitly (``--targets``). Normalized errors divide by
    the mean error of ``baseline_models`` untrained ``baseline_model`` networks.
    ``threshold_rule`` gives the success threshold of each (task, target)
    (:mod:`nalm.scoring.thresholds`): the reference's own rule where the experiment has one.
    """

    name: str
    description: str
    tasks: tuple
    models: tuple[str, ...]
    targets: tuple[str, ...]
    seeds: int
    train: TrainConfig
    paper_scale: dict = field(default_factory=dict)
    paper_seeds: int | None = None
    unit_options: Callable[[str, str, int], dict] = lambda model, target, iterations: {}
    model_train: dict[str, dict] = field(default_factory=dict)
    unit_train: dict = field(default_factory=dict)
    model_targets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    baseline_model: str = "mlp-relu6"
    baseline_models: int = 10
    threshold_rule: ThresholdRule = PerturbedWeights()
    primary: str = "success_rate"
    published: tuple[Published, ...] = ()
    task_labels: tuple[str, ...] = ()
    paper_tasks: tuple = ()
    sources: dict[str, str] = field(default_factory=dict)  # protocol-card setting -> its source
    deviations: tuple[Deviation, ...] = ()

    def all_deviations(self) -> tuple[Deviation, ...]:
        """This experiment's deviations and the one every experiment shares (:data:`RANDOM_NUMBERS`)."""
        return self.deviations + (RANDOM_NUMBERS,)

    def at_paper_scale(self) -> "Experiment":
        """This experiment as published: ``paper_scale``'s training settings, ``paper_seeds``
        seeds and ``paper_tasks`` tasks, where given."""
        return dataclasses.replace(self, train=self.train.replace(**self.paper_scale),
                                   seeds=self.paper_seeds or self.seeds, tasks=self.paper_tasks or self.tasks)

    def with_ranges(self, interpolation: str | None = None, extrapolation: str | None = None) -> "Experiment":
        """This experiment with its one task's ranges replaced (e.g. ``"[1,2]"``, ``"[-6,-2]U[2,6]"``)."""
        if interpolation is None and extrapolation is None:
            return self
        if len(self.tasks) != 1:
            raise ValueError(f"{self.name} has {len(self.tasks)} tasks; --interpolation and --extrapolation "
                             "apply to one-task experiments")
        changes = {k: Range.parse(v) for k, v in (("interpolation", interpolation), ("extrapolation", extrapolation))
                   if v is not None}
        return dataclasses.replace(self, tasks=(dataclasses.replace(self.tasks[0], **changes),))

    def config_for(self, model: str, target: str, overrides: dict | None = None) -> TrainConfig:
        """The training config of one model on one target: defaults, then per-model settings,
        then overrides; unit options given in the overrides replace the experiment's per unit."""
        config = self.train.replace(**{**self.train_overrides(model), **(overrides or {})})
        options = {**self.unit_options(model, target, config.iterations), **config.unit_options}
        return config.replace(unit_options=options)

    def train_overrides(self, model: str) -> dict:
        """The training settings ``model`` runs with beyond the defaults: its own, else ``unit_train``
        for a model made of units."""
        if model in self.model_train:
            return self.model_train[model]
        return {} if is_baseline(model) else self.unit_train

    def baseline_config(self, target: str, overrides: dict | None = None) -> TrainConfig:
        """How the untrained baseline networks of one target are built and evaluated: the
        baseline model's own config (:meth:`config_for`), untrained, with a hidden layer of 2
        where the experiment's networks have none. It depends on no trained model's settings, so
        every model of a (task, seed, target) is normalized by the same baseline."""
        config = self.config_for(self.baseline_model, target, overrides)
        return config.replace(iterations=0, hidden=config.hidden or 2, lr=config.rates[0])

    def runs_by_default(self, model: str, target: str) -> bool:
        """Whether ``model`` runs on ``target`` when the targets are not chosen (:attr:`model_targets`)."""
        return target in self.model_targets.get(model, self.targets)

    def task_label(self, index: int) -> str:
        return self.task_labels[index] if self.task_labels else ""
