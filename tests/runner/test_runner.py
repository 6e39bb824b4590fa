"""``run_experiment``: what it stores per experiment, success scoring, normalized errors, resume."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from nalm.experiments import EXPERIMENTS, Experiment, get_experiment
from nalm.explain import READBACK_VERSION
from nalm.results import ResultsStore
from nalm.runner import RunSummary, prepare, run_experiment
from nalm.scoring.success import score
from nalm.scoring.thresholds import PerturbedWeights
from nalm.tasks import MISTRY2022_RANGES, StaticTask
from nalm.tasks.ranges import Range
from nalm.train import Member, MemberResult
from nalm.units import UNITS, seed_members_, sparsity_error

SMALL = {"eval_samples": 64, "eval_every": 25}


def threshold(experiment, task_index, target):
    """The success threshold of one task and target of an experiment on arithmetic tasks."""
    return experiment.workload.threshold(task_index, target)


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
        assert experiment.workload.task_label(r.config["task_index"]) == f"{interpolation} -> {extrapolation}"
        assert r.metrics["threshold"] == threshold(experiment, r.config["task_index"], "add")  # its own range's
    # resume: nothing left to train
    with ResultsStore(tmp_path / "r.sqlite") as store:
        again = run_experiment(experiment, store, models=["nau"], targets=["add"], seeds=1,
                               overrides={"iterations": 20, "eval_samples": 64, "eval_every": 10})
        assert again == RunSummary(trained=0, skipped=9, diverged=0)
        assert len(store.runs(experiment.name)) == 9


def test_targets_whose_unit_options_differ_train_as_separate_populations_with_their_own_options(tmp_path):
    mistry = EXPERIMENTS["mistry2022-single"]
    experiment = dataclasses.replace(mistry, workload=dataclasses.replace(mistry.workload, tasks=mistry.workload.tasks[6:7],
                                                                          task_labels=()))
    tiny = {"iterations": 3, "eval_samples": 16, "eval_every": 3}
    summary, runs = run(tmp_path, experiment, models=["npu"], targets=["add", "div"], seeds=2, overrides=tiny)
    assert summary.trained == 4
    beta = {(r.target, r.seed): r.config["train"]["unit_options"]["npu"]["beta_start"] for r in runs}
    assert beta == {("add", 0): 1e-7, ("add", 1): 1e-7, ("div", 0): 1e-9, ("div", 1): 1e-9}
    # each run is what its own config trains alone: the div members did not take the add members' options
    with ResultsStore(tmp_path / "alone.sqlite") as store:
        alone = run_experiment(experiment, store, models=["npu"], targets=["div"], seeds=2, overrides=tiny)
        by_seed = {r.seed: r for r in store.runs(experiment.name)}
    assert alone.trained == 2
    for r in (r for r in runs if r.target == "div"):
        assert r.key == by_seed[r.seed].key
        for name, value in r.weights.items():
            np.testing.assert_array_equal(value, by_seed[r.seed].weights[name])


# -- (b) the success threshold and success --------------------------------------


def test_madsen_add_threshold_is_positive_finite_and_as_simulated(tmp_path):
    experiment = EXPERIMENTS["madsen2020-static"]
    _, runs = run(tmp_path, experiment, models=["mlp-none"], targets=["add"], seeds=1,
                  overrides={"iterations": 0, "eval_samples": 64})
    (record,) = runs
    value = record.metrics["threshold"]
    assert isinstance(value, float) and math.isfinite(value) and value > 0
    # Analytically, on the reference script's subsets (26 overlapping by 13 of 100 inputs in
    # U[2, 6]): 61 inputs are in neither and 13 in both; (a_eps + b_eps) - (a + b) = 2 eps (sum
    # of the 61 - sum of the 13), whose mean square is 4 eps^2 (48^2 * 4^2 + 74 * 16 / 12).
    expected = 4e-10 * ((61 - 13) ** 2 * 4 ** 2 + 74 * 16 / 12)
    assert value == pytest.approx(expected, rel=0.01)
    assert record.config["threshold"] == {"rule": "madsen-reference", "eps": 1e-5, "samples": 1_000_000, "seed": 0}
    assert record.metrics["success"] is False and record.metrics["solved_at"] is None


def small_madsen() -> Experiment:
    """Madsen's protocol on a smaller task a single NAU solves in a few hundred steps.

    10 inputs in U[-1, 1] (extrapolation U[-3, 3]), two disjoint subsets of 2; the NAU is one
    layer (a + b needs no hidden layer), the MLP keeps the default two layers of width 2.
    """
    task = StaticTask(input_size=10, overlap_ratio=0.0, interpolation=[-1, 1], extrapolation=[-3, 3])
    madsen = EXPERIMENTS["madsen2020-static"]
    return dataclasses.replace(madsen, name="madsen2020-small", model_train={"nau": {"hidden": None}},
                               workload=dataclasses.replace(madsen.workload, tasks=(task,), threshold_rule=PerturbedWeights()))


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
        assert 0 <= m["formula_error"] <= 1e-3  # how close the formula is to the network
        assert m["formula_readback"] == READBACK_VERSION


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


TASK = EXPERIMENTS["mistry2022-single"].workload.tasks[6]


def member_result(curve, diverged_at=None, weights=None, best_step=None, model="nau"):
    """A member's training result on mistry2022-single's [1, 2] -> [2, 6] task (two inputs),
    whose best and final weights are ``weights``.

    ``best_step``: the training loop's best step, which it keeps tracking on a diverged member's
    frozen weights (default: the curve's lowest interpolation MSE, nan skipped)."""
    metrics = {"interpolation_mse": curve["interpolation"][-1], "extrapolation_mse": curve["extrapolation"][-1],
               "interpolation_mae": 0.5, "extrapolation_mae": 2.0}
    if best_step is None:
        best_step = curve["step"][int(np.nanargmin(curve["interpolation"]))]
    metrics["best_step"] = best_step
    weights = weights if weights is not None else {"0.W": np.array([[0.999, 0.002]])}
    sparsity = network_sparsity(model, weights, EXPERIMENTS["mistry2022-single"].config_for(model, "add"))
    metrics["sparsity_error"] = None if sparsity is None else float(sparsity)  # as the training loop measures it
    return MemberResult(member=Member(0, "add", TASK), diverged_at=diverged_at, curve=curve, metrics=metrics,
                        weights=weights)


def network_sparsity(model, weights, config):
    return sparsity_error(model, config.load_network(model, TASK, weights))


BASELINE = {"interpolation": 2.0, "extrapolation": 4.0}


def score_nau(result):
    return score(result, 1e-6, BASELINE)


def test_score_success_solved_at_and_sparsity():
    curve = {"step": [0, 100, 200, 300], "interpolation": [9.0, 1e-9, 1e-10, 1e-8],
             "extrapolation": [9.0, 1e-3, 1e-7, 1e-7]}
    m = score_nau(member_result(curve))
    assert m["threshold"] == 1e-6
    assert m["success"] is True  # extrapolation 1e-7 at the best interpolation step (200)
    assert m["solved_at"] == 200  # the first step whose extrapolation MSE is below the threshold
    assert m["sparsity_error"] == pytest.approx(0.002)
    assert m["normalized_interpolation"] == pytest.approx(25.0) and m["normalized_extrapolation"] == pytest.approx(50.0)
    assert m["baseline_interpolation_mae"] == 2.0 and m["diverged_at"] is None
    # best interpolation step at 300 instead, where extrapolation is above the threshold
    curve["interpolation"][3], curve["extrapolation"][3] = 1e-12, 1e-5
    m = score_nau(member_result(curve))
    assert m["success"] is False and m["solved_at"] == 200


def test_a_member_that_succeeded_before_it_diverged_is_a_success():
    # Solved at 100, best interpolation at 200, nan from 300 on (stable-nalu's R export skips nan).
    curve = {"step": [0, 100, 200, 300, 400], "interpolation": [9.0, 1e-9, 1e-10, math.nan, math.nan],
             "extrapolation": [9.0, 1e-7, 1e-8, math.nan, math.nan]}
    m = score_nau(member_result(curve, diverged_at=300))
    assert m["success"] is True and m["solved_at"] == 100 and m["diverged_at"] == 300
    assert m["best_step"] == 200 and m["best_interpolation_mse"] == 1e-10 and m["best_extrapolation_mse"] == 1e-8
    assert m["sparsity_error"] == pytest.approx(0.002)  # the training loop's best weights are the scored best step's
    # Trask's normalized error is of the final model, which diverged: worst of all
    assert m["normalized_interpolation"] == math.inf and m["normalized_extrapolation"] == math.inf


def test_a_diverged_member_whose_best_step_misses_the_threshold_fails():
    curve = {"step": [0, 100, 200], "interpolation": [9.0, 1e-10, math.nan],
             "extrapolation": [9.0, 1e-5, math.nan]}
    m = score_nau(member_result(curve, diverged_at=150))
    assert m["success"] is False and m["solved_at"] is None and m["diverged_at"] == 150


def test_evaluations_of_the_frozen_weights_after_divergence_do_not_count():
    # Diverged at step 150: the training loop froze the weights of step 150, never evaluated by the
    # reference (its weights turn nan), and evaluated them at 200 and 300, below the threshold.
    curve = {"step": [0, 100, 200, 300], "interpolation": [9.0, 1e-9, 1e-12, 1e-12],
             "extrapolation": [9.0, 1e-3, 1e-9, 1e-9]}
    m = score_nau(member_result(curve, diverged_at=150, best_step=200))
    assert m["success"] is False and m["solved_at"] is None
    assert m["best_step"] == 100 and m["best_interpolation_mse"] == 1e-9 and m["best_extrapolation_mse"] == 1e-3
    assert m["sparsity_error"] is None  # the best weights kept are the frozen ones, not step 100's


def test_the_evaluation_at_the_divergence_step_counts():
    # Evaluated before the step whose loss was not finite: the weights the reference had too.
    curve = {"step": [0, 100, 200], "interpolation": [9.0, 1e-9, 1e-9], "extrapolation": [9.0, 1e-7, 1e-7]}
    m = score_nau(member_result(curve, diverged_at=100))
    assert m["success"] is True and m["solved_at"] == 100


def test_a_member_diverged_at_its_first_step_fails():
    curve = {"step": [0, 100], "interpolation": [math.nan, math.nan], "extrapolation": [math.nan, math.nan]}
    m = score_nau(member_result(curve, diverged_at=0, best_step=0))
    assert m["success"] is False and m["solved_at"] is None and m["best_step"] is None
    assert m["sparsity_error"] is None


def test_score_an_mlp_has_no_sparsity():
    curve = {"step": [0], "interpolation": [1.0], "extrapolation": [1.0]}
    weights = {"0.weight": np.array([[1.0, 1.0]]), "0.bias": np.array([0.0])}
    m = score(member_result(curve, weights=weights, model="mlp-none"), 1e-6, {"interpolation": 1.0, "extrapolation": 1.0})
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


def test_overrides_of_one_model_and_one_target_come_after_those_of_every_model():
    mistry = EXPERIMENTS["mistry2022-single"]
    overrides = {"lr": 0.1, "unit_options": {"npu": {"beta_step": 5}},
                 "models": {"npu": {"lr": 0.2, "targets": {"div": {"lr": 0.3, "unit_options": {"nau": {}}}}}}}
    assert [mistry.config_for(model, target, overrides).lr for model, target in
            (("nau", "add"), ("npu", "add"), ("npu", "div"))] == [0.1, 0.2, 0.3]
    div = mistry.config_for("npu", "div", overrides).unit_options
    assert div["npu"] == {"beta_step": 5} and div["nau"] == {}  # each level's unit options, per unit
    assert mistry.common_config(overrides).lr == 0.1
    with pytest.raises(ValueError, match="models.npu must be a table"):
        mistry.config_for("npu", "add", {"models": {"npu": 3}})


# -- known bugs -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mistry2022-single", "blog-static"])
def test_the_add_threshold_of_two_input_tasks_is_not_degenerate(name):
    assert threshold(EXPERIMENTS[name], 0, "add") > 1e-20


# -- sparsity error per unit -------------------------------------------------------

SATURATED = 40.0  # tanh(40) and sigmoid(40) round to 1.0 in float64; tanh(0) = 0, sigmoid(0) = 0.5


@pytest.mark.parametrize("model, weights, expected", [
    # max min(|w|, |1 - |w||) over the unit's weight
    ("nau", {"0.W": [[0.75, -1.0]]}, 0.25),
    ("nmu", {"0.W": [[0.6, 1.0]]}, 0.4),
    # NAC: W = tanh(W_hat) * sigmoid(M_hat) = [0.5, -1]
    ("nac", {"0.W_hat": [[SATURATED, -SATURATED]], "0.M_hat": [[0.0, SATURATED]]}, 0.5),
    # RealNPU: the exponents only; the gate at 0.5 would be the worst value
    ("real-npu", {"0.W": [[1.0, 0.7]], "0.g": [0.5, 0.5]}, 0.3),
    # NPU: the mean of the real part's 0.2 and the imaginary part's 0.05
    ("npu", {"0.W_re": [[0.9, -0.2]], "0.W_im": [[0.05, 0.0]], "0.g": [0.5, 0.5]}, 0.125),
    # iNALU: the mean of the additive path's 0.5 (W = [0.5, 1]) and the multiplicative path's 0
    ("inalu", {"0.W_hat": [[SATURATED, SATURATED]], "0.M_hat": [[0.0, SATURATED]],
               "0.W_hat_mul": [[SATURATED, 0.0]], "0.M_hat_mul": [[SATURATED, SATURATED]], "0.G": [0.0]}, 0.25),
    # NALU: its one weight [1, -1]; the gate (0.5 after the sigmoid) is not measured
    ("nalu", {"0.G": [[0.0, 0.0]], "0.W_hat": [[SATURATED, -SATURATED]], "0.M_hat": [[SATURATED, SATURATED]]}, 0.0),
    # two layers: the larger of the units' errors
    ("nau/nmu", {"0.W": [[1.0, 0.1], [0.0, -1.0]], "1.W": [[0.7, 1.0]]}, 0.3),
])
def test_sparsity_error_of_each_unit(model, weights, expected):
    config = EXPERIMENTS["mistry2022-single"].config_for(model, "add", {"dtype": "float64"})
    if "/" in model:
        config = config.replace(hidden=2)
    weights = {name: np.array(value, dtype=np.float64) for name, value in weights.items()}
    assert network_sparsity(model, weights, config) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("name", ["nac", "nac-mul", "nalu", "faux-nalu", "nau", "nmu", "npu", "real-npu", "inalu"])
def test_a_members_sparsity_error_is_its_standalone_units(name):
    cls = UNITS[name]
    population = cls(3, 2, members=4, dtype=torch.float64)
    seed_members_(population, [10, 11, 12, 13])
    with torch.no_grad():
        for p in population.parameters():  # off the initialization, so that no member is at a tie
            p.add_(torch.rand(p.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64) - 0.5)
        errors = population.sparsity_error()
    assert errors.shape == (4,)
    for m in range(4):
        alone = cls(3, 2, dtype=torch.float64)
        alone.load_state_dict({k: v[m] for k, v in population.state_dict().items()})
        with torch.no_grad():
            assert alone.sparsity_error().item() == errors[m].item()


# -- the plan ----------------------------------------------------------------------


def test_paper_scale_is_the_experiments_own():
    recurrent = EXPERIMENTS["trask2018-recurrent"]
    paper = recurrent.at_paper_scale()
    assert paper.workload.tasks == recurrent.workload.paper_tasks and paper.seeds == recurrent.paper_seeds
    assert paper.config_for("nac", "add") == recurrent.config_for("nac", "add", recurrent.paper_scale)
    identity = EXPERIMENTS["trask2018-identity"].at_paper_scale()
    assert identity.config_for("nac", "identity").hidden is None  # per-model settings still apply
    assert identity.config_for("nac", "identity").iterations == 10_000


def test_a_learning_rate_sweep_becomes_one_run_per_rate():
    plan = prepare(EXPERIMENTS["blog-static"], models=["nac"], targets=["add"], seeds=2,
                   overrides={"lr": [1e-3, 1e-2]})
    assert [(run.config.lr, run.seed) for run in plan.runs] == [(1e-3, 0), (1e-3, 1), (1e-2, 0), (1e-2, 1)]
    assert [run.stored["train"]["lr"] for run in plan.runs] == [1e-3, 1e-3, 1e-2, 1e-2]
    assert len({run.population_key() for run in plan.runs}) == 1  # one population, a rate per member


def test_baselines_are_computed_once_per_task_seed_and_target_for_every_model(tmp_path, monkeypatch):
    """The identity experiment's NAC has no hidden layer and its MLPs three: both are normalized
    by the same untrained networks, trained once."""
    import nalm.runner.parts as parts

    experiment = EXPERIMENTS["trask2018-identity"]
    calls = []
    train = parts.train  # every population, the baselines' too, trains there
    monkeypatch.setattr(parts, "train", lambda population, **k: calls.append(population.model) or train(population, **k))
    _, runs = run(tmp_path, experiment, models=["nac", "mlp-relu"], seeds=2, overrides={"iterations": 5, **SMALL})
    assert calls == [experiment.workload.baseline_model, "nac", "mlp-relu"]
    by_seed = {}
    for r in runs:
        by_seed.setdefault(r.seed, set()).add((r.metrics["baseline_interpolation_mae"], r.metrics["baseline_extrapolation_mae"]))
    assert all(len(values) == 1 for values in by_seed.values()) and len(by_seed) == 2


def test_a_model_runs_by_default_on_the_targets_its_source_benchmarks_it_on():
    experiment = EXPERIMENTS["mistry2022-single"]
    plan = prepare(experiment, models=["nru", "nau"], seeds=1)
    assert {(r.model, r.target) for r in plan.runs} == {("nru", "div")} | {("nau", t) for t in experiment.targets}
    chosen = prepare(experiment, models=["nru"], targets=["mul", "div"], seeds=1)  # asked for: run
    assert {r.target for r in chosen.runs} == {"mul", "div"}
    nmru = next(r for r in plan.runs if r.model == "nru").config
    assert nmru.lr == 1.0 and prepare(experiment, models=["nmru"], seeds=1).runs[0].config.grad_norm_clip == 1.0


@pytest.mark.parametrize("name, per_target", [("blog-static", False), ("trask2018-program", True)])
def test_populations_keep_the_checkpoint_names_earlier_nalm_gave_them(name, per_target):
    """A population's checkpoint is found by its id, which names the experiment, the model (and
    the target, where a population learns one) and the member runs, as every earlier nalm named
    it: a population interrupted by an earlier nalm is found again."""
    from nalm.results import config_hash
    from nalm.runner.execute import population_id

    experiment = EXPERIMENTS[name]
    plan = prepare(experiment, models=[experiment.models[1]], targets=experiment.targets[:1], seeds=2,
                   overrides={"iterations": 5})
    runs = plan.runs
    named = {"experiment": name, "model": runs[0].model, **({"target": runs[0].target} if per_target else {}),
             "runs": sorted(config_hash(run.stored) for run in runs)}
    assert population_id(name, runs) == config_hash(named)
