"""``run_experiment``: what it stores per experiment, success scoring, normalized errors, resume."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from nalm.experiments import EXPERIMENTS, Experiment, RunSummary, get_experiment, run_experiment
from nalm.experiments.runner import score, threshold
from nalm.results import ResultsStore
from nalm.tasks import MISTRY2022_RANGES, StaticTask
from nalm.tasks.ranges import Range
from nalm.train import Member, MemberResult

SMALL = {"eval_samples": 64, "eval_every": 25}


def run(tmp_path, experiment, name="r.sqlite", **kwargs):
    """Run into a fresh store; return (summary, the stored runs)."""
    with ResultsStore(tmp_path / name) as store:
        summary = run_experiment(experiment, store, **kwargs)
        return summary, store.runs(experiment.name)


def test_registry():
    assert {"blog-static", "trask2018-static", "madsen2020-static", "mistry2022-single"} <= set(EXPERIMENTS)
    for name, experiment in EXPERIMENTS.items():
        assert isinstance(experiment, Experiment) and experiment.name == name
        assert get_experiment(name) is experiment
    with pytest.raises(KeyError, match="unknown experiment 'nope'"):
        get_experiment("nope")


# -- (a) mistry2022-single: one run per range ------------------------------------


def test_mistry_stores_one_run_per_range(tmp_path):
    experiment = EXPERIMENTS["mistry2022-single"]
    summary, runs = run(tmp_path, experiment, models=["nau"], targets=["add"], seeds=1,
                        overrides={"iterations": 20, "eval_samples": 64, "eval_every": 10})
    assert summary == RunSummary(trained=9, skipped=0, diverged=0)
    assert len(runs) == 9
    assert sorted(r.config["task_index"] for r in runs) == list(range(9))
    assert len({r.key.config_hash for r in runs}) == 9
    assert len({r.key for r in runs}) == 9
    for r in runs:
        assert (r.model, r.target, r.seed) == ("nau", "add", 0)
        interpolation, extrapolation = MISTRY2022_RANGES[r.config["task_index"]]
        assert r.config["task"]["interpolation"] == Range.parse(interpolation).to_list()
        assert r.config["task"]["extrapolation"] == Range.parse(extrapolation).to_list()
        assert r.config["task"]["input_size"] == 2
        assert r.config["train"]["hidden"] is None
        assert list(r.weights) == ["0.W"] and r.weights["0.W"].shape == (1, 2)  # a single unit
        assert experiment.task_label(r.config["task_index"]) == f"{interpolation} -> {extrapolation}"
        assert r.metrics["threshold"] == threshold(experiment, r.config["task_index"], "add")  # its own range's
    # resume: nothing left to train
    with ResultsStore(tmp_path / "r.sqlite") as store:
        again = run_experiment(experiment, store, models=["nau"], targets=["add"], seeds=1,
                               overrides={"iterations": 20, "eval_samples": 64, "eval_every": 10})
        assert again == RunSummary(trained=0, skipped=9, diverged=0)
        assert len(store.runs(experiment.name)) == 9


# -- (b) the success threshold and success --------------------------------------


def test_madsen_add_threshold_is_positive_finite_and_as_simulated(tmp_path):
    experiment = EXPERIMENTS["madsen2020-static"]
    _, runs = run(tmp_path, experiment, models=["mlp-none"], targets=["add"], seeds=1,
                  overrides={"iterations": 0, "eval_samples": 64})
    (record,) = runs
    value = record.metrics["threshold"]
    assert isinstance(value, float) and math.isfinite(value) and value > 0
    # Analytically: 100 inputs in U[2, 6], a and b sum 25 each overlapping by 12, so 62
    # inputs are in neither and 12 in both; (a_eps + b_eps) - (a + b) = 2 eps (sum of the 62
    # - sum of the 12), whose mean square is 4 eps^2 (50^2 * 4^2 + 74 * 16 / 12).
    expected = 4e-10 * ((62 - 12) ** 2 * 4 ** 2 + 74 * 16 / 12)
    assert value == pytest.approx(expected, rel=0.01)
    assert record.config["threshold"] == {"eps": 1e-5, "samples": 1_000_000}
    assert record.metrics["success"] is False and record.metrics["solved_at"] is None


def small_madsen() -> Experiment:
    """Madsen's protocol on a smaller task a single NAU solves in a few hundred steps.

    10 inputs in U[-1, 1] (extrapolation U[-3, 3]), two disjoint subsets of 2; the NAU is one
    layer (a + b needs no hidden layer), the MLP keeps the default two layers of width 2.
    """
    task = StaticTask(input_size=10, overlap_ratio=0.0, interpolation=[-1, 1], extrapolation=[-3, 3])
    return dataclasses.replace(EXPERIMENTS["madsen2020-static"], name="madsen2020-small", tasks=(task,),
                               model_train={"nau": {"hidden": None}})


@pytest.fixture(scope="module")
def small_madsen_runs(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("madsen")
    summary, runs = run(tmp_path, small_madsen(), models=["nau", "mlp-relu6"], targets=["add"], seeds=2,
                        overrides={"lr": 0.01, "iterations": 1000, "eval_samples": 500, "eval_every": 100})
    return summary, runs


def test_a_nau_that_learns_add_is_a_success(small_madsen_runs):
    summary, runs = small_madsen_runs
    assert summary == RunSummary(trained=4, skipped=0, diverged=0)
    nau = [r for r in runs if r.model == "nau"]
    assert len(nau) == 2
    for r in nau:
        m = r.metrics
        assert m["threshold"] > 0 and math.isfinite(m["threshold"])
        assert m["success"] is True
        assert isinstance(m["solved_at"], int) and m["solved_at"] in r.curve["step"]
        # solved at the first evaluation whose extrapolation MSE is below the threshold
        first = next(s for s, e in zip(r.curve["step"], r.curve["extrapolation"]) if e < m["threshold"])
        assert m["solved_at"] == first
        assert 0 < m["solved_at"] <= 1000
        assert m["sparsity_error"] is not None and 0 <= m["sparsity_error"] < 0.01
        assert m["best_extrapolation_mse"] < m["threshold"]
        weights = r.weights["0.W"].ravel()
        assert sorted(np.round(weights, 2).tolist()) == [0.0] * 6 + [1.0] * 4
        assert m["formula_matches"] is True and m["formula"].startswith("y = ")


def test_an_mlp_on_the_same_task_is_not_a_success(small_madsen_runs):
    _, runs = small_madsen_runs
    mlp = [r for r in runs if r.model == "mlp-relu6"]
    assert len(mlp) == 2
    nau_threshold = next(r for r in runs if r.model == "nau").metrics["threshold"]
    for r in mlp:
        assert r.metrics["success"] is False
        assert r.metrics["solved_at"] is None
        assert r.metrics["sparsity_error"] is None
        assert r.metrics["formula"] is None and r.metrics["formula_matches"] is None
        assert r.metrics["threshold"] == nau_threshold  # one threshold per (task, target)
        assert r.metrics["best_extrapolation_mse"] > r.metrics["threshold"]


# -- (c) normalized errors ------------------------------------------------------


def test_an_untrained_mlp_scores_about_100(tmp_path):
    _, runs = run(tmp_path, EXPERIMENTS["blog-static"], models=["mlp-relu6"], targets=["add", "sub", "mul", "div"],
                  seeds=3, overrides={"iterations": 0})
    assert len(runs) == 12
    for r in runs:
        assert r.curve["step"] == [0]
        assert r.metrics["normalized_interpolation"] == pytest.approx(
            100 * r.metrics["interpolation_mae"] / r.metrics["baseline_interpolation_mae"], rel=1e-12)
        assert r.metrics["normalized_extrapolation"] == pytest.approx(
            100 * r.metrics["extrapolation_mae"] / r.metrics["baseline_extrapolation_mae"], rel=1e-12)
    for which in ("normalized_interpolation", "normalized_extrapolation"):
        mean = np.mean([r.metrics[which] for r in runs])
        assert 30 <= mean <= 300, (which, mean)
    # each (seed, target) has its own data, hence its own baseline
    baselines = {(r.seed, r.target): r.metrics["baseline_interpolation_mae"] for r in runs}
    assert len(set(baselines.values())) == 12


def test_a_trained_nac_on_add_scores_below_5(tmp_path):
    _, runs = run(tmp_path, EXPERIMENTS["blog-static"], models=["nac"], targets=["add"], seeds=2,
                  overrides={"lr": 0.01, "iterations": 1000, "eval_every": 250})
    assert len(runs) == 2
    for r in runs:
        assert r.metrics["normalized_interpolation"] < 5
        assert r.metrics["normalized_extrapolation"] < 5
        assert r.curve["step"] == [0, 250, 500, 750, 1000]


def test_the_baseline_does_not_depend_on_the_model_or_its_training(tmp_path):
    """Untrained ReLU6 MLPs on the run's own data: the same whichever model and iterations."""
    experiment = EXPERIMENTS["blog-static"]
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["nac"], targets=["add"], seeds=1, overrides={"iterations": 40, **SMALL})
        run_experiment(experiment, store, models=["mlp-none"], targets=["add"], seeds=1,
                       overrides={"iterations": 0, **SMALL})
        nac, mlp = sorted(store.runs(experiment.name), key=lambda r: r.model != "nac")
    assert (nac.model, mlp.model) == ("nac", "mlp-none")
    for which in ("interpolation", "extrapolation"):
        assert nac.metrics[f"baseline_{which}_mae"] == mlp.metrics[f"baseline_{which}_mae"]


# -- scoring one member ------------------------------------------------------------


def member_result(curve, diverged=False, weights=None):
    task = EXPERIMENTS["mistry2022-single"].tasks[6]  # [1, 2] -> [2, 6], two inputs
    metrics = {"interpolation_mse": curve["interpolation"][-1], "extrapolation_mse": curve["extrapolation"][-1],
               "interpolation_mae": 0.5, "extrapolation_mae": 2.0}
    weights = weights if weights is not None else {"0.W": np.array([[0.999, 0.002]])}
    return MemberResult(member=Member(0, "add", task), diverged=diverged, diverged_at=7 if diverged else None,
                        curve=curve, metrics=metrics, weights=weights, best_weights=weights)


def test_score_success_solved_at_and_sparsity():
    config = EXPERIMENTS["mistry2022-single"].config_for("nau", "add")
    curve = {"step": [0, 100, 200, 300], "interpolation": [9.0, 1e-9, 1e-10, 1e-8],
             "extrapolation": [9.0, 1e-3, 1e-7, 1e-7]}
    m = score(member_result(curve), 1e-6, {"interpolation": 2.0, "extrapolation": 4.0}, "nau", config)
    assert m["threshold"] == 1e-6
    assert m["success"] is True  # extrapolation 1e-7 at the best interpolation step (200)
    assert m["solved_at"] == 200  # the first step whose extrapolation MSE is below the threshold
    assert m["sparsity_error"] == pytest.approx(0.002)
    assert m["normalized_interpolation"] == pytest.approx(25.0) and m["normalized_extrapolation"] == pytest.approx(50.0)
    assert m["baseline_interpolation_mae"] == 2.0 and m["diverged_at"] is None
    # best interpolation step at 300 instead, where extrapolation is above the threshold
    curve["interpolation"][3], curve["extrapolation"][3] = 1e-12, 1e-5
    m = score(member_result(curve), 1e-6, {"interpolation": 2.0, "extrapolation": 4.0}, "nau", config)
    assert m["success"] is False and m["solved_at"] == 200


def test_score_a_diverged_member():
    config = EXPERIMENTS["mistry2022-single"].config_for("nau", "add")
    curve = {"step": [0, 100], "interpolation": [1e-9, math.nan], "extrapolation": [1e-9, math.nan]}
    m = score(member_result(curve, diverged=True), 1e-6, {"interpolation": 2.0, "extrapolation": 4.0}, "nau", config)
    assert m["success"] is False and m["solved_at"] is None and m["diverged_at"] == 7
    assert m["normalized_interpolation"] == math.inf and m["normalized_extrapolation"] == math.inf


def test_score_an_mlp_has_no_sparsity():
    config = EXPERIMENTS["mistry2022-single"].config_for("mlp-none", "add")
    curve = {"step": [0], "interpolation": [1.0], "extrapolation": [1.0]}
    weights = {"0.weight": np.array([[1.0, 1.0]]), "0.bias": np.array([0.0])}
    m = score(member_result(curve, weights=weights), 1e-6, {"interpolation": 1.0, "extrapolation": 1.0},
              "mlp-none", config)
    assert m["sparsity_error"] is None and m["success"] is False


# -- resume and bit-exact members ----------------------------------------------


def test_a_seed_does_not_depend_on_the_others_trained_beside_it(tmp_path):
    experiment = EXPERIMENTS["blog-static"]
    kwargs = {"models": ["nac"], "targets": ["add", "sub"], "overrides": {"iterations": 30, **SMALL}}
    _, alone = run(tmp_path, experiment, "alone.sqlite", seeds=1, **kwargs)
    _, together = run(tmp_path, experiment, "together.sqlite", seeds=3, **kwargs)
    assert len(alone) == 2 and len(together) == 6
    by_key = {r.key: r for r in together}
    for r in alone:
        other = by_key[r.key]
        assert r.metrics == other.metrics
        assert r.curve == other.curve
        for name in r.weights:
            np.testing.assert_array_equal(r.weights[name], other.weights[name])


def test_resume_skips_stored_runs_and_trains_the_rest(tmp_path):
    experiment = EXPERIMENTS["blog-static"]
    kwargs = {"models": ["nac"], "targets": ["add"], "overrides": {"iterations": 10, **SMALL}}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        assert run_experiment(experiment, store, seeds=2, **kwargs) == RunSummary(2, 0, 0)
        ids = {r.key: r.run_id for r in store.runs(experiment.name)}
        assert run_experiment(experiment, store, seeds=3, **kwargs) == RunSummary(1, 2, 0)
        runs = store.runs(experiment.name)
        assert len(runs) == 3 and {r.key: r.run_id for r in runs if r.key in ids} == ids


def test_invalid_overrides_train_and_store_nothing(tmp_path):
    experiment = EXPERIMENTS["blog-static"]
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ValueError, match="bogus"):
            run_experiment(experiment, store, models=["nac"], targets=["add"], seeds=1, overrides={"bogus": 1})
        with pytest.raises(ValueError, match="seeds"):
            run_experiment(experiment, store, models=["nac"], targets=["add"], seeds=0)
        with pytest.raises(ValueError, match="modulo"):
            run_experiment(experiment, store, models=["nac"], targets=["modulo"], seeds=1)
        with pytest.raises(KeyError, match="bogus"):
            run_experiment(experiment, store, models=["nac", "nac/bogus"], targets=["add"], seeds=1)
        assert store.runs() == []


def test_per_model_training_settings_and_unit_options():
    madsen, mistry = EXPERIMENTS["madsen2020-static"], EXPERIMENTS["mistry2022-single"]
    config = madsen.config_for("nau/nmu", "mul", {"iterations": 1000})
    assert config.unit_options["nmu"] == {"regularizer_scale": 10.0, "regularizer_start": 200, "regularizer_end": 400}
    assert mistry.config_for("npu", "add").lr == 5e-3 and mistry.config_for("nau", "add").lr == 1e-3
    assert mistry.config_for("npu", "add", {"lr": 0.1}).lr == 0.1  # overrides win


# -- known bugs -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mistry2022-single", "blog-static"])
def test_the_add_threshold_of_two_input_tasks_is_not_degenerate(name):
    assert threshold(EXPERIMENTS[name], 0, "add") > 1e-20
