"""Evaluation metrics for neural arithmetic units.

Two families of metrics are implemented, following PROTOCOLS.md section 3:

* Trask et al. 2018: the *normalized error*, ``100 * error(model) / error(baseline)``,
  where the baseline is a randomly initialized model (0 = perfect, 100 = no better
  than random).
* Madsen & Johansen 2020: a run *succeeds* when its extrapolation MSE, taken at the
  evaluation step with the best interpolation (validation) MSE, is below the MSE of a
  near-perfect solution whose weights are all off by ``eps = 1e-5``
  (:func:`simulate_threshold`). Over seeds one reports the success rate with a Wilson
  interval, the step at which a run was first solved ("solved at"), and the sparsity
  error of the weights at the best step.

Everything here is a pure function on numpy arrays and Python floats, in float64; no
torch is needed (:func:`sparsity_error` also accepts tensors, through duck typing).
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist
from typing import Callable, Iterable

import numpy as np

from ..philox import Draws
from ..tasks.targets import TARGETS
from ..streams import THRESHOLD

__all__ = [
    "wilson_interval",
    "simulate_threshold",
    "normalized_error",
    "median_interval",
    "mean_interval",
    "solved_at",
    "best_step_index",
    "is_success",
    "sparsity_error",
]


# --------------------------------------------------------------------------- helpers


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return confidence


def _check_threshold(threshold: float) -> float:
    threshold = float(threshold)
    if not (math.isfinite(threshold) and threshold >= 0.0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    return threshold


def _as_1d(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def _check_same_shape(first: np.ndarray, first_name: str, second: np.ndarray, second_name: str) -> None:
    if first.shape != second.shape:
        raise ValueError(
            f"{first_name} and {second_name} must have the same shape, "
            f"got {first.shape} and {second.shape}"
        )


# --------------------------------------------------------------------------- success rate


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Madsen & Johansen's success rate).

    Unlike the normal (Wald) interval it stays inside [0, 1] and is not degenerate at
    0 or ``trials`` successes, which are the common cases for success rates.

    >>> low, high = wilson_interval(0, 100)
    >>> low, round(high, 4)
    (0.0, 0.037)
    """
    successes, trials = int(successes), int(trials)
    if trials <= 0:
        raise ValueError(f"trials must be positive, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials={trials}], got {successes}")
    confidence = _check_confidence(confidence)

    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / trials
    z2_n = z * z / trials
    center = (p + z2_n / 2.0) / (1.0 + z2_n)
    half = z / (1.0 + z2_n) * math.sqrt(p * (1.0 - p) / trials + z2_n / (4.0 * trials))
    # At p = 0 (or 1) center and half are equal in exact arithmetic: the bound is exactly 0 (or 1),
    # which rounding would miss by an ulp (0 of 10 gave a low of 1e-17, and 13 of 13 a high below 1).
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == trials else min(1.0, center + half)
    return low, high


# --------------------------------------------------------------------------- threshold

Sampler = Callable[[int, Draws], "tuple[np.ndarray, np.ndarray, np.ndarray]"]


def _check_mask(mask, d: int, name: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) to match x, got {mask.shape}")
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1")
    return mask.astype(np.float64)


def simulate_threshold(
    target: str,
    sample: Sampler,
    n: int = 1_000_000,
    eps: float = 1e-5,
    seed: int = 0,
    chunk: int = 100_000,
    output_eps: bool = False,
) -> float:
    """Madsen & Johansen's success threshold: the MSE of a near-perfect solution.

    ``sample(size, draws)`` must return ``(x, mask_a, mask_b)``: inputs ``x`` of shape
    ``(size, d)`` drawn from the *extrapolation* range, and two 0/1 masks of shape
    ``(d,)`` selecting the input subsets summed into ``a`` and ``b``. The masks must be
    the same on every call (they define the task, not the sample).

    The near-perfect solution has every first-layer weight off by ``eps``
    (0 -> eps, 1 -> 1 - eps)::

        a_eps = x @ (mask_a * (1 - eps) + (1 - mask_a) * eps)     (b_eps likewise)

    and the operation itself is applied exactly: ``a_eps + b_eps``, ``a_eps - b_eps``,
    ``a_eps * b_eps``, ``a_eps / b_eps``, ``a_eps * a_eps`` or ``sqrt(a_eps)``. This is
    the definition of the authors' simulation (stable-nalu,
    ``export/function_task_static_mse_expectation.r:20-59``): only the subset-selection
    weights are perturbed; sub is ``a - b`` of two positively weighted sums rather
    than one layer with -1 weights. Returned is ``mean((op(a_eps, b_eps) - op(a, b))**2)``
    over ``n`` samples, in float64. The subsets are the caller's masks: the script's own
    are one element longer than its task's (:class:`nalm.scoring.thresholds.MadsenReference`).

    ``output_eps=True`` also moves the weights that combine a and b by eps for add and sub
    (``(1 - eps)(a_eps ± b_eps)``). This is for tasks where a and b together use every
    input exactly once (a single module on [x1, x2], the blog's [a, b]): there the
    first-layer perturbations cancel exactly for add, a + b being the sum of all inputs,
    and the threshold would be rounding noise that no trained model can meet.

    Samples are drawn ``chunk`` rows at a time to bound memory: the chunk that starts at row
    ``start`` gets ``Draws(seed, THRESHOLD).rows(start)`` (Philox stream ``THRESHOLD`` of
    :mod:`nalm.streams`), so for a sampler whose row i is row i of its draws (e.g.
    ``Range.sample((size, d), draws)``, a task's ``totals``) the samples do not depend on
    ``chunk``, and the result only through the order of summation.

    Raises ValueError when the threshold is not finite (e.g. ``sqrt`` of a negative
    ``a`` or ``div`` by a zero ``b``): such a threshold would make every run succeed
    or none.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {sorted(TARGETS)}, got {target!r}")
    n, chunk, seed = int(n), int(chunk), int(seed)
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if chunk <= 0:
        raise ValueError(f"chunk must be positive, got {chunk}")
    eps = float(eps)
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"eps must be in [0, 1), got {eps!r}")

    op = TARGETS[target]
    draws = Draws(seed, THRESHOLD)
    first_masks = None
    total = 0.0
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        x, mask_a, mask_b = sample(size, draws.rows(start))
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != size:
            raise ValueError(f"sample({size}, draws) must return x of shape ({size}, d), got {x.shape}")
        mask_a = _check_mask(mask_a, x.shape[1], "mask_a")
        mask_b = _check_mask(mask_b, x.shape[1], "mask_b")
        if first_masks is None:
            first_masks = (mask_a, mask_b)
        elif not (np.array_equal(mask_a, first_masks[0]) and np.array_equal(mask_b, first_masks[1])):
            raise ValueError("sample must return the same mask_a and mask_b on every call")

        a, b = x @ mask_a, x @ mask_b
        a_eps = x @ (mask_a * (1.0 - eps) + (1.0 - mask_a) * eps)
        b_eps = x @ (mask_b * (1.0 - eps) + (1.0 - mask_b) * eps)
        # Invalid values are reported once, below, rather than as numpy warnings.
        with np.errstate(all="ignore"):
            near = op(a_eps, b_eps)
            if output_eps and target in ("add", "sub"):
                near = (1.0 - eps) * near
            total += float(np.sum((near - op(a, b)) ** 2))

    threshold = total / n
    if not math.isfinite(threshold):
        raise ValueError(
            f"the simulated threshold for {target!r} is {threshold}; "
            "check that the sampled range is valid for this operation"
        )
    return threshold


# --------------------------------------------------------------------------- normalized error


def normalized_error(model_error: np.ndarray, baseline_error: float) -> np.ndarray:
    """Trask et al.'s normalized error: ``100 * model_error / baseline_error``.

    0 is perfect, 100 is as bad as the (randomly initialized) baseline. Which error
    (MSE or MAE) and which baseline is the caller's choice and must be reported with
    the numbers. Non-finite model errors (diverged models) pass through unchanged.

    >>> normalized_error(np.array([0.0, 0.5, 2.0]), 2.0)
    array([  0.,  25., 100.])
    """
    baseline_error = float(baseline_error)
    if not (math.isfinite(baseline_error) and baseline_error > 0.0):
        raise ValueError(f"baseline_error must be finite and > 0, got {baseline_error!r}")
    return 100.0 * np.asarray(model_error, dtype=np.float64) / baseline_error


# --------------------------------------------------------------------------- summaries over seeds


def _median_rank(n: int, confidence: float) -> int | None:
    """Largest 1-based rank j with P(x_(j) <= median <= x_(n+1-j)) >= confidence.

    That coverage is 1 - 2 P(B <= j - 1) for B ~ Binomial(n, 1/2). Exact integer
    arithmetic avoids the underflow of 0.5**n for large n. None when even the
    widest interval, (min, max), falls short.
    """
    alpha = Fraction(1.0 - confidence)
    limit = alpha * 2**n  # compare 2 * sum(comb(n, i)) <= alpha * 2**n exactly
    rank = None
    cumulative, term = 0, 1  # term = comb(n, k)
    for k in range(n):
        cumulative += term
        if 2 * cumulative > limit:
            break
        rank = k + 1
        term = term * (n - k) // (k + 1)
    return rank


def median_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Median and a distribution-free confidence interval for it.

    The interval is ``(x_(j), x_(n+1-j))`` of the sorted values, with the largest rank
    ``j`` whose binomial coverage is at least ``confidence`` (so the actual coverage
    is ``>= confidence``, not equal to it).

    Non-finite values (nan, +inf, -inf) are all treated as +inf: the quantities
    summarized here (errors, "solved at" steps) are non-negative, so a non-finite
    value means a diverged or unsolved run, which ranks worst; the median and the
    upper bound can therefore be inf.

    When ``n`` is too small for the requested confidence (n <= 5 at 95%) the
    interval falls back to ``(min, max)``, whose coverage ``1 - 2**(1 - n)`` is then
    below ``confidence``.

    >>> median_interval(np.arange(1, 101))
    (50.5, 40.0, 61.0)
    """
    confidence = _check_confidence(confidence)
    array = _as_1d(values, "values")
    if array.size == 0:
        raise ValueError("values must not be empty")
    array = np.sort(np.where(np.isfinite(array), array, np.inf))
    median = float(np.median(array))
    rank = _median_rank(array.size, confidence)
    if rank is None:
        return median, float(array[0]), float(array[-1])
    return median, float(array[rank - 1]), float(array[array.size - rank])


def _t_central_mass(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with an integer number of degrees of freedom.

    Closed-form finite series (Abramowitz & Stegun 26.7.3-4), since scipy is not a
    dependency.
    """
    theta = math.atan(t / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 1:
        total = term = math.cos(theta) if df > 1 else 0.0
        for k in range(3, df - 1, 2):
            term *= cos2 * (k - 1) / k
            total += term
        return 2.0 / math.pi * (theta + sin * total)
    total = term = 1.0
    for k in range(2, df - 1, 2):
        term *= cos2 * (k - 1) / k
        total += term
    return sin * total


def _t_quantile(confidence: float, df: int) -> float:
    """Half-width multiplier t such that P(|T| < t) = confidence."""
    if df > 1000:
        # Cornish-Fisher expansion around the normal quantile; error O(df**-3),
        # and it avoids the O(df) series.
        z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
        return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
    high = 1.0
    while _t_central_mass(high, df) < confidence:
        high *= 2.0
    low = 0.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _t_central_mass(middle, df) < confidence:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * high:
            break
    return (low + high) / 2.0


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its Student-t confidence interval, ``mean +- t * sd / sqrt(n)``.

    The t quantile is exact for every n >= 2 (not a normal approximation), which
    matters for the 25-100 seeds per cell used in the benchmarks; it matches the
    ``assume.normal`` summary of Madsen & Johansen's analysis code. For n == 1 the
    interval is ``(nan, nan)``.

    Non-finite values raise ValueError: a mean over diverged runs is undefined, so
    filter them first or use :func:`median_interval`, which ranks them worst.
    """
    confidence = _check_confidence(confidence)
    array = _as_1d(values, "values")
    if array.size == 0:
        raise ValueError("values must not be empty")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValueError(f"values contain {bad} non-finite entries; the mean is undefined")
    mean = float(np.mean(array))
    if array.size < 2:
        return mean, math.nan, math.nan
    half = _t_quantile(confidence, array.size - 1) * float(np.std(array, ddof=1)) / math.sqrt(array.size)
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------- per-run criteria


def solved_at(steps: np.ndarray, extrapolation_mse: np.ndarray, threshold: float) -> int | None:
    """First evaluated step whose extrapolation MSE is below ``threshold``, else None.

    ``steps`` must be strictly increasing (the evaluation order). Non-finite MSE never
    counts as solved.

    >>> solved_at(np.array([0, 1000, 2000]), np.array([1.0, np.nan, 1e-9]), 1e-6)
    2000
    """
    threshold = _check_threshold(threshold)
    steps_array = _as_1d(steps, "steps")
    mse = _as_1d(extrapolation_mse, "extrapolation_mse")
    _check_same_shape(steps_array, "steps", mse, "extrapolation_mse")
    if np.any(np.diff(steps_array) <= 0):
        raise ValueError("steps must be strictly increasing")
    solved = np.flatnonzero(np.isfinite(mse) & (mse < threshold))
    if solved.size == 0:
        return None
    return int(steps_array[solved[0]])


def best_step_index(interpolation_mse: np.ndarray) -> int | None:
    """Index of the lowest finite interpolation MSE (the first one on ties).

    Returns None when there is no finite value (empty, or every evaluation diverged):
    there is no best step, which callers should treat as an unsuccessful run.
    """
    mse = _as_1d(interpolation_mse, "interpolation_mse")
    finite = np.isfinite(mse)
    if not finite.any():
        return None
    return int(np.argmin(np.where(finite, mse, np.inf)))


def is_success(interpolation_mse: np.ndarray, extrapolation_mse: np.ndarray, threshold: float) -> bool:
    """Madsen & Johansen's criterion: extrapolation MSE at the best interpolation step < threshold.

    Both arrays hold one value per evaluation, in the same order. A run with no finite
    interpolation MSE, or a non-finite extrapolation MSE at its best step, fails.
    """
    threshold = _check_threshold(threshold)
    interpolation = _as_1d(interpolation_mse, "interpolation_mse")
    extrapolation = _as_1d(extrapolation_mse, "extrapolation_mse")
    _check_same_shape(interpolation, "interpolation_mse", extrapolation, "extrapolation_mse")
    best = best_step_index(interpolation)
    if best is None:
        return False
    value = extrapolation[best]
    return bool(np.isfinite(value) and value < threshold)


def sparsity_error(weights: Iterable[np.ndarray]) -> float:
    """Largest distance of any weight from {-1, 0, 1}: ``max min(|w|, |1 - |w||)``.

    0 means every weight is exactly -1, 0 or 1; the worst value is 0.5. Accepts numpy
    arrays or tensors (anything with ``.detach()`` is detached and moved to the CPU).
    Returns nan if any weight is non-finite: a diverged model has no sparsity.

    >>> sparsity_error([np.array([[1.0, 0.0], [-1.0, 0.25]]), np.array([0.9])])
    0.25
    """
    largest = None
    for w in weights:
        if hasattr(w, "detach"):
            w = w.detach().cpu().numpy()
        w = np.abs(np.asarray(w, dtype=np.float64))
        if w.size == 0:
            continue
        if not np.isfinite(w).all():
            return math.nan
        worst = float(np.max(np.minimum(w, np.abs(1.0 - w))))
        largest = worst if largest is None else max(largest, worst)
    if largest is None:
        raise ValueError("weights must contain at least one non-empty array")
    return largest
