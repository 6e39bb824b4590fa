"""Tests for nalm.tasks.ranges.Range: parsing, validation and the law of the samples.

Reference values (interval shares, moments of a uniform law) are computed here from the
formulas, not from the code under test.
"""

import json
import math

import numpy as np
import pytest

from nalm.tasks import Draws, Range


def _in_union(x, intervals, tol=0.0):
    inside = np.zeros(np.shape(x), dtype=bool)
    for low, high in intervals:
        inside |= (x >= low - tol) & (x <= high + tol)
    return inside


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("value, expected", [
    ("[1,2]", ((1.0, 2.0),)),
    ("[ 1 , 2 ]", ((1.0, 2.0),)),
    ("[-6,-2]U[2,6]", ((-6.0, -2.0), (2.0, 6.0))),
    ("[-6,-2] U [2,6]", ((-6.0, -2.0), (2.0, 6.0))),
    ("[-6,-2]∪[2,6]", ((-6.0, -2.0), (2.0, 6.0))),
    ("[-1.2,-1.1]", ((-1.2, -1.1),)),
    ("[1e-3,2.5e1]", ((0.001, 25.0),)),
    ([1, 2], ((1.0, 2.0),)),
    ((1, 2.5), ((1.0, 2.5),)),
    ([0.1, 0.2], ((0.1, 0.2),)),
    ([[1, 2]], ((1.0, 2.0),)),
    ([[-6, -2], [2, 6]], ((-6.0, -2.0), (2.0, 6.0))),
    ([[-6, -2], [2, 6], [10, 11]], ((-6.0, -2.0), (2.0, 6.0), (10.0, 11.0))),
])
def test_parse_forms(value, expected):
    r = Range.parse(value)
    assert isinstance(r, Range)
    assert r.intervals == expected
    assert all(isinstance(v, float) for interval in r.intervals for v in interval)


def test_parse_forms_agree_and_range_passes_through():
    r = Range(((-6.0, -2.0), (2.0, 6.0)))
    assert Range.parse(r) is r
    assert Range.parse("[-6,-2]U[2,6]") == Range.parse([[-6, -2], [2, 6]]) == r
    assert Range.parse("[1,2]") == Range.parse([1, 2]) == Range.parse([[1.0, 2.0]])
    assert hash(Range.parse("[1,2]")) == hash(Range.parse([1, 2]))


def test_length_to_list_and_repr():
    r = Range.parse("[-6,-2]U[2,6]")
    assert r.length == 8.0
    assert Range.parse([[0, 1], [3, 6], [10, 10.5]]).length == pytest.approx(4.5)
    assert r.to_list() == [[-6.0, -2.0], [2.0, 6.0]]
    json.dumps(r.to_list())
    assert Range.parse(r.to_list()) == r  # to_list round trips
    assert Range.parse(Range.parse([1, 2]).to_list()) == Range.parse([1, 2])
    assert repr(r) == "Range([-6.0, -2.0] U [2.0, 6.0])"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("value", ["[2,1]", "[1,1]", [2, 1], [3, 3], [[1, 2], [5, 4]], "[-2,-6]"])
def test_low_not_below_high_raises(value):
    with pytest.raises(ValueError, match="low < high"):
        Range.parse(value)


@pytest.mark.parametrize("value", [
    "[nan,1]", "[1,inf]", "[-inf,0]", [math.nan, 1.0], [0.0, math.inf], [[0, 1], [2, math.nan]],
])
def test_non_finite_bounds_raise(value):
    with pytest.raises(ValueError, match="finite"):
        Range.parse(value)


@pytest.mark.parametrize("value", [
    "[2,6]U[-6,-2]",  # unsorted
    [[2, 6], [-6, -2]],
    "[1,3]U[2,4]",  # overlapping
    [[1, 3], [2, 4]],
    [[0, 10], [1, 2]],  # nested
    [[0, 1], [2, 3], [2.5, 4]],
])
def test_unsorted_or_overlapping_intervals_raise(value):
    with pytest.raises(ValueError, match="sorted and disjoint"):
        Range.parse(value)


@pytest.mark.parametrize("value", ["abc", "", "[1,2,3]", "[1]", "[1,2]U", "[a,b]", "1..2", "[1;2]"])
def test_garbage_text_raises(value):
    with pytest.raises(ValueError, match=r"bad range .*expected e\.g\."):
        Range.parse(value)


@pytest.mark.parametrize("value", [None, 5, [1], [1, 2, 3], [[1, 2, 3]], [[1], [2]], [["a", "b"]]])
def test_garbage_values_raise(value):
    with pytest.raises(ValueError, match="bad range"):
        Range.parse(value)


def test_empty_range_raises():
    with pytest.raises(ValueError, match="at least one interval"):
        Range.parse([])
    with pytest.raises(ValueError, match="at least one interval"):
        Range(())


def test_direct_construction_is_validated():
    with pytest.raises(ValueError):
        Range(((2.0, 1.0),))
    with pytest.raises(ValueError):
        Range(((0.0, 2.0), (1.0, 3.0)))


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("text", ["[1,2]", "[2,6]", "[-20,-10]", "[-6,-2]U[2,6]", "[-1.2,-1.1]",
                                  "[0,1]U[3,6]U[10,10.5]"])
def test_samples_lie_in_the_union(text):
    r = Range.parse(text)
    x = r.sample((50_000,), Draws(1, 1))
    assert x.shape == (50_000,)
    assert _in_union(x, r.intervals).all()
    # and they reach close to both ends of every interval
    for low, high in r.intervals:
        inside = x[(x >= low) & (x <= high)]
        assert inside.min() - low < 0.01 * (high - low)
        assert high - inside.max() < 0.01 * (high - low)


def test_union_samples_avoid_the_gaps():
    r = Range.parse("[-6,-2]U[2,6]")
    x = r.sample((100_000,), Draws(2, 1))
    assert not ((x > -2) & (x < 2)).any()
    assert not ((x < -6) | (x > 6)).any()


def test_union_share_per_interval_is_proportional_to_length():
    intervals = [(0.0, 1.0), (3.0, 6.0), (10.0, 10.5)]
    r = Range.parse([list(i) for i in intervals])
    n = 200_000
    x = r.sample((n,), Draws(3, 1))
    total = sum(h - l for l, h in intervals)
    for low, high in intervals:
        inside = (x >= low) & (x <= high)
        share = inside.mean()
        expected = (high - low) / total
        assert share == pytest.approx(expected, abs=0.01)  # std ~0.001
        # uniform within the interval: mean at the midpoint, variance (h-l)^2/12
        assert x[inside].mean() == pytest.approx((low + high) / 2, abs=0.02 * (high - low))
        assert x[inside].var() == pytest.approx((high - low) ** 2 / 12, rel=0.05)


def test_union_of_equal_intervals_is_balanced():
    x = Range.parse("[-6,-2]U[2,6]").sample((100_000,), Draws(4, 1))
    assert (x < 0).mean() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("low, high", [(1.0, 2.0), (-3.0, 5.0), (-20.0, -10.0), (0.1, 0.2)])
def test_single_interval_moments_match_uniform(low, high):
    x = Range.parse([low, high]).sample((200_000,), Draws(5, 1))
    width = high - low
    assert x.mean() == pytest.approx((low + high) / 2, abs=0.01 * width)
    assert x.var() == pytest.approx(width ** 2 / 12, rel=0.02)
    # flat histogram: each tenth of the interval holds ~10% of the samples
    counts, _ = np.histogram(x, bins=10, range=(low, high))
    assert np.allclose(counts / len(x), 0.1, atol=0.005)


def test_union_moments_match_theory():
    # mixture of U[-6,-2] and U[2,6] with equal weights: mean 0, var = E[x^2] = (6^3 - 2^3) / (3 * 4)
    x = Range.parse("[-6,-2]U[2,6]").sample((200_000,), Draws(6, 1))
    assert x.mean() == pytest.approx(0.0, abs=0.05)
    assert x.var() == pytest.approx((6 ** 3 - 2 ** 3) / 12, rel=0.02)


@pytest.mark.parametrize("text", ["[1,2]", "[-6,-2]U[2,6]", "[-1.2,-1.1]"])
def test_dtype_is_respected(text):
    r = Range.parse(text)
    assert r.sample((10,), Draws(0, 1)).dtype == np.float64
    x32 = r.sample((20_000,), Draws(0, 1), dtype=np.float32)
    assert x32.dtype == np.float32
    assert x32.shape == (20_000,)
    # inside the union up to float32 rounding of the bounds
    assert _in_union(x32.astype(np.float64), r.intervals, tol=1e-6 * max(abs(v) for i in r.intervals for v in i)).all()
    x64 = r.sample((4, 5), Draws(0, 1), dtype=np.float64)
    assert x64.dtype == np.float64 and x64.shape == (4, 5)


def test_float32_union_never_enters_the_gap():
    x = Range.parse("[-6,-2]U[2,6]").sample((100_000,), Draws(7, 1), dtype=np.float32)
    assert not ((x > -2) & (x < 2)).any()


def test_same_draws_same_samples():
    r = Range.parse("[-6,-2]U[2,6]")
    a = r.sample((1000,), Draws(11, 1))
    b = r.sample((1000,), Draws(11, 1))
    c = r.sample((1000,), Draws(12, 1))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_extreme_uniform_draws_map_to_the_ends():
    r = Range.parse("[-6,-2]U[2,6]")
    u = [0.0, 0.25, 0.5 - 1e-12, 0.5, 0.75, np.nextafter(1.0, 0.0)]
    x = r.from_uniform(np.array(u, dtype=np.float64))
    np.testing.assert_allclose(x, [-6.0, -4.0, -2.0, 2.0, 4.0, 6.0], atol=1e-9)
    assert np.all(np.diff(x) >= 0)  # the mapping is monotone


def test_every_uniform_draw_is_mapped_inside_the_union():
    # Lengths 1.9, 5.3, 0.3: (1.9 + 2.6) - (-2.7) == 7.2 but 1.9 + (2.6 - (-2.7)) == 7.200000000000001.
    r = Range(((-7.9, -6.0), (-2.7, 2.6), (8.5, 8.8)))
    u = 7.2 / r.length
    assert u * r.length == 7.2  # t lands exactly in the one-ulp gap
    x = r.from_uniform(np.full(1000, u))
    # the draw sits on the boundary between the second and third interval: 2.6 or 8.5 are both right
    assert np.all(np.isclose(x, 2.6) | np.isclose(x, 8.5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_samples_are_the_uniform_draws_mapped(dtype):
    from nalm.philox import uniform

    for r in (Range.parse("[1, 2]"), Range.parse("[-6, -2] U [2, 6]"), Range.parse("[0.1, 0.2]")):
        np.testing.assert_array_equal(r.sample((101, 3), Draws(4, 2), dtype),
                                      r.from_uniform(uniform(Draws(4, 2), (101, 3), dtype)))


def test_every_float32_draw_maps_onto_a_nonzero_value_of_a_symmetric_range():
    # All 2^23 float32 grid values through [-2, 2] (Mistry et al.'s range): b = 0 would make a/b inf.
    u = ((2 * np.arange(2 ** 23, dtype=np.float64) + 1) * 2.0 ** -24).astype(np.float32)
    assert np.count_nonzero(Range.parse("[-2,2]").from_uniform(u) == 0) == 0
    assert np.count_nonzero(Range.parse("[-1,1]").from_uniform(u.copy()) == 0) == 0
