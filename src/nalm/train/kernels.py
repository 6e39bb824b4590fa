"""Compiled CPU kernels (numba): training data drawn where it is used, and fused training steps.

A population step on the CPU was bound by memory: 100 fresh (128, 100) batches drawn, written
out, then read back by the targets, the forward pass and the weight gradient. Here a row of
data is drawn (Philox, :mod:`nalm.philox`), mapped to the task's range and reduced to
its operands a and b while in cache (:func:`draw_stream`); :func:`fused_step` draws a member's
batch into a buffer that stays in cache and runs it through a network of up to two layers and
back, a layer at a time for the whole batch (the first layer four rows at a time; the second
layer, the exponentials and the sigmoids in vector loops over the batch), accumulating the
member's gradient with respect to its layers' effective weights. Everything else (effective weights
from raw parameters, regularizers, optimizers) stays in PyTorch, whose autograd carries those
gradients back to the parameters.

Drawing a row never uses fast-math (the kernels that draw say ``fastmath=False`` explicitly:
numba compiles a function without its own setting with the fast-math of the first caller), and
every kernel sums the operands with the one function :func:`_operands`, so the fused step and
:func:`draw_batch` see the same numbers; the fused
forward and backward allow reassociation (sums vectorize) and contraction (fused
multiply-add), so they match PyTorch's autograd to rounding, not bit for bit.
"""
from __future__ import annotations

import contextlib
import functools
import math
import warnings

import numba
import numpy as np
from numba import types
from numba.core.errors import NumbaIRAssumptionWarning
from llvmlite import ir as llvm_ir
from numba.extending import intrinsic, overload

from ..philox import draw_row

# Layer kinds of the fused step (see :class:`nalm.units.base.KernelLayer`).
NONE, LINEAR, NMU, NALU, LOG_LINEAR = range(5)
KINDS = {"linear": LINEAR, "nmu": NMU, "nalu": NALU, "log-linear": LOG_LINEAR}

# Target operations by name; the kernels compute operation i of this tuple (:func:`_target`).
OPS = ("add", "sub", "mul", "div", "square", "sqrt", "identity")

FAST = {"reassoc", "contract"}
# Every kernel is compiled with error_model="numpy": x / 0 gives inf or nan, as in PyTorch,
# where Python's model raises ZeroDivisionError (and its check keeps a loop with a division
# from vectorizing).


@contextlib.contextmanager
def quiet_compilation():
    """Around a call of a kernel: silences numba's pedantic IR check (``NumbaIRAssumptionWarning``),
    which a first compile raises about numba's own inlining of the row drawer, meaningless to a user."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaIRAssumptionWarning)
        yield


# -- drawing ---------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy", fastmath=False)
def _words(words):
    """A stream's Philox words as int64 scalars: rows drawn from scalars passed in run about twice
    as fast as rows that read them from an array."""
    return np.int64(words[0]), np.int64(words[1]), np.int64(words[2]), np.int64(words[3]), np.int64(words[4])


ROWS_AT_ONCE = 8  # rows whose operand sums run side by side: eight independent chains of adds hide their latency


@numba.njit(cache=True, error_model="numpy", fastmath=False, _nrt=False)
def _subset_sums(x, operands, column, mask, start, end):
    """``operands[r, column]`` = the sum, in index order from 0, of row r's inputs at the
    positions ``j`` of every time step (width ``len(mask)``) with ``mask[j]`` 1; only
    ``start <= j < end`` are looked at (the mask's run of ones, where it is one, else the whole step).

    Summed in index order (no fast-math) so that the operands, and so the targets, are the same
    on every CPU: a vectorized sum adds in an order set by the vector width. Eight rows are
    summed at once, each row still in its own order.
    """
    rows, width = x.shape[0], mask.shape[0]
    zero = x.dtype.type(0)
    r = 0
    while r + ROWS_AT_ONCE <= rows:
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = zero
        for step in range(0, x.shape[1], width):
            for j in range(step + start, step + end):
                if mask[j - step] != 0:
                    s0 += x[r, j]
                    s1 += x[r + 1, j]
                    s2 += x[r + 2, j]
                    s3 += x[r + 3, j]
                    s4 += x[r + 4, j]
                    s5 += x[r + 5, j]
                    s6 += x[r + 6, j]
                    s7 += x[r + 7, j]
        operands[r, column], operands[r + 1, column], operands[r + 2, column], operands[r + 3, column] = s0, s1, s2, s3
        operands[r + 4, column], operands[r + 5, column], operands[r + 6, column], operands[r + 7, column] = s4, s5, s6, s7
        r += ROWS_AT_ONCE
    for q in range(r, rows):
        total = zero
        for step in range(0, x.shape[1], width):
            for j in range(step + start, step + end):
                if mask[j - step] != 0:
                    total += x[q, j]
        operands[q, column] = total


@numba.njit(cache=True, error_model="numpy", fastmath=False, _nrt=False)
def _operands(x, operands, a_mask, b_mask, spans):
    """a and b of every row of ``x`` (batch, n) into ``operands`` (batch, 2): the sums of the
    inputs where the 0/1 masks of one time step are 1, over the row's ``n / len(mask)`` time
    steps (:func:`_subset_sums`). Where each mask is one run of ones (``spans[0] >= 0``), only
    the runs ``[spans[0], spans[1])`` and ``[spans[2], spans[3])`` are read: a quarter of the
    madsen2020 task's inputs. Every kernel reduces its rows with this one function."""
    runs = spans[0] >= 0
    width = a_mask.shape[0]
    _subset_sums(x, operands, 0, a_mask, spans[0] if runs else 0, spans[1] if runs else width)
    _subset_sums(x, operands, 1, b_mask, spans[2] if runs else 0, spans[3] if runs else width)


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def _target(op, a, b):
    """Operation ``OPS[op]`` of a and b, as :data:`nalm.tasks.static.TARGETS` computes it."""
    if op == 0:
        return a + b
    if op == 1:
        return a - b
    if op == 2:
        return a * b
    if op == 3:
        return a / b
    if op == 4:
        return a * a
    if op == 5:
        return np.sqrt(a)
    return a


@numba.njit(cache=True, error_model="numpy", fastmath=False, _nrt=False)  # no reference counting of the row views: it cost a quarter of the time
def draw_stream(x, operands, words, step_block, a_mask, b_mask, spans, lows, highs, ends, starts, count):
    """One stream's training inputs ``x`` (batch, n) and operands (batch, 2).

    ``words``: the stream's Philox key and counter words (:meth:`nalm.philox.Draws.words`);
    row r starts at block ``r · step_block``; a and b sum the inputs where ``a_mask`` and
    ``b_mask`` (0/1, one time step wide) are 1, over every time step, in index order
    (:func:`_operands`; ``spans``: each mask's run of ones).
    """
    k0, k1, c1, c2, c3 = _words(words)
    if count == 1 and x.shape[1] * (x.itemsize // 4) == 4 * step_block:
        # Rows that fill their blocks exactly lie end to end in the stream as they do in x: one
        # long row draws them all, without a partial vector loop per row (1.6x the rate for rows of 100).
        draw_row(x.reshape(x.size), k0, k1, c1, c2, c3, 0, lows, highs, ends, starts, count)
    else:
        for r in range(x.shape[0]):
            draw_row(x[r], k0, k1, c1, c2, c3, r * step_block, lows, highs, ends, starts, count)
    _operands(x, operands, a_mask, b_mask, spans)


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def draw_batch(x, operands, words, step_block, a_masks, b_masks, spans, lows, highs, ends, starts, counts):
    """:func:`draw_stream` for S streams: ``x`` (S, batch, n), operands (S, batch, 2), one row of
    every other argument per stream."""
    for s in range(x.shape[0]):
        draw_stream(x[s], operands[s], words[s], step_block, a_masks[s], b_masks[s], spans[s], lows[s], highs[s],
                    ends[s], starts[s], counts[s])


# -- clamped weights (KernelLayer.weight_bounds) --------------------------------------------
@numba.njit(cache=True, error_model="numpy", fastmath=False, _nrt=False)
def clamp_into(weight, low, high, out):
    """``out`` = ``weight`` clamped to [low, high] as ``torch.clamp`` clamps (nan stays nan);
    both C-contiguous, of one shape, ``low`` and ``high`` of their dtype."""
    w, o = weight.reshape(weight.size), out.reshape(out.size)
    for i in range(w.shape[0]):
        v = w[i]
        o[i] = low if v < low else (high if v > high else v)


@numba.njit(cache=True, error_model="numpy", fastmath=False, _nrt=False)
def clamp_gradient(weight, low, high, gradient):
    """``torch.clamp``'s backward in place: ``gradient`` kept where ``low <= weight <= high``,
    0 elsewhere (and where ``weight`` is nan)."""
    w, g = weight.reshape(weight.size), gradient.reshape(gradient.size)
    zero = g.dtype.type(0)
    for i in range(w.shape[0]):
        g[i] = g[i] if low <= w[i] and w[i] <= high else zero


# -- a logarithm that vectorizes --------------------------------------------------------------
# numba calls the C library's log one value at a time; a NALU's log-space path takes the log of
# every input of every row, which that made the slowest part of its step. Here the log is
# computed from the float's bits with a polynomial, in a loop LLVM vectorizes, within 1 ulp of
# the correctly rounded log (tests/train/test_kernels.py); it is compiled with contraction to
# fused multiply-adds but no other fast-math, which could reorder its careful sums.
_SQRT_HALF32 = np.float32(0.707106781186547524)
_LOGF = tuple(np.float32(c) for c in (  # Cephes logf (Moshier): its polynomial for log(1 + x)
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
_LN2_SPLIT32 = (np.float32(-2.12194440e-4), np.float32(0.693359375))
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,  # fdlibm e_log.c
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10


@intrinsic
def _as_integer(typingctx, x):
    """The bits of a float32 (float64) as an int32 (int64)."""
    width = x.bitwidth
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(width))
    return getattr(types, f"int{width}")(x), codegen


@intrinsic
def _as_float(typingctx, x):
    """An int32 (int64) read as the float32 (float64) with those bits."""
    width = x.bitwidth
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.FloatType() if width == 32 else llvm_ir.DoubleType())
    return getattr(types, f"float{width}")(x), codegen


@numba.njit(inline="always")
def _log32(v):
    """Cephes logf for a positive normal float32: v = m·2^e, m in [√½, √2), log(1 + (m - 1)) by a polynomial."""
    one, half = np.float32(1), np.float32(0.5)
    bits = _as_integer(v)
    m = _as_float(np.int32((bits & 0x807FFFFF) | 0x3F000000))  # in [0.5, 1)
    e = np.float32((bits >> 23) - 126)
    small = m < _SQRT_HALF32
    e = e - one if small else e
    x = m + m - one if small else m - one
    z = x * x
    p = ((((((((_LOGF[0] * x + _LOGF[1]) * x + _LOGF[2]) * x + _LOGF[3]) * x + _LOGF[4]) * x + _LOGF[5]) * x
           + _LOGF[6]) * x + _LOGF[7]) * x + _LOGF[8])
    y = x * z * p + _LN2_SPLIT32[0] * e - half * z
    return x + y + _LN2_SPLIT32[1] * e


@numba.njit(inline="always")
def _log64(v):
    """fdlibm's log for a positive normal float64: v = m·2^k, m in [√½, √2), log(1 + f) = 2s + s·R(s²)
    with s = f / (2 + f)."""
    bits = _as_integer(v)
    mantissa = bits & 0x000FFFFFFFFFFFFF
    big = mantissa > 0x6A09E667F3BCD  # m > √2: halve it
    f = _as_float(np.int64(mantissa | (0x3FE0000000000000 if big else 0x3FF0000000000000))) - 1.0
    k = np.float64((bits >> 52) - 1023 + (1 if big else 0))
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6]))) + w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    half_square = 0.5 * f * f
    return k * _LN2_HI - ((half_square - (s * (half_square + r) + k * _LN2_LO)) - f)


def log_magnitudes(inp, eps, out):
    """``out[i] = log(|inp[i]| + eps)`` for a 1-d float32 or float64 array; from compiled kernels only."""
    raise TypeError("log_magnitudes is called from numba kernels only")


@overload(log_magnitudes, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _log_magnitudes_for_dtype(inp, eps, out):
    float32 = inp.dtype == types.float32
    log = _log32 if float32 else _log64
    smallest_normal, infinity = (0x00800000, 0x7F800000) if float32 else (0x0010000000000000, 0x7FF0000000000000)
    zero_value, infinity_value = (np.float32(0), np.float32(np.inf)) if float32 else (0.0, np.inf)

    def impl(inp, eps, out):
        lowest, highest = _as_integer(infinity_value), _as_integer(zero_value)
        for i in range(inp.shape[0]):  # the bits' range in the same loop: it still vectorizes
            v = abs(inp[i]) + eps
            bits = _as_integer(v)
            lowest, highest = min(lowest, bits), max(highest, bits)
            out[i] = log(v)
        if lowest < smallest_normal or highest >= infinity:  # zero, subnormal, infinite or nan: the C library's log
            for i in range(inp.shape[0]):
                v = abs(inp[i]) + eps
                bits = _as_integer(v)
                if (bits < smallest_normal) | (bits >= infinity):
                    out[i] = math.log(v)
    return impl


# -- an exponential that vectorizes -----------------------------------------------------------
# The same reason as the log's: a NALU step takes the exponential of every row's log-space sum
# and gate logit, in both layers. Each is computed as 2^n · exp(r), n = round(v / ln 2),
# |r| ≤ ln(2)/2, with the C library's exp kept for arguments whose result is not a normal float
# (and nan), within 1 ulp of the correctly rounded exp (tests/train/test_kernels.py).
_LOG2E32 = np.float32(1.44269504088896341)
_EXPF = tuple(np.float32(c) for c in (  # Cephes expf (Moshier): its polynomial for exp(r) - 1 - r
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_EXP_P = (1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,  # fdlibm e_exp.c
          -1.65339022054652515390e-06, 4.13813679705723846039e-08)
_INV_LN2 = 1.44269504088896338700e+00
# |v| up to these gives a normal result: exp(±87) and exp(±708) lie inside float32's and float64's normal range.
_EXP_LIMIT32, _EXP_LIMIT64 = np.float32(87.0), 708.0


@numba.njit(inline="always")
def _exp32(v):
    """Cephes expf for |v| ≤ 87: n = round(v·log2 e), r = v - n·ln 2 in two parts, exp(r) by a polynomial."""
    n = np.floor(v * _LOG2E32 + np.float32(0.5))
    r = v - n * _LN2_SPLIT32[1] - n * _LN2_SPLIT32[0]
    z = r * r
    p = (((((_EXPF[0] * r + _EXPF[1]) * r + _EXPF[2]) * r + _EXPF[3]) * r + _EXPF[4]) * r + _EXPF[5]) * z + r
    return (p + np.float32(1)) * _as_float(np.int32((np.int32(n) + 127) << 23))


@numba.njit(inline="always")
def _exp64(v):
    """fdlibm's exp for |v| ≤ 708: v = k·ln 2 + r, exp(r) = 1 + 2r / (R(r²) - r) in the form that keeps its rounding."""
    k = np.floor(v * _INV_LN2 + 0.5)
    hi = v - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_EXP_P[0] + t * (_EXP_P[1] + t * (_EXP_P[2] + t * (_EXP_P[3] + t * _EXP_P[4]))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return y * _as_float(np.int64((np.int64(k) + 1023) << 52))


def exps(inp, sign, out):
    """``out[i] = exp(sign · inp[i])`` for 1-d float32 or float64 arrays and ``sign`` ±1
    (``out`` not ``inp``); from compiled kernels only."""
    raise TypeError("exps is called from numba kernels only")


@overload(exps, jit_options={"fastmath": {"contract"}, "error_model": "numpy"})
def _exps_for_dtype(inp, sign, out):
    float32 = inp.dtype == types.float32
    exp, limit, zero = (_exp32, _EXP_LIMIT32, np.float32(0)) if float32 else (_exp64, _EXP_LIMIT64, 0.0)

    def impl(inp, sign, out):
        limit_bits = _as_integer(limit)
        highest = _as_integer(zero)
        for i in range(inp.shape[0]):  # |v|'s largest bits in the same loop (nan's are above inf's): it still vectorizes
            v = sign * inp[i]
            bits = _as_integer(abs(v))
            highest = max(highest, bits)
            out[i] = exp(v if bits <= limit_bits else zero)
        if highest > limit_bits:  # large, infinite or nan: the C library's exp
            for i in range(inp.shape[0]):
                v = sign * inp[i]
                if _as_integer(abs(v)) > limit_bits:
                    out[i] = math.exp(v)
    return impl


# -- the fused training step -------------------------------------------------------------------
# A member's batch goes through the network a layer at a time, for every row at once: the first
# layer's inputs are rows of x (batch, inputs), the four rows of a block sharing each weight
# load (:func:`_linear_forward_4`); what a layer passes on, and what its backward pass needs, is
# kept transposed, (units, batch), so that the second layer, the exponentials and the sigmoids
# are vector loops over the batch. Each layer kind has a first-layer forward and backward and a
# second-layer function (forward, squared error and backward, with the input gradient), all with
# the same arguments per role, so that a step is compiled with its two layers' code only.
# Helpers are inlined into these layer functions (``_LAYER``), which are compiled once per dtype
# and called once per member (``_LAYER_PASS``): a step inlining all of them took twice as long
# to compile (29 s against 13 s for a NALU's) and ran no faster. Without reference counting:
# every array comes from the caller.
_LAYER = dict(cache=True, error_model="numpy", fastmath=FAST, inline="always")
_LAYER_PASS = dict(cache=True, error_model="numpy", fastmath=FAST, _nrt=False)


@numba.njit(**_LAYER)
def _zero(a):
    flat = a.reshape(-1)
    for i in range(flat.shape[0]):
        flat[i] = flat.dtype.type(0)


@numba.njit(**_LAYER)
def _sigmoids(logits, out):
    """out = σ(logits) = 1 / (1 + exp(-logits)) for 2-d arrays of the same shape."""
    exps(logits.reshape(-1), logits.dtype.type(-1), out.reshape(-1))
    flat, one = out.reshape(-1), out.dtype.type(1)
    for i in range(flat.shape[0]):
        flat[i] = one / (one + flat[i])


# First layer, four rows of x at a time (each weight loaded once for the four), then one at a time.
@numba.njit(**_LAYER)
def _linear_forward_4(x, r, W, hT):
    """``hT[:, r + k] = W · x[r + k]`` for k < 4."""
    zero = x.dtype.type(0)
    for j in range(W.shape[0]):
        s0, s1, s2, s3 = zero, zero, zero, zero
        for i in range(x.shape[1]):
            w = W[j, i]
            s0 += w * x[r, i]
            s1 += w * x[r + 1, i]
            s2 += w * x[r + 2, i]
            s3 += w * x[r + 3, i]
        hT[j, r], hT[j, r + 1], hT[j, r + 2], hT[j, r + 3] = s0, s1, s2, s3


@numba.njit(**_LAYER)
def _linear_forward_1(x, r, W, hT):
    for j in range(W.shape[0]):
        s = x.dtype.type(0)
        for i in range(x.shape[1]):
            s += W[j, i] * x[r, i]
        hT[j, r] = s


@numba.njit(**_LAYER)
def _outer_4(dT, x, r, g):
    """``g += Σ_k dT[:, r + k] ⊗ x[r + k]`` for k < 4: one update of g for the four rows."""
    for j in range(g.shape[0]):
        d0, d1, d2, d3 = dT[j, r], dT[j, r + 1], dT[j, r + 2], dT[j, r + 3]
        for i in range(x.shape[1]):
            g[j, i] += d0 * x[r, i] + d1 * x[r + 1, i] + d2 * x[r + 2, i] + d3 * x[r + 3, i]


@numba.njit(**_LAYER)
def _outer_1(dT, x, r, g):
    for j in range(g.shape[0]):
        d = dT[j, r]
        for i in range(x.shape[1]):
            g[j, i] += d * x[r, i]


@numba.njit(**_LAYER)
def _outer(dT, x, g):
    """``g += dT x``: Σ over the rows of ``dT[:, r] ⊗ x[r]``, four rows at a time."""
    batch = x.shape[0]
    for r in range(0, batch - 3, 4):
        _outer_4(dT, x, r, g)
    for r in range(batch - batch % 4, batch):
        _outer_1(dT, x, r, g)


@numba.njit(**_LAYER_PASS)
def _linear_first(x, logs, W, V, G, B, eps, F):
    hT = F[0]
    batch = x.shape[0]
    for r in range(0, batch - 3, 4):
        _linear_forward_4(x, r, W, hT)
    for r in range(batch - batch % 4, batch):
        _linear_forward_1(x, r, W, hT)


@numba.njit(**_LAYER_PASS)
def _linear_first_backward(x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB):
    _outer(dhT, x, gW)


@numba.njit(**_LAYER)
def _nalu_sums_4(x, logs, r, W, V, G, B, linT, sT, qT):
    """The NALU's three sums for rows r to r + 3: additive path W·x, log-space V·log|x| and the
    gate's logits G·x + B (a shared gate's from its one row, on the first output)."""
    zero = x.dtype.type(0)
    n_out, n_in = W.shape[0], x.shape[1]
    own_gates = G.shape[0] == n_out
    for j in range(n_out):
        gate_row = j if own_gates else 0
        a0, a1, a2, a3 = zero, zero, zero, zero
        m0, m1, m2, m3 = zero, zero, zero, zero
        q = B[gate_row]
        q0, q1, q2, q3 = q, q, q, q
        for i in range(n_in):  # (twelve sums in one loop spilled registers on every pass: 18% slower)
            w, g = W[j, i], G[gate_row, i]
            x0, x1, x2, x3 = x[r, i], x[r + 1, i], x[r + 2, i], x[r + 3, i]
            a0 += w * x0
            a1 += w * x1
            a2 += w * x2
            a3 += w * x3
            q0 += g * x0
            q1 += g * x1
            q2 += g * x2
            q3 += g * x3
        for i in range(n_in):
            v = V[j, i]
            m0 += v * logs[r, i]
            m1 += v * logs[r + 1, i]
            m2 += v * logs[r + 2, i]
            m3 += v * logs[r + 3, i]
        linT[j, r], linT[j, r + 1], linT[j, r + 2], linT[j, r + 3] = a0, a1, a2, a3
        sT[j, r], sT[j, r + 1], sT[j, r + 2], sT[j, r + 3] = m0, m1, m2, m3
        if own_gates or j == 0:
            qT[gate_row, r], qT[gate_row, r + 1], qT[gate_row, r + 2], qT[gate_row, r + 3] = q0, q1, q2, q3


@numba.njit(**_LAYER)
def _nalu_sums_1(x, logs, r, W, V, G, B, linT, sT, qT):
    zero = x.dtype.type(0)
    n_out = W.shape[0]
    own_gates = G.shape[0] == n_out
    for j in range(n_out):
        gate_row = j if own_gates else 0
        a, m, q = zero, zero, B[gate_row]
        for i in range(x.shape[1]):
            a += W[j, i] * x[r, i]
            m += V[j, i] * logs[r, i]
            q += G[gate_row, i] * x[r, i]
        linT[j, r], sT[j, r] = a, m
        if own_gates or j == 0:
            qT[gate_row, r] = q


@numba.njit(**_LAYER)
def _nalu_mix(linT, sT, qT, mulT, gateT, hT):
    """h = g·a + (1 - g)·exp(s), g = σ(q), over the whole batch."""
    one = hT.dtype.type(1)
    exps(sT.reshape(-1), one, mulT.reshape(-1))
    _sigmoids(qT, gateT)
    own_gates = gateT.shape[0] == hT.shape[0]
    for j in range(hT.shape[0]):
        gate_row = j if own_gates else 0
        for r in range(hT.shape[1]):
            g = gateT[gate_row, r]
            hT[j, r] = g * linT[j, r] + (one - g) * mulT[j, r]


@numba.njit(**_LAYER)
def _nalu_path_gradients(dT, linT, mulT, gateT, zT, aT, qT):
    """From dL/dh: dL/d(log-space sum) ``zT``, dL/d(additive sum) ``aT`` and dL/d(gate logit)
    ``qT`` (a shared gate's summed over the outputs)."""
    one = dT.dtype.type(1)
    own_gates = gateT.shape[0] == dT.shape[0]
    if not own_gates:
        _zero(qT)
    for j in range(dT.shape[0]):
        gate_row = j if own_gates else 0
        for r in range(dT.shape[1]):
            d, g, m = dT[j, r], gateT[gate_row, r], mulT[j, r]
            zT[j, r] = d * (one - g) * m
            aT[j, r] = d * g
            dg = d * (linT[j, r] - m) * g * (one - g)
            if own_gates:
                qT[j, r] = dg
            else:
                qT[0, r] += dg


@numba.njit(**_LAYER_PASS)
def _nalu_first(x, logs, W, V, G, B, eps, F):
    hT, linT, sT, mulT, qT, gateT = F[0], F[1], F[2], F[3], F[4], F[5]
    batch = x.shape[0]
    for r in range(0, batch - 3, 4):
        _nalu_sums_4(x, logs, r, W, V, G, B, linT, sT, qT)
    for r in range(batch - batch % 4, batch):
        _nalu_sums_1(x, logs, r, W, V, G, B, linT, sT, qT)
    _nalu_mix(linT, sT, qT, mulT, gateT, hT)


@numba.njit(**_LAYER)
def _nalu_backward_4(x, logs, r, zT, aT, qT, gW, gV, gG):
    """:func:`_outer_4` of the three paths in one pass over the four rows."""
    n_out, n_in = gW.shape[0], x.shape[1]
    own_gates = gG.shape[0] == n_out
    for j in range(n_out):
        z0, z1, z2, z3 = zT[j, r], zT[j, r + 1], zT[j, r + 2], zT[j, r + 3]
        a0, a1, a2, a3 = aT[j, r], aT[j, r + 1], aT[j, r + 2], aT[j, r + 3]
        if own_gates:
            q0, q1, q2, q3 = qT[j, r], qT[j, r + 1], qT[j, r + 2], qT[j, r + 3]
            for i in range(n_in):
                x0, x1, x2, x3 = x[r, i], x[r + 1, i], x[r + 2, i], x[r + 3, i]
                gV[j, i] += z0 * logs[r, i] + z1 * logs[r + 1, i] + z2 * logs[r + 2, i] + z3 * logs[r + 3, i]
                gW[j, i] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                gG[j, i] += q0 * x0 + q1 * x1 + q2 * x2 + q3 * x3
        else:
            for i in range(n_in):
                gV[j, i] += z0 * logs[r, i] + z1 * logs[r + 1, i] + z2 * logs[r + 2, i] + z3 * logs[r + 3, i]
                gW[j, i] += a0 * x[r, i] + a1 * x[r + 1, i] + a2 * x[r + 2, i] + a3 * x[r + 3, i]
    if not own_gates:
        _outer_4(qT, x, r, gG)


@numba.njit(**_LAYER_PASS)
def _nalu_first_backward(x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB):
    linT, mulT, gateT, zT, aT, qT = F[1], F[3], F[5], F[6], F[7], F[8]
    _nalu_path_gradients(dhT, linT, mulT, gateT, zT, aT, qT)
    batch = x.shape[0]
    for r in range(0, batch - 3, 4):
        _nalu_backward_4(x, logs, r, zT, aT, qT, gW, gV, gG)
    for r in range(batch - batch % 4, batch):
        _outer_1(zT, logs, r, gV)
        _outer_1(aT, x, r, gW)
        _outer_1(qT, x, r, gG)
    for j in range(gB.shape[0]):
        s = gB.dtype.type(0)
        for r in range(batch):
            s += qT[j, r]
        gB[j] += s


@numba.njit(**_LAYER_PASS)
def _nmu_first(x, logs, W, V, G, B, eps, F):
    hT, one = F[0], x.dtype.type(1)
    for r in range(x.shape[0]):
        for j in range(W.shape[0]):
            p = one
            for i in range(x.shape[1]):
                p *= W[j, i] * x[r, i] + one - W[j, i]
            hT[j, r] = p


@numba.njit(**_LAYER_PASS)
def _nmu_first_backward(x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB):
    """dL/dW through Π_i (W_ji x_i + 1 - W_ji): each term's partner is the product of the others,
    prefix (kept in ``F[9]``) times suffix, without division (a term may be 0)."""
    prefix, one = F[9], x.dtype.type(1)
    n_in = x.shape[1]
    for r in range(x.shape[0]):
        for j in range(W.shape[0]):
            p = one
            for i in range(n_in):
                prefix[i] = p
                p *= W[j, i] * x[r, i] + one - W[j, i]
            d = dhT[j, r]
            after = one
            for i in range(n_in - 1, -1, -1):
                gW[j, i] += d * (prefix[i] * after) * (x[r, i] - one)  # (the others' product first, as before)
                after *= W[j, i] * x[r, i] + one - W[j, i]


@numba.njit(**_LAYER_PASS)
def _log_linear_first(x, logs, W, V, G, B, eps, F):
    hT, sT = F[0], F[2]
    for r in range(x.shape[0]):
        for j in range(V.shape[0]):
            s = x.dtype.type(0)
            for i in range(x.shape[1]):
                s += V[j, i] * logs[r, i]
            sT[j, r] = s
    exps(sT.reshape(-1), x.dtype.type(1), hT.reshape(-1))  # the output is the exponential itself


@numba.njit(**_LAYER_PASS)
def _log_linear_first_backward(x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB):
    hT, zT = F[0], F[6]
    for j in range(zT.shape[0]):
        for r in range(x.shape[0]):
            zT[j, r] = dhT[j, r] * hT[j, r]  # through exp(V·logs), which is h
    _outer(zT, logs, gV)


# Second layer: input hT (inputs, batch), every row at once; each adds its weight gradients,
# writes dL/dh to dhT and returns the summed squared error against ``targets``.
@numba.njit(**_LAYER)
def _errors(yT, targets, scale, dyT):
    """Σ (y - target)² over outputs and rows, with dyT = scale · (y - target)."""
    total = yT.dtype.type(0)
    for o in range(yT.shape[0]):
        for r in range(yT.shape[1]):
            e = yT[o, r] - targets[r]
            total += e * e
            dyT[o, r] = scale * e
    return total


@numba.njit(**_LAYER)
def _sums(W, hT, outT):
    """outT = W hT: each output's weighted sum of the inputs, for every row."""
    _zero(outT)
    for o in range(W.shape[0]):
        for i in range(W.shape[1]):
            w = W[o, i]
            for r in range(hT.shape[1]):
                outT[o, r] += w * hT[i, r]


@numba.njit(**_LAYER)
def _log_input_gradient(hT, eps, logs, zT, V, gV, dhT):
    """The log-space path's share: gV += zT logsᵀ, dhT += Vᵀ zT · sign(h) / (|h| + eps)."""
    one, zero = hT.dtype.type(1), hT.dtype.type(0)
    for o in range(V.shape[0]):
        for i in range(V.shape[1]):
            s, v = zero, V[o, i]
            for r in range(hT.shape[1]):
                h = hT[i, r]
                s += zT[o, r] * logs[i, r]
                sign = one if h > zero else (-one if h < zero else zero)
                dhT[i, r] += zT[o, r] * v * sign / (abs(h) + eps)
            gV[o, i] += s


@numba.njit(**_LAYER)
def _weight_gradient(dT, hT, W, gW, dhT):
    """gW += dT hTᵀ and dhT += Wᵀ dT: a weighted sum's share of the gradients."""
    zero = hT.dtype.type(0)
    for o in range(W.shape[0]):
        for i in range(W.shape[1]):
            s, w = zero, W[o, i]
            for r in range(hT.shape[1]):
                s += dT[o, r] * hT[i, r]
                dhT[i, r] += dT[o, r] * w
            gW[o, i] += s


@numba.njit(**_LAYER_PASS)
def _none_second(hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    return _errors(hT, targets, scale, dhT)  # a single layer: its output is the prediction


@numba.njit(**_LAYER_PASS)
def _linear_second(hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    yT, dyT = S[1], S[6]
    _sums(W, hT, yT)
    total = _errors(yT, targets, scale, dyT)
    _zero(dhT)
    _weight_gradient(dyT, hT, W, gW, dhT)
    return total


@numba.njit(**_LAYER_PASS)
def _nmu_second(hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    yT, dyT, prefix, after = S[1], S[6], S[7], S[8]
    one, zero = hT.dtype.type(1), hT.dtype.type(0)
    batch, n_in = hT.shape[1], W.shape[1]
    for o in range(W.shape[0]):
        for r in range(batch):
            yT[o, r] = one
        for i in range(n_in):  # prefix[i]: the product of the terms before i
            w = W[o, i]
            for r in range(batch):
                prefix[i, r] = yT[o, r]
                yT[o, r] *= w * hT[i, r] + one - w
    total = _errors(yT, targets, scale, dyT)
    _zero(dhT)
    for o in range(W.shape[0]):
        for r in range(batch):
            after[r] = one
        for i in range(n_in - 1, -1, -1):
            w, s = W[o, i], zero
            for r in range(batch):
                d = dyT[o, r] * (prefix[i, r] * after[r])  # times the product of the other terms
                s += d * (hT[i, r] - one)
                dhT[i, r] += d * w
                after[r] *= w * hT[i, r] + one - w
            gW[o, i] += s
    return total


@numba.njit(**_LAYER_PASS)
def _log_linear_second(hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    logs, yT, sT, dyT, zT = S[0], S[1], S[2], S[6], S[9]
    log_magnitudes(hT.reshape(-1), eps, logs.reshape(-1))
    _sums(V, logs, sT)
    exps(sT.reshape(-1), hT.dtype.type(1), yT.reshape(-1))
    total = _errors(yT, targets, scale, dyT)
    for o in range(yT.shape[0]):
        for r in range(yT.shape[1]):
            zT[o, r] = dyT[o, r] * yT[o, r]  # through exp(V·logs)
    _zero(dhT)
    _log_input_gradient(hT, eps, logs, zT, V, gV, dhT)
    return total


@numba.njit(**_LAYER_PASS)
def _nalu_second(hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    logs, yT, sT, mulT, qT, gateT, dyT, zT, aT, linT = S[0], S[1], S[2], S[3], S[4], S[5], S[6], S[9], S[10], S[11]
    log_magnitudes(hT.reshape(-1), eps, logs.reshape(-1))
    _sums(W, hT, linT)
    _sums(V, logs, sT)
    _sums(G, hT, qT)
    for k in range(G.shape[0]):
        for r in range(hT.shape[1]):
            qT[k, r] += B[k]
    _nalu_mix(linT, sT, qT, mulT, gateT, yT)
    total = _errors(yT, targets, scale, dyT)
    _nalu_path_gradients(dyT, linT, mulT, gateT, zT, aT, qT)
    _zero(dhT)
    _log_input_gradient(hT, eps, logs, zT, V, gV, dhT)
    _weight_gradient(aT, hT, W, gW, dhT)
    _weight_gradient(qT, hT, G, gG, dhT)
    for k in range(G.shape[0]):
        s = hT.dtype.type(0)
        for r in range(hT.shape[1]):
            s += qT[k, r]
        gB[k] += s
    return total


_FIRST = {LINEAR: _linear_first, NMU: _nmu_first, NALU: _nalu_first, LOG_LINEAR: _log_linear_first}
_FIRST_BACKWARD = {LINEAR: _linear_first_backward, NMU: _nmu_first_backward, NALU: _nalu_first_backward,
                   LOG_LINEAR: _log_linear_first_backward}
_SECOND = {NONE: _none_second, LINEAR: _linear_second, NMU: _nmu_second, NALU: _nalu_second,
           LOG_LINEAR: _log_linear_second}


def _first(kind, x, logs, W, V, G, B, eps, F):
    """The first layer of kind ``kind`` (a compile-time constant), forward, for every row of
    ``x``: its output to ``F[0]`` (units, batch), with what its backward pass needs in ``F``."""
    raise TypeError("_first is called from numba kernels only")


def _first_backward(kind, x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB):
    """Its weight gradients from dL/d(output) ``dhT``."""
    raise TypeError("_first_backward is called from numba kernels only")


def _second(kind, hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    """The second layer of kind ``kind`` (:data:`NONE`: none): forward from ``hT``, squared error,
    backward (weight gradients, and dL/dh to ``dhT``); returns the summed squared error."""
    raise TypeError("_second is called from numba kernels only")


def _literal_kind(kind) -> int:
    if not isinstance(kind, types.IntegerLiteral):
        raise numba.errors.TypingError("a layer kind must be a compile-time constant")
    return kind.literal_value


@overload(_first, inline="always")
def _first_of_kind(kind, x, logs, W, V, G, B, eps, F):
    chosen = _FIRST[_literal_kind(kind)]
    return lambda kind, x, logs, W, V, G, B, eps, F: chosen(x, logs, W, V, G, B, eps, F)


@overload(_first_backward, inline="always")
def _first_backward_of_kind(kind, x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB):
    chosen = _FIRST_BACKWARD[_literal_kind(kind)]
    return lambda kind, x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB: chosen(
        x, logs, W, V, G, eps, F, dhT, gW, gV, gG, gB)


@overload(_second, inline="always")
def _second_of_kind(kind, hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S):
    chosen = _SECOND[_literal_kind(kind)]
    return lambda kind, hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S: chosen(
        hT, targets, scale, W, V, G, B, eps, dhT, gW, gV, gG, gB, S)


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def workspace(batch, inputs, hidden, outputs, gates1, gates2, dtype):
    """The buffers of one member's pass through the network (see :func:`fused_step`): the first
    layer's logs (batch, inputs); ``F``, the first layer's (output, additive and log-space sums,
    exponentials, gate logits and gates, path gradients, NMU prefix); ``S``, the second layer's;
    dL/dh (hidden, batch)."""
    gates1, gates2 = max(gates1, 1), max(gates2, 1)
    logs1 = np.empty((batch, inputs), dtype)
    F = (np.empty((hidden, batch), dtype), np.empty((hidden, batch), dtype), np.empty((hidden, batch), dtype),
         np.empty((hidden, batch), dtype), np.empty((gates1, batch), dtype), np.empty((gates1, batch), dtype),
         np.empty((hidden, batch), dtype), np.empty((hidden, batch), dtype), np.empty((gates1, batch), dtype),
         np.empty(inputs, dtype))
    S = (np.empty((hidden, batch), dtype), np.empty((outputs, batch), dtype), np.empty((outputs, batch), dtype),
         np.empty((outputs, batch), dtype), np.empty((gates2, batch), dtype), np.empty((gates2, batch), dtype),
         np.empty((outputs, batch), dtype), np.empty((hidden, batch), dtype), np.empty(batch, dtype),
         np.empty((outputs, batch), dtype), np.empty((outputs, batch), dtype), np.empty((outputs, batch), dtype))
    return logs1, F, S, np.empty((hidden, batch), dtype)


@numba.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
def _uses_logs(kind):
    return kind == NALU or kind == LOG_LINEAR


@numba.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
def _train_rows(kind1, kind2, x, targets, W1, V1, G1, B1, eps1, W2, V2, G2, B2, eps2,
                gW1, gV1, gG1, gB1, gW2, gV2, gG2, gB2, work):
    """One member's batch ``x`` (batch, inputs) through layers of kinds ``kind1`` and ``kind2`` and
    back: the mean squared error, with its weight gradients added to the ``g*`` arrays;
    ``work``: the buffers of :func:`workspace`."""
    logs1, F, S, dhT = work
    hT = F[0]
    outputs = S[1].shape[0] if kind2 != NONE else hT.shape[0]
    count = x.dtype.type(x.shape[0] * outputs)
    scale = x.dtype.type(2) / count  # d(mean squared error)/d(error)
    if _uses_logs(kind1):  # the whole batch's logs in one long vector loop
        log_magnitudes(x.reshape(-1), eps1, logs1.reshape(-1))
    _first(kind1, x, logs1, W1, V1, G1, B1, eps1, F)
    total = _second(kind2, hT, targets, scale, W2, V2, G2, B2, eps2, dhT, gW2, gV2, gG2, gB2, S)
    _first_backward(kind1, x, logs1, W1, V1, G1, eps1, F, dhT, gW1, gV1, gG1, gB1)
    return total / count


@functools.lru_cache(maxsize=None)
def fused_step(kind1: int, kind2: int):
    """The compiled training step of a network of layer kinds ``kind1`` and ``kind2`` (:data:`NONE`
    for a single layer), compiled with those two layers' code only: code for kinds that vary at
    run time did not vectorize and ran about eight times slower.

    It is called as ``step(streams, words, row_blocks, lows, highs, ends, starts, counts, a_masks,
    b_masks, spans, ops, W1, V1, G1, B1, eps1, W2, V2, G2, B2, eps2, loss, gW1, gV1, gG1, gB1, gW2,
    gV2, gG2, gB2, x, operands, targets, work)``. Member m draws its batch into ``x`` from
    ``words[m]`` (:func:`draw_stream`, without fast-math; once for consecutive members of the
    same stream, ``streams[m]``), computes its targets with operation ``ops[m]`` (:data:`OPS`)
    and runs its batch through layers with effective weights ``W`` (additive, or the only one),
    ``V`` (log-space path), ``G`` and ``B`` (gate), adding d(mean squared error)/d(weights) to
    the zeroed ``g*`` arrays; ``loss[m]`` is its MSE. The batch stays in cache (51 kB for
    128 × 100 float32) between the two passes. ``x``, ``operands``, ``targets`` and ``work``
    (:func:`workspace`) are the caller's buffers.

    Compiled without the runtime's reference counting (every buffer comes from the caller: the
    counts taken on the arrays passed to the inlined layer functions, on every row, were the
    larger part of a NALU step), and closing over integers only, so that it is cached on disk
    (a closure over functions was compiled again by every process).
    """

    @numba.njit(cache=True, error_model="numpy", fastmath=FAST, _nrt=False)
    def step(streams, words, row_blocks, lows, highs, ends, starts, counts, a_masks, b_masks, spans, ops,
             W1, V1, G1, B1, eps1, W2, V2, G2, B2, eps2, loss, gW1, gV1, gG1, gB1, gW2, gV2, gG2, gB2,
             x, operands, targets, work):
        batch = x.shape[0]
        for m in range(words.shape[0]):
            if m == 0 or streams[m] != streams[m - 1]:  # members of one stream in a row draw it once
                draw_stream(x, operands, words[m], row_blocks, a_masks[m], b_masks[m], spans[m], lows[m], highs[m],
                            ends[m], starts[m], counts[m])
            for r in range(batch):
                targets[r] = _target(ops[m], operands[r, 0], operands[r, 1])
            loss[m] = _train_rows(kind1, kind2, x, targets, W1[m], V1[m], G1[m], B1[m], eps1, W2[m], V2[m], G2[m],
                                  B2[m], eps2, gW1[m], gV1[m], gG1[m], gB1[m], gW2[m], gV2[m], gG2[m], gB2[m], work)

    return step
