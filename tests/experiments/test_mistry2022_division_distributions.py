"""mistry2022-division's input distributions (bmistry4/nalm-division@61fa973
lfs_batch_jobs/single_layer_task/neurips_2021/sltr-distributions-in2.sh:17-19, its first four settings):
the plan against the script, the thresholds of exp_distributions_setups.csv, a tiny run."""
from __future__ import annotations

import dataclasses

from nalm.experiments import EXPERIMENTS
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import prepare
from nalm.scoring.thresholds import MistryReference
from nalm.tasks import BoundedDistributionTask, presets

NAME = "mistry2022-division"
DIVISION = EXPERIMENTS[NAME]
SETTINGS = {  # index: (distribution, interpolation, extrapolation, (in mean, in std, ex mean, ex std))
    35: ("benford", "[10,100]", "[100,1000]", None),
    36: ("truncated-normal", "[-5,10]", "[-15,-5]", (-1.0, 3.0, -10.0, 3.0)),
    37: ("truncated-normal", "[-10,5]", "[5,15]", (1.0, 3.0, 10.0, 3.0)),
    38: ("truncated-normal", "[-5,5]", "[5,15]", (0.0, 1.0, 10.0, 1.0)),
}


def test_paper_scale_plans_the_scripts_distribution_runs():
    # --operation div, two inputs, 50,000 steps, 25 seeds; the modified RealNPU lr 5e-3, β 1e-9 -> 1e-7, ramp 40k -> 50k.
    plan = prepare(DIVISION.at_paper_scale(), targets=["div"])
    runs = [run for run in plan.runs if run.task_index in SETTINGS]
    assert len(runs) == 4 * 4 * 25 and {run.seed for run in runs} == set(range(25))
    for run in runs:
        name, interpolation, extrapolation, normal = SETTINGS[run.task_index]
        task = run.task
        assert isinstance(task, BoundedDistributionTask) and task.distribution == name
        assert (str(task.interpolation), str(task.extrapolation)) == (str(presets.Range.parse(interpolation)),
                                                                      str(presets.Range.parse(extrapolation)))
        assert (task.interpolation_mean, task.interpolation_std, task.extrapolation_mean,
                task.extrapolation_std) == (normal or (None,) * 4)
        assert run.config.iterations == 50_000 and run.target == "div"
        if run.model == "real-npu-modified":
            options = run.config.unit_options[run.model]
            assert (run.config.lr, options["beta_start"], options["beta_end"], options["regularizer_start"],
                    options["regularizer_end"]) == (5e-3, 1e-9, 1e-7, 40_000, 50_000)
    assert DIVISION.workload.task_labels[36] == "N(-1, 3²) on [-5,10] -> N(-10, 3²) on [-15,-5]"


def test_thresholds_are_the_uniform_extrapolation_ranges():
    # exp_distributions_setups.csv: op-div U[100,1000], U[-15,-5], U[5,15], epsilon 1e-5, the single-module rule.
    for index, (_, _, extrapolation, _) in SETTINGS.items():
        uniform = presets.mistry2022("[1,2]", extrapolation)
        assert DIVISION.workload.threshold(index, "div") == MistryReference().threshold(uniform, "div")


def test_a_tiny_run_on_benford_and_a_truncated_normal(tmp_path):
    workload, keep = DIVISION.workload, (35, 38)
    workload = dataclasses.replace(workload, tasks=tuple(workload.tasks[i] for i in keep), baseline_models=1,
                                   task_labels=tuple(workload.task_labels[i] for i in keep), target_tasks={},
                                   axis=dataclasses.replace(workload.axis, values=tuple(workload.axis.values[i] for i in keep)))
    experiment = dataclasses.replace(DIVISION, workload=workload, published=(), targets=("div",))
    tiny = {"iterations": 4, "eval_every": 2, "eval_samples": 16, "batch_size": 8}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["nru"], seeds=1, overrides=tiny)
        runs = store.runs(NAME)
    assert sorted(run.config["task"]["kind"] for run in runs) == ["BoundedDistributionTask"] * 2
    assert {run.config["task_index"]: run.config["task"]["distribution"] for run in runs} == \
        {0: "benford", 1: "truncated-normal"}
    report = experiment.render(experiment.summarize(runs))
    assert "benford [10,100] -> [100,1000]" in report and "N(0, 1²) on [-5,5] -> N(10, 1²) on [5,15]" in report


def test_paper_scale_plans_the_ten_input_distribution_runs():
    # sltr-distributions-in10.sh: the same six settings with --input-size 10 --subset-ratio 0.1 --overlap-ratio 0,
    # 100,000 steps, the ramp 50,000 -> 75,000.
    plan = prepare(DIVISION.at_paper_scale(), targets=["div"], models=["real-npu-modified"])
    runs = [run for run in plan.runs if run.task_index >= 39]
    assert len(runs) == 6 * 25
    labels = DIVISION.workload.task_labels
    assert labels[39:] == tuple(f"in-10 {labels[i]}" for i in SETTINGS) + (
        "in-10 wide [-50,50] -> [-100,-50]U[50,100]", "in-10 wide [-100,100] -> [-200,-100]U[100,200]")
    for run in runs:
        task, options = run.task, run.config.unit_options["real-npu-modified"]
        assert task.in_features == 10 and run.config.iterations == 100_000
        assert (options["regularizer_start"], options["regularizer_end"]) == (50_000, 75_000)
        layout = task.layout(run.seed)
        assert layout.sum(axis=0).tolist() == [1.0, 1.0] and layout.sum(axis=1).max() == 1.0
        if run.task_index < 43:
            name, interpolation, extrapolation, normal = SETTINGS[run.task_index - 4]
            assert isinstance(task, BoundedDistributionTask) and task.distribution == name
            assert task.extrapolation_mean == (normal[2] if normal else None)
            assert DIVISION.workload.threshold(run.task_index, "div") == DIVISION.workload.threshold(run.task_index - 4, "div")
    offsets = {int(DIVISION.workload.tasks[39].layout(seed)[:, 0].argmax()) for seed in range(25)}
    assert len(offsets) > 3  # a and b sit at an offset drawn per seed
