"""mistry2022-division's 1/a near zero (bmistry4/nalm-division@61fa973
lfs_batch_jobs/single_layer_task/neurips_2021/divBy0.sh, the "easy" and "medium" tasks): the
settings, their thresholds, the published exact-solution errors beside ours, a tiny run."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nalm.experiments import EXPERIMENTS
from nalm.experiments.mistry2022_division import GOLD_RECIPROCAL_MSE, GOLD_TEST_MSE, PUBLISHED, RECIPROCAL
from nalm.philox import Draws
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import prepare
from nalm.scoring.thresholds import MistryDivision
from nalm.tasks import PrefixTask, StaticTask, presets
from nalm.tasks.targets import TARGETS

NAME = "mistry2022-division"
DIVISION = EXPERIMENTS[NAME]
RANGES = ("[0,1e-4]", "[0,1e-3]", "[0,1e-2]", "[0,1e-1]", "[0,1]")


def test_the_reciprocal_settings_come_after_every_earlier_one():
    labels = DIVISION.workload.task_labels
    assert RECIPROCAL == tuple(range(25, 35))  # appended: the earlier settings keep their indices and run keys
    assert labels[25:35] == tuple(f"1/a of [a] U{r}" for r in RANGES) + tuple(f"1/a of [a, b] U{r}" for r in RANGES)
    assert DIVISION.workload.task_indices("div") == tuple(range(25)) + tuple(range(35, 45))


def test_paper_scale_plans_the_scripts_reciprocal_runs():
    # divBy0.sh:26-104: --operation reciprocal on [a] (--input-size 1 --subset-ratio 1 --num-subsets 1) and on
    # [a, b] (the defaults), each range for training and testing, 25 seeds; the medium runs 50,000 steps with NRU
    # and NMRU ramps 20k -> 35k, the RealNPU's L1 β 1e-9 -> 1e-7 and its modified one's ramp 40k -> 50k.
    plan = prepare(DIVISION.at_paper_scale(), targets=["reciprocal"])
    assert len(plan.runs) == 10 * 4 * 25 and {run.target for run in plan.runs} == {"reciprocal"}
    for run in plan.runs:
        task, c = run.task, run.config
        r = RANGES[(run.task_index - 25) % 5]
        assert str(task.interpolation) == str(task.extrapolation) == str(presets.Range.parse(r))
        if run.task_index < 30:
            assert isinstance(task, PrefixTask) and task.layout(run.seed).tolist() == [[1.0, 1.0]]
        else:
            assert isinstance(task, StaticTask) and task.layout(run.seed).tolist() == [[1.0, 0.0], [0.0, 1.0]]
        assert c.iterations == 50_000
        options = c.unit_options[run.model]
        if "npu" in run.model:
            assert (options["beta_start"], options["beta_end"], options["beta_step"]) == (1e-9, 1e-7, 10_000)
        expected = {"nru": (20_000, 35_000), "nmru": (20_000, 35_000), "real-npu-modified": (40_000, 50_000)}
        if run.model in expected:
            assert (options["regularizer_start"], options["regularizer_end"]) == expected[run.model]


def test_the_target_is_one_over_the_first_input():
    easy, medium = (DIVISION.workload.tasks[i] for i in (25, 30))
    for task in (easy, medium):
        x = task.sample(1000, Draws(seed=2, stream=1), extrapolation=True)
        a, b = (x @ task.layout(2)).T
        assert np.array_equal(a, x[:, 0]) and 0.0 <= x.min() and x.max() <= 1e-4
        assert np.allclose(TARGETS["reciprocal"](a, b), 1.0 / x[:, 0])


def test_published_numbers_are_the_easy_and_medium_rows_of_the_csv():
    # divBy0_test_errors.csv: "NRU,easy,0.0008672652184031904,U[0,1e-4)", "NMRU,easy,4.185171565040946e-05,U[0,1e-3)",
    # "RealNPU,easy,490999.34375,U[0,1e-2)", "RealNPU,medium,132.18569946289062,U[0,1e-1)",
    # "NMRU,medium,3.365111661546294e-11,U[0,1e+0)", "NRU,medium,9.148862773145083e-06,U[0,1e-3)".
    assert GOLD_RECIPROCAL_MSE["easy"]["NRU"]["[0,1e-4]"] == 0.0008672652184031904
    assert GOLD_RECIPROCAL_MSE["easy"]["NMRU"]["[0,1e-3]"] == 4.185171565040946e-05
    assert GOLD_RECIPROCAL_MSE["easy"]["RealNPU"]["[0,1e-2]"] == 490999.34375
    assert GOLD_RECIPROCAL_MSE["medium"]["RealNPU"]["[0,1e-1]"] == 132.18569946289062
    assert GOLD_RECIPROCAL_MSE["medium"]["NMRU"]["[0,1]"] == 3.365111661546294e-11
    assert GOLD_RECIPROCAL_MSE["medium"]["NRU"]["[0,1e-3]"] == 9.148862773145083e-06
    tables = PUBLISHED[5:]
    assert [p.task for p in tables] == list(RECIPROCAL) and len(PUBLISHED) == 15
    labels = DIVISION.workload.task_labels
    for published in tables:
        kind = "easy" if "[a]" in labels[published.task] else "medium"
        r = labels[published.task].split(" U")[1]
        assert r in published.source and f"'{kind}' rows" in published.source
        assert published.values["RealNPU"] == published.values["RealNPU, baseline"] == \
            {"reciprocal": GOLD_RECIPROCAL_MSE[kind]["RealNPU"][r]}
        assert published.values["NRU"] == {"reciprocal": GOLD_RECIPROCAL_MSE[kind]["NRU"][r]}
        assert published.protocol["iterations"] == (5_000 if kind == "easy" else 50_000)
    assert GOLD_TEST_MSE["NRU"]["[0,1]"] == 2.155594799879701e-11  # the hard rows stay as they were


def test_reciprocal_threshold_is_the_references_bound_of_each_range():
    # exp_setups.csv: "op-reciprocal","zero.range.easy",...,0,1e-04,...,0.0008673844276927412 and
    # "op-reciprocal","zero.range.medium",...,0,1,...,1.1924292664389213e-07.
    workload, eps = DIVISION.workload, float(np.finfo(np.float32).eps)
    assert workload.threshold(25, "reciprocal") == 0.0008673844276927412
    assert workload.threshold(34, "reciprocal") == 1.1924292664389213e-07
    for i in RECIPROCAL:  # the NRU's exact error plus the float32 epsilon
        kind = "easy" if i < 30 else "medium"
        gold = GOLD_RECIPROCAL_MSE[kind]["NRU"][RANGES[(i - 25) % 5]]
        assert workload.threshold(i, "reciprocal") == pytest.approx(gold + eps, rel=2e-4)
    rule = MistryDivision()
    with pytest.raises(ValueError, match="1/a on U\\[0, r\\]"):
        rule.threshold(presets.mistry2022("[1,2]", "[2,6]"), "reciprocal")
    with pytest.raises(ValueError, match="1/a on U\\[0, r\\]"):
        rule.threshold(StaticTask(10, 0.1, 0.0, "first", [0, 1e-4], [0, 1e-4]), "reciprocal")
    assert rule.to_dict() == {"rule": "mistry-division", "eps": 1e-5, "zero": 2.0 ** -23}  # stored configs unchanged


def test_a_tiny_reciprocal_run_reports_ours_beside_the_exact_solutions_errors(tmp_path):
    workload, keep = DIVISION.workload, (25, 30)
    workload = dataclasses.replace(workload, tasks=tuple(workload.tasks[i] for i in keep), baseline_models=1,
                                   task_labels=tuple(workload.task_labels[i] for i in keep), target_tasks={},
                                   axis=dataclasses.replace(workload.axis, values=tuple(workload.axis.values[i] for i in keep)))
    published = tuple(dataclasses.replace(p, task=keep.index(p.task)) for p in PUBLISHED if p.task in keep)
    experiment = dataclasses.replace(DIVISION, workload=workload, published=published, targets=("reciprocal",))
    tiny = {"iterations": 4, "eval_every": 2, "eval_samples": 16, "batch_size": 8}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["nru"], seeds=1, overrides=tiny)
        runs = store.runs(NAME)
    assert sorted((run.config["task_index"], run.target) for run in runs) == [(0, "reciprocal"), (1, "reciprocal")]
    assert {run.config["task_index"]: run.metrics["threshold"] for run in runs} == \
        {0: 0.0008673844276927412, 1: 0.0008080074330791831}
    report = experiment.render(experiment.summarize(runs))
    section = report.split("## Beside the published numbers: Mistry et al. 2021, division by values near zero, "
                           "1/a of [a] on U[0,1e-4]")[1].split("\n## ")[0]
    assert "| NRU (`nru`) | " in section and " / 8.67e-04 |" in section and " / 1.15e+12 |" in section
    assert "iterations: ours 4, published 5000" in section
