"""Tests for nalm.tasks.presets against the protocols in shared/PROTOCOLS.md (2.2-2.4).

The expected Mistry et al. (2022) range pairs are copied here from the protocol text, so a
typo in MISTRY2022_RANGES fails the test.
"""

import numpy as np
import pytest

from nalm.tasks import MISTRY2022_RANGES, PRESETS, TARGETS, Draws, PoolTask, Range, StaticTask
from nalm.tasks.presets import blog, madsen2020, mistry2022, mistry2022_ranges, trask2018
from nalm.streams import EXTRAPOLATION, INTERPOLATION

# PROTOCOLS.md 2.4, in the benchmark's order.
PROTOCOL_PAIRS = [
    ([[-20, -10]], [[-40, -20]]),
    ([[-2, -1]], [[-6, -2]]),
    ([[-1.2, -1.1]], [[-6.1, -1.2]]),
    ([[-0.2, -0.1]], [[-2, -0.2]]),
    ([[-2, 2]], [[-6, -2], [2, 6]]),
    ([[0.1, 0.2]], [[0.2, 2]]),
    ([[1, 2]], [[2, 6]]),
    ([[1.1, 1.2]], [[1.2, 6]]),
    ([[10, 20]], [[20, 40]]),
]


def test_preset_names():
    assert set(PRESETS) == {"blog", "trask2018", "madsen2020", "mistry2022", "madsen2020-recurrent",
                            "nalm-recurrent-100"}
    assert PRESETS["madsen2020"]() == madsen2020()
    assert PRESETS["blog"]() == blog()
    assert PRESETS["trask2018"]() == trask2018()
    assert PRESETS["mistry2022"]() == mistry2022_ranges()


# --------------------------------------------------------------------------- madsen2020


def test_madsen2020_protocol():
    task = madsen2020()
    assert isinstance(task, StaticTask)
    assert task.input_size == 100
    assert task.interpolation == Range.parse([1, 2])
    assert task.extrapolation == Range.parse([2, 6])
    assert task.train_samples is None  # a fresh batch every step


@pytest.mark.parametrize("seed", range(12))
def test_madsen2020_seeds_give_25_overlapping_by_12(seed):
    task = madsen2020()
    a, b = task.subsets(seed)
    assert len(a) == len(b) == 25
    assert np.all(np.diff(a) == 1) and np.all(np.diff(b) == 1)
    assert len(np.intersect1d(a, b)) == 12
    assert len(np.union1d(a, b)) == 38
    assert a.min() >= 0 and b.max() <= 99
    layout = task.layout(seed)
    assert (layout[:, 0] * layout[:, 1]).sum() == 12


def test_madsen2020_offsets_vary():
    offsets = {int(madsen2020().subsets(s)[0][0]) for s in range(20)}
    assert len(offsets) >= 8


# --------------------------------------------------------------------------- blog / trask2018


def test_blog_protocol():
    task = blog()
    assert isinstance(task, PoolTask)
    assert (task.pool_size, task.terms, task.train_samples) == (100, 5, 500)
    assert task.interpolation == Range.parse([5, 10])
    v = task.pool(0, False)
    x = task.sample(200, Draws(0, INTERPOLATION))
    assert x.shape == (200, 2)
    lo, hi = np.sort(v)[:5].sum(), np.sort(v)[-5:].sum()
    assert np.all((x >= lo - 1e-9) & (x <= hi + 1e-9))


def test_trask2018_protocol():
    task = trask2018()
    assert isinstance(task, StaticTask)
    assert task.input_size == 100 and task.placement == "scattered"
    for seed in range(4):
        a, b = task.subsets(seed)
        assert len(a) == len(b) == 25
        assert len(np.unique(a)) == len(np.unique(b)) == 25
    assert task.interpolation == Range.parse([0, 1])
    assert task.extrapolation == Range.parse([1, 5])


# --------------------------------------------------------------------------- mistry2022


def test_mistry2022_ranges_constant_matches_protocol():
    assert len(MISTRY2022_RANGES) == 9
    parsed = [(Range.parse(i).to_list(), Range.parse(e).to_list()) for i, e in MISTRY2022_RANGES]
    expected = [(Range.parse(i).to_list(), Range.parse(e).to_list()) for i, e in PROTOCOL_PAIRS]
    assert parsed == expected


def test_mistry2022_ranges_gives_nine_tasks_in_order():
    tasks = mistry2022_ranges()
    assert len(tasks) == 9
    for task, (interp, extrap) in zip(tasks, PROTOCOL_PAIRS):
        assert isinstance(task, StaticTask)
        assert task.input_size == 2 and task.in_features == 2
        assert task.interpolation == Range.parse(interp)
        assert task.extrapolation == Range.parse(extrap)


@pytest.mark.parametrize("index", range(9))
def test_mistry2022_a_is_x0_and_b_is_x1(index):
    task = mistry2022_ranges()[index]
    for seed in (0, 1, 17):
        a, b = task.subsets(seed)
        assert a.tolist() == [0] and b.tolist() == [1]
        np.testing.assert_array_equal(task.layout(seed), np.eye(2))
    x = task.sample(1000, Draws(5, INTERPOLATION))
    ab = x @ task.layout(5)
    np.testing.assert_array_equal(ab, x)  # a = x[0], b = x[1]
    for name, op in TARGETS.items():
        if name == "sqrt" and x[:, 0].min() < 0:
            continue
        np.testing.assert_allclose(op(ab[:, 0], ab[:, 1]), op(x[:, 0], x[:, 1]))


@pytest.mark.parametrize("index", range(9))
def test_mistry2022_samples_lie_in_their_ranges(index):
    task = mistry2022_ranges()[index]
    (interp,), extrap = PROTOCOL_PAIRS[index]
    xi = task.sample(5000, Draws(0, INTERPOLATION))
    xe = task.sample(5000, Draws(0, EXTRAPOLATION), extrapolation=True)
    assert np.all((xi >= interp[0]) & (xi <= interp[1]))
    in_e = np.zeros(xe.shape, bool)
    for lo, hi in extrap:
        in_e |= (xe >= lo) & (xe <= hi)
    assert in_e.all()
    # both operands come from the range independently
    assert abs(np.corrcoef(xi[:, 0], xi[:, 1])[0, 1]) < 0.05


@pytest.mark.parametrize("index", range(9))
def test_mistry2022_extrapolation_does_not_enter_the_training_interior(index):
    (interp,), extrap = PROTOCOL_PAIRS[index]
    for lo, hi in extrap:
        assert hi <= interp[0] or lo >= interp[1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mistry2022_symmetric_pair_never_samples_inside_the_gap(dtype):
    task = mistry2022("[-2,2]", "[-6,-2]U[2,6]")
    assert task == mistry2022_ranges()[4]
    xe = task.sample(50_000, Draws(1, EXTRAPOLATION), extrapolation=True, dtype=dtype)
    assert xe.dtype == dtype
    assert not np.any((xe > -2) & (xe < 2))
    assert np.all(np.abs(xe) <= 6)
    assert (xe < 0).mean() == pytest.approx(0.5, abs=0.01)
    xi = task.sample(50_000, Draws(1, INTERPOLATION), dtype=dtype)
    assert np.all(np.abs(xi) <= 2)
    assert ((xi > -1) & (xi < 1)).mean() == pytest.approx(0.5, abs=0.01)
