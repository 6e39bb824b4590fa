"""Recurrent tasks: shapes, ranges, and a and b as sums over time and subsets."""
import numpy as np
import pytest

from nalm.tasks import PRESETS, Draws, RecurrentTask, StaticTask, task_from_dict, task_to_dict
from nalm.streams import EXTRAPOLATION, INTERPOLATION, TRAIN

TASK = RecurrentTask(input_size=10, subset_ratio=0.3, overlap_ratio=0.34, length=7, extrapolation_length=70,
                     interpolation=[1, 2], extrapolation=[2, 6])


def test_sequences_have_the_lengths_and_ranges_of_each_split():
    train = TASK.sample(50, Draws(0, TRAIN))
    test = TASK.sample(50, Draws(0, EXTRAPOLATION), extrapolation=True)
    assert train.shape == (50, 7, 10) and test.shape == (50, 70, 10)
    assert train.min() >= 1 and train.max() <= 2
    assert test.min() >= 2 and test.max() <= 6
    assert TASK.input_shape == (7, 10) and TASK.in_features == 10 and TASK.recurrent


@pytest.mark.parametrize("seed", [0, 1, 5])
def test_a_and_b_sum_their_subsets_over_every_time_step(seed):
    x = TASK.sample(20, Draws(seed, INTERPOLATION))
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
    draws = Draws(3, EXTRAPOLATION)
    x = TASK.sample(37, draws, extrapolation=True)
    chunked = TASK.totals(37, draws, extrapolation=True, chunk_elements=700 * 4)  # chunks of 4 sequences
    np.testing.assert_array_equal(chunked, TASK.totals_of(x))
    # from a later row on, too: the chunks' rows add to the draws' own
    later = TASK.totals(20, draws.rows(11), extrapolation=True, chunk_elements=700 * 3)
    np.testing.assert_array_equal(later, TASK.totals_of(x[11:31]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequence_i_is_row_i_of_the_draws(dtype):
    draws = Draws(2 ** 40 + 1, TRAIN, step=9)
    whole = TASK.sample(12, draws, dtype=dtype)
    assert whole.dtype == dtype
    np.testing.assert_array_equal(TASK.sample(5, draws.rows(7), dtype=dtype), whole[7:])
    assert not np.array_equal(TASK.sample(12, Draws(2 ** 40 + 1, TRAIN, step=10), dtype=dtype), whole)


def test_stored_config_round_trips_and_bad_lengths_are_refused():
    assert task_from_dict(task_to_dict(TASK)) == TASK
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="length must be a positive integer"):
            RecurrentTask(length=bad)
        with pytest.raises(ValueError, match="extrapolation_length must be a positive integer"):
            RecurrentTask(extrapolation_length=bad)


def test_madsen2020_recurrent_is_stable_nalus_last_running_dataset():
    # stable-nalu c434f99: vector_size 10, U[1, 2) at every step, 10 and 1000 steps.
    task = PRESETS["madsen2020-recurrent"]()
    assert task.input_size == 10 and task.placement == "ranges"
    assert (task.length, task.extrapolation_length) == (10, 1000)
    assert task.interpolation == task.extrapolation  # longer sequences, same values
    assert task.interpolation.intervals == ((1.0, 2.0),)


def test_ranges_placement_draws_each_subset_as_a_range_of_random_start_and_length():
    # _simple_function_abstact.py:52-60: start ~ U{0..d-1}, length ~ U{1..d-start}, a and b
    # independent. Over 4000 seeds: every (start, length) pair occurs, with P(start = s) = 1/10
    # and, given the start, uniform lengths; a and b are disjoint, overlap or nest.
    task = PRESETS["madsen2020-recurrent"]()
    counts = np.zeros((10, 11))
    relations = set()
    for seed in range(4000):
        a, b = task.subsets(seed)
        for subset in (a, b):
            np.testing.assert_array_equal(subset, np.arange(subset[0], subset[0] + len(subset)))
            counts[subset[0], len(subset)] += 1
        shared = len(set(a) & set(b))
        relations.add("disjoint" if shared == 0 else "nested" if shared in (len(a), len(b)) else "overlap")
        np.testing.assert_array_equal(task.layout(seed).sum(axis=0), [len(a), len(b)])
    assert relations == {"disjoint", "nested", "overlap"}
    for start in range(10):
        row = counts[start, 1:11 - start]
        assert (row > 0).all() and not counts[start, 11 - start:].any()
        assert abs(row.sum() / 8000 - 0.1) < 0.02
        assert abs(row / row.sum() * len(row) - 1).max() < 0.5  # about 80 draws per length


def test_ranges_placement_ignores_the_ratios_and_round_trips():
    task = RecurrentTask(input_size=3, subset_ratio=1.0, overlap_ratio=0.0, placement="ranges")
    assert task_from_dict(task_to_dict(task)) == task
    assert "random start and length" in task.describe()
    with pytest.raises(ValueError, match="placement must be one of"):
        RecurrentTask(placement="range")


def test_nalm_recurrent_100_is_nalms_own_hundred_input_design():
    task = PRESETS["nalm-recurrent-100"]()
    assert (task.input_size, task.subset_size, task.overlap_size, task.placement) == (100, 25, 12, "random")
    assert (task.length, task.extrapolation_length) == (10, 1000)
    assert task.interpolation == task.extrapolation and task.interpolation.intervals == ((1.0, 2.0),)
