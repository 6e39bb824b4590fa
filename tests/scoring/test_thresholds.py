"""Tests for nalm.scoring.thresholds: the reference success-threshold rules.

Expected values are recomputed here: in exact rational arithmetic where the reference's
expectation has a closed form, by an independent simulation of the reference's formulas,
and against the thresholds the reference stored with its published results.
"""
import math
from fractions import Fraction

import numpy as np
import pytest

from nalm.experiments import EXPERIMENTS
from nalm.runner.plan import Run
from nalm.scoring.thresholds import MadsenReference, MistryReference, PerturbedWeights, range_moment
from nalm.streams import THRESHOLD
from nalm.tasks import Draws, PoolTask, RecurrentTask, StaticTask, TARGETS, presets
from nalm.tasks.presets import MISTRY2022_RANGES


def threshold(experiment, task_index, target):
    """The success threshold of one task and target of an experiment on arithmetic tasks."""
    return experiment.workload.threshold(task_index, target)


def run_config(experiment, model, target, seed, task_index, config) -> dict:
    """A run's config as stored."""
    run = Run(model, target, seed, task_index, experiment.workload.tasks[task_index], config, {})
    return experiment.workload.stored_config(experiment, run, None)


EPS = 1e-5

# stable-nalu paper/results/sft-last.csv (column "threshold", one value per operation): the
# thresholds behind Madsen & Johansen's published static-task success rates.
MADSEN_PUBLISHED = {"add": 1.47861742158438e-5, "sub": 1.38437045113029e-8, "mul": 0.160010658743333,
                    "div": 4.93805490041429e-12, "square": 0.159473806098301, "sqrt": 8.95525993233274e-9}


# --------------------------------------------------------------------------- Mistry et al.


def _exact_moments(intervals):
    """E[x^2], E[|x|]^2 and E[x^-2] of x uniform on disjoint intervals, as Fractions."""
    intervals = [(Fraction(lo), Fraction(hi)) for lo, hi in intervals]
    length = sum(hi - lo for lo, hi in intervals)
    square = sum(hi ** 3 - lo ** 3 for lo, hi in intervals) / 3 / length
    absolute = sum((hi * abs(hi) - lo * abs(lo)) / 2 for lo, hi in intervals) / length
    inverse = sum(1 / lo - 1 / hi for lo, hi in intervals) / length
    return square, absolute ** 2, inverse


def _exact_mistry(target, intervals, eps=Fraction(1, 100_000)):
    """The expectation of the script's squared error, exactly: for independent x1, x2,
    add/sub E[eps^2 (|x1| + |x2|)^2], mul E[(((1-eps)^2 - 1) x1 x2)^2],
    div E[(((1-eps)/(1+eps) - 1) x1/x2)^2]."""
    square, absolute_squared, inverse = _exact_moments(intervals)
    if target in ("add", "sub"):
        return eps ** 2 * (2 * square + 2 * absolute_squared)
    if target == "mul":
        return ((1 - eps) ** 2 - 1) ** 2 * square ** 2
    return ((1 - eps) / (1 + eps) - 1) ** 2 * square * inverse


def _mistry_task(extrapolation):
    interpolation = dict((e, i) for i, e in MISTRY2022_RANGES)[extrapolation]
    return presets.mistry2022(interpolation, extrapolation)


@pytest.mark.parametrize("extrapolation, intervals", [
    ("[2,6]", [(2, 6)]),
    ("[-6,-2]U[2,6]", [(-6, -2), (2, 6)]),
    ("[-6.1,-1.2]", [(Fraction("-6.1"), Fraction("-1.2"))]),
    ("[20,40]", [(20, 40)]),
    ("[0.2,2]", [(Fraction("0.2"), 2)]),
])
@pytest.mark.parametrize("target", ["add", "sub", "mul", "div"])
def test_mistry_threshold_is_the_exact_expectation(target, extrapolation, intervals):
    value = MistryReference(eps=EPS).threshold(_mistry_task(extrapolation), target)
    assert value == pytest.approx(float(_exact_mistry(target, intervals)), rel=1e-12)


def test_mistry_threshold_hand_values():
    # U[2, 6]: E[x^2] = 52/3, E|x| = 4, E[x^-2] = 1/12.
    rule, task = MistryReference(eps=EPS), _mistry_task("[2,6]")
    assert rule.threshold(task, "add") == pytest.approx(1e-10 * 200 / 3, rel=1e-12)
    assert rule.threshold(task, "sub") == pytest.approx(1e-10 * 200 / 3, rel=1e-12)
    assert rule.threshold(task, "mul") == pytest.approx((1e-5 * (2 - 1e-5)) ** 2 * (52 / 3) ** 2, rel=1e-12)
    assert rule.threshold(task, "div") == pytest.approx((2e-5 / (1 + 1e-5)) ** 2 * 52 / 3 / 12, rel=1e-12)


def _simulate_mistry_script(target, task, n, eps, seed):
    """The script's simulate.mse on the two inputs, re-done with numpy draws (its mirrored
    range: U[a, b] times random signs)."""
    rng = np.random.default_rng(seed)
    low, high = (task.extrapolation.intervals[-1] if len(task.extrapolation.intervals) > 1
                 else task.extrapolation.intervals[0])
    x = rng.uniform(low, high, size=(n, 2))
    if len(task.extrapolation.intervals) > 1:
        x *= rng.integers(0, 2, size=(n, 2)) * 2 - 1
    x1, x2 = x[:, 0], x[:, 1]
    exact = {"add": x1 + x2, "sub": x1 - x2, "mul": x1 * x2, "div": x1 / x2}[target]
    near = {"add": x1 + x2 - eps * np.abs(x).sum(1), "sub": x1 - x2 - eps * np.abs(x).sum(1),
            "mul": (1 - eps) ** 2 * x1 * x2, "div": (1 - eps) / (1 + eps) * x1 / x2}[target]
    return float(np.mean((near - exact) ** 2))


@pytest.mark.parametrize("extrapolation", ["[-40,-20]", "[-6,-2]U[2,6]", "[1.2,6]"])
@pytest.mark.parametrize("target", ["add", "sub", "mul", "div"])
def test_mistry_threshold_matches_a_simulation_of_the_script(target, extrapolation):
    task = _mistry_task(extrapolation)
    simulated = _simulate_mistry_script(target, task, 200_000, EPS, seed=1)
    assert MistryReference(eps=EPS).threshold(task, target) == pytest.approx(simulated, rel=0.03)


def test_mistry_mul_threshold_is_about_300_times_the_selection_rule():
    # The selection-layer rule moves x1 and x2 into each other: a_eps b_eps - x1 x2 =
    # eps (1 - eps) (x1 - x2)^2, whose mean square on U[20, 40] is eps^2 (1-eps)^2 20^4 / 15;
    # the module rule's is (eps (2 - eps))^2 E[x^2]^2 with E[x^2] = 2800/3: ~327 times more.
    task = _mistry_task("[20,40]")
    module = MistryReference(eps=EPS).threshold(task, "mul")
    selection = PerturbedWeights(eps=EPS, samples=200_000).threshold(task, "mul")
    expected_ratio = (2 - EPS) ** 2 * (2800 / 3) ** 2 / ((1 - EPS) ** 2 * 20 ** 4 / 15)
    assert expected_ratio == pytest.approx(326.7, abs=0.1)
    assert module / selection == pytest.approx(expected_ratio, rel=0.03)


def test_the_mistry_experiment_uses_the_module_rule_for_every_range():
    experiment = EXPERIMENTS["mistry2022-single"]
    assert experiment.workload.threshold_rule == MistryReference(eps=1e-5)
    for i, (_, extrapolation) in enumerate(MISTRY2022_RANGES):
        intervals = [tuple(Fraction(str(v)) for v in interval)
                     for interval in experiment.workload.tasks[i].extrapolation.intervals]
        for target in experiment.targets:
            assert threshold(experiment, i, target) == pytest.approx(float(_exact_mistry(target, intervals)),
                                                                     rel=1e-12)


def test_mistry_rule_rejects_what_the_script_does_not_define():
    rule = MistryReference()
    with pytest.raises(ValueError, match="defined for"):
        rule.threshold(_mistry_task("[2,6]"), "square")
    with pytest.raises(ValueError, match="contains 0"):
        rule.threshold(presets.mistry2022("[-1,1]", "[-2,2]"), "div")
    with pytest.raises(ValueError, match=r"\[a, b\]"):
        rule.threshold(presets.madsen2020(), "add")
    with pytest.raises(ValueError, match="eps"):
        MistryReference(eps=-1e-5)


def test_range_moments():
    assert range_moment(presets.mistry2022("[-2,2]", "[-6,-2]U[2,6]").extrapolation, "|x|") == 4.0
    assert range_moment(StaticTask(extrapolation=[-1, 3]).extrapolation, "|x|") == pytest.approx(10 / 8)
    assert math.isinf(range_moment(StaticTask(extrapolation=[-1, 3]).extrapolation, "1/x^2"))


# --------------------------------------------------------------------------- Madsen & Johansen


def test_madsen_reference_subsets_are_the_scripts_inclusive_ranges():
    # R: a.start = 1, a.end = 1 + 25 = 26, b.start = 26 - 12 = 14, b.end = 14 + 25 = 39,
    # and W[a.start:a.end] includes both ends: 0-based 0..25 and 13..38.
    mask_a, mask_b = MadsenReference().masks(presets.madsen2020())
    assert np.flatnonzero(mask_a).tolist() == list(range(0, 26))
    assert np.flatnonzero(mask_b).tolist() == list(range(13, 39))


def _madsen_add_sub(target, in_a_only, in_b_only, in_both, neither, eps=EPS, low=2.0, high=6.0):
    """Exact E[(op(a_eps, b_eps) - op(a, b))^2] for add and sub: the error is eps * x @ c with
    c = -2 on inputs in both subsets and +2 on inputs in neither (add), or -2 on a's only and
    +2 on b's only (sub)."""
    mean, var = (low + high) / 2, (high - low) ** 2 / 12
    if target == "add":
        total, squares = 2 * (neither - in_both), 4 * (neither + in_both)
    else:
        total, squares = 2 * (in_b_only - in_a_only), 4 * (in_a_only + in_b_only)
    return eps ** 2 * (var * squares + (mean * total) ** 2)


@pytest.mark.parametrize("target", ["add", "sub"])
def test_madsen_reference_add_sub_match_the_closed_form(target):
    # 26 overlapping by 13: 13 in a only, 13 in b only, 13 in both, 61 in neither.
    value = MadsenReference(samples=200_000).threshold(presets.madsen2020(), target)
    assert value == pytest.approx(_madsen_add_sub(target, 13, 13, 13, 61), rel=0.01)


@pytest.mark.parametrize("target", sorted(MADSEN_PUBLISHED))
def test_madsen_reference_reproduces_the_published_thresholds(target):
    value = MadsenReference(samples=200_000).threshold(presets.madsen2020(), target)
    assert value == pytest.approx(MADSEN_PUBLISHED[target], rel=0.02)


@pytest.mark.parametrize("target, ratio", [("add", 1.085), ("div", 1.17), ("sqrt", 1.13)])
def test_the_tasks_own_subsets_give_higher_thresholds_than_published(target, ratio):
    own = PerturbedWeights(samples=200_000).threshold(presets.madsen2020(), target)
    assert own / MADSEN_PUBLISHED[target] == pytest.approx(ratio, rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(MADSEN_PUBLISHED))
def test_madsen_experiment_thresholds_at_full_scale(target):
    experiment = EXPERIMENTS["madsen2020-static"]
    assert threshold(experiment, 0, target) == pytest.approx(MADSEN_PUBLISHED[target], rel=0.005)


def test_the_madsen_experiment_carries_the_reference_rule():
    experiment = EXPERIMENTS["madsen2020-static"]
    assert experiment.workload.threshold_rule == MadsenReference(eps=1e-5, samples=1_000_000, seed=0)
    assert "threshold" in experiment.sources
    assert any(d.setting == "threshold" for d in experiment.deviations)


def test_madsen_reference_rejects_scattered_or_oversized_subsets():
    with pytest.raises(ValueError, match="contiguous"):
        MadsenReference().masks(presets.trask2018())
    with pytest.raises(ValueError, match="do not fit"):
        MadsenReference().masks(StaticTask(input_size=4, subset_ratio=0.5, overlap_ratio=0.0))


# --------------------------------------------------------------------------- the samples drawn


def _perturbed(target, totals, mask_a, mask_b, eps=EPS):
    """mean((op(a_eps, b_eps) - op(a, b))^2) over the given totals, every selection weight off by eps."""
    a, b = totals @ mask_a, totals @ mask_b
    a_eps, b_eps = totals @ (mask_a * (1 - eps) + (1 - mask_a) * eps), totals @ (mask_b * (1 - eps) + (1 - mask_b) * eps)
    return float(np.mean((TARGETS[target](a_eps, b_eps) - TARGETS[target](a, b)) ** 2))


@pytest.mark.parametrize("task", [
    StaticTask(),
    RecurrentTask(input_size=10, subset_ratio=0.3, overlap_ratio=0.34, length=3, extrapolation_length=20,
                  extrapolation=[2, 6]),
])
@pytest.mark.parametrize("target", ["add", "mul"])
def test_perturbed_weights_simulates_on_the_threshold_stream_of_its_seed(task, target):
    rule = PerturbedWeights(samples=3000, seed=2 ** 35 + 1)
    totals = task.totals(3000, Draws(rule.seed, THRESHOLD), extrapolation=True)
    layout = task.layout(0)
    assert rule.threshold(task, target) == pytest.approx(_perturbed(target, totals, layout[:, 0], layout[:, 1]),
                                                         rel=1e-9)


def test_a_pool_tasks_threshold_uses_the_vector_of_the_rules_seed():
    # a and b use every input once, so add moves the output weights too: (1 - eps)(a_eps + b_eps)
    task, rule = PoolTask(), PerturbedWeights(samples=2000, seed=3)
    x = task.sample(2000, Draws(3, THRESHOLD), extrapolation=True)
    a_eps, b_eps = x @ [1 - EPS, EPS], x @ [EPS, 1 - EPS]
    expected = float(np.mean(((1 - EPS) * (a_eps + b_eps) - x.sum(1)) ** 2))
    assert rule.threshold(task, "add") == pytest.approx(expected, rel=1e-9)
    assert PerturbedWeights(samples=2000, seed=4).threshold(task, "add") != rule.threshold(task, "add")


# --------------------------------------------------------------------------- stored configs


def test_run_config_stores_the_rule():
    experiment = EXPERIMENTS["mistry2022-single"]
    config = run_config(experiment, "nmu", "mul", 0, 0, experiment.config_for("nmu", "mul"))
    assert config["threshold"] == {"rule": "mistry-reference", "eps": 1e-5}
    experiment = EXPERIMENTS["madsen2020-static"]
    config = run_config(experiment, "nau", "add", 0, 0, experiment.config_for("nau", "add"))
    assert config["threshold"] == {"rule": "madsen-reference", "eps": 1e-5, "samples": 1_000_000, "seed": 0}
    experiment = EXPERIMENTS["trask2018-recurrent"]
    config = run_config(experiment, "nac", "add", 0, 0, experiment.config_for("nac", "add"))
    assert config["threshold"] == {"rule": "perturbed-weights", "eps": 1e-5, "samples": 10_000, "seed": 0}


def test_every_rule_describes_itself_in_one_line():
    for experiment in EXPERIMENTS.values():
        if not hasattr(experiment.workload, "threshold_rule"):  # data-set experiments: a threshold from the solved model
            continue
        text = experiment.workload.threshold_rule.describe()
        assert text and "\n" not in text
