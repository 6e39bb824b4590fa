"""Tests for nalm.train.kernels: rows drawn where they are used, their targets, the vectorized logarithm and
exponential, and the fused step's disk cache.

The kernels must draw exactly what :mod:`nalm.philox` defines (the numpy path of
``task.sample`` and the PyTorch path for other devices), reduce each row to its operands, and
compute the targets that :data:`nalm.tasks.targets.TARGETS` computes from them.
"""
import os
import subprocess
import sys

import numba
import numpy as np
import pytest
import torch

from nalm.tasks import RecurrentTask, StaticTask
from nalm import philox
from nalm.philox import Draws
from nalm.streams import TRAIN
from nalm.tasks.targets import TARGETS
from nalm.train.kernels import draw, layers, logexp, step
from nalm.train.data import Member, PopulationData

DTYPES = [(np.float32, torch.float32), (np.float64, torch.float64)]
TASKS = {
    "madsen2020": StaticTask(),
    "union range": StaticTask(input_size=7, subset_ratio=0.5, overlap_ratio=0.0, placement="first",
                              interpolation="[-6,-2]U[2,6]"),
    "decimals": StaticTask(input_size=5, subset_ratio=0.4, interpolation=[0.1, 0.2]),
    "recurrent": RecurrentTask(input_size=10, placement="ranges", length=3),
}


def _data(task, seeds, dtype, batch=16):
    members = [Member(s, "mul", task) for s in seeds]
    return PopulationData(members, batch_size=batch, eval_samples=2, device="cpu", dtype=dtype)


@pytest.mark.parametrize("name", list(TASKS))
@pytest.mark.parametrize("np_dtype, dtype", DTYPES)
def test_kernel_batch_is_the_tasks_own_draw_at_that_step(name, np_dtype, dtype):
    task = TASKS[name]
    data = _data(task, [0, 3], dtype)
    for step in (0, 7, 2 ** 32 + 1):
        x, y = data.train_batch(step)
        for i, seed in enumerate((0, 3)):
            expected = task.sample(16, Draws(seed, TRAIN, step), False, np_dtype)
            np.testing.assert_array_equal(x[i].numpy(), expected)
            totals = expected if not task.recurrent else expected.sum(axis=1)
            a, b = (totals @ task.layout(seed)).T
            np.testing.assert_allclose(y[i, :, 0].numpy(), a * b, rtol=1e-5 if np_dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", list(TASKS))
@pytest.mark.parametrize("np_dtype, dtype", DTYPES)
def test_pytorch_draw_for_other_devices_equals_the_kernel(name, np_dtype, dtype):
    data = _data(TASKS[name], [1, 2], dtype)
    x, _ = data.train_batch(5)
    shape = (2, 16, *data.input_shape)
    torch.testing.assert_close(data.streams.draw_torch(data.keys, 5, shape, dtype, "cpu"), x, rtol=0, atol=0)


@pytest.mark.parametrize("task", [*TASKS.values(), StaticTask(placement="scattered")], ids=[*TASKS, "scattered"])
@pytest.mark.parametrize("np_dtype, dtype", DTYPES)
def test_operands_are_sums_in_index_order(task, np_dtype, dtype):
    """a and b add their subset's inputs one at a time from the first (numpy's accumulate), on
    every CPU: 21 rows take the eight-row blocks and the rows left over."""
    data = _data(task, [0, 3], dtype, batch=21)
    streams = data.streams
    x = np.empty((2, 21, int(np.prod(data.input_shape))), dtype=np_dtype)
    operands = np.empty((2, 21, 2), dtype=np_dtype)
    draw.draw_batch(x, operands, streams.words(4), streams.row_blocks, streams.a_masks, streams.b_masks,
                    streams.spans, *streams.ranges)
    for i, seed in enumerate((0, 3)):
        steps = x.shape[2] // task.layout(seed).shape[0]
        for column, mask in enumerate(task.layout(seed).T):
            picked = x[i][:, np.tile(mask, steps) == 1]
            np.testing.assert_array_equal(operands[i, :, column], np.add.accumulate(picked, axis=1)[:, -1])


def test_a_step_is_drawn_without_replaying_the_steps_before_it():
    data = _data(TASKS["madsen2020"], [4], torch.float32)
    late = data.train_batch(1000)
    again = _data(TASKS["madsen2020"], [4], torch.float32)
    for step in range(3):
        again.train_batch(step)
    torch.testing.assert_close(again.train_batch(1000), late, rtol=0, atol=0)
    assert not torch.equal(data.train_batch(999)[0], late[0])


def _operand_pairs(dtype):
    """a and b over every magnitude of ``dtype``, both signs, and the values where operations
    part ways: ±0, subnormals, ±inf, nan, each against each."""
    rng = np.random.default_rng(0)
    info = np.finfo(dtype)
    magnitudes = np.exp(rng.uniform(np.log(float(info.smallest_subnormal)), np.log(float(info.max)) - 1, 20_000))
    values = np.concatenate([magnitudes, -magnitudes[:5_000]]).astype(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.smallest_subnormal, -info.smallest_subnormal,
                        info.smallest_normal, info.max, 1.0, -1.0, 4.0], dtype=dtype)
    a, b = np.meshgrid(special, special)
    return np.concatenate([values, a.ravel()]), np.concatenate([rng.permutation(values), b.ravel()])


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("dtype, bits", [(np.float32, np.uint32), (np.float64, np.uint64)])
def test_kernel_targets_are_those_of_TARGETS_bit_for_bit(name, dtype, bits):
    """The fused step's targets for operation ``OPS.index(name)`` are TARGETS[name] of the numpy
    operands, to the bit: the sign of a zero and of a nan included (sqrt: numba's ``a ** 0.5``
    would give +0 for -0 and +inf for -inf)."""
    a, b = _operand_pairs(dtype)
    targets = np.empty_like(a)
    with draw.quiet_compilation():
        draw._targets(draw.OPS.index(name), np.stack([a, b], axis=1), targets)
    with np.errstate(all="ignore"):
        expected = np.asarray(TARGETS[name](a, b), dtype=dtype)
    np.testing.assert_array_equal(targets.view(bits), expected.view(bits))


@numba.njit
def _logs(values, eps):
    out = np.empty_like(values)
    logexp.log_magnitudes(values, eps, out)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorized_log_is_within_one_ulp_of_the_correctly_rounded_log(dtype):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(1e-3, 10, 200_000), np.exp(rng.uniform(-80, 80, 200_000)),
                             [1.0, 2.0, 0.5, np.sqrt(0.5), np.sqrt(2.0)]]).astype(dtype)
    got = _logs(values, dtype(0)).astype(np.float64)
    exact = np.log(values.astype(np.float64))
    ulps = np.abs(got - exact) / np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    assert ulps.max() <= 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorized_log_of_special_values_is_the_librarys(dtype):
    values = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -3.0] + [1.5] * 20, dtype=dtype)
    got = _logs(values, dtype(0))
    with np.errstate(divide="ignore"):
        expected = np.log(np.abs(values.astype(np.float64)))
    np.testing.assert_allclose(got[:7], expected[:7], rtol=1e-6)
    assert np.isnan(got[4]) and got[0] == -np.inf and got[2] == np.inf


def test_eps_is_added_before_the_log():
    values = np.zeros(32, dtype=np.float32)
    np.testing.assert_allclose(_logs(values, np.float32(1e-7)), np.log(np.float32(1e-7)), rtol=1e-6)


@numba.njit
def _exps(values, sign):
    out = np.empty_like(values)
    logexp.exps(values, values.dtype.type(sign), out)
    return out


@pytest.mark.parametrize("dtype, limit", [(np.float32, 87.0), (np.float64, 708.0)])
def test_vectorized_exp_is_within_one_ulp_of_the_correctly_rounded_exp(dtype, limit):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(-limit, limit, 200_000), rng.uniform(-1, 1, 100_000),
                             rng.normal(0, 1e-6, 1000), [0.0, -0.0, 1.0, -1.0, np.log(2.0), limit, -limit]]).astype(dtype)
    exact = np.exp(values.astype(np.longdouble))  # 64 significant bits: the rounding of float64's is visible
    for sign in (1, -1):
        got = _exps(values, sign).astype(np.longdouble)
        truth = exact if sign == 1 else 1 / exact
        ulps = np.abs(got - truth) / np.spacing(truth.astype(dtype)).astype(np.longdouble)
        assert ulps.max() <= 1.0, (sign, values[np.argmax(ulps)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorized_exp_of_special_and_large_values_is_the_librarys(dtype):
    values = np.array([np.nan, np.inf, -np.inf, 88.5, -88.5, 100.0, -100.0, 709.5, -709.5, -745.0, 1000.0, -1000.0]
                      + [0.5] * 20, dtype=dtype)
    with np.errstate(over="ignore", under="ignore"):
        expected = np.exp(values)
        negated = np.exp(-values)
    np.testing.assert_allclose(_exps(values, 1), expected, rtol=1e-6, atol=0)  # (numpy's exp may differ by 1 ulp)
    np.testing.assert_allclose(_exps(values, -1), negated, rtol=1e-6, atol=0)


@pytest.mark.parametrize("kernel", [draw.draw_stream, draw.draw_batch, draw._targets, *draw._OPERATIONS,
                                    philox._to_range, philox.fill_rows])
def test_drawing_kernels_refuse_fast_math_whoever_calls_them_first(kernel):
    """numba compiles a function without its own fast-math setting with the setting of its first
    caller: drawn from the fused step (fast-math) first, rows were rounded otherwise (by an ulp)
    than drawn by draw_batch, and cached so. The drawing kernels therefore say fastmath=False."""
    assert kernel.targetoptions.get("fastmath") is False


def test_the_fused_step_closes_over_integers_only():
    """numba's disk cache keys a function on its closure's pickled values: integers pickle alike in
    every process (a compiled function does not), so a second process loads the step."""
    closure = step.fused_step(layers.NALU, layers.NONE).py_func.__closure__
    assert closure and all(type(cell.cell_contents) is int for cell in closure)


_TRAIN_NAC = """
from nalm.tasks import presets
from nalm.train import Member, TrainConfig, train_population
from nalm.train.kernels import layers, step
train_population("nac", [Member(0, "sqrt", presets.madsen2020())], TrainConfig(iterations=2, eval_samples=8))
stats = step.fused_step(layers.LINEAR, layers.LINEAR).stats  # two NAC layers (hidden 2)
print(len(stats.cache_hits), len(stats.cache_misses))
"""


@pytest.mark.slow
def test_a_second_process_loads_the_fused_step_from_the_disk_cache(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", _TRAIN_NAC], env=env, capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(2)]
    assert runs == [["0", "1"], ["1", "0"]]  # (hits, misses): compiled, then loaded
