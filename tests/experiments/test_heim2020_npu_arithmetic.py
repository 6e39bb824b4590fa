"""heim2020-npu-arithmetic: Heim et al.'s 100-input arithmetic task (nmheim/NeuralPowerUnits scripts/arithmetic/)."""
import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import nalm
from nalm.experiments import EXPERIMENTS
from nalm.experiments.heim2020_npu_arithmetic import MEDIAN_ABSOLUTE_DEVIATIONS, PUBLISHED
from nalm.experiments.protocol import protocol_card, render_card
from nalm.philox import Draws
from nalm.report.markdown import comparable_cells, published_section
from nalm.report.summary import task_key
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import prepare
from nalm.streams import EXTRAPOLATION, TRAIN
from nalm.tasks import SobolTask, task_from_dict, task_to_dict
from nalm.tasks.sobol import sobol_points
from nalm.tasks.targets import TARGETS

NAME = "heim2020-npu-arithmetic"
HEIM = EXPERIMENTS[NAME]


def quick(experiment):
    """The experiment with its thresholds simulated on 8 samples (the plan computes every one)."""
    workload = experiment.workload
    return dataclasses.replace(experiment, workload=dataclasses.replace(
        workload, threshold_rule=dataclasses.replace(workload.threshold_rule, samples=8)))


def test_listed_and_every_setting_of_its_card_has_a_source():
    assert NAME in nalm.experiments.registry.EXPERIMENTS
    card = protocol_card(HEIM)
    assert card.missing_sources() == []
    rows = {s.name: s.value for s in card.settings}
    assert "init='small-uniform', gate_init=1.0" in rows["model nau/npu"]
    for model in HEIM.models:  # every init is U[0, 0.1): no unit's default init beside it
        assert " with init " not in rows[f"model {model}"], model
    assert "with init W_re Glorot uniform, W_im = 0, g = 0.5" in render_card(protocol_card(EXPERIMENTS["heim2020-npu"]))
    assert "NaiveNPU" in rows["model nau/naive-npu"] and "gate_init" not in rows["model nau/naive-npu"]


def test_paper_scale_plans_the_scripts_runs():
    """sobolconfigs.jl: 1e5 steps of 128, RMSprop lr 1e-2 on + and 5e-3 otherwise, L1 β ×10 every
    10,000 steps from a start per target; the NMU 1e4 steps on + and 2e4 on × (*_l1_runs.jl:59-60)."""
    plan = prepare(quick(HEIM).at_paper_scale())
    assert len(plan.runs) == 5 * 4 * 10
    assert {run.seed for run in plan.runs} == set(range(10))
    betas = {"add": (1e-5, 1e-4), "mul": (1e-5, 1e-4), "reciprocal": (1e-9, 1e-7), "sqrt": (1e-6, 1e-4)}
    for run in plan.runs:
        config = run.config
        iterations = {("nau/nmu", "add"): 10_000, ("nau/nmu", "mul"): 20_000}.get((run.model, run.target), 100_000)
        assert (config.iterations, config.batch_size, config.hidden) == (iterations, 128, 100)
        assert (config.optimizer, config.lr) == ("rmsprop", 1e-2 if run.target == "add" else 5e-3)
        assert run.task_index == {"add": 0, "mul": 0, "reciprocal": 1, "sqrt": 2}[run.target]
        for unit in ("npu", "real-npu", "naive-npu"):
            if unit in config.unit_options:
                options = config.unit_options[unit]
                assert (options["beta_start"], options["beta_end"]) == betas[run.target]
                assert (options["beta_step"], options["init"], options["penalty"]) == (10_000, "small-uniform", "norm")
        if "npu" in config.unit_options:
            assert config.unit_options["npu"]["gate_init"] == 1.0  # arithmetic_models.jl:83
        units = {"nau/npu": {"nau", "npu"}, "nau/real-npu": {"nau", "real-npu"}, "nalu": {"nalu"},
                 "nau/nmu": {"nau", "nmu"}, "nau/naive-npu": {"nau", "naive-npu"}}[run.model]
        assert set(config.unit_options) == units
        for unit in units:  # every weight U[0, 0.1) (arithmetic_models.jl:37-38, 50-65)
            assert config.unit_options[unit]["init"] == "small-uniform"
        if "nalu" in units:  # src/nalu.jl:18, 24
            assert (config.unit_options["nalu"]["eps"], config.unit_options["nalu"]["gate_bias"]) == (1e-8, True)
        for unit in units & {"nau", "nmu"}:  # no regularizer of their own (src/nau.jl:8-9, src/nmu.jl:9-10)
            assert config.unit_options[unit]["regularizer_scale"] == 0.0


def test_batches_are_the_sobol_sequence_in_order():
    """Sobol.jl's next! gives the sequence from its point 1 on, 128 a step (arithmetic_dataset.jl:49, 65);
    revalidate.jl:22-40 skips one more point and maps u to hi - u·(hi - lo)."""
    task = HEIM.workload.tasks[0]
    engine = torch.quasirandom.SobolEngine(100)
    points = engine.draw(1 + 3 * 128, dtype=torch.float64).numpy()
    step2 = task.sample(128, Draws(seed=4, stream=TRAIN, step=2))
    np.testing.assert_array_equal(step2, -1 + 2 * points[1 + 256:1 + 384])
    np.testing.assert_array_equal(task.sample(128, Draws(seed=0, stream=TRAIN, step=2)), step2)  # every seed alike
    test = task.sample(5, Draws(seed=1, stream=EXTRAPOLATION), extrapolation=True)
    np.testing.assert_array_equal(test, 2 - 4 * points[2:7])
    a, b = task.subsets(seed=1)
    assert (a.tolist(), b.tolist()) == (list(range(50)), list(range(38, 88)))  # 1:50 and 39:88 of Julia
    x = HEIM.workload.tasks[1].sample(128, Draws(seed=0, stream=TRAIN, step=9))
    assert x.min() >= 0 and x.max() <= 0.5
    np.testing.assert_allclose(TARGETS["reciprocal"](x[:, :50].sum(1), None), 1 / x[:, :50].sum(1), rtol=0)
    assert task_from_dict(task_to_dict(task)) == task and isinstance(task_from_dict(task_to_dict(task)), SobolTask)
    with pytest.raises(ValueError, match="one interval"):
        SobolTask(interpolation="[-2,-1]U[1,2]")


def test_published_numbers_are_table_2s():
    """plots/arithmetic100_val.tex, as printed: median ± median absolute deviation."""
    values = PUBLISHED.values
    assert (values["NPU"]["reciprocal"], values["RealNPU"]["sqrt"], values["NALU"]["mul"], values["NMU"]["add"]) == \
        (1.0e-7, 0.017, 2.9e83, 0.00602)
    assert (values["NaiveNPU"]["add"], values["NMU"]["reciprocal"]) == (161.65, 1.622)
    assert (MEDIAN_ABSOLUTE_DEVIATIONS["NPU"]["mul"], MEDIAN_ABSOLUTE_DEVIATIONS["NaiveNPU"]["sqrt"]) == (0.9, 9.3e8)
    assert set(PUBLISHED.models.values()) == set(HEIM.models) and PUBLISHED.metric == "extrapolation_mse"
    # mult_l1_runs.jl trains the NALU at dc3b02a, not since 29fc2f9 (so not at the pinned e1b9a45)
    assert "@dc3b02a scripts/arithmetic/mult_l1_runs.jl:58" in PUBLISHED.source and "29fc2f9" in PUBLISHED.source


def test_the_nmus_shorter_runs_are_compared_with_the_published_table():
    """The NMU's 10,000 steps on + stand beside the table with the NPU's 100,000."""
    task = task_key(task_to_dict(HEIM.workload.tasks[0]))

    def cell(model, target, iterations, lr):
        return SimpleNamespace(setting=SimpleNamespace(task_index=0, task=task, lr=lr), iterations={iterations},
                               model=model, target=target)

    cells = [cell("nau/nmu", "add", 10_000, 1e-2), cell("nau/npu", "add", 100_000, 1e-2),
             cell("nau/npu", "add", 2_000, 1e-2), cell("nau/npu", "mul", 100_000, 5e-3)]
    by_key, iterations = comparable_cells(HEIM, cells, 0)
    assert by_key == {("nau/nmu", "add"): cells[0], ("nau/npu", "add"): cells[1], ("nau/npu", "mul"): cells[3]}
    assert iterations == [10_000, 100_000]


def test_a_tiny_run_trains_and_reports_beside_the_table(tmp_path):
    experiment = quick(HEIM)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["nau/naive-npu"], targets=["reciprocal"], seeds=1,
                       overrides={"iterations": 3, "eval_every": 3, "eval_samples": 32})
        runs = store.runs(NAME)
    (run,) = runs
    assert run.config["task"]["kind"] == "SobolTask" and run.config["train"]["iterations"] == 3
    assert np.isfinite(run.metrics["extrapolation_mse"])
    report = HEIM.render(HEIM.summarize(runs))
    assert "mean squared error of the final model" in report
    assert "| NaiveNPU (`nau/naive-npu`) | " in report and " / 5.40e+17 |" in report


def test_a_paper_scale_run_is_not_said_to_differ_from_the_published_protocol():
    """The NMU's 10,000 and 20,000 steps are the scripts' own (*_l1_runs.jl:59-60), not a difference."""
    def cells(scale):
        return {(model, target): SimpleNamespace(iterations={scale.config_for(model, target).iterations},
                                                 extrapolation_mse=(0.1,), success_rate=0.5)
                for model in HEIM.models for target in HEIM.targets}

    paper = published_section(HEIM, PUBLISHED, cells(HEIM.at_paper_scale()), list(HEIM.targets), [10])
    assert "Our protocol matches the published one in iterations and seeds." in paper
    assert not any("differ" in line for line in paper)
    default = published_section(HEIM, PUBLISHED, cells(HEIM), list(HEIM.targets), [2])
    assert ("The protocols differ, so compare with care: iterations: ours 2000, published 100000; seeds: ours 2, "
            "published 10.") in default  # the NMU's 10,000 and 20,000 steps are the published ones at both scales


def test_every_seeds_batch_of_a_step_comes_from_one_computation_of_its_points():
    """A population's streams all take a step's Sobol points: they are computed once a step, and
    kept read only, so that no stream's mapping can change another's."""
    task = HEIM.workload.tasks[0]
    sobol_points.cache_clear()
    first, second = (task.sample(128, Draws(seed=seed, stream=TRAIN, step=7)) for seed in (0, 1))
    np.testing.assert_array_equal(first, second)
    assert sobol_points.cache_info().misses == 1 and sobol_points.cache_info().hits == 1
    with pytest.raises(ValueError, match="read-only"):
        sobol_points(1 + 7 * 128, 128, 100)[0, 0] = 1.0
