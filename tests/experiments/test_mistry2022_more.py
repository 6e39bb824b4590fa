"""mistry2022-input-size (the Primer's runs with 10 and 100 inputs, bmistry4/nalm-benchmark@120ec8e) and
mistry2022-robust-nmu (the robust NMU paper's arithmetic task, bmistry4/nalm-robust-nmu@47675db): their
cards, their paper-scale plans as the scripts set them, their thresholds, and a tiny run of each."""
from __future__ import annotations

import dataclasses

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.experiments.protocol import protocol_card
from nalm.results import ResultsStore
from nalm.runner import run_experiment
from nalm.runner.plan import prepare
from nalm.scoring.thresholds import MadsenReference, MistryReference, range_moment
from nalm.tasks import Range
from nalm.tasks.presets import MISTRY2022_RANGES

INPUT_SIZE, ROBUST = "mistry2022-input-size", "mistry2022-robust-nmu"
TINY = {"iterations": 4, "eval_every": 2, "eval_samples": 8, "batch_size": 8}


@pytest.mark.parametrize("name", [INPUT_SIZE, ROBUST])
def test_listed_and_every_setting_of_its_card_has_a_source(name):
    card = protocol_card(EXPERIMENTS[name])
    assert card.missing_sources() == []
    rows = {s.name: s for s in card.settings}
    assert "figure" in rows["metric"].source.lower()  # published as figures only
    reference = "nalm-benchmark@120ec8e" if name == INPUT_SIZE else "nalm-robust-nmu@47675db"
    assert all(reference in rows[k].source for k in ("ranges", "models", "seeds", "iterations", "threshold"))


def test_input_size_plans_the_scripts_three_runs_at_paper_scale():
    # single_layer_benchmark.sh:230-252, 310-320: the iNALU on + with 10 inputs (5e4 steps, --clip-grad-value
    # 0.1 --reinit), the NAU on − with 10 inputs and on + with 100 (1e5 steps, λ 0.01 ramped 5e4 → 7.5e4);
    # --subset-ratio 1/n --overlap-ratio 0; 25 seeds, the nine ranges of the two-input runs.
    plan = prepare(EXPERIMENTS[INPUT_SIZE].at_paper_scale())
    cells = {(run.model, run.target, run.task.input_size) for run in plan.runs}
    assert cells == {("inalu", "add", 10), ("nau", "sub", 10), ("nau", "add", 100),  # the script's
                     ("inalu", "add", 100), ("nau", "add", 10)}  # the extra cells the card names
    assert len(plan.runs) == len(cells) * 9 * 25 and {run.seed for run in plan.runs} == set(range(25))
    for run in plan.runs:
        task, config = run.task, run.config
        assert (task.subset_size, task.overlap_size, task.placement) == (1, 0, "random")
        assert (task.interpolation, task.extrapolation) == tuple(map(Range.parse, MISTRY2022_RANGES[run.task_index % 9]))
        assert task.input_size == (10 if run.task_index < 9 else 100)
        assert (config.optimizer, config.lr, config.batch_size, config.hidden) == ("adam", 1e-3, 128, None)
        if run.model == "nau":
            assert config.iterations == 100_000
            assert config.unit_options["nau"] == {"regularizer_scale": 0.01, "regularizer_start": 50_000,
                                                  "regularizer_end": 75_000}
        else:
            assert (config.iterations, config.grad_clip) == (50_000, 0.1)
            options = config.unit_options["inalu"]  # the benchmark's regularizer start and reinit, as on 2 inputs
            assert options["regularizer_start"] == 10_001 and options["reinitialize"] == {"min_stored": 5000}
    a, b = plan.runs[0].task.subsets(seed=7)
    assert len(a) == len(b) == 1 and b[0] == a[0] + 1  # adjacent, at the seed's offset


def test_input_size_default_scale_keeps_the_runs_proportions():
    plan = prepare(EXPERIMENTS[INPUT_SIZE], seeds=1)
    lengths = {run.model: run.config.iterations for run in plan.runs}
    assert lengths == {"inalu": 10_000, "nau": 20_000}
    nau = next(run.config for run in plan.runs if run.model == "nau").unit_options["nau"]
    assert (nau["regularizer_start"], nau["regularizer_end"]) == (10_000, 15_000)


def _simulated_script_threshold(target, task, n_inputs, eps, samples=50_000, seed=3):
    """generate_exp_thresholds.r's simulate.mse with n inputs, re-done with numpy: a and b the first
    two columns, add/sub perturbed by eps times the sum of every |x_j| (lines 26-34)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    (low, high), = task.extrapolation.intervals
    x = rng.uniform(low, high, size=(samples, n_inputs))
    exact = x[:, 0] + x[:, 1] if target == "add" else x[:, 0] - x[:, 1]
    return float(np.mean((exact - eps * np.abs(x).sum(1) - exact) ** 2))


@pytest.mark.parametrize("index", [0, 6, 9 + 8])  # [-40,-20] and [2,6] with 10 inputs, [20,40] with 100
@pytest.mark.parametrize("target", ["add", "sub"])
def test_input_size_thresholds_are_the_scripts_with_every_input_perturbed(index, target):
    experiment = EXPERIMENTS[INPUT_SIZE]
    task = experiment.workload.tasks[index]
    assert experiment.workload.threshold_rule == MistryReference(eps=1e-4)  # generate_exp_thresholds.r:100-105
    simulated = _simulated_script_threshold(target, task, task.input_size, 1e-4)
    assert experiment.workload.threshold(index, target) == pytest.approx(simulated, rel=0.02)


def test_the_two_input_threshold_is_unchanged_and_more_inputs_need_add_or_sub():
    rule, single = MistryReference(eps=1e-5), EXPERIMENTS["mistry2022-single"].workload.tasks[6]  # [2, 6]
    before = 1e-5 ** 2 * (2.0 * range_moment(single.extrapolation, "x^2")  # the two-input expression, bit for bit
                          + 2.0 * range_moment(single.extrapolation, "|x|") ** 2)
    assert rule.threshold(single, "add") == rule.threshold(single, "sub") == before
    wide = EXPERIMENTS[INPUT_SIZE].workload.tasks[6]
    assert rule.threshold(wide, "add") == pytest.approx(1e-10 * (10 * 52 / 3 + 90 * 16), rel=1e-12)
    with pytest.raises(ValueError, match=r"threshold of mul needs a task whose input is \[a, b\], two inputs; got 10"):
        rule.threshold(wide, "mul")


def test_robust_nmu_plans_the_scripts_runs_at_paper_scale():
    # arithmetic_dataset.sh: --operation mul, NAU-NMU 5e6 steps and NAU-sNMU 2e6 (--nmu-noise, U[1, 5]),
    # λ 10 ramped 1e6 → 2e6 (the defaults), 20 seeds (README.md:74), the nine ranges (:10-11).
    experiment = EXPERIMENTS[ROBUST]
    quick = dataclasses.replace(experiment, workload=dataclasses.replace(
        experiment.workload, threshold_rule=MadsenReference(samples=8)))
    plan = prepare(quick.at_paper_scale())
    assert len(plan.runs) == 2 * 9 * 20 and {run.seed for run in plan.runs} == set(range(20))
    assert [str(t.interpolation) for t in experiment.workload.tasks[:2]] == ["[1.1, 1.2]", "[0.1, 0.2]"]
    for run in plan.runs:
        config, task = run.config, run.task
        assert (task.input_size, task.subset_size, task.overlap_size, task.placement) == (100, 25, 12, "random")
        assert (config.optimizer, config.lr, config.batch_size, config.hidden, run.target) == \
            ("adam", 1e-3, 128, 2, "mul")
        assert config.iterations == {"nau/nmu": 5_000_000, "nau/snmu": 2_000_000}[run.model]
        for unit, options in config.unit_options.items():
            assert (options["regularizer_scale"], options["regularizer_start"], options["regularizer_end"]) == \
                (10.0, 1_000_000, 2_000_000)
        if run.model == "nau/snmu":
            assert config.unit_options["snmu"]["noise_range"] == (1.0, 5.0)


# export/function_task_static_ranges/exp_setups.csv:2-10 (op-mul, ε 1e-5), by extrapolation range.
SCRIPT_THRESHOLDS = {"[-40, -20]": 505.38393446811, "[-6.1, -1.2]": 0.111273765936094,
                     "[-6, -2] U [2, 6]": 0.000230715983456882, "[0.2, 2]": 0.000919984259479115}


@pytest.mark.slow  # 8e8 draws
def test_robust_nmu_thresholds_agree_with_the_repositorys():
    experiment = EXPERIMENTS[ROBUST]
    rule = MadsenReference(samples=200_000)
    checked = 0
    for task in experiment.workload.tasks:
        key = str(task.extrapolation).replace(".0,", ",").replace(".0]", "]")
        if key in SCRIPT_THRESHOLDS:
            assert rule.threshold(task, "mul") == pytest.approx(SCRIPT_THRESHOLDS[key], rel=0.02), key
            checked += 1
    assert checked == len(SCRIPT_THRESHOLDS)


def tiny_run(name: str, tmp_path, **selection) -> list:
    """The stored runs of ``name`` trained for 4 steps on 1 seed, one baseline network each."""
    experiment = EXPERIMENTS[name]
    workload = experiment.workload
    if name != INPUT_SIZE:
        workload = dataclasses.replace(workload, threshold_rule=MadsenReference(samples=64))
    experiment = dataclasses.replace(experiment, workload=dataclasses.replace(workload, baseline_models=1))
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_experiment(experiment, store, seeds=1, overrides=TINY, **selection)
        runs = store.runs(experiment.name)
    assert all(r.config["train"]["iterations"] == 4 for r in runs)
    assert len({(r.model, r.target, r.config["task_index"]) for r in runs}) == len(runs)
    return runs


@pytest.mark.filterwarnings("ignore:model:UserWarning")  # four steps cut every schedule short, as meant
@pytest.mark.parametrize("name, selection, count, label", [
    (INPUT_SIZE, {"models": ["nau"], "targets": ["sub"]}, 9, "in 10: [10,20] -> [20,40]"),  # − on 10 inputs only
    (ROBUST, {"models": ["nau/snmu"]}, 9, "[-2,2] -> [-6,-2]U[2,6]")])
def test_a_tiny_run_trains_stores_and_reports(name, selection, count, label, tmp_path):
    runs = tiny_run(name, tmp_path, **selection)
    assert len(runs) == count and all(r.metrics["extrapolation_mse"] >= 0 for r in runs)
    assert label in EXPERIMENTS[name].render(EXPERIMENTS[name].summarize(runs))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:model:UserWarning")
def test_a_tiny_run_of_every_default_cell(tmp_path):
    runs = tiny_run(INPUT_SIZE, tmp_path)
    assert len(runs) == 18 + 18 + 9  # the iNALU on +, the NAU on + (both sizes) and − (10 inputs)
    assert "in 100: [10,20] -> [20,40]" in EXPERIMENTS[INPUT_SIZE].render(EXPERIMENTS[INPUT_SIZE].summarize(runs))


NOISE = "mistry2022-snmu-noise"


def test_snmu_noise_plans_the_scripts_runs_one_population_per_noise_range():
    # arithmetic_dataset_noise_ranges.sh: noise U[0.01, 0.05], U[0.1, 0.5], U[1, 2], U[5, 10] (:14) and
    # arithmetic_dataset.sh's U[1, 5]; 2e6 steps (:37), λ 10 ramped 1e6 → 2e6, 25 seeds (:3), nine ranges.
    experiment = EXPERIMENTS[NOISE]
    assert protocol_card(experiment).missing_sources() == []
    quick = dataclasses.replace(experiment, workload=dataclasses.replace(
        experiment.workload, threshold_rule=MadsenReference(samples=8)))
    plan = prepare(quick.at_paper_scale())
    assert len(plan.runs) == 5 * 9 * 25 and {run.seed for run in plan.runs} == set(range(25))
    noise = {}
    for run in plan.runs:
        options = run.config.unit_options
        assert run.config.iterations == 2_000_000 and run.model == "nau/snmu" and run.target == "mul"
        assert (options["snmu"]["regularizer_start"], options["snmu"]["regularizer_end"]) == (1_000_000, 2_000_000)
        noise.setdefault(options["snmu"]["noise_range"], set()).add(str(run.task.interpolation))
        assert experiment.workload.task_labels[run.task_index].startswith(
            "noise U[{:g},{:g}]".format(*options["snmu"]["noise_range"]))
    assert sorted(noise) == [(0.01, 0.05), (0.1, 0.5), (1.0, 2.0), (1.0, 5.0), (5.0, 10.0)]
    assert all(len(ranges) == 9 for ranges in noise.values())
    assert len({tuple(sorted(run.group.items())) for run in plan.runs}) == 5


@pytest.mark.slow  # 45 runs
@pytest.mark.filterwarnings("ignore:model:UserWarning")
def test_snmu_noise_tiny_run_trains_each_noise_range(tmp_path):
    runs = tiny_run(NOISE, tmp_path)
    assert len(runs) == 45
    assert {tuple(r.config["train"]["unit_options"]["snmu"]["noise_range"]) for r in runs} == \
        {(0.01, 0.05), (0.1, 0.5), (1.0, 2.0), (1.0, 5.0), (5.0, 10.0)}
    assert "noise U[5,10]: [-2,2] -> [-6,-2]U[2,6]" in EXPERIMENTS[NOISE].render(EXPERIMENTS[NOISE].summarize(runs))


def test_equal_tasks_share_one_threshold(monkeypatch):
    """The noise experiment's 45 tasks are 9 ranges five times: 9 simulations, not 45."""
    calls = []
    monkeypatch.setattr(MadsenReference, "threshold", lambda self, task, target: calls.append(task) or len(calls))
    experiment = EXPERIMENTS[NOISE]
    thresholds = experiment.workload.scoring(experiment, ["mul"], None).thresholds
    assert len(calls) == 9 and len(thresholds) == 45
    assert all(thresholds[i, "mul"] == thresholds[i % 9, "mul"] for i in range(45))
