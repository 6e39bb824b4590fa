"""``summarize`` and ``render`` on hand-made runs (no training)."""
from __future__ import annotations

import math

import pytest

from nalm.experiments import EXPERIMENTS
from nalm.explain import READBACK_VERSION
from nalm.report import Cell, render, summarize
from nalm.results import RunRecord
from nalm.tasks import task_to_dict
from nalm.scoring import metrics as M


def record(model="nac", target="add", seed=0, *, task_index=0, iterations=1000, diverged=False,
           experiment="blog-static", **metrics) -> RunRecord:
    values = {"normalized_interpolation": 1.0, "normalized_extrapolation": 2.0, "success": False,
              "solved_at": None, "sparsity_error": None}
    values.update(metrics)
    config = {"experiment": experiment, "model": model, "target": target, "seed": seed, "task_index": task_index,
              "task": task_to_dict(EXPERIMENTS[experiment].workload.tasks[task_index]), "train": {"iterations": iterations}}
    return RunRecord(experiment=experiment, model=model, target=target, seed=seed, config=config,
                     environment={}, metrics=values, curve={}, weights={}, diverged=diverged)


def ten_seeds(model="nac", target="add", **kwargs) -> list[RunRecord]:
    """10 seeds: 7 successes (solved at 100..700, sparsity 0.01..0.07), 3 failures, 2 of them diverged."""
    runs = []
    for seed in range(10):
        success = seed < 7
        diverged = seed >= 8
        runs.append(record(
            model, target, seed, diverged=diverged, success=success,
            solved_at=100 * (seed + 1) if success else None,
            sparsity_error=0.01 * (seed + 1) if success else 0.4,  # failures' sparsity must not count
            normalized_interpolation=math.inf if diverged else float(seed + 1),
            normalized_extrapolation=math.inf if diverged else 10.0 * (seed + 1), **kwargs))
    return runs


def test_one_cell_of_ten_seeds():
    (cell,) = summarize(ten_seeds())
    assert isinstance(cell, Cell)
    assert (cell.task_index, cell.model, cell.target) == (0, "nac", "add")
    assert cell.seeds == 10 and cell.successes == 7 and cell.diverged == 2
    assert cell.success_rate == pytest.approx(0.7)
    assert cell.success_interval == M.wilson_interval(7, 10)
    assert cell.success_interval == pytest.approx((0.3968, 0.8922), abs=1e-4)
    # medians over all seeds, diverged (inf) ranking worst
    assert cell.normalized_interpolation == (5.5, 2.0, math.inf)
    assert cell.normalized_interpolation == M.median_interval([1, 2, 3, 4, 5, 6, 7, 8, math.inf, math.inf])
    assert cell.normalized_extrapolation == (55.0, 20.0, math.inf)
    # solved at: median over successes, with the mean's interval
    solved = [100, 200, 300, 400, 500, 600, 700]
    assert cell.solved_at[0] == 400.0
    assert cell.solved_at[1:] == pytest.approx(M.mean_interval(solved)[1:])
    assert cell.sparsity_error == pytest.approx(0.04)  # mean over successes only
    assert cell.iterations == {1000}


def test_cells_group_by_task_model_and_target():
    mistry = {"experiment": "mistry2022-single"}  # an experiment with several tasks
    runs = (ten_seeds("nac", "add", **mistry) + ten_seeds("nac", "sub", **mistry) + ten_seeds("nalu", "add", **mistry)
            + [record("nac", "add", s, task_index=1, iterations=500, **mistry) for s in range(3)])
    cells = summarize(runs[::-1])  # order of the runs does not matter
    keys = [(c.task_index, c.model, c.target) for c in cells]
    assert keys == [(0, "nac", "add"), (0, "nac", "sub"), (0, "nalu", "add"), (1, "nac", "add")]
    assert [c.seeds for c in cells] == [10, 10, 10, 3]
    assert cells[3].successes == 0 and cells[3].success_interval == M.wilson_interval(0, 3)
    assert cells[3].solved_at is None and cells[3].sparsity_error is None and cells[3].diverged == 0
    assert cells[3].iterations == {500}


def test_all_successes_and_no_successes():
    runs = [record(seed=s, success=True, solved_at=1000, sparsity_error=0.0) for s in range(4)]
    (cell,) = summarize(runs)
    assert cell.success_rate == 1.0 and cell.success_interval == M.wilson_interval(4, 4)
    assert cell.solved_at[0] == 1000.0 and cell.sparsity_error == 0.0
    (cell,) = summarize([record(seed=s) for s in range(4)])
    assert cell.success_rate == 0.0 and cell.success_interval[0] == 0.0 and cell.success_interval[1] > 0


def test_summarize_nothing():
    assert summarize([]) == []


def test_as_row():
    (cell,) = summarize(ten_seeds())
    row = cell.as_row()
    assert row["model"] == "nac" and row["target"] == "add" and row["seeds"] == 10 and row["diverged"] == 2
    assert row["success_rate"] == pytest.approx(0.7)
    assert (row["success_low"], row["success_high"]) == M.wilson_interval(7, 10)
    assert row["normalized_interpolation_median"] == 5.5
    assert row["normalized_extrapolation_low"] == 20.0
    assert row["solved_at_median"] == 400.0
    assert row["sparsity_error_mean"] == pytest.approx(0.04)
    assert row["iterations"] == 1000


# -- render ---------------------------------------------------------------------


def table_rows(text: str, first: str) -> list[list[str]]:
    """The cells of every Markdown table row whose first cell is ``first``."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] == first:
                rows.append(cells)
    return rows


def test_render_blog_with_the_published_numbers():
    experiment = EXPERIMENTS["blog-static"]
    nac = ten_seeds("nac", "add")
    for seed, run in enumerate(nac):
        run.run_id = 109 - seed  # ids need not follow the errors' order
    text = render(experiment, summarize(nac + ten_seeds("mlp-relu6", "add")))
    assert text.startswith("# blog-static\n")
    assert "Our runs: 1000 iterations, 10 seeds per cell." in text
    # primary metric table: median [low, high]
    assert "| target | mlp-relu6 | nac |" in text
    assert ["add", "5.5 [2, inf]", "5.5 [2, inf]"] in table_rows(text, "add")
    assert ["add", "55 [20, inf]", "55 [20, inf]"] in table_rows(text, "add")  # extrapolation
    assert ["add", "70% [40%, 89%]", "70% [40%, 89%]"] in table_rows(text, "add")  # success rate
    # ours beside the published ones (interpolation medians; 0.049 is the blog's NAC a+b)
    assert "## Beside the published numbers: seed blog" in text
    assert table_rows(text, "NAC (`nac`)") == [["NAC (`nac`)", "5.5 / 0.049"]]
    assert table_rows(text, "ReLU6 (`mlp-relu6`)") == [["ReLU6 (`mlp-relu6`)", "5.5 / 4.84"]]
    assert table_rows(text, "NALU (`nalu`)") == [["NALU (`nalu`)", "– / 0.23"]]
    assert ("The protocols differ, so compare with care: iterations: ours 1000, published 100000; "
            "seeds: ours 10, published 1.") in text
    # every cell
    every = table_rows(text, "–")
    # the median run: seed 4 (error 50, the better of the middle two); the best: seed 0; none for runs not stored
    assert ["–", "1000", "0", "nac", "add", "10", "2", "5.5 [2, inf]", "55 [20, inf]", "70% [40%, 89%]", "400", "0.04", "–",
            "105", "109"] in every
    assert ["–", "1000", "0", "mlp-relu6", "add"] == every[0][:5] and every[0][-2:] == ["–", "–"]


def test_render_only_the_targets_run():
    text = render(EXPERIMENTS["blog-static"], summarize(ten_seeds("nac", "sub") + ten_seeds("nac", "add")))
    assert table_rows(text, "target")[0] == ["target", "nac"]
    assert table_rows(text, "model") == [["model", "add", "sub"]]  # in the experiment's order
    assert not table_rows(text, "mul")
    assert table_rows(text, "NAC (`nac`)") == [["NAC (`nac`)", "5.5 / 0.049", "5.5 / 0.462"]]


def test_render_madsen_success_rates_beside_the_published_ones():
    runs = ten_seeds("nau", "add", experiment="madsen2020-static")
    text = render(EXPERIMENTS["madsen2020-static"], summarize(runs))
    assert "Madsen & Johansen (2020)" in text
    assert table_rows(text, "NAU (`nau`)") == [["NAU (`nau`)", "70% / 100%"]]
    assert table_rows(text, "NALU (`nalu`)") == [["NALU (`nalu`)", "– / 14%"]]
    assert ("iterations: ours 1000, published 5000000; seeds: ours 10, published 100.") in text


def test_render_says_when_the_protocols_match():
    runs = [record("nac", "add", 0, iterations=100_000, normalized_interpolation=0.05)]
    text = render(EXPERIMENTS["blog-static"], summarize(runs))
    assert "Our protocol matches the published one in iterations and seeds." in text
    assert "compare with care" not in text
    assert table_rows(text, "NAC (`nac`)") == [["NAC (`nac`)", "0.05 / 0.049"]]


def test_render_mistry_ranges():
    experiment = EXPERIMENTS["mistry2022-single"]
    runs = [record("nau", "add", s, task_index=i, experiment=experiment.name, success=s == 0, solved_at=0 if s == 0 else None)
            for i in (0, 8) for s in range(2)]
    text = render(experiment, summarize(runs))
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert any("[-20,-10] -> [-40,-20]" in h for h in headings)
    assert any("[10,20] -> [20,40]" in h for h in headings)
    assert not any("[-2,-1] ->" in h for h in headings)  # not run
    assert "Beside the published" not in text  # no published table for this experiment
    every = [row for row in table_rows(text, "[10,20] -> [20,40]")]
    assert every and every[0][3:7] == ["nau", "add", "2", "0"] and every[0][9].startswith("50% ")


def test_render_nothing():
    text = render(EXPERIMENTS["blog-static"], [])
    assert text.startswith("# blog-static") and "No stored runs yet" in text and "nalm run blog-static" in text


def test_render_formats_numbers():
    runs = [record("nac", "add", s, normalized_interpolation=v, normalized_extrapolation=v)
            for s, v in enumerate([123456.0, 0.000123, 0.0])]
    text = render(EXPERIMENTS["blog-static"], summarize(runs))
    # median 0.000123 (3 values); interval (min, max) = (0, 123456)
    assert ["add", "1.23e-04 [0, 1.23e+05]"] in table_rows(text, "add")


def test_runs_of_other_lengths_are_not_pooled():
    runs = ([record("nac", "add", s, iterations=1000, success=True, solved_at=500) for s in range(4)]
            + [record("nac", "add", s, iterations=50) for s in range(2)])
    cells = summarize(runs)
    assert sorted((c.iterations == {1000}, c.seeds, c.successes) for c in cells) == [(False, 2, 0), (True, 4, 4)]


def test_the_formula_column_counts_seeds_whose_network_computes_the_target():
    runs = [record("nac", "add", s, formula_matches=s < 3, formula="y = x0 + x1", formula_readback=READBACK_VERSION)
            for s in range(5)]
    runs += [record("mlp-relu6", "add", s, formula_matches=None) for s in range(5)]
    cells = {c.model: c for c in summarize(runs)}
    assert cells["nac"].formulas == 3 and cells["mlp-relu6"].formulas is None
    text = render(EXPERIMENTS["blog-static"], list(cells.values()))
    assert "seeds whose network computes the target exactly" in text
    assert ["add", "–", "3/5"] in table_rows(text, "add")


def test_formulas_read_back_by_an_earlier_explain_are_not_counted():
    # Version 1 (no formula_readback stored) matched a rounded formula even where the network
    # computed something else: its counts mean something else, so a cell holding one shows –.
    runs = [record("nac", "add", s, formula_matches=True, formula="y = x0 + x1", formula_readback=READBACK_VERSION)
            for s in range(4)]
    runs.append(record("nac", "add", 4, formula_matches=True, formula="y = x0 + x1"))
    (cell,) = summarize(runs)
    assert cell.formulas is None
    assert summarize(runs[:4])[0].formulas == 4
    # Version 2 judged a formula relative to the network's output, which has no bound where a
    # difference is near 0: accurate subtracting networks matched nothing.
    runs[4] = record("nac", "add", 4, formula_matches=False, formula="y = 2*x0 - 2*x1", formula_readback=2)
    assert summarize(runs)[0].formulas is None


def test_sections_say_whether_a_stored_task_is_the_default_the_papers_or_custom():
    import dataclasses
    import json

    from nalm.report.markdown import task_note

    experiment = EXPERIMENTS["trask2018-recurrent"]
    key = lambda task: json.dumps(task_to_dict(task), sort_keys=True)  # noqa: E731
    assert task_note(experiment, 0, key(experiment.workload.tasks[0])) == ""
    assert task_note(experiment, 0, key(experiment.workload.paper_tasks[0])) == "the paper's task, "
    custom = dataclasses.replace(experiment.workload.tasks[0], length=5, extrapolation_length=50)
    assert task_note(experiment, 0, key(custom)) == "custom ranges [[1.0, 2.0]] → [[1.0, 2.0]], 5 → 50 steps, "


def test_render_lists_the_experiments_deviations_under_the_tables():
    import dataclasses

    from nalm.experiments import Deviation

    experiment = dataclasses.replace(EXPERIMENTS["blog-static"], deviations=(
        Deviation("iterations", "1e5 full-batch iterations", "1e4 by default", "the default fits a CPU session"),))
    text = render(experiment, summarize(ten_seeds("nac", "add")))
    section = text[text.index("## Where this protocol departs from its source"):text.index("## Every cell")]
    assert ("- **iterations**: source: 1e5 full-batch iterations; nalm: 1e4 by default. "
            "Reason: the default fits a CPU session") in section
    assert "`nalm show blog-static`" in section


def test_render_of_a_multi_task_experiment_puts_every_task_side_by_side():
    mistry = {"experiment": "mistry2022-single"}
    runs = (ten_seeds("nau", "add", **mistry)
            + [record("nau", "add", s, task_index=6, success=s < 2, **mistry) for s in range(4)]
            + [record("nmu", "mul", s, task_index=6, success=True, **mistry) for s in range(4)])
    text = render(EXPERIMENTS["mistry2022-single"], summarize(runs))
    section = text[text.index("## Successes by task"):text.index("## Where this protocol")]
    assert "| model | target | [-20,-10] -> [-40,-20] | [1,2] -> [2,6] |" in section
    assert table_rows(section, "nau") == [["nau", "add", "7/10", "2/4"]]
    assert table_rows(section, "nmu") == [["nmu", "mul", "–", "4/4"]]
    assert "## Successes by task" not in render(EXPERIMENTS["blog-static"], summarize(ten_seeds()))


def drawn_by(runs: list[RunRecord], generator) -> list[RunRecord]:
    for run in runs:
        run.config["generator"] = generator
    return runs


def test_runs_of_one_generator_are_summarized_and_of_two_refused():
    from nalm.tasks import GENERATOR

    philox = drawn_by(ten_seeds("nac", "add"), GENERATOR)
    (cell,) = summarize(philox)
    assert cell.seeds == 10
    (old,) = summarize(ten_seeds("nac", "add"))  # stored without a generator: all the old one
    assert old.as_row() == cell.as_row()
    # the same cells, but the seeds were drawn otherwise: one table would not be reproducible
    with pytest.raises(ValueError, match=r"2 generators \(PCG64 \(before philox4x32-10\); philox4x32-10 version 1\)"):
        summarize(philox + ten_seeds("nac", "sub"))
    with pytest.raises(ValueError, match="philox4x32-10 version 1; philox4x32-10 version 2"):
        summarize(philox + drawn_by(ten_seeds("nac", "sub"), {**GENERATOR, "version": 2}))
    # same name and version but other details: named by the whole stored description
    with pytest.raises(ValueError, match="2 generators .*layout"):
        summarize(philox + drawn_by(ten_seeds("nac", "sub"), {**GENERATOR, "layout": "other"}))


def test_runs_of_the_fused_step_and_of_autograd_are_refused_together():
    from nalm.tasks import GENERATOR

    fused = drawn_by(ten_seeds("nac", "add"), GENERATOR)
    autograd = drawn_by(ten_seeds("nac", "add"), GENERATOR)
    for run in autograd:
        run.config["train"]["fused"] = False
    assert summarize(fused)[0].seeds == summarize(autograd)[0].seeds == 10
    with pytest.raises(ValueError, match="both by the fused step and by autograd"):
        summarize(fused + autograd)


def test_runs_of_the_triton_kernel_and_of_the_default_step_are_refused_together():
    from nalm.tasks import GENERATOR

    default = drawn_by(ten_seeds("nau", "add"), GENERATOR)
    kernel = drawn_by(ten_seeds("nau", "add"), GENERATOR)
    for run in kernel:
        run.config["train"]["kernel"] = "triton"
    assert summarize(kernel)[0].seeds == 10
    with pytest.raises(ValueError, match="both by the Triton kernel and by the default step"):
        summarize(default + kernel)


def test_render_heim_compares_each_models_own_rate_and_each_targets_own_task():
    """The iNALU trains at its own lr and √x on its own test range: both still stand beside the
    published means, as the median of the final models' extrapolation MAE (a diverged run's: inf)."""
    runs = []
    for model, lr in (("inalu", 1e-3), ("nalu", 5e-3)):
        for target, task_index in (("mul", 0), ("sqrt", 1)):
            for seed, mae in enumerate((0.5, 0.25, 2.0)):
                run = record(model, target, seed, task_index=task_index, experiment="heim2020-npu",
                             diverged=seed == 2 and model == "nalu", extrapolation_mae=mae)
                run.config["train"]["lr"] = lr
                runs.append(run)
    cells = {(c.model, c.target): c for c in summarize(runs)}
    assert cells["inalu", "sqrt"].extrapolation_mae[0] == 0.5 and cells["inalu", "sqrt"].task_index == 1
    assert cells["nalu", "mul"].extrapolation_mae == M.median_interval([0.5, 0.25, math.inf])
    text = render(EXPERIMENTS["heim2020-npu"], list(cells.values()))
    assert "| iNALU (`inalu`) | 0.5 / 3.45 | 0.5 / 0.049 |" in text
    assert "| NALU (`nalu`) | 0.5 / 4.55 | 0.5 / 0.034 |" in text
