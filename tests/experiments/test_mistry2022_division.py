"""mistry2022-division: the division paper's single-module settings (bmistry4/nalm-division
lfs_batch_jobs/single_layer_task/neurips_2021/), its thresholds, its published exact-solution
errors near zero, and a tiny run end to end."""
from __future__ import annotations

import dataclasses
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
import torch

from nalm.cli.main import main
from nalm.experiments import EXPERIMENTS
from nalm.experiments.mistry2022_division import GOLD_TEST_MSE, PUBLISHED, ZERO_RANGES
from nalm.experiments.protocol import protocol_card
from nalm.explain.verify import positive_ranges
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import prepare
from nalm.scoring.thresholds import MistryDivision, MistryReference
from nalm.philox import Draws
from nalm.tasks import HalvesTask, StaticTask, presets, task_from_dict, task_to_dict
from nalm.train.data import PopulationData
from nalm.train.population import Member

NAME = "mistry2022-division"
DIVISION = EXPERIMENTS[NAME]


def test_listed_and_every_setting_of_its_card_has_a_source():
    card = protocol_card(DIVISION)
    assert card.missing_sources() == []
    rows = {s.name: s for s in card.settings}
    labels = rows["ranges"].value.split("; ")
    assert labels[:5] == [f"÷0 U{r}" for r in ("[0,1e-4]", "[0,1e-3]", "[0,1e-2]", "[0,1e-1]", "[0,1]")]
    assert len(labels) == 45 and labels[23] == "wide [-50,50] -> [-100,-50]U[50,100]"
    assert labels[15] == "mixed in-2 [-2,-0.1] & [0.1,2] -> [-6,-2] & [2,6]" and labels[19].startswith("mixed in-10 [-2,-0.1]")
    assert "divBy0.sh:11" in rows["ranges"].source and "sltr-in10.sh" in rows["ranges"].source


def test_paper_scale_plans_the_scripts_runs():
    # divBy0.sh (hard), sltr-in10.sh, sltr-distributions-in2.sh: 25 seeds; 50,000 steps on two inputs,
    # 100,000 with the ramp at 50,000 -> 75,000 on ten; NRU lr 1, SignNMRU lr 1e-2 clipped to norm 1,
    # RealNPU lr 5e-3 with L1 β 1e-9 -> 1e-7 ×10 every 10,000 steps.
    plan = prepare(DIVISION.at_paper_scale(), targets=["div"])  # 1/a: test_mistry2022_division_zero.py
    assert len(plan.runs) == 35 * 4 * 25  # the distributions: test_mistry2022_division_distributions.py
    assert {run.seed for run in plan.runs} == set(range(25)) and {run.target for run in plan.runs} == {"div"}
    for run in plan.runs:
        c, in10 = run.config, run.task.in_features == 10
        assert (c.iterations, c.batch_size, c.optimizer) == (100_000 if in10 else 50_000, 128, "adam")
        assert (c.lr, c.grad_norm_clip) == {"nru": (1.0, None), "nmru": (1e-2, 1.0), "real-npu": (5e-3, None),
                                            "real-npu-modified": (5e-3, None)}[run.model]
        options = c.unit_options[run.model]
        if "npu" in run.model:
            assert (options["beta_start"], options["beta_end"], options["beta_step"]) == (1e-9, 1e-7, 10_000)
        if run.model == "real-npu-modified":  # divBy0.sh:113-117 (sltr-in10.sh:60: 50,000 -> 75,000)
            ramp = (options["regularizer_start"], options["regularizer_end"])
            assert ramp == ((50_000, 75_000) if in10 else (40_000, 50_000))
        elif run.model != "real-npu":
            ramp = (options["regularizer_start"], options["regularizer_end"], options["regularizer_scale"])
            assert ramp == ((50_000, 75_000, 10.0) if in10 else (20_000, 35_000, 10.0))
    tasks = DIVISION.workload.tasks
    assert [t.interpolation.intervals for t in tasks[:5]] == [((0.0, r),) for r in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
    assert all(t.extrapolation == t.interpolation and t.input_size == 2 for t in tasks[:5])
    assert [(t.interpolation, t.extrapolation) for t in tasks[5:14]] == \
        [(t.interpolation, t.extrapolation) for t in presets.mistry2022_ranges()]
    assert all((t.input_size, t.subset_size, t.overlap_size) == (10, 1, 0) for t in tasks[5:14])


def test_default_scale_regularizes_over_the_same_share_of_a_shorter_run():
    plan = prepare(DIVISION, targets=["div"])
    nmru = {run.task.in_features: run.config for run in plan.runs if run.model == "nmru"}
    assert (nmru[2].iterations, nmru[2].unit_options["nmru"]["regularizer_start"]) == (5_000, 2_000)
    assert (nmru[10].iterations, nmru[10].unit_options["nmru"]["regularizer_end"]) == (10_000, 7_500)


def test_published_numbers_are_the_hard_rows_of_the_csv():
    # export/single_layer_task/divBy0_test_errors.csv: "NRU,hard,...,U[0,1e+0)", "NMRU,hard,...,U[0,1e-3)",
    # "RealNPU,hard,...,U[0,1e-4)", "NMRU,hard,...,U[0,1e-4)".
    assert GOLD_TEST_MSE["NRU"]["[0,1]"] == 2.155594799879701e-11
    assert GOLD_TEST_MSE["NMRU"]["[0,1e-3]"] == 8.955811063060537e-05
    assert GOLD_TEST_MSE["RealNPU"]["[0,1e-4]"] == 2531.3876953125
    assert GOLD_TEST_MSE["NMRU"]["[0,1e-4]"] == 0.032728902995586395
    assert [p.task for p in PUBLISHED[:5]] == [0, 1, 2, 3, 4] and DIVISION.published == PUBLISHED
    for published, r in zip(PUBLISHED[:5], ZERO_RANGES):
        assert published.metric == "best_extrapolation_mse" and r in published.source
        assert published.values["NMRU"] == {"div": GOLD_TEST_MSE["NMRU"][r]}
        assert published.values["RealNPU"] == published.values["RealNPU, baseline"] == {"div": GOLD_TEST_MSE["RealNPU"][r]}
        assert published.models == {"NRU": "nru", "NMRU": "nmru", "RealNPU": "real-npu-modified",
                                    "RealNPU, baseline": "real-npu"}


@pytest.mark.parametrize("index", [15, 16, 18, 19])
def test_mixed_signs_draw_each_half_from_its_range(index):
    # in2-mixed-signs.sh, in10-mixed-signs-iridis.sh: [[-2,-0.1],[0.1,2],[]] -> [[-6,-2],[2,6],[]] and
    # [[1,2],[-2,-1],[]] -> [[2,6],[-6,-2],[]]; _simple_function_abstact.py:204-210 puts the first list in
    # x[:d // 2] and the second in the rest.
    task = DIVISION.workload.tasks[index]
    assert isinstance(task, HalvesTask) and task_from_dict(task_to_dict(task)) == task
    half = task.input_size // 2
    for extrapolation, ranges in ((False, (task.interpolation, task.second_interpolation)),
                                  (True, (task.extrapolation, task.second_extrapolation))):
        x = task.sample(2000, Draws(seed=1, stream=3), extrapolation)
        for part, values in ((x[:, :half], ranges[0]), (x[:, half:], ranges[1])):
            (low, high), = values.intervals
            assert low <= part.min() and part.max() <= high and part.max() - part.min() > 0.9 * (high - low)
    # Training batches too: the compiled kernels map every input to one range, so these tasks are drawn by sample.
    data = PopulationData([Member(1, "div", task)], batch_size=2000, eval_samples=4, device="cpu", dtype=torch.float64)
    x = data.train_batch(0)[0][0].numpy()
    for part, values in ((x[:, :half], task.interpolation), (x[:, half:], task.second_interpolation)):
        (low, high), = values.intervals
        assert low <= part.min() and part.max() <= high and part.max() - part.min() > 0.9 * (high - low)
    signs = {15: (-1, 1), 16: (1, -1), 18: (1, -1), 19: (-1, 1)}[index]
    assert (task.interpolation.intervals[0][0] * signs[0] > 0) and (task.second_extrapolation.intervals[0][1] * signs[1] > 0)
    assert DIVISION.workload.threshold(index, "div") == DIVISION.workload.threshold(9, "div")  # the ±[2, 6] one
    assert not positive_ranges(task)  # a formula read back may not assume positive inputs (x2 < 0 or x1 < 0)


def test_division_threshold_holds_for_redundant_inputs_and_near_zero():
    rule = MistryDivision()
    two = presets.mistry2022("[1,2]", "[2,6]")
    ten = StaticTask(input_size=10, subset_ratio=0.1, overlap_ratio=0.0, interpolation=[1, 2], extrapolation=[2, 6])
    assert rule.threshold(ten, "div") == MistryReference().threshold(two, "div") == rule.threshold(two, "div")
    zero = presets.mistry2022("[0,1e-4]", "[0,1e-4]")
    assert rule.threshold(zero, "div") == 2.0 ** -23  # the NRU's zero.range.hard bound, 1.1921875e-07
    with pytest.raises(ValueError, match="infinite"):
        MistryReference().threshold(zero, "div")
    with pytest.raises(ValueError, match="two different single inputs"):
        rule.threshold(StaticTask(input_size=10, subset_ratio=0.2, overlap_ratio=0.0), "div")
    with pytest.raises(ValueError, match="defined for"):
        rule.threshold(two, "mul")
    with pytest.raises(ValueError, match="positive MSE"):
        MistryDivision(zero=0.0)
    uneven = HalvesTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                        extrapolation=[-6, -2], second_extrapolation=[2, 8])
    with pytest.raises(ValueError, match="one magnitude"):
        rule.threshold(uneven, "div")
    assert rule.to_dict() == {"rule": "mistry-division", "eps": 1e-5, "zero": 2.0 ** -23}


def test_a_tiny_run_reports_ours_beside_the_exact_solutions_errors(tmp_path):
    # Two of the settings (÷0 U[0, 1e-4] and in-10 [1, 2] -> [2, 6]) and the first published table: the
    # formulas read back from every run take most of a run this short.
    workload, keep = DIVISION.workload, (0, 11)
    workload = dataclasses.replace(workload, tasks=tuple(workload.tasks[i] for i in keep), baseline_models=1,
                                   task_labels=tuple(workload.task_labels[i] for i in keep),
                                   axis=dataclasses.replace(workload.axis, values=tuple(workload.axis.values[i] for i in keep)))
    experiment = dataclasses.replace(DIVISION, workload=dataclasses.replace(workload, target_tasks={}),
                                     published=PUBLISHED[:1], targets=("div",))
    tiny = {"iterations": 4, "eval_every": 2, "eval_samples": 16, "batch_size": 8}
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, models=["real-npu"], seeds=1, overrides=tiny)
        runs = store.runs(NAME)
    iterations = {run.config["task_index"]: run.config["train"]["iterations"] for run in runs}
    assert iterations == {0: 4, 1: 8}  # in-10 runs twice as long
    assert [run.metrics["threshold"] for run in runs if run.config["task_index"] == 0] == [2.0 ** -23]
    report = experiment.render(experiment.summarize(runs))
    assert report.count("## Beside the published numbers: Mistry et al. 2021, division by values near zero") == 1
    section = report.split("a / b on U[0,1e-4]")[1]
    assert "RealNPU, baseline (`real-npu`) |" in section and " / 2.53e+03 |" in section and " / 0.0327 |" in section


def test_show_names_the_deviations():
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        assert main(["show", NAME]) == 0
    text = out.getvalue()
    for setting in ("iterations", "models", "model nru", "threshold"):
        assert f"  - {setting}: source:" in text
    assert "extra cells of the baseline RealNPU" in text and "Benford" in text and "divBy0_test_errors.csv" in text


def test_beta_sweep_plans_the_scripts_runs_and_each_pair_reaches_its_runs():
    # in2-realnpu-beta-sweep.sh: the baseline RealNPU, lr 5e-3, 50,000 steps, 25 seeds, on the nine ranges,
    # β from each (start, end) pair ×10 every 10,000 steps.
    experiment = EXPERIMENTS["mistry2022-division-beta"]
    assert protocol_card(experiment).missing_sources() == []
    plan = prepare(experiment.at_paper_scale())
    assert len(plan.runs) == 7 * 9 * 25 and {run.model for run in plan.runs} == {"real-npu"}
    pairs = {}
    for run in plan.runs:
        c = run.config
        assert (c.iterations, c.lr, c.unit_options["real-npu"]["beta_step"]) == (50_000, 5e-3, 10_000)
        options = c.unit_options["real-npu"]
        pairs.setdefault((options["beta_start"], options["beta_end"]), set()).add(str(run.task.interpolation))
    assert sorted(pairs) == [(1e-11, 1e-9), (1e-9, 1e-7), (1e-8, 1e-6), (1e-7, 1e-5), (1e-5, 1e-3), (1e-3, 1e-1),
                             (1e-1, 10.0)]
    assert all(len(ranges) == 9 for ranges in pairs.values())
    assert experiment.workload.task_labels[9] == "β 1e-09 -> 1e-07, [-20,-10] -> [-40,-20]"


def test_a_value_swept_over_several_ranges_is_named_once_on_the_card():
    rows = {s.name: s.value for s in protocol_card(EXPERIMENTS["mistry2022-division-beta"]).settings}
    assert rows["axis"] == ("L1 β (start, end): (1e-11, 1e-09), (1e-09, 1e-07), (1e-08, 1e-06), (1e-07, 1e-05), "
                            "(1e-05, 0.001), (0.001, 0.1), (0.1, 10.0)")
