"""BoundedDistributionTask: Mistry et al.'s truncated normals (mean and std set apart from the range)
and Benford integers (bmistry4/nalm-division@61fa973 stable_nalu/dataset/_simple_function_abstact.py:151-189)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.stats import truncnorm

from nalm.philox import Draws
from nalm.tasks import BoundedDistributionTask, DistributionTask, task_from_dict, task_to_dict
from nalm.tasks.distributions import BENFORD

NORMALS = [  # sltr-distributions-in2.sh:17-19: (range, mean, std) of each side of its three truncated-normal settings
    ("[-5,10]", -1.0, 3.0), ("[-15,-5]", -10.0, 3.0), ("[-10,5]", 1.0, 3.0), ("[5,15]", 10.0, 3.0),
    ("[-5,5]", 0.0, 1.0), ("[5,15]", 10.0, 1.0),
]


@pytest.mark.parametrize("values, mean, std", NORMALS)
def test_truncated_normal_has_the_references_moments_and_bounds(values, mean, std):
    task = BoundedDistributionTask("truncated-normal", values, values, interpolation_mean=mean, interpolation_std=std,
                                   extrapolation_mean=0.0, extrapolation_std=1.0)
    x = task.sample(200_000, Draws(seed=3, stream=1)).ravel()
    (low, high), = task.interpolation.intervals
    reference = truncnorm((low - mean) / std, (high - mean) / std, loc=mean, scale=std)  # the reference's truncnorm.rvs
    assert low <= x.min() and x.max() <= high
    assert x.mean() == pytest.approx(reference.mean(), abs=4 * reference.std() / np.sqrt(x.size))
    assert x.var() == pytest.approx(reference.var(), rel=0.02)
    assert abs(np.median(x) - reference.median()) < 0.02 * std


def test_each_range_takes_its_own_normal():
    task = BoundedDistributionTask("truncated-normal", "[-5,5]", "[5,15]", interpolation_mean=0.0, interpolation_std=1.0,
                                   extrapolation_mean=10.0, extrapolation_std=1.0)
    train, test = (task.sample(50_000, Draws(seed=0, stream=1), extrapolation=e) for e in (False, True))
    assert abs(train.mean()) < 0.02 and abs(test.mean() - 10.0) < 0.02 and abs(test.std() - 1.0) < 0.02
    # nalm's DistributionTask centres a normal on its range with std (high - low) / 6 (here 1.67): not the reference's
    assert DistributionTask("truncated-normal", "[-5,5]", "[5,15]").sample(
        50_000, Draws(seed=0, stream=1), extrapolation=True).std() > 1.5


@pytest.mark.parametrize("values, k", [("[10,100]", 1), ("[100,1000]", 2)])
def test_benford_follows_the_leading_digit_law_and_the_references_values(values, k):
    task = BoundedDistributionTask("benford", values, values)
    x = task.sample(200_000, Draws(seed=5, stream=1)).ravel()
    assert np.array_equal(x, np.round(x))
    digit, rest = x // 10 ** k, x % 10 ** k
    # the reference: first digit d with P = BENFORD_PERCENTAGES, then o = randint(low/10, high/10) appended
    assert set(np.unique(digit)) == set(range(1, 10))
    assert set(np.unique(rest)) == set(range(10 ** (k - 1), 10 ** k))
    shares = np.bincount(digit.astype(int), minlength=10)[1:] / x.size
    assert np.abs(shares - np.array(BENFORD)).max() < 0.004
    assert np.allclose(BENFORD, np.log10(1 + 1 / np.arange(1, 10)), atol=5e-4)  # Benford's law, to three places
    for d in (1, 9):  # o uniform whatever d
        counts = np.bincount(rest[digit == d].astype(int))[10 ** (k - 1):]
        assert np.abs(counts - counts.mean()).max() < 5 * np.sqrt(counts.mean())


def test_a_value_depends_only_on_its_draw():
    task = BoundedDistributionTask("benford", "[10,100]", "[100,1000]")
    many, few = task.sample(1000, Draws(seed=9, stream=2)), task.sample(10, Draws(seed=9, stream=2))
    assert np.array_equal(many[:10], few)


def test_stored_and_refused():
    task = BoundedDistributionTask("truncated-normal", "[-5,10]", "[-15,-5]", interpolation_mean=-1.0,
                                   interpolation_std=3.0, extrapolation_mean=-10.0, extrapolation_std=3.0)
    assert task_from_dict(task_to_dict(task)) == task and hash(task_from_dict(task_to_dict(task))) == hash(task)
    # schlor2020's tasks keep their stored fields
    assert [f.name for f in dataclasses.fields(DistributionTask)] == ["distribution", "interpolation", "extrapolation",
                                                                       "train_samples"]
    with pytest.raises(ValueError, match="positive std"):
        BoundedDistributionTask("truncated-normal", "[-5,5]", "[5,15]", interpolation_mean=0.0, interpolation_std=0.0,
                                extrapolation_mean=10.0, extrapolation_std=1.0)
    with pytest.raises(ValueError, match="have none|has none"):
        BoundedDistributionTask("benford", "[10,100]", "[100,1000]", interpolation_mean=1.0)
    with pytest.raises(ValueError, match=r"10\^k"):
        BoundedDistributionTask("benford", "[10,50]", "[100,1000]")
    with pytest.raises(ValueError, match="one of"):
        BoundedDistributionTask("exponential", "[0,1]", "[1,2]")
    with pytest.raises(ValueError, match="one of"):
        DistributionTask("benford", "[10,100]", "[100,1000]")


def test_ten_inputs_place_a_and_b_as_the_static_task_does():
    from nalm.tasks import StaticTask

    task = BoundedDistributionTask("benford", "[10,100]", "[100,1000]", input_size=10)
    static = StaticTask(input_size=10, subset_ratio=0.1, overlap_ratio=0.0, placement="random")
    assert all(np.array_equal(task.layout(seed), static.layout(seed)) for seed in range(10))
    x = task.sample(1000, Draws(seed=1, stream=1))
    assert x.shape == (1000, 10) and x.min() >= 11 and x.max() <= 99
    assert task_from_dict(task_to_dict(task)) == task
    with pytest.raises(ValueError, match="input_size"):
        BoundedDistributionTask("benford", "[10,100]", "[100,1000]", input_size=1)
