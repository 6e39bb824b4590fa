"""Tests for nalm.scoring.metrics: reference values are recomputed here from the formulas."""

import math

import numpy as np
import pytest

from nalm.tasks import Draws, Range
from nalm.streams import THRESHOLD
from nalm.scoring.metrics import (
    best_step_index,
    is_success,
    mean_interval,
    median_interval,
    normalized_error,
    simulate_threshold,
    solved_at,
    sparsity_error,
    wilson_interval,
)


# --------------------------------------------------------------------------- wilson_interval


def _wilson_reference(k, n, z=1.959963984540054):
    p = k / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return center - half, center + half


@pytest.mark.parametrize("k, n", [(0, 100), (100, 100), (14, 100), (56, 100), (1, 3), (25, 25)])
def test_wilson_matches_formula(k, n):
    low, high = wilson_interval(k, n)
    ref_low, ref_high = _wilson_reference(k, n)
    assert low == pytest.approx(max(ref_low, 0.0), abs=1e-12)
    assert high == pytest.approx(min(ref_high, 1.0), abs=1e-12)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_bounds_at_none_and_all_are_exact():
    """0 of n has a low of exactly 0 and n of n a high of exactly 1, for every n (rounding gave
    1e-17 for 0 of 10 and 1 - 1e-16 for 13 of 13, and an error bar below its bar made
    matplotlib refuse the success figure)."""
    for n in range(1, 201):
        assert wilson_interval(0, n)[0] == 0.0 and wilson_interval(n, n)[1] == 1.0, n


def test_wilson_known_values():
    assert wilson_interval(0, 100) == (0.0, pytest.approx(0.0370, abs=1e-4))
    assert wilson_interval(100, 100) == (pytest.approx(0.9630, abs=1e-4), 1.0)
    assert wilson_interval(14, 100) == (pytest.approx(0.0852, abs=1e-4), pytest.approx(0.2213, abs=1e-4))


def test_wilson_wider_at_higher_confidence_and_symmetric():
    low95, high95 = wilson_interval(30, 100, 0.95)
    low99, high99 = wilson_interval(30, 100, 0.99)
    assert low99 < low95 and high99 > high95
    low, high = wilson_interval(70, 100, 0.95)
    assert low == pytest.approx(1 - high95) and high == pytest.approx(1 - low95)


@pytest.mark.parametrize("k, n, conf", [(0, 0, 0.95), (1, -1, 0.95), (-1, 10, 0.95), (11, 10, 0.95), (1, 10, 1.0), (1, 10, 0.0)])
def test_wilson_rejects_invalid(k, n, conf):
    with pytest.raises(ValueError):
        wilson_interval(k, n, conf)


# --------------------------------------------------------------------------- simulate_threshold

D, SUBSET, OVERLAP = 100, 25, 12
MASK_A = np.zeros(D)
MASK_A[10 : 10 + SUBSET] = 1
MASK_B = np.zeros(D)
MASK_B[10 + SUBSET - OVERLAP : 10 + 2 * SUBSET - OVERLAP] = 1


def uniform_sampler(low, high, mask_a=MASK_A, mask_b=MASK_B):
    def sample(n, draws):
        return Range.parse([low, high]).sample((n, mask_a.size), draws), mask_a, mask_b

    return sample


def _closed_form_add_sub(target, eps, low, high):
    """E[(op(a_eps, b_eps) - op(a, b))^2] for x_i iid U[low, high].

    a_eps - a = eps * x @ (1 - 2 mask_a), so the error is eps * x @ c with
    c = 2 (1 - mask_a - mask_b) for add and c = 2 (mask_b - mask_a) for sub, and
    E[(x @ c)^2] = var * sum(c^2) + (mean * sum(c))^2.
    """
    c = 2 * (1 - MASK_A - MASK_B) if target == "add" else 2 * (MASK_B - MASK_A)
    mean, var = (low + high) / 2, (high - low) ** 2 / 12
    return eps**2 * (var * np.sum(c**2) + (mean * np.sum(c)) ** 2)


def test_masks_have_the_madsen_layout():
    assert MASK_A.sum() == SUBSET and MASK_B.sum() == SUBSET and (MASK_A * MASK_B).sum() == OVERLAP


@pytest.mark.parametrize("target", ["add", "sub"])
def test_threshold_add_sub_match_closed_form(target):
    sample = uniform_sampler(2.0, 6.0)
    simulated = simulate_threshold(target, sample, n=200_000, eps=1e-5)
    assert simulated == pytest.approx(_closed_form_add_sub(target, 1e-5, 2.0, 6.0), rel=0.01)


def test_threshold_add_order_of_magnitude():
    # 62 inputs outside both subsets dominate: (2 eps * 4 * 50)^2 ~ 1.6e-5.
    assert 1e-5 < simulate_threshold("add", uniform_sampler(2.0, 6.0), n=10_000) < 3e-5


@pytest.mark.parametrize("target", ["add", "sub", "mul", "div", "square", "sqrt"])
def test_threshold_is_exactly_zero_without_perturbation(target):
    assert simulate_threshold(target, uniform_sampler(2.0, 6.0), n=1000, eps=0.0) == 0.0


@pytest.mark.parametrize("target", ["add", "sub"])
def test_threshold_is_exactly_quadratic_in_eps_for_linear_targets(target):
    sample = uniform_sampler(2.0, 6.0)
    small = simulate_threshold(target, sample, n=5000, eps=1e-5, seed=3)
    large = simulate_threshold(target, sample, n=5000, eps=1e-4, seed=3)
    assert large / small == pytest.approx(100.0, rel=1e-6)


@pytest.mark.parametrize("target", ["mul", "div", "square", "sqrt"])
def test_threshold_is_nearly_quadratic_in_eps_for_nonlinear_targets(target):
    sample = uniform_sampler(2.0, 6.0)
    small = simulate_threshold(target, sample, n=5000, eps=1e-5, seed=3)
    large = simulate_threshold(target, sample, n=5000, eps=1e-4, seed=3)
    assert small > 0
    assert large / small == pytest.approx(100.0, rel=0.01)


def test_threshold_mul_first_order():
    # a_eps b_eps - a b ~= a (b_eps - b) + b (a_eps - a): check against that, on the same samples.
    eps, n = 1e-5, 2000
    x = Range.parse([2.0, 6.0]).sample((n, D), Draws(0, THRESHOLD))  # what seed 0 draws
    a, b = x @ MASK_A, x @ MASK_B
    da, db = eps * x @ (1 - 2 * MASK_A), eps * x @ (1 - 2 * MASK_B)
    expected = np.mean((a * db + b * da) ** 2)
    assert simulate_threshold("mul", uniform_sampler(2.0, 6.0), n=n, eps=eps) == pytest.approx(expected, rel=1e-3)


def test_threshold_is_deterministic_and_chunk_independent():
    sample = uniform_sampler(2.0, 6.0)
    whole = simulate_threshold("mul", sample, n=3000, chunk=3000, seed=7)
    assert simulate_threshold("mul", sample, n=3000, chunk=3000, seed=7) == whole
    assert simulate_threshold("mul", sample, n=3000, chunk=700, seed=7) == pytest.approx(whole, rel=1e-12)
    assert simulate_threshold("mul", sample, n=3000, chunk=3000, seed=8) != whole


def test_threshold_chunks_are_rows_of_the_threshold_stream():
    given = []

    def sample(n, draws):
        given.append((n, draws))
        return np.full((n, D), 3.0), MASK_A, MASK_B

    simulate_threshold("add", sample, n=25, chunk=10, seed=2 ** 40)
    assert given == [(10, Draws(2 ** 40, THRESHOLD)), (10, Draws(2 ** 40, THRESHOLD, first_row=10)),
                     (5, Draws(2 ** 40, THRESHOLD, first_row=20))]


def test_threshold_ignores_b_for_single_operand_targets():
    other_b = np.zeros(D)
    other_b[:3] = 1
    for target in ("square", "sqrt"):
        first = simulate_threshold(target, uniform_sampler(2.0, 6.0), n=1000)
        second = simulate_threshold(target, uniform_sampler(2.0, 6.0, mask_b=other_b), n=1000)
        assert first == second


def test_threshold_rejects_invalid_input():
    sample = uniform_sampler(2.0, 6.0)
    with pytest.raises(ValueError, match="target"):
        simulate_threshold("pow", sample, n=10)
    with pytest.raises(ValueError, match="n must"):
        simulate_threshold("add", sample, n=0)
    with pytest.raises(ValueError, match="eps"):
        simulate_threshold("add", sample, n=10, eps=-1e-5)
    with pytest.raises(ValueError, match="mask_a"):
        simulate_threshold("add", lambda n, draws: (np.ones((n, D)), np.ones(D - 1), MASK_B), n=10)
    with pytest.raises(ValueError, match="0 and 1"):
        simulate_threshold("add", uniform_sampler(2.0, 6.0, mask_a=np.full(D, 0.5)), n=10)
    with pytest.raises(ValueError, match="shape"):
        simulate_threshold("add", lambda n, draws: (np.ones((n + 1, D)), MASK_A, MASK_B), n=10)


def test_threshold_rejects_masks_that_change_between_chunks():
    def sample(n, draws):
        return np.full((n, D), 3.0), np.roll(MASK_A, draws.first_row), MASK_B

    with pytest.raises(ValueError, match="same mask"):
        simulate_threshold("add", sample, n=20, chunk=10)


def test_threshold_rejects_non_finite_result():
    # sqrt of a negative subset sum is nan.
    with pytest.raises(ValueError, match="not finite|nan"):
        simulate_threshold("sqrt", uniform_sampler(-6.0, -2.0), n=100)


# --------------------------------------------------------------------------- normalized_error


def test_normalized_error():
    result = normalized_error(np.array([0.0, 1.0, 4.0, np.inf]), 4.0)
    np.testing.assert_array_equal(result, [0.0, 25.0, 100.0, np.inf])
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="baseline_error"):
            normalized_error(np.array([1.0]), bad)


# --------------------------------------------------------------------------- median_interval


def _median_ci_ranks(n, confidence):
    """Largest j with 1 - 2 P(Bin(n, 1/2) <= j - 1) >= confidence, by direct float summation."""
    best = None
    for j in range(1, n // 2 + 1):
        tail = sum(math.comb(n, i) for i in range(j)) / 2**n
        if 1 - 2 * tail >= confidence:
            best = j
    return best


def test_median_interval_1_to_100():
    values = np.arange(1, 101, dtype=float)
    j = _median_ci_ranks(100, 0.95)
    assert j == 40  # the textbook ranks for n = 100: (x_(40), x_(61))
    assert median_interval(np.random.default_rng(0).permutation(values)) == (50.5, 40.0, 61.0)


@pytest.mark.parametrize("n", [6, 7, 10, 25, 31, 50])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_median_interval_ranks_match_binomial(n, confidence):
    values = np.arange(1, n + 1, dtype=float)
    j = _median_ci_ranks(n, confidence)
    median, low, high = median_interval(values, confidence)
    assert median == np.median(values)
    if j is None:
        assert (low, high) == (1.0, float(n))
    else:
        assert (low, high) == (float(j), float(n + 1 - j))


def test_median_interval_small_n_falls_back_to_min_max():
    assert median_interval([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)
    assert median_interval([5.0]) == (5.0, 5.0, 5.0)


def test_median_interval_treats_non_finite_as_worst():
    values = [1.0, 2.0, np.nan, -np.inf, 3.0]
    assert median_interval(values) == (3.0, 1.0, np.inf)
    median, low, high = median_interval([np.nan] * 60 + list(range(40)))
    assert median == np.inf and high == np.inf and math.isfinite(low)


def test_median_interval_rejects_invalid():
    with pytest.raises(ValueError):
        median_interval([])
    with pytest.raises(ValueError):
        median_interval([[1.0, 2.0]])
    with pytest.raises(ValueError):
        median_interval([1.0], confidence=1.5)


# --------------------------------------------------------------------------- mean_interval

# Two-sided 95% Student-t critical values from standard tables, by degrees of freedom.
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 9: 2.262, 10: 2.228, 24: 2.064, 29: 2.045, 99: 1.984}


@pytest.mark.parametrize("df, t", sorted(T_975.items()))
def test_mean_interval_uses_student_t(df, t):
    values = np.arange(df + 1, dtype=float)
    mean, low, high = mean_interval(values)
    half = t * np.std(values, ddof=1) / math.sqrt(values.size)
    assert mean == pytest.approx(df / 2)
    assert high - mean == pytest.approx(half, rel=2e-4)
    assert mean - low == pytest.approx(half, rel=2e-4)


def test_mean_interval_large_n_approaches_normal():
    values = np.random.default_rng(0).normal(size=5000)
    mean, low, high = mean_interval(values)
    half = 1.959963984540054 * np.std(values, ddof=1) / math.sqrt(values.size)
    assert high - mean == pytest.approx(half, rel=1e-3)


def test_mean_interval_edge_cases():
    mean, low, high = mean_interval([4.0])
    assert mean == 4.0 and math.isnan(low) and math.isnan(high)
    assert mean_interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="non-finite"):
        mean_interval([1.0, np.nan])
    with pytest.raises(ValueError):
        mean_interval([])


# --------------------------------------------------------------------------- per-run criteria


def test_solved_at():
    steps = np.array([0, 1000, 2000, 3000])
    assert solved_at(steps, np.array([1.0, 1e-3, 1e-9, 1e-10]), 1e-6) == 2000
    assert solved_at(steps, np.array([np.nan, np.nan, 1e-9, 1.0]), 1e-6) == 2000
    assert solved_at(steps, np.array([-np.inf, np.nan, np.inf, 1.0]), 1e-6) is None
    assert solved_at(steps, np.array([1e-6, 1e-6, 1e-6, 1e-6]), 1e-6) is None  # strictly below
    assert isinstance(solved_at(steps, np.full(4, 0.0), 1e-6), int)


def test_solved_at_rejects_invalid():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        solved_at(np.arange(3), np.zeros(4), 1e-6)
    with pytest.raises(ValueError, match="increasing"):
        solved_at(np.array([0, 2000, 1000]), np.zeros(3), 1e-6)
    with pytest.raises(ValueError, match="threshold"):
        solved_at(np.arange(3), np.zeros(3), np.nan)


def test_best_step_index():
    assert best_step_index(np.array([3.0, 1.0, 2.0, 1.0])) == 1  # first on ties
    assert best_step_index(np.array([np.nan, 5.0, -np.inf, np.inf, 4.0])) == 4
    assert best_step_index(np.array([np.nan, np.inf])) is None
    assert best_step_index(np.array([])) is None


def test_is_success():
    interpolation = np.array([1.0, 1e-3, 1e-8, 1e-4])
    assert is_success(interpolation, np.array([1.0, 1.0, 1e-9, 1.0]), 1e-6)
    # Solved at some step, but not at the best interpolation step: a failure.
    assert not is_success(interpolation, np.array([1e-9, 1e-9, 1.0, 1e-9]), 1e-6)
    assert not is_success(interpolation, np.array([1.0, 1.0, np.nan, 1.0]), 1e-6)
    assert not is_success(interpolation, np.array([1.0, 1.0, -np.inf, 1.0]), 1e-6)
    assert not is_success(np.full(4, np.nan), np.zeros(4), 1e-6)
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        is_success(interpolation, np.zeros(3), 1e-6)


def test_sparsity_error():
    exact = [np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]]), np.array([0.0, 1.0])]
    assert sparsity_error(exact) == 0.0
    assert sparsity_error([np.array([0.5])]) == 0.5
    assert sparsity_error([np.array([-0.5, 0.0])]) == 0.5
    assert sparsity_error([np.array([0.99, -1e-3]), np.array([[0.2]])]) == pytest.approx(0.2)
    assert sparsity_error([np.array([1.0]), np.array([2.0])]) == 1.0  # |1 - |2|| = 1
    assert math.isnan(sparsity_error([np.array([0.0, np.nan])]))
    with pytest.raises(ValueError):
        sparsity_error([])


def test_sparsity_error_accepts_tensors_requiring_grad():
    torch = pytest.importorskip("torch")
    weight = torch.tensor([[1.0, 0.25]], requires_grad=True)
    assert sparsity_error([weight]) == 0.25
