"""Every cell of every table runs: each experiment, with every model it lists or publishes, on
every target and task (its paper-scale tasks too), trains a few steps and is scored and stored.

The scale is as small as the runner allows (3 steps, 8 evaluation samples, 8 threshold samples,
one baseline model); the numbers are not checked, only that every run is stored and every
metric is a value the reports can read. Each cell runs with PyTorch's autograd, and again with
the fused CPU step in the slow suite: on a fresh clone most of the time goes to compiling the
fused step for every pair of layer kinds in float32 (about 90 s), which the fused-step tests
already do for every kind in float64.
"""
from __future__ import annotations

import dataclasses
import math

import pytest

from nalm.experiments import EXPERIMENTS, DataSet
from nalm.results import ResultsStore
from nalm.runner import run_experiment

TINY = {"iterations": 3, "eval_every": 2, "eval_samples": 8, "batch_size": 8}
SLOW = {"heim2020-npu-arithmetic", "schlor2020-inalu-functions"}
"""Experiments whose tiny run takes minutes (reading back the formulas of many untrained
100-input networks); their own test modules run a part of them in the default suite."""


def models_of(experiment) -> list[str]:
    """The experiment's models and those its published tables name, each once."""
    published = [model for table in experiment.published for model in table.models.values()]
    return list(dict.fromkeys([*experiment.models, *published]))


def variants() -> list:
    """Each experiment, and beside it the same with its paper-scale tasks where they differ."""
    out = []
    for name, experiment in EXPERIMENTS.items():
        if isinstance(experiment.workload, DataSet):  # tests/cli/test_dataset_runs.py
            continue
        out.append(pytest.param(experiment, id=name, marks=[pytest.mark.slow] if name in SLOW else []))
        if experiment.workload.paper_tasks:
            paper = dataclasses.replace(experiment, workload=experiment.workload.at_paper_scale())
            out.append(pytest.param(paper, id=f"{name}-paper-tasks", marks=pytest.mark.slow))  # 1000-step sequences
    return out


def few_samples(rule):
    """The rule simulated on 8 samples (closed-form rules as they are)."""
    return dataclasses.replace(rule, samples=8) if hasattr(rule, "samples") else rule


def check_metrics(run) -> None:
    for key, value in run.metrics.items():
        where = f"{run.model} {run.target} task {run.config['task_index']}: {key}"
        if value is None or isinstance(value, (bool, str)):
            continue
        if isinstance(value, list):  # steps, e.g. reinitialized_at
            assert all(isinstance(step, int) for step in value), where
            continue
        assert isinstance(value, (int, float)), f"{where} is {value!r}"
        if key.startswith("normalized_") and run.diverged:
            assert value == math.inf, where  # the runner's documented score of a diverged member
        elif key in ("interpolation_mse", "extrapolation_mse", "interpolation_mae", "extrapolation_mae",
                     "best_interpolation_mse", "best_extrapolation_mse", "normalized_interpolation",
                     "normalized_extrapolation"):
            # An untrained unit's extrapolation may overflow to inf; a unit defined on positive
            # inputs only (MulMCFC) gives nan on a negative range from step 0, and is recorded so;
            # so does a gated NAU/NMU over 100 inputs, whose NMU path overflows to inf (inf · 0 = nan).
            # Nan is recorded only where the network's own evaluation was nan.
            curve = run.curve["interpolation" if "interpolation" in key else "extrapolation"]
            assert not math.isnan(value) or any(map(math.isnan, curve)), where
        elif key == "formula_error":
            # A rounded formula may divide by zero where the network does not (an untrained NAC• of
            # hidden size 3): relative_error counts that as inf.
            assert not math.isnan(value), where
        else:
            assert math.isfinite(value), f"{where} is {value!r}"


@pytest.mark.parametrize("fused", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["autograd", "fused"])
@pytest.mark.parametrize("experiment", variants())
def test_every_model_target_and_task_runs_and_is_stored(experiment, fused, tmp_path):
    workload = experiment.workload
    tiny = dataclasses.replace(experiment, workload=dataclasses.replace(
        workload, threshold_rule=few_samples(workload.threshold_rule), baseline_models=1))
    models = models_of(experiment)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_experiment(tiny, store, models=models, seeds=1, overrides={**TINY, "fused": fused})
        runs = store.runs(tiny.name)
    pairs = [(m, t) for m in models for t in experiment.targets if experiment.runs_by_default(m, t)]
    rates = {pair: len(tiny.config_for(*pair, {**TINY, "fused": fused}).rates) for pair in pairs}
    expected = sum(rate * len(workload.task_indices(pair[1])) for pair, rate in rates.items())
    assert summary.trained == len(runs) == expected
    cells = {(r.model, r.target, r.config["task_index"]) for r in runs}
    assert cells == {(m, t, i) for m, t in pairs for i in workload.task_indices(t)}
    for run in runs:
        steps = run.config["train"]["iterations"]  # a sweep's axis may lengthen a value's runs
        evaluations = len({*range(0, steps, TINY["eval_every"]), steps})
        assert [len(run.curve[k]) for k in ("step", "interpolation", "extrapolation")] == [evaluations] * 3
        check_metrics(run)
