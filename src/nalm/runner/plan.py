"""A command resolved into runs before anything trains: :func:`prepare` makes the :class:`Plan`.

Every experiment plans the same way. The selection (models, targets, seeds) is checked by the
experiment's workload; each (model, target) gets its training config
(:meth:`~nalm.experiments.spec.Experiment.config_for`); the workload builds each distinct config
once, so that bad input fails before a store is touched, and gives the scoring (success
thresholds, baseline configs) and the stored config of every run. One run is made per (model,
target, task, learning rate, seed), each task's config as the workload gives it (a sweep's
axis: :meth:`~nalm.experiments.spec.Workload.task_config`).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import warn
from ..experiments.spec import MODELS, TARGETS, table
from ..results import RunKey, config_hash
from ..train import Member, TrainConfig
from ..units.base import step_schedules


@dataclass(frozen=True)
class Run:
    """One member run, fully resolved: what it trains, how, and how it is stored."""

    model: str
    target: str
    seed: int
    task_index: int
    task: Any
    config: TrainConfig  # one learning rate: a swept list is resolved into one run per rate
    stored: dict = field(default_factory=dict)  # the config as stored; its hash is part of the run's key
    group: dict = field(default_factory=dict)  # what the runs of one population share (Workload.group)

    @property
    def key(self) -> RunKey:
        return RunKey(self.stored["experiment"], self.model, self.target, self.seed, config_hash(self.stored))

    @property
    def member(self) -> Member:
        return Member(self.seed, self.target, self.task, lr=self.config.lr)

    def population_key(self) -> tuple:
        """Runs with equal keys train as one population: the same group and config but the
        learning rate, which is per member."""
        settings = {name: value for name, value in self.config.to_dict().items() if name != "lr"}
        return json.dumps(self.group, sort_keys=True), json.dumps(settings, sort_keys=True)

    @property
    def label(self) -> str:
        """What progress lines call its population: ``nau``, ``nau on sum``."""
        return " on ".join(self.group.values())


@dataclass
class Plan:
    """A validated selection, every run resolved: everything checked, nothing trained."""

    experiment: Any  # nalm.experiments.Experiment
    models: list[str]
    targets: list[str]
    runs: list[Run]
    scoring: Any  # the workload's scoring of these runs (Workload.scoring)
    data_path: str | None = None  # where the experiment's data was read from, absolute (None: bundled, or drawn)


MAX_RUNS = 100_000
"""The most runs one command plans: about 3 kB of memory each, and ten times a published table's
(Mistry et al.'s at paper scale: about 10,000)."""


def selection(experiment, models=None, targets=None, seeds=None) -> tuple[list, list, range]:
    """Validated models, targets and seeds (defaults: the experiment's)."""
    models = list(models or experiment.models)
    targets = list(targets or experiment.targets)
    experiment.workload.check_selection(experiment, models, targets)
    seeds = experiment.seeds if seeds is None else seeds
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    return models, targets, range(seeds)


@dataclass(frozen=True)
class Selection:
    """A command's models, targets and seeds, validated, and the training config of each (model,
    target) that runs (:meth:`~nalm.experiments.spec.Experiment.config_for`)."""

    models: list[str]
    targets: list[str]
    seeds: range
    configs: dict[tuple[str, str], TrainConfig]

    def targets_of(self, model: str) -> list[str]:
        """The targets ``model`` runs on."""
        return [target for m, target in self.configs if m == model]


def resolve(experiment, *, models=None, targets=None, seeds=None, overrides: dict | None = None) -> Selection:
    """The selection and each (model, target)'s training config: what :func:`prepare` plans, the
    protocol card shows and ``nalm run --print-config`` prints. A model runs on the targets its
    experiment gives it (:meth:`~nalm.experiments.spec.Experiment.runs_by_default`), or on every
    target chosen. The per-model overrides must name models and targets the experiment has."""
    chosen = targets is not None
    models, targets, seeds = selection(experiment, models, targets, seeds)
    check_model_overrides(experiment, overrides)
    configs = {(model, target): experiment.config_for(model, target, overrides)
               for model in models for target in targets if chosen or experiment.runs_by_default(model, target)}
    return Selection(models, targets, seeds, configs)


def check_model_overrides(experiment, overrides: dict | None) -> None:
    """Raise naming a model or target of the overrides' per-model entries (``"models"``) that the
    experiment does not have: a misspelt one would otherwise change nothing."""
    sections = table((overrides or {}).get(MODELS, {}), MODELS)
    for model, settings in sections.items():
        named = list(table(table(settings, f"{MODELS}.{model}").get(TARGETS, {}), f"{MODELS}.{model}.{TARGETS}"))
        try:
            experiment.workload.check_selection(experiment, [model], named)
        except ValueError as error:
            raise ValueError(f"the overrides' {MODELS}.{model}: {error}") from None


def prepare(experiment, *, models=None, targets=None, seeds=None, overrides: dict | None = None,
            data: str | None = None) -> Plan:
    """Resolve every run's config, stored config and scoring, checking every model, config,
    device and data path, so that bad input fails before a store is touched. This is the one
    place where an experiment and the user's overrides become the configs that train (paper
    scale and ranges are the experiment's own: :meth:`~nalm.experiments.spec.Experiment.at_paper_scale`,
    :meth:`~nalm.experiments.spec.Experiment.with_ranges`). A model whose units act at fixed steps
    that its run cuts short is warned of (:func:`warn_cut_schedules`)."""
    workload = experiment.workload
    chosen = resolve(experiment, models=models, targets=targets, seeds=seeds, overrides=overrides)
    models, targets, seeds, configs = chosen.models, chosen.targets, chosen.seeds, chosen.configs
    loaded, path = workload.load(experiment, data)
    count = len(seeds) * sum(len(workload.tasks_for(target)) * len(config.rates) for (_, target), config in configs.items())
    if count > MAX_RUNS:
        raise ValueError(f"this command makes {count:,} runs, more than one command plans ({MAX_RUNS:,}): "
                         "split it by seeds, models or targets")
    networks = workload.check(experiment, configs, overrides, loaded)
    scoring = workload.scoring(experiment, targets, overrides)
    runs = []
    for (model, target), config in configs.items():
        for task_index, task in workload.tasks_for(target):
            for lr in config.rates:
                resolved = workload.task_config(config, task_index).replace(lr=lr)
                for seed in seeds:
                    run = Run(model, target, seed, task_index, task, resolved)
                    runs.append(dataclasses.replace(run, stored=workload.stored_config(experiment, run, loaded),
                                                    group=workload.group(run)))
    warn_cut_schedules(configs, networks)  # once everything is checked: a refused command says one line
    return Plan(experiment, models, targets, runs, scoring, path)


def cut_schedules(configs: dict, networks: dict) -> dict[str, str]:
    """Per model, what its run misses of its units' step schedules
    (:meth:`~nalm.units.ArithmeticUnit.step_schedules`), as one line; models whose runs hold
    every schedule are left out. Targets are named where the models' runs differ by target."""
    cuts: dict[str, dict[str, list[str]]] = {}
    for (model, target), config in configs.items():
        for text in schedule_texts(networks[model, target], config.iterations, cut_only=True):
            cuts.setdefault(model, {}).setdefault(text, []).append(target)
    lines = {}
    for model, texts in cuts.items():
        every = [t for m, t in configs if m == model]
        lines[model] = "; ".join(text + ("" if found == every else f" (on {', '.join(found)})")
                                 for text, found in texts.items())
    return lines


def schedule_texts(network, iterations: int, cut_only: bool = False) -> list[str]:
    """Each step schedule of the units of ``network`` as text, with what a run of ``iterations``
    steps misses of it; with ``cut_only``, only those it misses something of."""
    texts = {}
    for unit, schedule in step_schedules(network):
        cut = schedule.cut(iterations)
        if cut or not cut_only:
            suffix = f" {cut} in {iterations:,} iterations" if cut else ""
            texts.setdefault(f"{schedule.describe()}{suffix}", []).append(unit)
    return [f"the {' and '.join(units)}'s {text}" if cut_only else f"{' and '.join(units)} {text}"
            for text, units in texts.items()]


def warn_cut_schedules(configs: dict, networks: dict) -> None:
    """One warning per model whose run cuts its units' step schedules short (:func:`cut_schedules`):
    a short run of a unit whose regularizer starts at a fixed step is not the unit its source trains."""
    for model, text in cut_schedules(configs, networks).items():
        warn(f"model {model}: {text}, so {model} does not train as its source does; set the steps in "
             "unit_options (--config) or run more iterations")


def populations_of(runs: list[Run]) -> list[list[Run]]:
    """The runs grouped as they train: one population per :meth:`Run.population_key`."""
    populations: dict[tuple, list[Run]] = {}
    for run in runs:
        populations.setdefault(run.population_key(), []).append(run)
    return list(populations.values())
