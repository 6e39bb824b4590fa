"""What defines an experiment: its models, targets, seeds and training protocol, the sources and
deviations of its protocol card, the published numbers to put beside ours, and its workload.

Every experiment is one :class:`Experiment`. What differs between them, what the networks learn
from, how they are built, scored and tabled, is its *workload*, one object that answers the
runner, the reports and the command line (:class:`Workload`): arithmetic tasks drawn from
seeds (:class:`~nalm.experiments.arithmetic.ArithmeticTasks`) or a data set with networks of
its own (:class:`~nalm.experiments.datasets.DataSet`). Nothing else asks which kind it holds.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from ..train import MemberResult, Population, TrainConfig
from ..units import is_baseline


MODELS = "models"
"""The overrides' key of per-model settings: ``{"models": {"nau": {"lr": 0.01, "targets": {"mul":
{...}}}}}`` (:func:`overrides_for`)."""
TARGETS = "targets"


def overrides_for(overrides: dict | None, model: str, target: str) -> dict:
    """The training settings the overrides give ``model`` on ``target``: those for every model,
    then ``overrides["models"][model]``'s, then its ``["targets"][target]``'s, each level's unit
    options replacing an earlier level's per unit.

    >>> overrides_for({"lr": 0.1, "unit_options": {"nau": {"regularizer_scale": 1}},
    ...                "models": {"nau/nmu": {"lr": 0.2, "unit_options": {"nmu": {"regularizer_start": 5}},
    ...                                       "targets": {"mul": {"batch_size": 8}}}}}, "nau/nmu", "mul")
    {'lr': 0.2, 'unit_options': {'nau': {'regularizer_scale': 1}, 'nmu': {'regularizer_start': 5}}, 'batch_size': 8}
    """
    overrides = overrides or {}
    own = table(table(overrides.get(MODELS, {}), MODELS).get(model, {}), f"{MODELS}.{model}")
    for_target = table(own.get(TARGETS, {}), f"{MODELS}.{model}.{TARGETS}").get(target, {})
    return merged_levels({k: v for k, v in overrides.items() if k != MODELS},
                         {k: v for k, v in own.items() if k != TARGETS},
                         table(for_target, f"{MODELS}.{model}.{TARGETS}.{target}"))


def merged_levels(*levels: dict) -> dict:
    """Training settings given at several levels, each later one's replacing an earlier one's,
    but unit options merged per unit (a later level's options of one unit replace the earlier
    level's options of that unit only).

    >>> merged_levels({"lr": 0.1, "unit_options": {"nau": {"init": "small-uniform"}}},
    ...               {"lr": 0.2, "unit_options": {"nmu": {"init": "small-uniform"}}})
    {'lr': 0.2, 'unit_options': {'nau': {'init': 'small-uniform'}, 'nmu': {'init': 'small-uniform'}}}
    """
    merged: dict = {}
    for level in levels:
        earlier, given = merged.get("unit_options"), level.get("unit_options")
        merged.update(level)
        if isinstance(earlier, dict) and isinstance(given, dict):  # anything else: TrainConfig names it
            merged["unit_options"] = {**earlier, **given}
    return merged


def table(value, name: str) -> dict:
    """``value``, which must be a mapping: a ValueError names ``name`` where it is not."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a table of settings, got {value!r}")
    return value


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


class Workload(Protocol):
    """What an experiment trains on and how its runs are judged: the one object through which the
    runner, the reports and the command line reach what differs between experiments."""

    members_independent: bool
    """A member trains bit for bit as it would alone in any population, so a population may be
    split between workers."""
    worker_steps: int
    """Member-steps a worker process must have to be worth starting (a core's minute or so)."""

    # -- choosing and planning runs (nalm.runner.plan) --
    def check_selection(self, experiment: Experiment, models: list[str], targets: list[str]) -> None:
        """Raise a ValueError naming any model or target the experiment cannot run."""

    def training_settings(self, experiment: Experiment, overrides: dict) -> dict:
        """The user's training overrides as :class:`~nalm.train.TrainConfig` settings; a setting
        the workload does not use is refused."""

    def with_ranges(self, experiment: Experiment, interpolation: str | None, extrapolation: str | None) -> Workload:
        """This workload with its task's ranges replaced (``--interpolation``, ``--extrapolation``)."""

    def at_paper_scale(self) -> Workload:
        """This workload as published (its paper's tasks, where they differ)."""

    def load(self, experiment: Experiment, path: str | None) -> tuple[Any, str | None]:
        """The experiment's data and the absolute path it was read from (``--data``)."""

    def check(self, experiment: Experiment, configs: dict, overrides: dict | None, data: Any) -> dict:
        """Build each distinct (model, config) once, so that bad options and devices fail before a
        store is touched (``configs``: per (model, target)); the network built for each (model,
        target), which the plan reads the units' step schedules from (one network may serve
        several)."""

    def stored_settings(self, config: TrainConfig) -> dict:
        """A training config as runs store it and as the overrides give it (the inverse of
        :meth:`training_settings`): ``nalm run --print-config`` prints it, ``--config`` reads it back."""

    def tasks_for(self, target: str) -> tuple:
        """The tasks every model trains on for ``target``, one run per task and seed, each as
        ``(task index, task)``."""

    def task_config(self, config: TrainConfig, task_index: int) -> TrainConfig:
        """The training config of the runs of task ``task_index`` (a sweep's axis may change it)."""

    def stored_config(self, experiment: Experiment, run, data: Any) -> dict:
        """Everything that defines ``run`` (a :class:`~nalm.runner.plan.Run`), as stored."""

    def group(self, run) -> dict[str, str]:
        """What the runs of one population share beyond their config (which may differ in the
        learning rate): ``{"model": ...}``, with ``"target"`` where a network learns one target.
        It names the population's checkpoint and its progress lines."""

    def scoring(self, experiment: Experiment, targets: list[str], overrides: dict | None) -> Any:
        """How runs of ``targets`` are scored, fixed when they are planned (success thresholds,
        the baselines' configs); its ``scorer(runs)`` scores one execution's runs (:class:`Scorer`)."""

    # -- training a part, wherever it runs (nalm.runner.parts) --
    def population(self, part) -> Population:
        """The population that trains ``part`` (a :class:`~nalm.runner.parts.Part`)."""

    def read_back(self, part, results: list[MemberResult]) -> None:
        """Add the formulas read back from the trained networks to the results' metrics."""

    # -- reports, figures, cards and explanations --
    def check_table(self, configs: list[dict]) -> None:
        """Raise a ValueError if runs of these stored configs cannot share one report."""

    def summarize(self, runs: list) -> list:
        """The report's cells (objects with ``as_row()``) of stored runs."""

    def render(self, experiment: Experiment, cells: list) -> str:
        """The report's Markdown."""

    def figures(self, experiment: Experiment, runs: list, cells: list, log: bool = True) -> dict:
        """The report's figures (``matplotlib.figure.Figure``) by name."""

    def card(self, experiment: Experiment, chosen, overrides: dict | None = None) -> list:
        """The protocol card's rows (:class:`~nalm.experiments.protocol.Setting`) of a command that
        selects ``chosen`` (:class:`~nalm.runner.plan.Selection`) with ``overrides``: every
        setting, each model as built with its options, and the published numbers."""

    def explain(self, run) -> Any:
        """The formula of a stored run's network read back (an object whose ``str`` is the
        explanation ``nalm explain`` prints)."""


class Scorer(Protocol):
    """How one execution's pending runs are scored (:meth:`Workload.scoring`)."""

    parts: list  # what scoring needs trained first (nalm.runner.parts.Part), beside the runs' populations
    complete: bool  # whether every one of those has been added

    def missing(self) -> list:
        """The parts not added yet."""

    def add(self, part, results: list[MemberResult]) -> None:
        """The results of one of :attr:`parts`."""

    def metrics(self, run, result: MemberResult) -> dict:
        """A trained run's stored metrics."""


@dataclass(frozen=True)
class Experiment:
    """A benchmark: every (model, target, seed) it trains, how, and where that comes from.

    ``train`` holds the default (quick) scale; ``paper_scale`` the training changes,
    ``paper_seeds`` the seed count and ``paper_targets`` the targets (where the default runs
    fewer) that give the published protocol (the workload's :meth:`~Workload.at_paper_scale`
    gives its paper's tasks), and ``paper_model_train`` the per-model settings that replace
    ``model_train``'s there (a model whose runs are longer than the others' at both scales).
    ``unit_options(model, target,
    iterations)`` gives the per-unit options of one model on one target, so regularizer
    schedules scale with the run's length and may differ per model (one schedule for both
    layers of ``nau/nmu``) or per target (the NPU's on division); runs whose configs differ
    train as separate populations. ``model_train`` overrides training settings per model (e.g.
    a learning rate for the NPU units), and under its ``"targets"`` key per target of that model
    (the NMU's shorter runs in heim2020-npu-arithmetic); ``target_train`` those of every model on
    a target (a learning rate per operation); ``unit_train`` those of every model made of units (not
    an MLP or RNN baseline) that has no entry of its own, so that any unit, a user's too, runs
    as the experiment's own units do (trask2018-identity: one layer). ``model_targets`` limits
    a model to the targets its source benchmarks it on (a division unit on ÷), unless the
    targets are chosen explicitly (``--targets``). ``sources`` names the source of each
    protocol-card setting; ``published`` the published results the report puts beside ours.
    """

    name: str
    description: str
    workload: Workload
    models: tuple[str, ...]
    targets: tuple[str, ...]
    seeds: int
    train: TrainConfig
    paper_scale: dict = field(default_factory=dict)
    paper_seeds: int | None = None
    paper_model_train: dict[str, dict] = field(default_factory=dict)
    paper_targets: tuple[str, ...] = ()
    unit_options: Callable[[str, str, int], dict] = lambda model, target, iterations: {}
    model_train: dict[str, dict] = field(default_factory=dict)
    target_train: dict[str, dict] = field(default_factory=dict)
    unit_train: dict = field(default_factory=dict)
    model_targets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # protocol-card setting -> its source
    deviations: tuple[Deviation, ...] = ()
    published: tuple = ()

    def all_deviations(self) -> tuple[Deviation, ...]:
        """This experiment's deviations and the one every experiment shares (:data:`RANDOM_NUMBERS`)."""
        return self.deviations + (RANDOM_NUMBERS,)

    def at_paper_scale(self) -> "Experiment":
        """This experiment as published: ``paper_scale``'s training settings, ``paper_seeds``
        seeds, ``paper_targets``, ``paper_model_train``'s per-model settings and the workload's
        paper tasks, where given."""
        model_train = {**self.model_train, **{model: {**self.model_train.get(model, {}), **settings}
                                              for model, settings in self.paper_model_train.items()}}
        return dataclasses.replace(self, train=self.train.replace(**self.paper_scale), model_train=model_train,
                                   seeds=self.paper_seeds or self.seeds, targets=self.paper_targets or self.targets,
                                   workload=self.workload.at_paper_scale())

    def with_ranges(self, interpolation: str | None = None, extrapolation: str | None = None) -> "Experiment":
        """This experiment with its one task's ranges replaced (e.g. ``"[1,2]"``, ``"[-6,-2]U[2,6]"``)."""
        if interpolation is None and extrapolation is None:
            return self
        return dataclasses.replace(self, workload=self.workload.with_ranges(self, interpolation, extrapolation))

    def config_for(self, model: str, target: str, overrides: dict | None = None) -> TrainConfig:
        """The training config of one model on one target: defaults, then per-model settings,
        then the overrides (:func:`overrides_for`: those for every model, then this model's, then
        this model's on this target); unit options given in the overrides replace the
        experiment's per unit."""
        settings = self.workload.training_settings(self, overrides_for(overrides, model, target))
        config = self.train.replace(**{**self.train_overrides(model, target), **settings})
        options = {**self.unit_options(model, target, config.iterations), **config.unit_options}
        return config.replace(unit_options=options)

    def common_config(self, overrides: dict | None = None) -> TrainConfig:
        """The training config of a model with no settings of its own: the defaults and the
        overrides for every model (the protocol card's rows)."""
        every = {name: value for name, value in (overrides or {}).items() if name != MODELS}
        return self.train.replace(**self.workload.training_settings(self, every))

    def train_overrides(self, model: str, target: str) -> dict:
        """The training settings ``model`` runs with on ``target`` beyond the defaults, merged as
        :func:`merged_levels` merges them (later levels take precedence, unit options per unit):
        first the model's own (``model_train[model]``, else ``unit_train`` for a model made of
        units), then ``target_train[target]``, then the model's own on the target
        (``model_train[model]["targets"][target]``).

        >>> from nalm.experiments import EXPERIMENTS
        >>> arithmetic = EXPERIMENTS["heim2020-npu-arithmetic"]
        >>> arithmetic.train_overrides("nau/nmu", "add"), arithmetic.train_overrides("nau/npu", "add")
        ({'lr': 0.01, 'iterations': 10000}, {'lr': 0.01})
        """
        own = self.model_train[model] if model in self.model_train else (
            self.unit_train if self.unit_train and not is_baseline(model) else {})
        return merged_levels({k: v for k, v in own.items() if k != TARGETS}, self.target_train.get(target, {}),
                             own.get(TARGETS, {}).get(target, {}))

    def runs_by_default(self, model: str, target: str) -> bool:
        """Whether ``model`` runs on ``target`` when the targets are not chosen (:attr:`model_targets`)."""
        return target in self.model_targets.get(model, self.targets)

    # The report of stored runs, whatever the workload (nalm.report.write_report).
    def summarize(self, runs: list) -> list:
        return self.workload.summarize(runs)

    def render(self, cells: list) -> str:
        return self.workload.render(self, cells)

    def figures(self, runs: list, cells: list | None = None, log: bool = True) -> dict:
        """The report's figures by name (``matplotlib.figure.Figure``)."""
        return self.workload.figures(self, runs, self.summarize(runs) if cells is None else cells, log)

    def plot(self, runs: list, folder: Path, cells: list | None = None, log: bool = True) -> list[Path]:
        """Every figure of the stored ``runs``, written into ``folder`` as ``<experiment>-<name>``
        (PNG and SVG); the paths written."""
        from ..report import style

        return [path for name, figure in self.figures(runs, cells, log).items()
                for path in style.save(figure, Path(folder) / f"{self.name}-{name}")]
