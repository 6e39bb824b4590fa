"""Tests for nalm.tasks.static: StaticTask, PoolTask, TARGETS, check_target, task_to_dict.

Every check recomputes the mathematical property from the samples (subset sums, target
formulas, pool sums) instead of trusting the generator.
"""

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
import torch

from nalm.tasks import (TARGETS, Draws, PoolTask, Range, StaticTask, check_target, stream, task_from_dict,
                        task_to_dict)
from nalm.streams import EXTRAPOLATION, EXTRAPOLATION_POOL, INTERPOLATION, LAYOUT, POOL, THRESHOLD, TRAIN

SEEDS = range(20)


# --------------------------------------------------------------------------- StaticTask subsets


def test_madsen_defaults():
    task = StaticTask()
    assert (task.input_size, task.in_features) == (100, 100)
    assert (task.subset_size, task.overlap_size, task.span) == (25, 12, 38)
    assert task.placement == "random"
    assert task.interpolation == Range.parse([1, 2])
    assert task.extrapolation == Range.parse([2, 6])
    assert task.train_samples is None


@pytest.mark.parametrize("seed", SEEDS)
def test_random_subsets_are_contiguous_25_overlapping_by_12(seed):
    a, b = StaticTask().subsets(seed)
    assert len(a) == len(b) == 25
    assert len(set(a.tolist())) == len(set(b.tolist())) == 25
    assert np.all(np.diff(a) == 1) and np.all(np.diff(b) == 1)  # contiguous, sorted
    assert len(set(a.tolist()) & set(b.tolist())) == 12
    assert b[0] == a[0] + 13  # b starts where a's last 12 begin
    assert 0 <= a.min() and max(a.max(), b.max()) < 100
    assert np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)


def test_random_offset_is_deterministic_per_seed_and_varies_across_seeds():
    task = StaticTask()
    offsets = [int(task.subsets(s)[0][0]) for s in SEEDS]
    assert offsets == [int(StaticTask().subsets(s)[0][0]) for s in SEEDS]
    assert len(set(offsets)) >= 8  # 63 possible offsets over 20 seeds
    for s in (0, 5):
        a1, b1 = task.subsets(s)
        a2, b2 = task.subsets(s)
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(b1, b2)


def test_random_offsets_cover_the_allowed_range():
    task = StaticTask()
    offsets = [int(task.subsets(s)[0][0]) for s in range(400)]
    assert min(offsets) == 0 and max(offsets) == 100 - 38  # every span position 0..62 is allowed
    assert len(set(offsets)) > 50


def test_first_placement_starts_at_zero():
    task = StaticTask(placement="first")
    for seed in (0, 1, 7):
        a, b = task.subsets(seed)
        np.testing.assert_array_equal(a, np.arange(0, 25))
        np.testing.assert_array_equal(b, np.arange(13, 38))


@pytest.mark.parametrize("input_size, subset_ratio, overlap_ratio", [
    (10, 0.3, 0.0), (10, 0.5, 0.0), (10, 0.5, 1.0), (7, 0.4, 0.5), (1000, 0.1, 0.25), (3, 0.01, 0.5),
])
def test_subset_sizes_follow_the_ratios(input_size, subset_ratio, overlap_ratio):
    task = StaticTask(input_size=input_size, subset_ratio=subset_ratio, overlap_ratio=overlap_ratio)
    k = max(1, math.floor(subset_ratio * input_size))
    overlap = math.floor(overlap_ratio * k)
    for seed in range(5):
        a, b = task.subsets(seed)
        assert len(a) == len(b) == k
        assert len(set(a.tolist()) & set(b.tolist())) == overlap
        assert 0 <= min(a.min(), b.min()) and max(a.max(), b.max()) < input_size


@pytest.mark.parametrize("seed", range(6))
def test_scattered_subsets(seed):
    task = StaticTask(placement="scattered", subset_ratio=0.25)
    a, b = task.subsets(seed)
    for s in (a, b):
        assert len(s) == 25
        assert len(np.unique(s)) == 25
        assert np.all(np.diff(s) > 0)  # sorted, distinct
        assert 0 <= s.min() and s.max() < 100
    a2, b2 = task.subsets(seed)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)


def test_scattered_subsets_are_not_contiguous_and_vary():
    task = StaticTask(placement="scattered")
    layouts = [tuple(task.subsets(s)[0].tolist()) for s in range(10)]
    assert len(set(layouts)) == 10
    assert not all(np.all(np.diff(np.array(l)) == 1) for l in layouts)
    # a and b are drawn independently
    assert any(not np.array_equal(*task.subsets(s)) for s in range(10))


@pytest.mark.parametrize("placement", ["random", "first", "scattered"])
def test_layout_columns_are_subset_masks(placement):
    task = StaticTask(placement=placement)
    for seed in (0, 3, 11):
        layout = task.layout(seed)
        a, b = task.subsets(seed)
        assert layout.shape == (100, 2)
        assert set(np.unique(layout).tolist()) <= {0.0, 1.0}
        mask_a = np.zeros(100)
        mask_a[a] = 1
        mask_b = np.zeros(100)
        mask_b[b] = 1
        np.testing.assert_array_equal(layout[:, 0], mask_a)
        np.testing.assert_array_equal(layout[:, 1], mask_b)
        assert layout[:, 0].sum() == 25 and layout[:, 1].sum() == 25


# --------------------------------------------------------------------------- StaticTask samples


@pytest.mark.parametrize("placement", ["random", "first", "scattered"])
def test_x_at_layout_is_the_subset_sums(placement):
    task = StaticTask(placement=placement)
    seed = 4
    a_idx, b_idx = task.subsets(seed)
    x = task.sample(500, Draws(seed, TRAIN))
    assert x.shape == (500, 100)
    ab = x @ task.layout(seed)
    np.testing.assert_allclose(ab[:, 0], x[:, a_idx].sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(ab[:, 1], x[:, b_idx].sum(axis=1), rtol=1e-12)
    # 25 terms from U[1, 2]
    assert np.all((ab >= 25) & (ab <= 50))
    assert ab.mean() == pytest.approx(25 * 1.5, rel=0.01)


def test_madsen_layout_sums_by_slices():
    task = StaticTask()
    seed = 9
    a_idx, _ = task.subsets(seed)
    start = int(a_idx[0])
    x = task.sample(100, Draws(0, TRAIN))
    ab = x @ task.layout(seed)
    np.testing.assert_allclose(ab[:, 0], x[:, start:start + 25].sum(1), rtol=1e-12)
    np.testing.assert_allclose(ab[:, 1], x[:, start + 13:start + 38].sum(1), rtol=1e-12)


_FORMULAS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a, b: a * a,
    "sqrt": lambda a, b: np.sqrt(a),
    "identity": lambda a, b: a,
    "reciprocal": lambda a, b: 1.0 / a,
}


def test_target_names():
    assert set(TARGETS) == set(_FORMULAS)


@pytest.mark.parametrize("name", sorted(_FORMULAS))
def test_targets_match_formulas_on_task_samples(name):
    task = StaticTask()
    seed = 2
    x = task.sample(300, Draws(seed, INTERPOLATION))
    ab = x @ task.layout(seed)
    a, b = ab[:, 0], ab[:, 1]
    got = TARGETS[name](a, b)
    np.testing.assert_allclose(got, _FORMULAS[name](a, b), rtol=1e-12)
    # and on torch tensors
    ta, tb = torch.tensor(a), torch.tensor(b)
    got_t = TARGETS[name](ta, tb)
    assert isinstance(got_t, torch.Tensor)
    np.testing.assert_allclose(got_t.numpy(), _FORMULAS[name](a, b), rtol=1e-12)


def test_targets_on_known_values():
    a, b = np.array([3.0, -2.0, 9.0]), np.array([4.0, 5.0, 0.5])
    np.testing.assert_allclose(TARGETS["add"](a, b), [7.0, 3.0, 9.5])
    np.testing.assert_allclose(TARGETS["sub"](a, b), [-1.0, -7.0, 8.5])
    np.testing.assert_allclose(TARGETS["mul"](a, b), [12.0, -10.0, 4.5])
    np.testing.assert_allclose(TARGETS["div"](a, b), [0.75, -0.4, 18.0])
    np.testing.assert_allclose(TARGETS["square"](a, b), [9.0, 4.0, 81.0])
    np.testing.assert_allclose(TARGETS["sqrt"](np.array([4.0, 0.25]), None), [2.0, 0.5])
    np.testing.assert_allclose(TARGETS["reciprocal"](a, None), [1 / 3, -0.5, 1 / 9])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sqrt_target_is_each_librarys_sqrt(dtype):
    """On numpy arrays numpy's sqrt, bit for bit (the compiled kernels': tests/train/test_kernels.py);
    on tensors PyTorch's, which takes -0, -inf and negatives as numpy does (not as pow) and is
    within an ulp elsewhere (its vectorized sqrt on the CPU is not always correctly rounded)."""
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, np.finfo(dtype).smallest_subnormal], dtype=dtype)
    a = np.concatenate([special, np.exp(rng.uniform(-80, 80, 10_000)).astype(dtype)])
    bits = np.uint32 if dtype == np.float32 else np.uint64
    with np.errstate(invalid="ignore"):
        expected = np.sqrt(a)
        got = TARGETS["sqrt"](a, None)
    np.testing.assert_array_equal(got.view(bits), expected.view(bits))
    got_t = TARGETS["sqrt"](torch.from_numpy(a), None).numpy()
    np.testing.assert_array_equal(np.signbit(got_t[:2]), [False, True])  # √+0 = +0, √-0 = -0
    np.testing.assert_array_equal(np.isnan(got_t), np.isnan(expected))
    np.testing.assert_array_max_ulp(got_t[~np.isnan(got_t)], expected[~np.isnan(expected)], maxulp=1)


def test_interpolation_and_extrapolation_ranges():
    task = StaticTask()
    xi = task.sample(2000, Draws(0, INTERPOLATION))
    xe = task.sample(2000, Draws(0, EXTRAPOLATION), extrapolation=True)
    assert xi.min() >= 1 and xi.max() <= 2
    assert xe.min() >= 2 and xe.max() <= 6
    assert xi.mean() == pytest.approx(1.5, abs=0.01)
    assert xe.mean() == pytest.approx(4.0, abs=0.02)
    assert xe.min() < 2.01 and xe.max() > 5.99  # the whole extrapolation range is used
    assert xi.min() < 1.01 and xi.max() > 1.99


def test_sample_dtype():
    task = StaticTask()
    assert task.sample(5, Draws(0, TRAIN)).dtype == np.float64
    x = task.sample(5, Draws(0, TRAIN), dtype=np.float32)
    assert x.dtype == np.float32 and x.shape == (5, 100)


def test_same_seed_and_stream_give_identical_samples():
    task = StaticTask()
    for which, extra in ((TRAIN, False), (INTERPOLATION, False), (EXTRAPOLATION, True)):
        x1 = task.sample(50, Draws(3, which), extra)
        x2 = task.sample(50, Draws(3, which), extra)
        np.testing.assert_array_equal(x1, x2)
    # different seeds, and different streams of one seed, differ
    base = task.sample(50, Draws(3, TRAIN))
    assert not np.array_equal(base, task.sample(50, Draws(4, TRAIN)))
    assert not np.array_equal(base, task.sample(50, Draws(3, INTERPOLATION)))
    assert not np.array_equal(base, task.sample(50, Draws(3, LAYOUT)))


def test_sample_row_i_is_row_i_of_the_draws():
    # every value is a function of (seed, stream, step, row, column): a later row alone equals
    # that row of a larger draw, and another step gives other values
    task = StaticTask(extrapolation="[-6,-2]U[2,6]")
    draws = Draws(3, TRAIN, step=2 ** 33 + 5)
    for extrapolation, dtype in itertools.product((False, True), (np.float32, np.float64)):
        whole = task.sample(40, draws, extrapolation, dtype)
        np.testing.assert_array_equal(task.sample(15, draws.rows(25), extrapolation, dtype), whole[25:])
        np.testing.assert_array_equal(task.totals(40, draws, extrapolation), task.sample(40, draws, extrapolation))
    assert not np.array_equal(task.sample(40, draws), task.sample(40, Draws(3, TRAIN, step=5)))


def test_streams_of_a_seed_are_distinct():
    streams = (LAYOUT, TRAIN, INTERPOLATION, EXTRAPOLATION, POOL, EXTRAPOLATION_POOL, THRESHOLD)
    assert len(set(streams)) == len(streams)


def test_stream_is_a_pure_function_of_seed_and_which():
    np.testing.assert_array_equal(stream(5, 2).random(10), stream(5, 2).random(10))
    assert not np.array_equal(stream(5, 2).random(10), stream(2, 5).random(10))
    assert isinstance(stream(0, 0), np.random.Generator)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kwargs", [
    dict(subset_ratio=0.6, overlap_ratio=0.0),  # 60 + 60 > 100
    dict(subset_ratio=0.75, overlap_ratio=0.5),  # 2*75 - 37 = 113 > 100
    dict(input_size=2, subset_ratio=1.0, overlap_ratio=0.0, placement="first"),
    dict(input_size=10, subset_ratio=0.9, overlap_ratio=0.5),
])
def test_subsets_that_do_not_fit_raise(kwargs):
    with pytest.raises(ValueError, match="do not fit"):
        StaticTask(**kwargs)


def test_scattered_subsets_need_not_fit_side_by_side():
    task = StaticTask(placement="scattered", subset_ratio=0.8)
    a, b = task.subsets(0)
    assert len(a) == len(b) == 80


@pytest.mark.parametrize("kwargs", [
    dict(subset_ratio=0.0), dict(subset_ratio=-0.1), dict(subset_ratio=1.5),
    dict(overlap_ratio=-0.1), dict(overlap_ratio=1.01),
])
def test_bad_ratios_raise(kwargs):
    with pytest.raises(ValueError, match="ratio"):
        StaticTask(**kwargs)


@pytest.mark.parametrize("placement", ["middle", "", "Random", None])
def test_bad_placement_raises(placement):
    with pytest.raises(ValueError, match="placement"):
        StaticTask(placement=placement)


@pytest.mark.parametrize("size", [0, -1, 2.5, "100"])
def test_bad_input_size_raises(size):
    with pytest.raises(ValueError, match="input_size"):
        StaticTask(input_size=size)


@pytest.mark.parametrize("n", [0, -5])
def test_bad_train_samples_raise(n):
    with pytest.raises(ValueError, match="train_samples"):
        StaticTask(train_samples=n)


def test_bad_ranges_raise_at_construction():
    with pytest.raises(ValueError):
        StaticTask(interpolation="[2,1]")
    with pytest.raises(ValueError):
        StaticTask(extrapolation="garbage")
    with pytest.raises(ValueError):
        PoolTask(interpolation=[[1, 3], [2, 4]])


def test_ranges_are_parsed_at_construction():
    task = StaticTask(interpolation="[1,2]", extrapolation=[[-6, -2], [2, 6]])
    assert task.interpolation == Range(((1.0, 2.0),))
    assert task.extrapolation == Range(((-6.0, -2.0), (2.0, 6.0)))
    assert task == StaticTask(interpolation=[1, 2], extrapolation="[-6,-2]U[2,6]")
    hash(task)  # tasks are used as dictionary keys


def test_check_target():
    for name in _FORMULAS:
        check_target(name)  # no error
    with pytest.raises(ValueError) as info:
        check_target("foo")
    message = str(info.value)
    assert "foo" in message
    for name in _FORMULAS:
        assert name in message


# --------------------------------------------------------------------------- task_to_dict


@pytest.mark.parametrize("task", [
    StaticTask(),
    StaticTask(placement="scattered", interpolation=[0, 1], extrapolation=[1, 5], train_samples=64),
    StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
               extrapolation="[-6,-2]U[2,6]"),
    PoolTask(),
    PoolTask(pool_size=10, terms=2, interpolation=[0, 1], extrapolation="[-3,-2]U[2,3]", train_samples=None),
])
def test_task_to_dict_round_trips(task):
    d = task_to_dict(task)
    text = json.dumps(d)  # plain data
    back = json.loads(text)
    assert back == d
    assert d["kind"] == type(task).__name__
    names = {f.name for f in dataclasses.fields(task)}
    assert set(d) == names | {"kind"}
    for name in names:
        value = getattr(task, name)
        if isinstance(value, Range):
            assert d[name] == value.to_list()
            assert isinstance(d[name], list) and all(isinstance(i, list) for i in d[name])
        else:
            assert d[name] == value
    kind = {"StaticTask": StaticTask, "PoolTask": PoolTask}[back.pop("kind")]
    assert kind(**back) == task


def test_task_to_dict_static_values():
    d = task_to_dict(StaticTask())
    assert d == {"kind": "StaticTask", "input_size": 100, "subset_ratio": 0.25, "overlap_ratio": 0.5,
                 "placement": "random", "interpolation": [[1.0, 2.0]], "extrapolation": [[2.0, 6.0]],
                 "train_samples": None}


# --------------------------------------------------------------------------- PoolTask


def test_pool_defaults():
    task = PoolTask()
    assert (task.pool_size, task.terms, task.train_samples, task.in_features) == (100, 5, 500, 2)
    assert task.interpolation == Range.parse([5, 10])
    np.testing.assert_array_equal(task.layout(0), np.eye(2))


def test_pool_is_fixed_per_seed_and_in_range():
    task = PoolTask()
    v = task.pool(0, False)
    assert v.shape == (100,)
    np.testing.assert_array_equal(v, task.pool(0, False))
    assert not np.array_equal(v, task.pool(1, False))
    assert v.min() >= 5 and v.max() <= 10
    ve = task.pool(0, True)
    assert ve.min() >= 10 and ve.max() <= 20
    assert not np.allclose(np.sort(ve), np.sort(v))
    # drawn independently, not a rescaled copy of the interpolation pool
    assert abs(np.corrcoef(v, ve)[0, 1]) < 0.5
    assert abs(np.corrcoef(v, task.pool(1, False))[0, 1]) < 0.5


@pytest.mark.parametrize("extrapolation", [False, True])
def test_pool_samples_are_sums_of_five_entries(extrapolation):
    task = PoolTask()
    seed = 3
    v = np.sort(task.pool(seed, extrapolation))
    x = task.sample(2000, Draws(seed, TRAIN), extrapolation)
    assert x.shape == (2000, 2)
    a, b = x[:, 0], x[:, 1]
    eps = 1e-9
    for s in (a, b):
        assert np.all(s >= v[:5].sum() - eps) and np.all(s <= v[-5:].sum() + eps)
    # a and b together use 10 distinct entries
    assert np.all(a + b >= v[:10].sum() - eps) and np.all(a + b <= v[-10:].sum() + eps)
    assert a.mean() == pytest.approx(5 * v.mean(), rel=0.01)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pool_sums_reconstruct_to_disjoint_combinations(seed):
    task = PoolTask(pool_size=12, terms=5)
    v = task.pool(seed, False)
    combos = list(itertools.combinations(range(12), 5))
    sums = np.array([v[list(c)].sum() for c in combos])
    order = np.argsort(sums)
    assert np.min(np.diff(sums[order])) > 1e-9  # generic v: every combination has its own sum
    x = task.sample(300, Draws(seed, TRAIN))
    used = np.zeros(12)
    for a, b in x:
        ia = int(np.argmin(np.abs(sums - a)))
        ib = int(np.argmin(np.abs(sums - b)))
        assert abs(sums[ia] - a) < 1e-9 and abs(sums[ib] - b) < 1e-9  # each is a sum of exactly 5 entries
        assert not set(combos[ia]) & set(combos[ib])  # of distinct entries
        used[list(combos[ia])] += 1
    assert np.all(used > 0)


def test_pool_of_ten_with_five_terms_uses_every_entry():
    task = PoolTask(pool_size=10, terms=5)
    for seed in (0, 4):
        v = task.pool(seed, False)
        x = task.sample(500, Draws(seed, TRAIN))
        np.testing.assert_allclose(x.sum(1), v.sum(), rtol=1e-12)
        assert len(np.unique(np.round(x[:, 0], 9))) > 50  # the split varies


def test_pool_picks_are_uniform():
    # one term each: a = v[i], b = v[j] with i != j; each entry is picked equally often
    task = PoolTask(pool_size=10, terms=1)
    v = task.pool(0, False)
    n = 50_000
    x = task.sample(n, Draws(0, TRAIN))
    ia = np.argmin(np.abs(x[:, :1] - v[None, :]), axis=1)
    ib = np.argmin(np.abs(x[:, 1:] - v[None, :]), axis=1)
    np.testing.assert_allclose(x[:, 0], v[ia])
    np.testing.assert_allclose(x[:, 1], v[ib])
    assert np.all(ia != ib)
    for idx in (ia, ib):
        freq = np.bincount(idx, minlength=10) / n
        assert np.allclose(freq, 0.1, atol=0.01)
    # pairs are uniform over the 90 ordered pairs
    pairs = np.bincount(ia * 10 + ib, minlength=100).reshape(10, 10) / n
    off = pairs[~np.eye(10, dtype=bool)]
    assert np.allclose(off, 1 / 90, atol=0.004)


def test_pool_samples_deterministic_and_dtype():
    task = PoolTask()
    x1 = task.sample(20, Draws(2, TRAIN))
    x2 = task.sample(20, Draws(2, TRAIN))
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, task.sample(20, Draws(3, TRAIN)))
    assert x1.dtype == np.float64
    assert task.sample(4, Draws(2, TRAIN), dtype=np.float32).dtype == np.float32


def test_pool_interpolation_and_extrapolation_samples_differ():
    task = PoolTask()
    xi = task.sample(500, Draws(0, INTERPOLATION), False)
    xe = task.sample(500, Draws(0, INTERPOLATION), True)
    assert np.all((xi >= 25) & (xi <= 50))
    assert np.all((xe >= 50) & (xe <= 100))
    assert xe.mean() > xi.mean() * 1.5


def test_pools_are_the_draws_of_the_pool_streams_and_picks_those_of_the_rows():
    task = PoolTask(extrapolation="[-20,-10]U[10,20]")
    np.testing.assert_array_equal(task.pool(7, False), task.interpolation.sample((100,), Draws(7, POOL)))
    np.testing.assert_array_equal(task.pool(7, True), task.extrapolation.sample((100,), Draws(7, EXTRAPOLATION_POOL)))
    for extrapolation in (False, True):
        draws = Draws(7, TRAIN, step=12)
        whole = task.sample(30, draws, extrapolation)
        np.testing.assert_array_equal(task.sample(10, draws.rows(20), extrapolation), whole[20:])
        np.testing.assert_array_equal(task.totals(30, draws, extrapolation), whole)
    # the draws' seed selects the vector; the stream and step only the picks
    pool = np.sort(task.pool(7, False))
    x = task.sample(50, Draws(7, INTERPOLATION, step=3))
    assert np.all(x >= pool[:5].sum() - 1e-9) and np.all(x <= pool[-5:].sum() + 1e-9)
    assert not np.array_equal(x, task.sample(50, Draws(7, INTERPOLATION)))


def test_pool_too_small_raises():
    with pytest.raises(ValueError, match="do not fit"):
        PoolTask(pool_size=9, terms=5)
    PoolTask(pool_size=10, terms=5)  # exactly fits


@pytest.mark.parametrize("task", [StaticTask(), StaticTask(interpolation="[-2,2]", extrapolation="[-6,-2]U[2,6]"),
                                  PoolTask()])
def test_task_from_dict_inverts_task_to_dict(task):
    assert task_from_dict(json.loads(json.dumps(task_to_dict(task)))) == task
