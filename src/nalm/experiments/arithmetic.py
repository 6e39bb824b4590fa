"""The workload of the function-learning experiments: arithmetic tasks drawn from seeds.

Members learn a target operation of two sums of their inputs (:mod:`nalm.tasks`: static,
recurrent and the seed blog's pool tasks), as networks of units built by name
(:func:`nalm.build_model`) and trained as :class:`~nalm.train.ArithmeticPopulation`\\ s. A run
is scored by the metrics of shared/PROTOCOLS.md section 3 (:func:`~nalm.scoring.success.score`):
success against its reference's threshold (:mod:`nalm.scoring.thresholds`), solved-at, and
Trask et al.'s normalized errors against untrained baseline networks (ReLU6 MLPs, or LSTMs for
recurrent tasks) on the same data, which train beside the runs (:class:`Baselines`).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..explain import READBACK_VERSION, ExplainError, Explanation, Verification, explain_and_verify
from ..philox import GENERATOR
from ..report import figures, markdown, summary
from ..report.axis import axis_figure
from ..runner.parts import Part
from ..scoring.success import score
from ..scoring.thresholds import PerturbedWeights, ThresholdRule
from ..tasks import Range, check_target, task_from_dict, task_to_dict
from ..train import ArithmeticPopulation, Member, MemberResult, TrainConfig
from ..units import build_model, is_baseline, parse_model
from ..units.custom import CustomUnitError, source_record
from ..units.recurrent import READOUT_OPTIONS
from ..units.registry import custom_unit
from . import protocol
from .axis import Axis


@dataclass(frozen=True)
class ArithmeticTasks:
    """Arithmetic tasks: every model trains on each of ``tasks`` for every target.

    Args:
        tasks: the tasks (one run per task, target and seed); ``task_labels`` names them in
            reports; ``paper_tasks``, if given, replace them at paper scale.
        threshold_rule: the success threshold of each (task, target) (:mod:`nalm.scoring.thresholds`):
            the reference's own rule where the experiment has one.
        baseline_model, baseline_models: normalized errors divide by the mean error of this many
            untrained networks of this model.
        primary: the metric of the report's first table.
        extra_figures: figures of the experiment's own, each ``f(name, task, runs, log) ->
            {name: Figure}`` (the identity's error against the input, the recurrent error
            against the sequence length), drawn before the report's standard figures.
        axis: what a sweep varies (:class:`~nalm.experiments.axis.Axis`), one value per task:
            it may change each task's training config (:meth:`task_config`), and the report
            draws every metric against it.
        target_tasks: the indices of the tasks a target trains on, where a target is tested on
            ranges of its own (Heim et al.'s √x, tested on positive inputs only); a target not
            named trains on every task.
        read_formulas: read each trained network's formula back beside training (the report's
            count of exact networks); ``False`` leaves it to ``nalm explain RUN_ID``, where
            reading hundreds of 100-input networks would take longer than training them.
    """

    tasks: tuple
    threshold_rule: ThresholdRule = PerturbedWeights()
    baseline_model: str = "mlp-relu6"
    baseline_models: int = 10
    primary: str = "success_rate"
    task_labels: tuple[str, ...] = ()
    paper_tasks: tuple = ()
    extra_figures: tuple[Callable, ...] = ()
    axis: Axis | None = None
    target_tasks: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    read_formulas: bool = True

    members_independent = True  # ArithmeticPopulation draws and computes a member as it would alone
    worker_steps = 1_000_000  # a core trains 1e6 member-steps in about a minute (docs/performance.md)

    # -- choosing and planning runs ----------------------------------------------------
    def check_selection(self, experiment, models: list[str], targets: list[str]) -> None:
        for model in models:
            parse_model(model)  # raises naming the unknown unit or activation
        for target in targets:
            check_target(target)

    def training_settings(self, experiment, overrides: dict) -> dict:
        return dict(overrides)  # TrainConfig's own names: an unknown one is refused by the config

    def with_ranges(self, experiment, interpolation: str | None, extrapolation: str | None) -> "ArithmeticTasks":
        if len(self.tasks) != 1:
            raise ValueError(f"{experiment.name} has {len(self.tasks)} tasks; --interpolation and --extrapolation "
                             "apply to one-task experiments")
        changes = {k: Range.parse(v) for k, v in (("interpolation", interpolation), ("extrapolation", extrapolation))
                   if v is not None}
        return dataclasses.replace(self, tasks=(dataclasses.replace(self.tasks[0], **changes),))

    def at_paper_scale(self) -> "ArithmeticTasks":
        return dataclasses.replace(self, tasks=self.paper_tasks or self.tasks)

    def load(self, experiment, path: str | None) -> tuple[None, None]:
        if path is not None:
            raise ValueError(f"--data is for data-set experiments; {experiment.name} draws its own data")
        return None, None

    def check(self, experiment, configs: dict, overrides: dict | None, data) -> dict:
        """Every distinct config, the baselines' too: its device, and one standalone build, put
        through a forward pass and its regularizers at the first and last step, which catches bad
        hidden sizes and unit options (of the wrong type too) before anything trains. The
        networks built, per (model, target) of ``configs``."""
        task = self.tasks[0]
        baselines = [((self.baseline_model, None), self.baseline_config(experiment, target, overrides))
                     for target in dict.fromkeys(target for _, target in configs)]
        built, networks = {}, {}
        for (model, target), config in list(configs.items()) + baselines:
            key = (model, json.dumps(config.to_dict(), sort_keys=True))
            if key in built:
                networks[model, target] = built[key]
                continue
            config.check_device()
            try:
                net = build_model(model, task.in_features, 1, hidden=config.hidden, unit_options=config.unit_options,
                                  recurrent=task.recurrent, device=config.device)
                net(torch.ones(2, *task.input_shape, device=config.device))
                for step in (0, config.iterations):
                    net.regularization(step)
                net.project_()
            except CustomUnitError:
                raise  # it names the unit itself
            except (TypeError, ValueError, RuntimeError, ArithmeticError) as error:
                options = f" (unit options {json.dumps(config.unit_options)})" if config.unit_options else ""
                raise ValueError(f"model {model}: {error}{options}") from None
            if config.uses_kernel:  # a network or task the kernel does not train
                try:
                    ArithmeticPopulation(model, [Member(0, target, task)], config.replace(lr=config.rates[0], eval_samples=1))
                except ValueError as error:
                    raise ValueError(f"model {model}: {error}") from None
            built[key] = networks[model, target] = net
        return {key: networks[key] for key in configs}

    def stored_settings(self, config: TrainConfig) -> dict:
        return config.to_dict()  # TrainConfig's own names

    def baseline_config(self, experiment, target: str, overrides: dict | None = None) -> TrainConfig:
        """How the untrained baseline networks of one target are built and evaluated: the
        baseline model's own config (:meth:`Experiment.config_for`), untrained, with a hidden
        layer of 2 where the experiment's networks have none. It depends on no trained model's
        settings, so every model of a (task, seed, target) is normalized by the same baseline
        (nor on the kernel: it trains nothing)."""
        config = experiment.config_for(self.baseline_model, target, overrides)
        return config.replace(iterations=0, hidden=config.hidden or 2, lr=config.rates[0], kernel=None)

    def stored_baseline(self, experiment, target: str) -> dict:
        """The baseline as every run stores it: its model and count, and an RNN baseline's readout
        options where it has any (they change every run's normalized errors)."""
        entry = {"model": self.baseline_model, "count": self.baseline_models}
        if parse_model(self.baseline_model)[0] == "rnn":
            readout = self.baseline_config(experiment, target).unit_options.get(READOUT_OPTIONS)
            if readout:
                entry["readout"] = readout
        return entry

    def task_indices(self, target: str) -> tuple[int, ...]:
        """The indices of the tasks ``target`` trains on (:attr:`target_tasks`)."""
        return tuple(self.target_tasks.get(target, range(len(self.tasks))))

    def tasks_for(self, target: str) -> tuple:
        return tuple((i, self.tasks[i]) for i in self.task_indices(target))

    def task_config(self, config: TrainConfig, task_index: int) -> TrainConfig:
        """The training config of the runs of task ``task_index``: the axis's value's, where a
        sweep varies a training setting."""
        return config if self.axis is None else self.axis.config(config, task_index)

    def task_label(self, index: int) -> str:
        """What reports call task ``index`` (nothing where the tasks have no labels)."""
        return self.task_labels[index] if self.task_labels else ""

    def stored_config(self, experiment, run, data) -> dict:
        """Everything that defines one member run, as stored (its hash is part of the run's key). A
        model with units from outside nalm also records each one's import path and source hash
        (``custom_units``), so that a changed unit makes new runs rather than resuming old ones."""
        config = {
            "experiment": experiment.name, "model": run.model, "target": run.target, "seed": run.seed,
            "task_index": run.task_index, "task": task_to_dict(run.task), "train": self.stored_settings(run.config),
            "baseline": self.stored_baseline(experiment, run.target),
            "threshold": self.threshold_rule.to_dict(), "generator": GENERATOR,
        }
        custom = custom_units(run.model)
        if custom:
            config["custom_units"] = custom
        return config

    def group(self, run) -> dict:
        """A population holds every target, task and seed of a model and config, and where the
        tasks differ in their inputs (a sweep of the input size), those of one input shape: its
        members share one network. A sweep of a training setting names its value (its runs'
        configs already part them)."""
        group = {"model": run.model}
        if len({task.input_shape for task in self.tasks}) > 1:
            group["inputs"] = f"{run.task.in_features} inputs"
        elif self.axis is not None and self.axis.configure is not None:
            group["value"] = self.axis.name(run.task_index)
        return group

    def threshold(self, task_index: int, target: str) -> float:
        """The success threshold of one task and target, by the threshold rule."""
        return self.threshold_rule.threshold(self.tasks[task_index], target)

    def scoring(self, experiment, targets: list[str], overrides: dict | None) -> "Scoring":
        """Each (task, target)'s threshold, computed once for tasks that are equal (a sweep of a
        training setting repeats one task): a rule's draws depend on the task, not its index."""
        by_task: dict[tuple, float] = {}
        thresholds = {}
        for target in targets:
            for i in self.task_indices(target):
                key = (self.tasks[i], target)
                if key not in by_task:
                    by_task[key] = self.threshold(i, target)
                thresholds[i, target] = by_task[key]
        return Scoring(experiment.name, self, thresholds,
                       {target: self.baseline_config(experiment, target, overrides) for target in targets})

    # -- training a part ---------------------------------------------------------------
    def population(self, part: Part) -> ArithmeticPopulation:
        return ArithmeticPopulation(part.model, part.members, part.config)

    def read_back(self, part: Part, results: list[MemberResult]) -> None:
        """Each member's formula, how far it is from the network (``formula_error``:
        :attr:`nalm.explain.Explanation.relative_change`) and whether its network computes the
        target exactly, read beside training, so that worker processes share the work (none
        where :attr:`read_formulas` is off)."""
        if not self.read_formulas:
            return
        for result in results:
            result.metrics["formula"], result.metrics["formula_error"], result.metrics["formula_matches"] = \
                formula(part.model, result, part.config)
            result.metrics["formula_readback"] = READBACK_VERSION

    # -- reports, figures, cards and explanations ----------------------------------------
    def check_table(self, configs: list[dict]) -> None:
        summary.one_table(configs)

    def summarize(self, runs: list) -> list:
        return summary.summarize(runs)

    def render(self, experiment, cells: list) -> str:
        return markdown.render(experiment, cells)

    def figures(self, experiment, runs: list, cells: list, log: bool = True) -> dict:
        summary.one_table(run.config for run in runs)
        summary.one_version_per_model(runs)
        drawn = {}
        for extra in self.extra_figures:
            drawn.update(extra(experiment.name, self.tasks[0], runs, log))
        models = summary.model_order(experiment.models, (run.model for run in runs))  # the tables' order
        if self.axis is not None and cells:
            drawn["axis"] = axis_figure(cells, self.axis, models, experiment.name)
        return {**drawn, **figures.figures_of(experiment.name, runs, cells,
                                              baseline=summary.baseline_name(self.baseline_model), models=models,
                                              paper_iterations=experiment.paper_scale.get("iterations"))}

    def card(self, experiment, chosen, overrides: dict | None = None) -> list:
        return protocol.arithmetic_card(experiment, self, chosen, overrides)

    def explain(self, run) -> "RunExplanation":
        return explain_run(run)


def explain_run(run) -> "RunExplanation":
    """A stored run's network read back on its interpolation data and checked against its target:
    its stored config holds everything this needs."""
    task = task_from_dict(run.config["task"])
    network = TrainConfig.from_dict(run.config["train"]).load_network(run.model, task, run.weights)
    explanation, verification = explain_and_verify(network, task, run.target, run.seed)
    return RunExplanation(run.run_id, run.model, run.target, run.seed, explanation, verification)


def custom_units(model: str) -> dict[str, dict]:
    """Per unit name of ``model`` from outside nalm: its :func:`~nalm.units.custom.source_record`."""
    if is_baseline(model):
        return {}
    return {name: source_record(custom_unit(name)) for name in parse_model(model) if custom_unit(name) is not None}


def formula(model: str, result: MemberResult, config: TrainConfig) -> tuple[str | None, float | None, bool | None]:
    """The formula of the final weights, how far it is from the network, and whether the
    network computes the target exactly (:attr:`nalm.explain.Verification.matches_target`)
    (``None`` for networks that have no formula: MLPs, FauxNALU, complex NPU weights,
    recurrent networks)."""
    if is_baseline(model) or result.diverged:
        return None, None, None
    member = result.member
    net = config.load_network(model, member.task, result.weights)
    try:
        explanation, verification = explain_and_verify(net, member.task, member.target, member.seed)
    except ExplainError:
        return None, None, None
    return str(explanation), explanation.relative_change, verification.matches_target


@dataclass
class Scoring:
    """How runs of arithmetic tasks are scored: each (task, target)'s success threshold, and the
    untrained baseline networks' config per target."""

    experiment: str
    workload: ArithmeticTasks
    thresholds: dict[tuple, float]  # (task index, target) -> threshold MSE
    baseline_configs: dict[str, TrainConfig]

    def scorer(self, runs: list) -> "Baselines":
        return Baselines(self, runs)


class Baselines:
    """The scorer of one execution's pending runs (a :class:`~nalm.experiments.spec.Scorer`): the mean MAE of the untrained baseline models per
    (task, seed, target) that a run needs, whichever its model, on each run's own data. Each
    target's networks (of one input shape, where a sweep's tasks differ in it) train as one
    untrained population (:attr:`parts`) beside the runs'; each of a key's ``baseline_models``
    networks is initialized from its own seed, so none depends on the others."""

    def __init__(self, scoring: Scoring, runs: list):
        self.scoring = scoring
        self.keys = list(dict.fromkeys((run.task_index, run.seed, run.target) for run in runs))
        self.errors: dict[tuple, dict] = {}
        self.done: set[str] = set()  # the parts added
        workload, k = scoring.workload, scoring.workload.baseline_models
        groups: dict[tuple, list[tuple]] = {}  # (target, input shape) -> its keys, in order
        for key in self.keys:
            groups.setdefault((key[2], workload.tasks[key[0]].input_shape), []).append(key)
        shapes = len({shape for _, shape in groups}) > 1
        self.parts, self.part_keys = [], {}
        for (target, _), keys in groups.items():
            members = [Member(seed, target, workload.tasks[task_index], init_seed=1_000_000 + seed * k + i)
                       for task_index, seed, _ in keys for i in range(k)]
            name = f"baselines {target}" + (f", {workload.tasks[keys[0][0]].in_features} inputs" if shapes else "")
            self.parts.append(Part(name, scoring.experiment, workload.baseline_model, members,
                                   scoring.baseline_configs[target], workload, label=name))
            self.part_keys[name] = keys

    @property
    def complete(self) -> bool:
        return len(self.errors) == len(self.keys)

    def missing(self) -> list[Part]:
        return [part for part in self.parts if part.population not in self.done]

    def add(self, part: Part, untrained: list[MemberResult]) -> None:
        """The errors of one of :attr:`parts`, from its results (k networks per key, in order)."""
        self.done.add(part.population)
        k = self.scoring.workload.baseline_models
        for j, key in enumerate(self.part_keys[part.population]):
            group = untrained[j * k:(j + 1) * k]
            self.errors[key] = {which: float(np.mean([r.metrics[f"{which}_mae"] for r in group]))
                                for which in ("interpolation", "extrapolation")}

    def metrics(self, run, result: MemberResult) -> dict:
        """A trained run's stored metrics: training's, its formula, and its scores."""
        return score(result, self.scoring.thresholds[(run.task_index, run.target)],
                     self.errors[(run.task_index, run.seed, run.target)])


@dataclass
class RunExplanation:
    """``nalm explain`` of a run on an arithmetic task: its network's formula, checked against the target."""

    run_id: int
    model: str
    target: str
    seed: int
    explanation: Explanation
    verification: Verification

    def __str__(self) -> str:
        e, v = self.explanation, self.verification
        lines = [f"run {self.run_id}: {self.model}, target {self.target}, seed {self.seed}",
                 str(e),
                 f"read as: {e.reading}; complexity {e.complexity} (SymPy operations)",
                 "max rounding distance per layer: "
                 + ", ".join(f"{i} ({layer.unit}) {layer.max_distance:.3g}" for i, layer in enumerate(e.layers)),
                 e.closeness("the interpolation range", "the extrapolation range")]
        lines += [f"note: {note}" for note in e.notes]
        for label, errors, scale in (("formula vs target", v.formula_vs_target, "the target's"),
                                     ("formula vs network", v.formula_vs_network, "the formula's"),
                                     ("network vs target", v.network_vs_target, "the target's")):
            lines.append(f"max relative error on the scale of {scale} terms, {label}: interpolation "
                         f"{errors['interpolation']:.3g}, extrapolation {errors['extrapolation']:.3g}")
        lines.append(f"matches the target: {match_text(v)}")
        return "\n".join(lines)


def match_text(v: Verification) -> str:
    if v.matches_target:
        return "yes"
    if v.formula_is_target:
        return "no (the formula is the target, but the network computes something else: see formula vs network)"
    return "no"
