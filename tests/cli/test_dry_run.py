"""``nalm run --dry-run``: the work a command implies and its measured cost, with nothing stored."""
from __future__ import annotations

import pytest

from types import SimpleNamespace

from nalm.experiments import EXPERIMENTS
from nalm.runner import estimate
from nalm.runner.estimate import PopulationEstimate


def test_dry_run_counts_the_work_trains_nothing_and_creates_no_store(tmp_path, run_nalm, blog_argv):
    results = tmp_path / "r.sqlite"
    code, out, err = run_nalm(blog_argv(results, "--dry-run"))
    assert code == 0, err
    lines = out.splitlines()
    # nac and mlp-relu6 on add and sub, 2 seeds, 50 iterations: one population per model
    assert lines[0] == "blog-static: 2 populations, 8 runs to train (0 stored already), 400 model-steps"
    assert any(line.startswith("  nac: 4 members × 50 steps, 3 evaluations;") for line in lines)
    assert lines[-2].startswith("estimated: ") and lines[-1] == "nothing was trained or stored"
    assert not results.exists()


def test_dry_run_leaves_out_what_the_store_holds(tmp_path, run_nalm, blog_argv):
    results = tmp_path / "r.sqlite"
    assert run_nalm(blog_argv(results, seeds=1))[0] == 0
    before = results.read_bytes()
    code, out, _ = run_nalm(blog_argv(results, "--dry-run"))
    assert code == 0
    assert out.splitlines()[0] == "blog-static: 2 populations, 4 runs to train (4 stored already), 200 model-steps"
    assert results.read_bytes() == before


def test_calibration_separates_steps_evaluations_and_setup(monkeypatch):
    """With a clock that charges 0.5 s of setup, 0.25 s per evaluation and 2 ms per step of the
    sample, the estimate recovers each and scales them to the population."""
    def fake_timed(training, config):
        evaluations = 1 if config.iterations == 0 else 2
        return 0.5 + 0.25 * evaluations + 0.002 * config.iterations, []

    monkeypatch.setattr(estimate, "timed", fake_timed)

    class Run:  # the fields calibrate reads
        def __init__(self, seed):
            from nalm.tasks import StaticTask
            from nalm.train import Member, TrainConfig
            self.config, self.model, self.label = TrainConfig(iterations=10_000, eval_every=1000, hidden=None), "nau", "nau"
            self.member = Member(seed, "add", StaticTask())
            self.key = SimpleNamespace(config_hash=f"run {seed}")

    runs = [Run(seed) for seed in range(2 * estimate.CALIBRATION_MEMBERS)]  # twice the sample
    plan = SimpleNamespace(experiment=EXPERIMENTS["madsen2020-static"], data_path=None)  # what calibrate reads of a plan
    p = estimate.calibrate(plan, runs)
    assert (p.members, p.iterations, p.evaluations) == (200, 10_000, 11)
    assert p.step_seconds == pytest.approx(2 * 0.002) and p.evaluation_seconds == pytest.approx(2 * 0.25)
    assert p.setup_seconds == pytest.approx(2 * 0.5) and p.formula_seconds == 0.0  # no untrained results
    assert p.seconds == pytest.approx(1.0 + 11 * 0.5 + 10_000 * 0.004)


def test_an_estimate_adds_populations_and_baselines():
    p = PopulationEstimate("nau", 10, 100, 2, 0.01, 0.5, 1.0, 0.2)
    e = estimate.Estimate("x", 3, [p, p], 4.0, 2)
    assert (e.members, e.model_steps) == (20, 2000)
    assert e.core_seconds == pytest.approx(2 * (1.0 + 2 * 0.5 + 100 * 0.01 + 0.2) + 4.0)
