"""Run an experiment into the results store: resume, train populations, score, store.

Each model is one population of every (task, target, seed) not yet stored. Scoring adds the
metrics of shared/PROTOCOLS.md section 3 to what the engine measured: the success threshold
(per task and target), success, solved-at, sparsity error, and the normalized errors
against untrained baseline models (ReLU6 MLPs; LSTMs for recurrent tasks) on the same data.
"""
from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass

import numpy as np
import torch

from .. import __version__
from ..results import ResultsStore, RunKey, RunRecord, config_hash
from ..explain import ExplainError, explain_and_verify
from ..tasks import GENERATOR, check_target, task_to_dict
from ..train import Member, MemberResult, TrainConfig, train_population
from .. import metrics as M
from ..units import build_model, is_baseline, parse_model
from .spec import Experiment


@dataclass
class RunSummary:
    trained: int
    skipped: int
    diverged: int


def selection(experiment: Experiment, models=None, targets=None, seeds=None) -> tuple[list, list, list]:
    """Validated models, targets and seeds (defaults: the experiment's)."""
    models = list(models or experiment.models)
    for model in models:
        parse_model(model)  # raises naming the unknown unit or activation
    targets = list(targets or experiment.targets)
    for target in targets:
        check_target(target)
    seeds = experiment.seeds if seeds is None else seeds
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    return models, targets, list(range(seeds))


def run_config(experiment: Experiment, model: str, target: str, seed: int, task_index: int, train: TrainConfig) -> dict:
    """Everything that defines one member run, as stored (its hash is part of the run's key)."""
    return {
        "experiment": experiment.name, "model": model, "target": target, "seed": seed,
        "task_index": task_index, "task": task_to_dict(experiment.tasks[task_index]),
        "train": train.to_dict(), "baseline": {"model": experiment.baseline_model, "count": experiment.baseline_models},
        "threshold": experiment.threshold_rule.to_dict(), "generator": GENERATOR,
    }


def environment(config: TrainConfig) -> dict:
    return {
        "nalm": __version__, "torch": torch.__version__, "numpy": np.__version__,
        "python": sys.version.split()[0], "platform": platform.platform(),
        "device": config.device, "threads": config.threads,
        "cuda_device": torch.cuda.get_device_name() if config.device.startswith("cuda") else None,
    }


@dataclass
class Plan:
    """A validated selection: everything checked, thresholds computed, nothing trained."""

    experiment: Experiment
    models: list[str]
    targets: list[str]
    seeds: list[int]
    configs: dict[tuple[str, str], TrainConfig]  # per (model, target)
    thresholds: dict[tuple[int, str], float]


def prepare(experiment: Experiment, *, models=None, targets=None, seeds=None, overrides: dict | None = None) -> Plan:
    """Check every model, config, device and threshold, so that bad input fails before a store is touched."""
    models, targets, seeds = selection(experiment, models, targets, seeds)
    configs = {(model, target): experiment.config_for(model, target, overrides)
               for model in models for target in targets}
    checked = set()
    for (model, _), config in configs.items():
        key = (model, json.dumps(config.to_dict(), sort_keys=True))
        if key in checked:
            continue
        checked.add(key)
        config.check_device()
        try:  # one standalone build per distinct config catches bad hidden sizes and unit options
            build_model(model, experiment.tasks[0].in_features, 1, hidden=config.hidden,
                        unit_options=config.unit_options, recurrent=experiment.tasks[0].recurrent,
                        device=config.device)
        except TypeError as error:
            raise ValueError(f"model {model}: {error}") from None
    thresholds = {(i, target): threshold(experiment, i, target)
                  for i in range(len(experiment.tasks)) for target in targets}
    return Plan(experiment, models, targets, seeds, configs, thresholds)


def run_experiment(experiment: Experiment, store: ResultsStore, *, models=None, targets=None, seeds=None,
                   overrides: dict | None = None, progress: bool = False) -> RunSummary:
    """Train and store every member run of the experiment that the store does not hold yet."""
    plan = prepare(experiment, models=models, targets=targets, seeds=seeds, overrides=overrides)
    return execute(plan, store, progress=progress)


def execute(plan: Plan, store: ResultsStore, *, progress: bool = False) -> RunSummary:
    """Train the plan's runs that the store lacks, one population per model and config, and store them."""
    experiment = plan.experiment
    summary = RunSummary(0, 0, 0)
    for model in plan.models:
        # Runs whose configs agree (all of them, unless unit options depend on the target)
        # train as one population.
        populations: dict[str, tuple[TrainConfig, list]] = {}
        for target in plan.targets:
            config = plan.configs[(model, target)]
            _, pending = populations.setdefault(json.dumps(config.to_dict(), sort_keys=True), (config, []))
            for task_index in range(len(experiment.tasks)):
                for lr in config.rates:  # a learning-rate sweep is one more population dimension
                    for seed in plan.seeds:
                        run = run_config(experiment, model, target, seed, task_index, config.replace(lr=lr))
                        key = RunKey(experiment.name, model, target, seed, config_hash(run))
                        if store.has(key):
                            summary.skipped += 1
                        else:
                            pending.append((task_index, run))
        for config, pending in populations.values():
            if pending:
                records = train_and_store(plan, model, config, pending, store, progress)
                summary.trained += len(records)
                summary.diverged += sum(r.diverged for r in records)
    return summary


def train_and_store(plan: Plan, model: str, config: TrainConfig, pending: list, store: ResultsStore,
                    progress: bool) -> list[RunRecord]:
    """Train one population of ``pending`` (task index, run config) pairs and store its runs."""
    experiment = plan.experiment
    members = [Member(run["seed"], run["target"], experiment.tasks[i], lr=run["train"]["lr"])
               for i, run in pending]
    results = train_population(model, members, config, progress=progress)
    baselines = baseline_errors(experiment, members, config)
    records = []
    for (task_index, run), result in zip(pending, results):
        baseline = baselines[(result.member.task, result.member.seed, run["target"])]
        metrics = score(result, plan.thresholds[(task_index, run["target"])], baseline, model, config)
        records.append(RunRecord(
            experiment=experiment.name, model=model, target=run["target"], seed=run["seed"], config=run,
            environment=environment(config), metrics=metrics, curve=result.curve, weights=result.weights,
            diverged=result.diverged,
        ))
    store.put_many(records)  # one transaction per population: all of it or nothing
    return records


def threshold(experiment: Experiment, task_index: int, target: str) -> float:
    """The success threshold of one task and target, by the experiment's threshold rule."""
    return experiment.threshold_rule.threshold(experiment.tasks[task_index], target)


def baseline_errors(experiment: Experiment, members: list[Member], config: TrainConfig) -> dict:
    """Mean MAE of the experiment's untrained baseline models per (task, seed, target), on each
    member's own data."""
    keys = list(dict.fromkeys((m.task, m.seed, m.target) for m in members))
    k = experiment.baseline_models
    population = [Member(seed, target, task, init_seed=1_000_000 + seed * k + i)
                  for task, seed, target in keys for i in range(k)]
    untrained = train_population(experiment.baseline_model, population, config.replace(iterations=0, hidden=config.hidden or 2, lr=config.rates[0]))
    out = {}
    for j, key in enumerate(keys):
        group = untrained[j * k:(j + 1) * k]
        out[key] = {which: float(np.mean([r.metrics[f"{which}_mae"] for r in group]))
                    for which in ("interpolation", "extrapolation")}
    return out


def score(result: MemberResult, threshold_mse: float, baseline: dict, model: str, config: TrainConfig) -> dict:
    """The engine's metrics plus success, solved-at, sparsity and normalized errors.

    A member that diverged is scored on the evaluations it had before it diverged, as the
    reference scores the evaluations it has: it evaluates, then steps, with no check on the
    loss (stable-nalu ``experiments/simple_function_static.py:353-388``), so after a nan loss
    every evaluation is nan, and its R export skips nan evaluations when it picks the best step (``which.min``), finds the first
    solved step (``which``) and reads success at the best step (stable-nalu
    ``export/function_task_static.r:14-30,49-55``). So a member that met the threshold at its best
    interpolation step before it blew up succeeds, with its solved-at; ``diverged`` and
    ``diverged_at`` still say that it diverged. The engine keeps evaluating a diverged member's
    frozen weights; those evaluations (after ``diverged_at``) are not scored, and its best-step
    metrics are those of the curve up to ``diverged_at``.

    Normalized errors (Trask et al.'s, of the final model) of a diverged member are infinite:
    the reference's final model is nan, and an infinite error ranks it worst in the median over
    seeds, as :func:`~nalm.metrics.median_interval` ranks nan. The frozen weights' finite
    error is not used: no reference run ever has those weights at the end of training.
    """
    metrics = dict(result.metrics)
    steps, interpolation, extrapolation = scored_curve(result)
    if result.diverged:
        best = M.best_step_index(interpolation)
        metrics["best_step"] = None if best is None else int(steps[best])
        metrics["best_interpolation_mse"] = None if best is None else float(interpolation[best])
        metrics["best_extrapolation_mse"] = None if best is None else float(extrapolation[best])
    metrics["threshold"] = threshold_mse
    metrics["success"] = M.is_success(interpolation, extrapolation, threshold_mse)
    metrics["solved_at"] = M.solved_at(steps, extrapolation, threshold_mse)
    # The engine's best weights are from its own best step, which after a divergence may be an
    # evaluation of the frozen weights: their sparsity is then not that of the scored best step.
    best_weights_scored = not result.diverged or metrics["best_step"] == result.metrics.get("best_step")
    metrics["sparsity_error"] = sparsity_error(model, result, config) if best_weights_scored else None
    metrics["formula"], metrics["formula_matches"] = formula(model, result, config)
    metrics["diverged_at"] = result.diverged_at
    for which in ("interpolation", "extrapolation"):
        metrics[f"baseline_{which}_mae"] = baseline[which]
        error = np.inf if result.diverged else metrics[f"{which}_mae"]
        metrics[f"normalized_{which}"] = float(M.normalized_error(np.asarray(error), baseline[which]))
    return metrics


def scored_curve(result: MemberResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, interpolation and extrapolation MSE of the evaluations that count: all of them, or
    for a diverged member those up to ``diverged_at`` (the evaluation at ``diverged_at`` itself is
    of the weights before the step whose loss was not finite)."""
    steps = np.asarray(result.curve["step"])
    keep = slice(None) if result.diverged_at is None else steps <= result.diverged_at
    return (steps[keep], np.asarray(result.curve["interpolation"], dtype=float)[keep],
            np.asarray(result.curve["extrapolation"], dtype=float)[keep])


def formula(model: str, result: MemberResult, config: TrainConfig) -> tuple[str | None, bool | None]:
    """The rounded formula of the final weights and whether it equals the target exactly
    (``None`` for networks that have no formula: MLPs, FauxNALU, complex NPU weights,
    recurrent networks)."""
    if is_baseline(model) or result.diverged:
        return None, None
    member = result.member
    net = config.load_network(model, member.task, result.weights)
    try:
        explanation, verification = explain_and_verify(net, member.task, member.target, member.seed)
    except ExplainError:
        return None, None
    return str(explanation), verification.matches_target


def sparsity_error(model: str, result: MemberResult, config: TrainConfig) -> float | None:
    """Madsen's sparsity error at the best step: the largest of the units' own
    :meth:`~nalm.units.base.ArithmeticUnit.sparsity_error` (each unit says which of its weights
    count), as the reference reader keeps the largest error logged at a step (nalm-benchmark
    ``stable_nalu/reader/tensorboard_metric_reader.py:108-116``; stable-nalu exports it at the best
    step, ``export/function_task_static.r:54``). ``None`` for baselines, nan if a weight is nan."""
    if is_baseline(model):
        return None
    net = config.load_network(model, result.member.task, result.best_weights)
    with torch.no_grad():
        errors = [float(unit.sparsity_error()) for unit in net.units()]
    return float(np.max(errors))
