"""Recurrent tasks: shapes, ranges, and a and b as sums over time and subsets."""
import numpy as np
import pytest

from nalm.tasks import PRESETS, RecurrentTask, StaticTask, task_from_dict, task_to_dict

TASK = RecurrentTask(input_size=10, subset_ratio=0.3, overlap_ratio=0.34, length=7, extrapolation_length=70,
                     interpolation=[1, 2], extrapolation=[2, 6])


def test_sequences_have_the_lengths_and_ranges_of_each_split():
    rng = np.random.default_rng(0)
    train = TASK.sample(50, rng)
    test = TASK.sample(50, rng, extrapolation=True)
    assert train.shape == (50, 7, 10) and test.shape == (50, 70, 10)
    assert train.min() >= 1 and train.max() <= 2
    assert test.min() >= 2 and test.max() <= 6
    assert TASK.input_shape == (7, 10) and TASK.in_features == 10 and TASK.recurrent


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_a_and_b_sum_their_subsets_over_every_time_step(seed):
    x = TASK.sample(20, np.random.default_rng(seed))
    a_index, b_index = TASK.subsets(seed)
    layout = TASK.layout(seed)
    operands = TASK.totals_of(x) @ layout
    np.testing.assert_allclose(operands[:, 0], x[:, :, a_index].sum(axis=(1, 2)))
    np.testing.assert_allclose(operands[:, 1], x[:, :, b_index].sum(axis=(1, 2)))
    assert len(set(a_index) & set(b_index)) == TASK.overlap_size == 1


def test_per_step_layout_is_the_static_tasks():
    static = StaticTask(input_size=10, subset_ratio=0.3, overlap_ratio=0.34)
    for seed in range(5):
        np.testing.assert_array_equal(TASK.layout(seed), static.layout(seed))


def test_totals_drawn_in_chunks_equal_one_draw():
    whole = TASK.totals_of(TASK.sample(37, np.random.default_rng(3), extrapolation=True))
    chunked = TASK.totals(37, np.random.default_rng(3), extrapolation=True, chunk_elements=700 * 4)
    np.testing.assert_array_equal(chunked, whole)


def test_stored_config_round_trips_and_bad_lengths_are_refused():
    assert task_from_dict(task_to_dict(TASK)) == TASK
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="length must be a positive integer"):
            RecurrentTask(length=bad)
        with pytest.raises(ValueError, match="extrapolation_length must be a positive integer"):
            RecurrentTask(extrapolation_length=bad)


def test_preset_is_madsen_and_johansens_recurrent_dataset():
    task = PRESETS["madsen2020-recurrent"]()
    assert (task.input_size, task.subset_size, task.overlap_size) == (100, 25, 12)
    assert (task.length, task.extrapolation_length) == (10, 1000)
    assert task.interpolation == task.extrapolation  # longer sequences, same values
    assert task.interpolation.intervals == ((1.0, 2.0),)
