"""``nalm run`` for the data-set experiments (trask2018-mnist, trask2018-translation): a tiny
run end to end, resume, the report, ``nalm explain`` of a cell, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from nalm.experiments.trask2018_mnist import read_back
from nalm.report.sequences import summarize_lengths
from nalm.results import ResultsStore, RunRecord
from nalm.scoring import metrics as M
from nalm.scoring.sequences import THRESHOLD_CONFIDENCE, thresholds

from .test_bad_input import check_refused, snapshot

TINY = '{"eval_sequences": 8, "eval_every": 5, "batch_size": 4}'


def mnist(results, *extra) -> list[str]:
    return ["run", "trask2018-mnist", "--targets", "sum", "--units", "solved", "nau", "--seeds", "2",
            "--iterations", "10", "--config", TINY, "--results", str(results), *extra]


def test_a_tiny_mnist_run_stores_reports_resumes_and_explains(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    code, out, err = run_nalm(mnist(results))
    assert code == 0, err
    assert "trained 4 runs, skipped 0" in out
    assert "nalm: nau on sum: 2 members done (population" in err  # a log's line per population
    assert "### sum" in out and "| solved |" in out and "| nau |" in out and "cell = accumulator" in out
    assert out.count("/2 |") >= 1  # the nau row counts its seeds read back as h + x
    folder = tmp_path / "trask2018-mnist"
    for name in ("report.md", "summary.csv", "runs.csv", "trask2018-mnist-lengths.png"):
        assert (folder / name).exists(), name
    assert "## Deviations from the source" in (folder / "report.md").read_text()
    with ResultsStore(results) as store:
        runs = store.runs("trask2018-mnist")
    assert sorted((r.model, r.seed) for r in runs) == [("nau", 0), ("nau", 1), ("solved", 0), ("solved", 1)]
    nau = next(r for r in runs if r.model == "nau")
    assert {"mse_1000", "mae_10", "accuracy_100", "valid_mse", "formula", "formula_is_accumulator"} <= set(nau.metrics)
    assert nau.config["data"]["name"] == "bundled-digits" and nau.config["task"]["operation"] == "sum"
    assert "formula" not in next(r for r in runs if r.model == "solved").metrics

    code, out, err = run_nalm(mnist(results, "--quiet"))
    assert code == 0 and "trained 0 runs, skipped 4" in out

    code, out, err = run_nalm(["explain", str(nau.run_id), "--results", str(results)])
    assert code == 0, err
    assert f"run {nau.run_id}: nau cell, target sum" in out and "the solved accumulator:" in out
    solved = next(r for r in runs if r.model == "solved")
    code, out, err = run_nalm(["explain", str(solved.run_id), "--results", str(results)])
    check_refused(code, out, err, "no arithmetic unit")


@pytest.mark.slow  # calibrates two populations: a few seconds
def test_dry_run_counts_and_times_the_work_and_trains_nothing(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    code, out, err = run_nalm(mnist(results, "--dry-run", "--workers", "1"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "trask2018-mnist: 2 populations, 4 runs to train (0 stored already), 40 model-steps"
    assert [line.split(":")[0] for line in lines[1:3]] == ["  solved on sum", "  nau on sum"]
    assert "2 members × 10 steps, 3 evaluations;" in lines[2] and "untrained baselines" not in out
    assert lines[-3].startswith("estimated: ") and lines[-1] == "nothing was trained or stored"
    assert not results.exists()
    assert run_nalm(mnist(results, "--units", "nau", "--quiet"))[0] == 0
    code, out, err = run_nalm(mnist(results, "--dry-run"))
    assert code == 0, err
    assert out.splitlines()[0] == "trask2018-mnist: 1 population, 2 runs to train (2 stored already), 20 model-steps"


def test_a_tiny_translation_run(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    code, out, err = run_nalm(["run", "trask2018-translation", "--units", "lstm", "lstm+nau", "--seeds", "2",
                               "--iterations", "10", "--config", '{"eval_every": 5, "hidden": 4}',
                               "--results", str(results)])
    assert code == 0, err
    assert "| lstm | 2 |" in out and "| lstm+nau | 2 |" in out
    assert (tmp_path / "trask2018-translation" / "trask2018-translation-curves.png").exists()
    with ResultsStore(results) as store:
        run = store.runs("trask2018-translation")[0]
    assert {"train_mae", "valid_mae", "test_mae", "test_accuracy"} <= set(run.metrics)
    assert run.config["task"]["sizes"] == [169, 200, 631]


BAD = {
    "unknown model": (["--units", "nau", "gru"], "'gru'"),
    "unknown target": (["--targets", "div"], "'div'"),
    "zero workers": (["--workers", "0"], "--workers"),
    "unreachable Ray cluster": (["--ray", "127.0.0.1:1"], "Ray"),  # or, without Ray installed, how to install it
    "device": (["--device", "cuda"], "--device"),
    "no MNIST here": (["--data", "/nonexistent/mnist"], "/nonexistent/mnist"),
    "unknown setting": (["--config", '{"eval_samples": 3}'], "eval_samples"),
    "bad unit option": (["--config", '{"unit_options": {"nau": {"bogus": 1}}}'], "bogus"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused_and_the_store_is_untouched(case, tmp_path, run_nalm):
    extra, word = BAD[case]
    results = tmp_path / "r.sqlite"
    with ResultsStore(results):
        pass
    before = snapshot(tmp_path)
    argv = ["run", "trask2018-mnist", "--units", "nau", "--targets", "sum", "--seeds", "1", "--iterations", "2",
            "--results", str(results), "--quiet"]
    for flag in ("--units", "--targets", "--config"):  # a case's own value replaces the default one
        if flag in extra and flag in argv:
            i = argv.index(flag)
            del argv[i:i + 2]
    code, out, err = run_nalm(argv + extra)
    check_refused(code, out, err, word)
    assert snapshot(tmp_path) == before


def test_translation_refuses_data(tmp_path, run_nalm):
    code, out, err = run_nalm(["run", "trask2018-translation", "--data", str(tmp_path), "--results",
                               str(tmp_path / "r.sqlite")])
    check_refused(code, out, err, "--data")


def fake_run(model, seed, mse: dict, target="prod") -> RunRecord:
    metrics = {f"mse_{n}": v for n, v in mse.items()}
    metrics.update({f"mae_{n}": v ** 0.5 for n, v in mse.items()})
    metrics.update({f"accuracy_{n}": 0.5 for n in mse})
    metrics.update({f"relative_mae_{n}": v for n, v in mse.items()})
    return RunRecord("trask2018-mnist", model, target, seed, {"task": {"test_lengths": sorted(mse)}}, {}, metrics,
                     {}, {})


def test_success_is_judged_against_the_solved_models_one_sided_99_percent_bound():
    solved = [fake_run("solved", s, {2: v, 20: 10 * v}) for s, v in enumerate([1.0, 1.2, 0.8])]
    bound = thresholds(solved, "prod")
    expected = M.mean_interval([1.0, 1.2, 0.8], THRESHOLD_CONFIDENCE)[2]
    assert bound[2] == pytest.approx(expected) and bound[20] == pytest.approx(10 * expected)
    assert bound[2] == pytest.approx(1.0 + 6.964557 * 0.2 / np.sqrt(3), rel=1e-5)  # qt(0.99, 2) = 6.964557
    nmu = [fake_run("nmu", 0, {2: 1.5, 20: 15.0}), fake_run("nmu", 1, {2: 5.0, 20: 1e9})]
    cells = {(c.model, c.length): c for c in summarize_lengths(solved + nmu)}
    assert cells[("nmu", 2)].successes == 1 and cells[("nmu", 20)].successes == 1
    assert cells[("solved", 2)].successes == 3
    assert thresholds(solved[:1], "prod") == {}  # one solved run gives no bound
    assert summarize_lengths(solved[:1] + nmu)[0].successes is None


@pytest.mark.parametrize("model, target, weight, formula, solved", [
    ("nau", "sum", [[1.0, 1.0]], "y = h + x", True),
    ("nau", "sum", [[0.5, 1.0]], "y = h + x/2", False),
    ("nmu", "prod", [[1.0, 1.0]], "y = h*x", True),
    ("nmu", "sum", [[1.0, 1.0]], "y = h*x", False),
])
def test_the_cell_reads_back_as_the_accumulator_only_when_it_is_one(model, target, weight, formula, solved):
    reading = read_back(model, target, {"cell.W": np.array(weight)}, {})
    assert str(reading.explanation) == formula and reading.is_accumulator is solved
    assert read_back("lstm", target, {}, {}) is None


def test_a_tiny_program_run(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    code, out, err = run_nalm(["run", "trask2018-program", "--units", "lstm", "lstm+nalu", "--targets", "ifelse",
                               "--seeds", "2", "--iterations", "6", "--config",
                               '{"eval_every": 3, "eval_sequences": 8, "hidden": 4}', "--results", str(results)])
    assert code == 0, err
    assert "### ifelse" in out and "digits 5" in out and "| lstm+nalu |" in out and "cell = accumulator" not in out
    assert (tmp_path / "trask2018-program" / "trask2018-program-digits.png").exists()
    with ResultsStore(results) as store:
        run = store.runs("trask2018-program")[0]
    assert {"accuracy_5", "mae_3", "valid_mse"} <= set(run.metrics) and run.config["task"]["program"] == "ifelse"


def test_an_interrupted_run_keeps_its_checkpoint_and_the_same_command_resumes_it(tmp_path):
    from nalm.experiments.trask2018_mnist import EXPERIMENT
    from nalm.runner import RunInterrupted, execute, prepare

    overrides = {"iterations": 8, "eval_every": 4, "eval_sequences": 8, "batch_size": 4, "dtype": "float64"}
    plan = prepare(EXPERIMENT, models=["nau"], targets=["sum"], seeds=2, overrides=overrides)
    with ResultsStore(tmp_path / "whole.sqlite") as store:
        execute(plan, store)
        whole = {r.seed: r for r in store.runs()}
    calls = []
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(RunInterrupted) as interrupted:
            execute(plan, store, stop=lambda: calls.append(1) or len(calls) == 4)  # 1 before step 1
        assert interrupted.value.checkpoints == [3] and store.runs() == []
        assert [c.step for c in store.checkpoints("trask2018-mnist")] == [3]
        summary = execute(plan, store)
        assert summary.trained == 2 and store.checkpoints() == []
        resumed = {r.seed: r for r in store.runs()}
    for seed, run in whole.items():
        assert resumed[seed].metrics == run.metrics and resumed[seed].curve == run.curve
        for name, value in run.weights.items():
            assert np.array_equal(resumed[seed].weights[name], value), name


@pytest.mark.slow  # starts worker processes
def test_two_workers_store_what_one_stores(tmp_path):
    from nalm.experiments.trask2018_mnist import EXPERIMENT
    from nalm.runner import execute, prepare

    overrides = {"iterations": 6, "eval_every": 3, "eval_sequences": 8, "batch_size": 4, "dtype": "float64"}
    plan = prepare(EXPERIMENT, models=["nau", "lstm"], targets=["sum"], seeds=2, overrides=overrides)
    stores = {}
    for workers in (1, 2):
        with ResultsStore(tmp_path / f"{workers}.sqlite") as store:
            assert execute(plan, store, workers=workers).trained == 4
            stores[workers] = {(r.model, r.seed): r for r in store.runs()}
    assert stores[1].keys() == stores[2].keys()
    for key, run in stores[1].items():
        assert stores[2][key].metrics == run.metrics
        for name, value in run.weights.items():
            assert np.array_equal(stores[2][key].weights[name], value), name


def test_a_tiny_run_of_the_r_z_ablation_reports_it_beside_the_published_rates(tmp_path, run_nalm):
    results = tmp_path / "r.sqlite"
    argv = ["run", "trask2018-mnist", "--targets", "sum", "--models", "solved", "nau-no-rz", "nac-rz", "--seeds", "2",
            "--iterations", "4", "--config", TINY, "--results", str(results)]
    code, out, err = run_nalm(argv)
    assert code == 0, err
    assert "trained 6 runs, skipped 0" in out
    assert "| nau-no-rz |" in out and "| nac-rz |" in out
    published = out[out.index("Published ("):]  # the published rows beside ours
    assert "| nau-no-rz | 0.0 | 0.1 | 0.2 | 0.4 |" in published and "| nac-rz | 0.1 | 0.2 | 0.3 | 0.6 |" in published
    assert "'sequential_mnist_sum_long_ablation'" in published
    with ResultsStore(results) as store:
        runs = {run.model: run for run in store.runs("trask2018-mnist")}
    assert runs["nac-rz"].config["train"]["unit_options"] == {"nac": {"regularizer_z": 1.0}}
    assert "regularizer_z" not in runs["nau-no-rz"].config["train"]["unit_options"]["nau"]
    assert "formula" in runs["nac-rz"].metrics and "formula" in runs["nau-no-rz"].metrics
