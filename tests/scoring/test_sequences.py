"""Tests for nalm.scoring.sequences: the sequential-MNIST success bound is built, as the
reference's, from the solved model's seeds that solved the task, with qt(0.99, n - 1) over them."""
import numpy as np
import pytest

from nalm.experiments.trask2018_mnist import unit_options
from nalm.report.sequences import render_lengths, summarize_lengths
from nalm.results import RunRecord
from nalm.scoring import sequences
from nalm.scoring.sequences import solved_runs, solving_runs, thresholds

QT_99 = {3: 4.540703, 5: 3.364930}  # R: qt(0.99, df)


def run(model, seed, mse: dict, target="prod", diverged=False) -> RunRecord:
    metrics = {f"mse_{n}": v for n, v in mse.items()}
    metrics.update({f"mae_{n}": 1.0 for n in mse} | {f"relative_mae_{n}": 1.0 for n in mse}
                   | {f"accuracy_{n}": 0.5 for n in mse})
    return RunRecord("trask2018-mnist", model, target, seed, {"task": {"test_lengths": sorted(mse)}}, {}, metrics,
                     {}, {}, diverged=diverged)


def test_a_solved_seed_that_reads_digits_as_their_negatives_is_left_out_of_the_bound():
    # Seeds 0-3 read the digits; seed 4 reads each as its negative: right on sequences of two
    # (the product's training length), off by 2d on one digit.
    good = [run("solved", s, {1: v, 2: 10 * v}) for s, v in enumerate([1.0, 1.2, 0.8, 1.1])]
    flipped = run("solved", 4, {1: 120.0, 2: 10.5})
    assert solving_runs(good + [flipped], "prod") == good
    bound = thresholds(good + [flipped], "prod")
    values = np.array([1.0, 1.2, 0.8, 1.1])
    expected = values.mean() + QT_99[3] * values.std(ddof=1) / np.sqrt(4)
    assert bound[1] == pytest.approx(expected, rel=1e-6) and bound[2] == pytest.approx(10 * expected, rel=1e-6)
    # An NMU run between the two bounds fails against the kept seeds' bound (all five seeds' would pass it).
    nmu = run("nmu", 0, {1: 1.5, 2: 15.0})
    assert bound[1] < 1.5 < np.mean([1.0, 1.2, 0.8, 1.1, 120.0])  # all five's bound lies above their mean
    cells = {(c.model, c.length): c for c in summarize_lengths(good + [flipped, nmu])}
    assert cells[("nmu", 1)].successes == 0 and cells[("nmu", 2)].successes == 0
    assert (cells[("nmu", 1)].bound.kept, cells[("nmu", 1)].bound.solved) == (4, 5)
    assert cells[("nmu", 1)].bound is cells[("solved", 2)].bound  # one per target
    assert "threshold from the 4 of its 5 seeds that solved the task" in render_lengths(list(cells.values()))


def test_the_bound_is_found_once_per_target(monkeypatch):
    calls = []
    monkeypatch.setattr(sequences, "solved_runs", lambda runs, target: calls.append(target) or solved_runs(runs, target))
    runs = [run("solved", s, {1: v}, target=t) for t in ("sum", "prod") for s, v in enumerate([1.0, 1.2, 0.8])]
    cells = summarize_lengths(runs + [run("nmu", 0, {1: 1.1}, target="sum")])
    assert calls == ["sum", "prod"]
    assert [cell.successes for cell in cells] == [3, 1, 3]


def test_every_seed_within_an_order_of_magnitude_is_kept_and_the_quantile_follows_their_count():
    values = [1.0, 1.3, 0.7, 2.0, 9.0, 0.9]  # 9.0 is within 10 times the median
    solved = [run("solved", s, {1: v}, target="sum") for s, v in enumerate(values)]
    solved.append(run("solved", 6, {1: 1.0}, target="sum", diverged=True))
    solved.append(run("solved", 7, {1: float("nan")}, target="sum"))  # not finite: did not solve it
    assert [r.seed for r in solving_runs(solved, "sum")] == [0, 1, 2, 3, 4, 5]
    expected = np.mean(values) + QT_99[5] * np.std(values, ddof=1) / np.sqrt(6)
    assert thresholds(solved, "sum")[1] == pytest.approx(expected, rel=1e-6)
    # One seed left is no bound.
    assert thresholds(solved[:1] + solved[-1:], "sum") == {}


@pytest.mark.parametrize("iterations, start, end", [(1500, 150.0, 1500.0), (100_000, 10_000.0, 100_000.0),
                                                    (388_000, 10_000.0, 100_000.0)])
def test_the_mnist_regularizer_ramps_from_step_10k_to_100k_as_the_reference_and_over_a_shorter_run_alike(
        iterations, start, end):
    options = unit_options("nmu", "prod", iterations)["nmu"]
    assert (options["regularizer_start"], options["regularizer_end"]) == (start, end)
