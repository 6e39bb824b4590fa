"""Recurrent populations: the training loop trains them like static ones; a NAC cell extrapolates
running sums to longer sequences, an LSTM does not."""
import numpy as np
import pytest

from nalm.tasks import RecurrentTask, presets
from nalm.train import Member, TrainConfig, train_population

RUNNING_SUM = RecurrentTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                            length=10, extrapolation_length=100)  # a + b = Σ_t (x_t0 + x_t1)


@pytest.mark.slow
def test_nac_cell_learns_a_running_sum_for_sequences_ten_times_longer_and_lstm_does_not():
    # One state holds the running sum. RMSprop, not Adam: the NAC's gradient shrinks
    # exponentially as its weights saturate toward 1, and Adam's long memory of the large
    # early gradients (β2 = 0.999) then stalls it for thousands of steps.
    config = TrainConfig(optimizer="rmsprop", lr=1e-2, iterations=3000, eval_every=500, eval_samples=256, hidden=1)
    members = [Member(seed, "add", RUNNING_SUM) for seed in range(2)]
    nac = train_population("nac", members, config)
    lstm = train_population("lstm", members, config.replace(hidden=4))
    target = 100 * 2 * 1.5  # mean of a + b on 100 steps of U[1, 2]
    for r in nac:  # measured: 0.11% and 0.17% error on 100 steps
        assert not r.diverged
        assert r.metrics["interpolation_mae"] < 0.05
        assert r.metrics["extrapolation_mae"] / target < 1e-2
    for r in lstm:
        assert r.metrics["interpolation_mae"] < 1.0  # it fits 10-step sums (about 30)...
        assert r.metrics["extrapolation_mae"] / target > 0.5  # ...but not 100-step ones


@pytest.mark.parametrize("model", ["nac", "nau/nmu", "lstm"])
def test_member_of_a_recurrent_population_matches_the_same_seed_trained_alone(model):
    task = RecurrentTask(input_size=6, length=4, extrapolation_length=12)
    config = TrainConfig(iterations=40, eval_every=20, eval_samples=16, batch_size=16, dtype="float64")
    members = [Member(seed, target, task) for seed in range(4) for target in ("add", "mul")]
    population = train_population(model, members, config)
    for index in (0, 5):
        alone = train_population(model, [members[index]], config)[0]
        for name, value in alone.weights.items():
            np.testing.assert_allclose(population[index].weights[name], value, rtol=0, atol=1e-10)
        assert population[index].curve == alone.curve


def test_recurrent_and_static_tasks_do_not_mix():
    members = [Member(0, "add", RUNNING_SUM), Member(0, "add", presets.mistry2022("[1,2]", "[2,6]"))]
    with pytest.raises(ValueError, match="cannot mix recurrent and static"):
        train_population("nac", members, TrainConfig(iterations=1, eval_samples=4))
    other_length = RecurrentTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, length=5)
    with pytest.raises(ValueError, match="different shapes"):
        train_population("nac", [members[0], Member(1, "add", other_length)], TrainConfig(iterations=1, eval_samples=4))
