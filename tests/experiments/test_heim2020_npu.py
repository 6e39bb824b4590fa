"""heim2020-npu: Heim et al.'s simple arithmetic task (nmheim/NeuralPowerUnits scripts/simple/)."""
import dataclasses

import numpy as np
import pytest
import torch

from nalm.experiments import EXPERIMENTS
from nalm.experiments.heim2020_npu import PUBLISHED, STANDARD_ERRORS
from nalm.experiments.protocol import protocol_card
from nalm.experiments.registry import get_experiment
from nalm.philox import Draws
from nalm.runner.plan import prepare
from nalm.streams import TRAIN
from nalm.tasks.targets import TARGETS
from nalm.units.npu import NPU, RealNPU

HEIM = EXPERIMENTS["heim2020-npu"]


def quick(experiment):
    """The experiment with its thresholds simulated on 8 samples (the plan computes every one)."""
    workload = experiment.workload
    return dataclasses.replace(experiment, workload=dataclasses.replace(
        workload, threshold_rule=dataclasses.replace(workload.threshold_rule, samples=8)))


def test_the_experiment_resolves_and_its_card_names_every_source():
    assert get_experiment("heim2020-npu") is HEIM
    card = protocol_card(HEIM)
    assert card.missing_sources() == []
    rows = {s.name: s.value for s in card.settings}
    assert "optimizer rmsprop" in rows["model nalu"] and "lr 0.001" in rows["model inalu"]
    assert "beta_start=0.0, beta_end=0.0" in rows["model npu/nau"]


def test_paper_scale_plans_the_papers_runs():
    """run.jl: 20 runs of 20,000 steps for six models; one run per target here (see the deviations)."""
    plan = prepare(quick(HEIM).at_paper_scale())
    assert len(plan.runs) == 6 * 4 * 20
    assert {run.seed for run in plan.runs} == set(range(20))
    for run in plan.runs:
        config = run.config
        assert (config.iterations, config.batch_size) == (20_000, 100)
        assert run.task_index == (1 if run.target == "sqrt" else 0)
        expected = {"nalu": ("rmsprop", 5e-3), "inalu": ("rmsprop", 1e-3)}.get(run.model, ("adam", 5e-3))
        assert (config.optimizer, config.lr) == expected
        assert config.hidden == ([50, 50] if run.model == "mlp-sigmoid" else 6)


def test_a_drawn_batch_is_the_references_data():
    """dataset.jl:15 draws x, y from 2·U[0, 1) + 0.1; run.jl:50-63 tests on -4.1:0.2:4 (no point
    within 0.1 of zero) and, for √x, on 0.1:0.1:4."""
    tasks = {target: HEIM.workload.tasks_for(target) for target in HEIM.targets}
    assert [i for i, _ in tasks["sqrt"]] == [1] and all([i for i, _ in tasks[t]] == [0] for t in ("add", "mul", "div"))
    task = tasks["div"][0][1]
    x = task.sample(10_000, Draws(seed=3, stream=TRAIN))
    assert x.shape == (10_000, 2) and x.min() >= 0.1 and x.max() <= 2.1 and x.max() > 2.0 and x.min() < 0.15
    assert [list(s) for s in task.subsets(seed=3)] == [[0], [1]]  # a = x, b = y
    a, b = x[:, 0], x[:, 1]
    assert np.allclose(TARGETS["div"](a, b), x[:, 0] / x[:, 1]) and np.allclose(TARGETS["sqrt"](a, b), np.sqrt(x[:, 0]))
    test = task.sample(10_000, Draws(seed=3, stream=TRAIN), extrapolation=True)
    assert test.min() >= -4.1 and test.max() <= 3.9 and np.abs(test).min() >= 0.1 and (test < 0).mean() > 0.45
    root = tasks["sqrt"][0][1].sample(10_000, Draws(seed=3, stream=TRAIN), extrapolation=True)
    assert root.min() >= 0.1 and root.max() <= 4.0


def test_published_numbers_are_table_a2s():
    """plots/simple_err_table.tex, as printed."""
    values = PUBLISHED.values
    assert (values["RealNPU"]["div"], values["NMU"]["mul"], values["Dense"]["div"], values["NPU"]["sqrt"]) == \
        (0.085, 0.005, 14.16, 0.031)
    assert (values["iNALU"]["mul"], values["NALU"]["add"]) == (3.453, 2.69)
    assert (STANDARD_ERRORS["NALU"]["add"], STANDARD_ERRORS["RealNPU"]["sqrt"]) == (0.22, 0.001)
    assert set(PUBLISHED.models.values()) == set(HEIM.models) and PUBLISHED.metric == "extrapolation_mae"


def test_an_npu_without_l1_penalty_builds():
    """run.jl:166, 171: βl1 = 0."""
    for unit in (NPU(2, 6, beta_start=0.0, beta_end=0.0), RealNPU(2, 6, beta_start=0.0, beta_end=0.0)):
        assert unit.regularization(10**6).item() == 0.0
    assert RealNPU(2, 1, beta_start=1e-9, beta_end=1e-7).beta_at(20_000) == 1e-7
    assert torch.isfinite(RealNPU(2, 1, beta_start=0.0, beta_end=0.0)(torch.ones(3, 2))).all()
    with pytest.raises(ValueError, match="beta_start 0 .* needs beta_end 0"):  # 0 never grows to beta_end
        RealNPU(2, 1, beta_start=0.0, beta_end=1e-5)
