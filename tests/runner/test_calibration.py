"""Calibration for ``nalm run --dry-run``: costs measured per cost shape, kept in the user's cache."""
from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.runner import calibration, estimate, prepare
from nalm.runner.calibration import Calibration, CalibrationCache, Sample, Span, scaled, shape_of
from nalm.runner.execute import part_of
from nalm.runner.plan import populations_of

MISTRY = EXPERIMENTS["mistry2022-single"]  # planned at once: its thresholds are not simulated
TINY = {"iterations": 20, "eval_every": 10, "eval_samples": 16, "batch_size": 8}


def plan_of(models=("nau",), targets=("add", "sub"), seeds=1, **overrides):
    """9 tasks × ``seeds`` seeds × ``targets`` members of each model."""
    return prepare(MISTRY, models=list(models), targets=list(targets), seeds=seeds, overrides={**TINY, **overrides})


def parts_of(plan):
    return [part_of(plan, "p", runs) for runs in populations_of(plan.runs)]


class Trainings:
    """``calibration.train``, counting its calls."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = calibration.train

        def counted(population, **kwargs):
            self.calls += 1
            return real(population, **kwargs)
        monkeypatch.setattr(calibration, "train", counted)


def test_what_does_not_change_a_steps_cost_does_not_change_the_shape():
    base = shape_of(parts_of(plan_of())[0])
    assert shape_of(parts_of(plan_of(iterations=500, eval_every=50, lr=0.1))[0]) == base
    assert shape_of(parts_of(plan_of(targets=("mul",), seeds=3))[0]) == base  # targets and seeds: members
    assert shape_of(parts_of(plan_of(models=("nalu",)))[0]) != base
    assert shape_of(parts_of(plan_of(eval_samples=32))[0]) != base
    assert shape_of(parts_of(plan_of(batch_size=16))[0]) != base
    assert shape_of(parts_of(plan_of(hidden=3))[0]) != base
    # on a GPU the Triton trainer launches once per evaluation: a step's cost depends on how often
    def on_cuda(**overrides):
        part = parts_of(plan_of(**overrides))[0]
        return shape_of(dataclasses.replace(part, config=part.config.replace(device="cuda")))
    assert on_cuda(eval_every=5) != on_cuda() == on_cuda(iterations=500, lr=0.1)

    def triton_on_cpu(**overrides):  # the kernel through Triton's interpreter launches the same way
        part = parts_of(plan_of(**overrides))[0]
        return shape_of(dataclasses.replace(part, config=part.config.replace(kernel="triton")))
    assert triton_on_cpu(eval_every=5) != triton_on_cpu()


def test_on_a_gpu_the_pool_is_sampled_at_once_after_one_member(monkeypatch):
    """Its members run side by side: the CPU's rule (cost in proportion to the members) samples
    a few where one member's sample took a tenth of the share."""
    sizes = []

    def measure(part, members, eval_samples, steps, read_back=False, launch=None):
        sizes.append(len(members))
        return Sample(len(members), eval_samples, 0.0, 0.0, (1e-2,) * 3, 0.0, 0.09, "autograd", 1), []
    monkeypatch.setattr(calibration, "measure", measure)
    part = parts_of(plan_of(seeds=8))[0]  # 144 members
    for device, expected in (("cpu", [1, 1, 6, 1, 5]), ("cuda", [1, 1, 144, 1, 144])):  # steps, then evaluations
        sizes.clear()
        on = dataclasses.replace(part, config=part.config.replace(device=device))
        calibration.sample_steps(on, on.members, 1.0, warm_read_back=False)
        calibration.sample_evaluations(on, on.members, 1.0)
        assert sizes == expected, device


def test_a_step_kernels_steps_are_timed_in_launches_as_long_as_the_runs(monkeypatch):
    """Where the warm-up's steps came in one launch (the Triton trainer), every sample of steps
    takes LAUNCHES launches of the run's eval_every steps; else SAMPLE_STEPS steps one by one."""
    for launched, expected in ((3, (calibration.LAUNCHES * 10, 10)), (1, (calibration.SAMPLE_STEPS, None))):
        calls = []

        def measure(part, members, eval_samples, steps, read_back=False, launch=None):
            calls.append((steps, launch))
            return Sample(len(members), eval_samples, 0.0, 0.0, (1e-3,) * 3, 0.0, 0.0, "triton", launched), []
        monkeypatch.setattr(calibration, "measure", measure)
        part = parts_of(plan_of(seeds=8))[0]  # 144 members, iterations 20, eval_every 10
        calibration.sample_steps(part, part.members, 100.0, warm_read_back=False)
        assert calls[0] == (3, None) and len(calls) > 2 and calls[1] == expected
        assert all(launch == expected[1] for _, launch in calls[1:])
        assert launched == 1 or set(calls[1:]) == {expected}  # steps one by one: the largest sample's as time allows


def test_a_launch_too_slow_for_the_budget_is_shortened(monkeypatch):
    """Steps of a second each (Triton's interpreter) in a 100 s budget: launches of 100 / (4 · LAUNCHES)
    steps, not the run's 1000."""
    calls = []

    def measure(part, members, eval_samples, steps, read_back=False, launch=None):
        calls.append(launch)
        return Sample(len(members), eval_samples, 0.0, 0.0, (1.0,) * 3, 0.0, 0.0, "triton", 3), []
    monkeypatch.setattr(calibration, "measure", measure)
    part = parts_of(plan_of(seeds=1))[0]
    part = dataclasses.replace(part, config=part.config.replace(iterations=5000, eval_every=1000))
    calibration.sample_steps(part, part.members, 100.0, warm_read_back=False)
    assert calls[1] == int(100.0 / (4 * calibration.LAUNCHES)) < 1000


def test_parts_of_one_shape_are_calibrated_once(tmp_path, monkeypatch):
    """Two shares of one population (two workers) and the baselines of two targets: two shapes."""
    measured = []
    real = calibration.sample_steps
    monkeypatch.setattr(calibration, "sample_steps", lambda part, *a, **k: measured.append(part.model) or real(part, *a, **k))
    e = estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=2)
    assert sorted(measured) == ["mlp-relu6", "nau"] and (e.measured, e.cached) == (2, 0)
    assert [len(p.shares) for p in e.populations] == [2] and [p.label for p in e.baselines] == ["baselines add",
                                                                                              "baselines sub"]
    assert e.populations[0].shares[0] == e.populations[0].shares[1]  # 9 members each, the same shape


def test_a_second_estimate_on_this_machine_trains_nothing(tmp_path, monkeypatch):
    trainings = Trainings(monkeypatch)
    first = estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1)
    assert trainings.calls > 0 and first.measured == 2
    trainings.calls = 0
    again = estimate.estimate(plan_of(iterations=5000, eval_every=500), tmp_path / "none.sqlite", workers=1)
    assert trainings.calls == 0 and (again.measured, again.cached) == (0, 2)
    assert again.cached_since is not None
    assert again.populations[0].seconds.likely > first.populations[0].seconds.likely  # 250 times the steps


def test_larger_populations_than_calibrated_are_measured_again(tmp_path, monkeypatch):
    estimate.estimate(plan_of(targets=("add",)), tmp_path / "none.sqlite", workers=1)
    trainings = Trainings(monkeypatch)
    e = estimate.estimate(plan_of(targets=("add", "sub")), tmp_path / "none.sqlite", workers=1)
    assert trainings.calls > 0 and (e.measured, e.cached) == (1, 1)  # the NAUs; a target's baselines as before


def test_a_changed_key_or_the_variable_measures_again(tmp_path, monkeypatch):
    env = calibration.environment()
    folder = tmp_path / "cache"
    estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1, cache=CalibrationCache(folder, env))
    trainings = Trainings(monkeypatch)
    estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1, cache=CalibrationCache(folder, env))
    assert trainings.calls == 0
    for changed in ({**env, "torch": "0.0"}, {**env, "source": "another"}, {**env, "cpu": "another"}):
        e = estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1, cache=CalibrationCache(folder, changed))
        assert trainings.calls > 0 and e.measured == 2
        trainings.calls = 0
    monkeypatch.setenv("NALM_RECALIBRATE", "1")
    e = estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1, cache=CalibrationCache(folder, env))
    assert trainings.calls > 0 and e.measured == 2


@pytest.mark.parametrize("damage", ["{not json", '{"shapes": 3}', '{"shapes": {"x": {"samples": 1}}}', ""])
def test_a_damaged_cache_is_ignored_and_replaced(tmp_path, damage):
    cache = CalibrationCache()
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_text(damage)
    e = estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1)
    assert e.measured == 2 and e.core_seconds.likely > 0
    shapes = {shape: entry for shape, entry in json.loads(cache.path.read_text())["shapes"].items() if shape != "x"}
    assert len(shapes) == 2
    nau = shape_of(parts_of(plan_of())[0])
    shapes[nau]["samples"][0]["steps"] = "x"  # one entry damaged: it alone is measured again
    cache.path.write_text(json.dumps({"shapes": shapes}))
    assert estimate.estimate(plan_of(), tmp_path / "none.sqlite", workers=1).measured == 1


def test_the_cache_lives_in_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NALM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert calibration.CalibrationCache(env={}).path.parent == tmp_path / "xdg" / "nalm"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert calibration.CalibrationCache(env={}).path.parent == tmp_path / "home" / ".cache" / "nalm"


def test_a_sample_separates_setup_evaluations_and_steps(monkeypatch):
    """With a clock that charges 0.5 s to build, 0.25 s per evaluation and 2 ms per step (every
    other step 4 ms), a sample recovers each."""
    now = [0.0]
    monkeypatch.setattr(calibration, "time", SimpleNamespace(perf_counter=lambda: now[0]))

    def train(population, on_step, on_evaluated):
        for step in range(10):
            if step == 0:
                now[0] += 0.25
                on_evaluated(0)
            now[0] += 0.004 if step % 2 == 0 else 0.002
            on_step(1)
        now[0] += 0.25
        on_evaluated(10)
        return []

    def population(part):
        now[0] += 0.5
        return SimpleNamespace(kernel="autograd")
    monkeypatch.setattr(calibration, "train", train)
    part = parts_of(plan_of())[0]
    part.workload = SimpleNamespace(population=population)
    sample, _ = calibration.measure(part, part.members[:2], 16, 10)
    assert (sample.members, sample.eval_samples) == (2, 16)
    # the first step's 2 ms more than the median step count as setup
    assert sample.setup == pytest.approx(0.502) and sample.evaluation == pytest.approx(0.25)
    assert sample.steps == pytest.approx((0.002, 0.026 / 9, 0.004))  # 25th percentile, mean, 75th of steps 1 to 9


def samples(step_per_member=0.001, fixed=0.01):
    """Samples of 1, 10 and 100 members whose steps cost ``fixed`` plus ``step_per_member`` each,
    the quartiles 10% either side; evaluations on full sets (1,000 samples) for 1 and 10."""
    def step(m):
        cost = fixed + step_per_member * m
        return 0.9 * cost, cost, 1.1 * cost
    steps = [Sample(m, 16, 0.0, 0.0, step(m), 0.02 if m == 1 else float("nan"), 0.0) for m in (1, 10, 100)]
    evals = [Sample(m, 1000, 0.1 + 0.01 * m, 0.05 * m, step(m), float("nan"), 0.0) for m in (1, 10)]
    return Calibration(tuple(steps + evals), 1000, 0.0, 100)


def test_costs_between_samples_follow_the_line_and_beyond_it_widen():
    inside = scaled([(1, 1.0, 1.0, 1.0), (10, 2.0, 2.0, 2.0)], 4)
    assert inside == Span(pytest.approx(4 / 3), pytest.approx(4 / 3), pytest.approx(4 / 3))
    beyond = scaled([(1, 1.0, 1.0, 1.0), (10, 2.0, 2.0, 2.0)], 100)
    assert beyond.likely == pytest.approx(2.0 + 90 / 9) and beyond.high == pytest.approx(20.0)
    assert beyond.low == pytest.approx(12.0)
    c = samples()
    cost = c.cost(50, iterations=1000, evaluations=11)
    # setup 0.1 + 0.01·50, 11 evaluations of 0.05·50, 1000 steps of 0.01 + 0.001·50, 50 read-backs of 0.02
    assert cost.likely == pytest.approx(0.6 + 11 * 2.5 + 1000 * 0.06 + 50 * 0.02)
    assert cost.low < cost.likely < cost.high
    far = c.cost(1000, iterations=1000, evaluations=11)
    assert far.likely == pytest.approx(0.1 + 0.01 * 1000 + 11 * 50 + 1000 * 1.01 + 1000 * 0.02)
    assert far.high >= 1000 * 1.1 * 0.11 * 10  # the step of 100 members grown in proportion, at its 75th percentile
