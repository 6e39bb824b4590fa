"""Error against sequence length: exact recurrent units stay exact, inexact ones drift."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nalm.report.lengths import error_by_length, plot_lengths, relative_errors
from nalm.tasks import RecurrentTask, task_to_dict
from nalm.train import TrainConfig
from nalm.units import build_model

TASK = RecurrentTask(input_size=6, subset_ratio=0.5, overlap_ratio=0.0, placement="first", extrapolation_length=50)
LENGTHS = (1, 10, 100)


def nau_nmu_run(seed: int, recurrent_weight: float) -> SimpleNamespace:
    """A stored-run stand-in: a NAU cell summing a and b (state kept with ``recurrent_weight``)
    under an NMU that multiplies them."""
    net = build_model("nau/nmu", 6, 1, hidden=2, recurrent=True)
    cell = torch.zeros(2, 8)
    cell[:, :6] = torch.as_tensor(TASK.layout(seed).T)
    cell[0, 6] = cell[1, 7] = recurrent_weight
    weights = {"cell.W": cell.numpy(), "output.W": np.ones((1, 2), dtype=np.float32)}
    net.load_state_dict({k: torch.as_tensor(v) for k, v in weights.items()})
    config = {"train": TrainConfig(hidden=2).to_dict(), "task": task_to_dict(TASK)}
    return SimpleNamespace(model="nau/nmu", target="mul", seed=seed, weights=weights, config=config)


def test_exact_units_stay_exact_and_a_leaky_state_drifts_with_length():
    exact, leaky = relative_errors([nau_nmu_run(0, 1.0), nau_nmu_run(1, 0.9)], LENGTHS)
    assert exact.max() < 1e-5  # float32 weights, float64 evaluation
    assert leaky[0] < 1e-12 < leaky[1] < leaky[2]  # one step keeps no state; longer sums leak more
    assert leaky[2] > 0.5


def test_curves_are_per_model_and_target_and_independent_of_neighbours(tmp_path):
    runs = [nau_nmu_run(seed, 0.95) for seed in range(3)]
    alone = relative_errors(runs[1:2], LENGTHS)
    together = relative_errors(runs, LENGTHS)
    np.testing.assert_array_equal(together[1], alone[0])
    errors = error_by_length(runs, LENGTHS)
    assert list(errors) == [("nau/nmu", "mul")]
    np.testing.assert_array_equal(errors["nau/nmu", "mul"], np.median(together, axis=0))
    pytest.importorskip("matplotlib")
    paths = plot_lengths(errors, LENGTHS, 10, tmp_path / "lengths", "demo")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)


def test_each_length_has_its_own_draws():
    # a length's sequences are the draws of its own step: they do not depend on the lengths beside it
    runs = [nau_nmu_run(seed, 0.95) for seed in range(2)]
    np.testing.assert_array_equal(relative_errors(runs, (100,)), relative_errors(runs, LENGTHS)[:, 2:])


@pytest.mark.slow  # 3 s of drawing
def test_the_length_figure_is_the_same_bytes_when_drawn_again(tmp_path):
    pytest.importorskip("matplotlib")
    errors = {("nau/nmu", "mul"): np.array([1e-6, 1e-3, 1.0]), ("nac/nac", "add"): np.array([1e-7, 1e-7, 1e-6])}
    first = plot_lengths(errors, LENGTHS, 10, tmp_path / "a" / "lengths", "demo")
    second = plot_lengths(errors, LENGTHS, 10, tmp_path / "b" / "lengths", "demo")
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
