"""Compiled CPU kernels (numba): training data drawn where it is used, and fused training steps.

A population step on the CPU was bound by memory: 100 fresh (128, 100) batches drawn, written
out, then read back by the targets, the forward pass and the weight gradient. Here a row of
data is drawn (Philox, :mod:`nalm.tasks.philox`), mapped to the task's range and reduced to
its operands a and b in one pass (:func:`draw_stream`); :func:`fused_step` draws a member's
batch into a buffer that stays in cache and runs it through a network of up to two layers and
back, row by row (four rows at a time through a linear first layer), accumulating the member's
gradient with respect to its layers' effective weights. Everything else (effective weights
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

import functools
import math

import numba
import numpy as np
from numba import types
from llvmlite import ir as llvm_ir
from numba.extending import intrinsic, overload

from ..tasks.philox import draw_row

# Layer kinds of the fused step (see :class:`nalm.units.base.KernelLayer`).
NONE, LINEAR, NMU, NALU, LOG_LINEAR = range(5)
KINDS = {"linear": LINEAR, "nmu": NMU, "nalu": NALU, "log-linear": LOG_LINEAR}

# Target operations by name; the kernels compute operation i of this tuple (:func:`_target`).
OPS = ("add", "sub", "mul", "div", "square", "sqrt", "identity")

FAST = {"reassoc", "contract"}
# Every kernel is compiled with error_model="numpy": x / 0 gives inf or nan, as in PyTorch,
# where Python's model raises ZeroDivisionError (and its check keeps a loop with a division
# from vectorizing).


# -- drawing ---------------------------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy", fastmath=False)
def _words(words):
    """A stream's Philox words as int64 scalars: rows drawn from scalars passed in run about twice
    as fast as rows that read them from an array."""
    return np.int64(words[0]), np.int64(words[1]), np.int64(words[2]), np.int64(words[3]), np.int64(words[4])


@numba.njit(cache=True, error_model="numpy", fastmath=FAST)
def _operands(row, a_mask, b_mask, spans):
    """a and b of one row: Σ row[j]·mask[j mod d] for the 0/1 masks of one time step (width d),
    over the row's ``len(row) / d`` time steps; where each mask is one run of ones,
    ``[spans[0], spans[1])`` and ``[spans[2], spans[3])`` (else ``spans[0]`` is -1), a and b of a
    single step are sums over those runs, a quarter of the work for the madsen2020 task.
    Compiled on its own with fast-math, so that the sums vectorize; every kernel calls this one
    function, so all see the same operands."""
    a = row.dtype.type(0)
    b = row.dtype.type(0)
    width = a_mask.shape[0]
    if row.shape[0] == width and spans[0] >= 0:
        for j in range(spans[0], spans[1]):
            a += row[j]
        for j in range(spans[2], spans[3]):
            b += row[j]
        return a, b
    if row.shape[0] == width:  # one time step: a loop the compiler vectorizes (the general one it did not)
        for j in range(width):
            a += row[j] * a_mask[j]
            b += row[j] * b_mask[j]
        return a, b
    for start in range(0, row.shape[0], width):
        for j in range(width):
            a += row[start + j] * a_mask[j]
            b += row[start + j] * b_mask[j]
    return a, b


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
    """One stream's training inputs ``x`` (batch, n) and operands (batch, 2), one pass per row.

    ``words``: the stream's Philox key and counter words (:meth:`nalm.tasks.philox.Draws.words`);
    row r starts at block ``r · step_block``; a and b sum the inputs where ``a_mask`` and
    ``b_mask`` (0/1, one time step wide) are 1, over every time step (``spans``: see
    :func:`_operands`).
    """
    k0, k1, c1, c2, c3 = _words(words)
    if count == 1 and x.shape[1] * (x.itemsize // 4) == 4 * step_block:
        # Rows that fill their blocks exactly lie end to end in the stream as they do in x: one
        # long row draws them all, without a partial vector loop per row (1.6x the rate for rows of 100).
        draw_row(x.reshape(x.size), k0, k1, c1, c2, c3, 0, lows, highs, ends, starts, count)
        for r in range(x.shape[0]):
            operands[r, 0], operands[r, 1] = _operands(x[r], a_mask, b_mask, spans)
        return
    for r in range(x.shape[0]):
        row = x[r]
        draw_row(row, k0, k1, c1, c2, c3, r * step_block, lows, highs, ends, starts, count)
        operands[r, 0], operands[r, 1] = _operands(row, a_mask, b_mask, spans)


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def draw_batch(x, operands, words, step_block, a_masks, b_masks, spans, lows, highs, ends, starts, counts):
    """:func:`draw_stream` for S streams: ``x`` (S, batch, n), operands (S, batch, 2), one row of
    every other argument per stream."""
    for s in range(x.shape[0]):
        draw_stream(x[s], operands[s], words[s], step_block, a_masks[s], b_masks[s], spans[s], lows[s], highs[s],
                    ends[s], starts[s], counts[s])


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


# -- the fused training step -------------------------------------------------------------------
# One forward and one backward function per layer kind, all with the same arguments, so that a
# step is compiled with only its two layers' code. Forward: ``out`` from ``inp``, keeping in
# ``lin``, ``mul`` and ``gate`` what the backward pass needs; the kinds with a log-space path
# (:func:`_uses_logs`) read ``logs`` = log(|inp| + eps), which the caller computes, for a whole
# batch at once where it can (the vector loop then runs long). Backward: add one row's weight
# gradients to ``gW``, ``gV``, ``gG``, ``gB``; with ``want_din``, ``din`` gets dL/d(inp).
_LAYER = dict(cache=True, error_model="numpy", fastmath=FAST, inline="always")


@numba.njit(**_LAYER)
def _linear_forward(inp, W, V, G, B, eps, out, lin, logs, mul, gate):
    zero = inp.dtype.type(0)
    n_out = out.shape[0]
    for j in range(0, n_out - 1, 2):  # outputs in pairs: one pass over the input for two sums
        s, t = zero, zero
        for i in range(inp.shape[0]):
            s += W[j, i] * inp[i]
            t += W[j + 1, i] * inp[i]
        out[j], out[j + 1] = s, t
    if n_out % 2:
        s = zero
        for i in range(inp.shape[0]):
            s += W[n_out - 1, i] * inp[i]
        out[n_out - 1] = s


@numba.njit(**_LAYER)
def _linear_backward(inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq):
    n_out = dout.shape[0]
    if want_din:
        for i in range(inp.shape[0]):
            din[i] = inp.dtype.type(0)
        for j in range(n_out):
            d = dout[j]
            for i in range(inp.shape[0]):
                gW[j, i] += d * inp[i]
                din[i] += d * W[j, i]
        return
    for j in range(0, n_out - 1, 2):  # outputs in pairs, as in the forward pass
        d, e = dout[j], dout[j + 1]
        for i in range(inp.shape[0]):
            gW[j, i] += d * inp[i]
            gW[j + 1, i] += e * inp[i]
    if n_out % 2:
        d = dout[n_out - 1]
        for i in range(inp.shape[0]):
            gW[n_out - 1, i] += d * inp[i]


@numba.njit(**_LAYER)
def _nmu_forward(inp, W, V, G, B, eps, out, lin, logs, mul, gate):
    one = inp.dtype.type(1)
    for j in range(out.shape[0]):
        p = one
        for i in range(inp.shape[0]):
            p *= W[j, i] * inp[i] + one - W[j, i]
        out[j] = p


@numba.njit(**_LAYER)
def _nmu_backward(inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq):
    one = inp.dtype.type(1)
    n_in = inp.shape[0]
    if want_din:
        for i in range(n_in):
            din[i] = inp.dtype.type(0)
    for j in range(dout.shape[0]):
        p = one
        for i in range(n_in):  # prefix[i]: the product of the terms before i
            prefix[i] = p
            p *= W[j, i] * inp[i] + one - W[j, i]
        d = dout[j]
        after = one
        for i in range(n_in - 1, -1, -1):
            others = prefix[i] * after
            gW[j, i] += d * others * (inp[i] - one)
            if want_din:
                din[i] += d * others * W[j, i]
            after *= W[j, i] * inp[i] + one - W[j, i]


@numba.njit(**_LAYER)
def _logs_of(inp, eps, logs):
    """logs = log(|inp| + eps): a few values (a hidden layer's) by the library's log, without the
    vector loops' set-up; more (a whole batch) in those loops."""
    if inp.shape[0] < 16:
        for i in range(inp.shape[0]):
            logs[i] = math.log(abs(inp[i]) + eps)
    else:
        log_magnitudes(inp, eps, logs)


@numba.njit(**_LAYER)
def _log_linear_forward(inp, W, V, G, B, eps, out, lin, logs, mul, gate):
    for j in range(out.shape[0]):
        s = inp.dtype.type(0)
        for i in range(inp.shape[0]):
            s += V[j, i] * logs[i]
        mul[j] = math.exp(s)
        out[j] = mul[j]


@numba.njit(**_LAYER)
def _log_din(inp, eps, V, j, dz, din):
    """Add dz · d exp-path / d inp of output j: V_ji · sign(inp_i) / (|inp_i| + eps)."""
    one, zero = inp.dtype.type(1), inp.dtype.type(0)
    for i in range(inp.shape[0]):
        sign = one if inp[i] > zero else (-one if inp[i] < zero else zero)
        din[i] += dz * V[j, i] * sign / (abs(inp[i]) + eps)


@numba.njit(**_LAYER)
def _log_linear_backward(inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq):
    if want_din:
        for i in range(inp.shape[0]):
            din[i] = inp.dtype.type(0)
    for j in range(dout.shape[0]):
        dz = dout[j] * mul[j]  # through exp(V·logs)
        for i in range(inp.shape[0]):
            gV[j, i] += dz * logs[i]
        if want_din:
            _log_din(inp, eps, V, j, dz, din)


@numba.njit(**_LAYER)
def _nalu_forward(inp, W, V, G, B, eps, out, lin, logs, mul, gate):
    one, zero = inp.dtype.type(1), inp.dtype.type(0)
    n_out, n_in = out.shape[0], inp.shape[0]
    own_gates = G.shape[0] == n_out  # one gate per output: its sum joins the paths' loop
    for j in range(n_out):
        s_mul, s_lin, q = zero, zero, B[j] if own_gates else zero
        if own_gates:
            for i in range(n_in):
                s_mul += V[j, i] * logs[i]
                s_lin += W[j, i] * inp[i]
                q += G[j, i] * inp[i]
            gate[j] = one / (one + math.exp(-q))
        else:
            for i in range(n_in):
                s_mul += V[j, i] * logs[i]
                s_lin += W[j, i] * inp[i]
        mul[j] = math.exp(s_mul)
        lin[j] = s_lin
    if not own_gates:  # one gate shared by every output
        q = B[0]
        for i in range(n_in):
            q += G[0, i] * inp[i]
        gate[0] = one / (one + math.exp(-q))
    for j in range(n_out):
        g = gate[j] if own_gates else gate[0]
        out[j] = g * lin[j] + (one - g) * mul[j]


@numba.njit(**_LAYER)
def _nalu_backward(inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq):
    one, zero = inp.dtype.type(1), inp.dtype.type(0)
    n_out, n_in = dout.shape[0], inp.shape[0]
    if want_din:
        for i in range(n_in):
            din[i] = zero
    own_gates = G.shape[0] == n_out
    dq[0] = zero  # the shared gate's
    for j in range(n_out):  # one pass over the inputs per output, all gradients at once
        d = dout[j]
        g = gate[j] if own_gates else gate[0]
        dz = d * (one - g) * mul[j]  # through exp(V·logs)
        da = d * g
        dg = d * (lin[j] - mul[j]) * g * (one - g)  # through the gate's logit
        if own_gates:
            gB[j] += dg
            for i in range(n_in):
                gV[j, i] += dz * logs[i]
                gW[j, i] += da * inp[i]
                gG[j, i] += dg * inp[i]
        else:
            dq[0] += dg
            for i in range(n_in):
                gV[j, i] += dz * logs[i]
                gW[j, i] += da * inp[i]
        if want_din:
            _log_din(inp, eps, V, j, dz, din)
            for i in range(n_in):
                din[i] += da * W[j, i] + (dg * G[j, i] if own_gates else zero)
    if not own_gates:
        gB[0] += dq[0]
        for i in range(n_in):
            gG[0, i] += dq[0] * inp[i]
            if want_din:
                din[i] += dq[0] * G[0, i]


@numba.njit(**_LAYER)
def _linear_forward_4(x, r, W, out):
    """``out[k] = W · x[r + k]`` for four rows at once: each weight is loaded once for the four."""
    zero = x.dtype.type(0)
    for j in range(W.shape[0]):
        s0, s1, s2, s3 = zero, zero, zero, zero
        for i in range(x.shape[1]):
            w = W[j, i]
            s0 += w * x[r, i]
            s1 += w * x[r + 1, i]
            s2 += w * x[r + 2, i]
            s3 += w * x[r + 3, i]
        out[0, j], out[1, j], out[2, j], out[3, j] = s0, s1, s2, s3


@numba.njit(**_LAYER)
def _linear_backward_4(x, r, dout, gW):
    """``gW += Σ_k dout[k] ⊗ x[r + k]`` for four rows at once: one update of gW for the four."""
    for j in range(gW.shape[0]):
        d0, d1, d2, d3 = dout[0, j], dout[1, j], dout[2, j], dout[3, j]
        for i in range(x.shape[1]):
            gW[j, i] += d0 * x[r, i] + d1 * x[r + 1, i] + d2 * x[r + 2, i] + d3 * x[r + 3, i]


@numba.njit(**_LAYER)
def _nalu_forward_4(x, logs, r, W, V, G, B, out, lin, mul, gate):
    """:func:`_nalu_forward` of four rows ``x[r:r + 4]`` (their logs in ``logs``) at once, each
    weight loaded once for the four: ``out``, ``lin``, ``mul`` (4, outputs), ``gate`` (4, gates)."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    n_out, n_in = W.shape[0], x.shape[1]
    own_gates = G.shape[0] == n_out
    for j in range(n_out):
        a0, a1, a2, a3 = zero, zero, zero, zero  # additive path
        m0, m1, m2, m3 = zero, zero, zero, zero  # log-space path
        gate_row = j if own_gates else 0  # one gate per output, or one for all
        q = B[gate_row]
        q0, q1, q2, q3 = q, q, q, q  # gate logits
        for i in range(n_in):
            w, v, g = W[j, i], V[j, i], G[gate_row, i]
            a0 += w * x[r, i]
            a1 += w * x[r + 1, i]
            a2 += w * x[r + 2, i]
            a3 += w * x[r + 3, i]
            m0 += v * logs[r, i]
            m1 += v * logs[r + 1, i]
            m2 += v * logs[r + 2, i]
            m3 += v * logs[r + 3, i]
            q0 += g * x[r, i]
            q1 += g * x[r + 1, i]
            q2 += g * x[r + 2, i]
            q3 += g * x[r + 3, i]
        if own_gates or j == 0:  # (a shared gate's logits are the same for every output)
            gate[0, gate_row], gate[1, gate_row] = one / (one + math.exp(-q0)), one / (one + math.exp(-q1))
            gate[2, gate_row], gate[3, gate_row] = one / (one + math.exp(-q2)), one / (one + math.exp(-q3))
        lin[0, j], lin[1, j], lin[2, j], lin[3, j] = a0, a1, a2, a3
        mul[0, j], mul[1, j], mul[2, j], mul[3, j] = math.exp(m0), math.exp(m1), math.exp(m2), math.exp(m3)
    for k in range(4):
        for j in range(n_out):
            g = gate[k, j] if own_gates else gate[k, 0]
            out[k, j] = g * lin[k, j] + (one - g) * mul[k, j]


@numba.njit(**_LAYER)
def _nalu_backward_4(x, logs, r, G, lin, mul, gate, dout, gW, gV, gG, gB, dq):
    """:func:`_nalu_backward` of the four rows of :func:`_nalu_forward_4` (the weight gradients
    only: a first layer), one update of each gradient for the four; ``dq`` (4, 3) is scratch."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    n_out, n_in = dout.shape[1], x.shape[1]
    own_gates = G.shape[0] == n_out
    shared0, shared1, shared2, shared3 = zero, zero, zero, zero  # the shared gate's logit gradients
    for j in range(n_out):
        for k in range(4):  # dq[k]: through exp(V·logs), the additive path and the gate's logit
            d = dout[k, j]
            g = gate[k, j] if own_gates else gate[k, 0]
            dq[k, 0] = d * (one - g) * mul[k, j]
            dq[k, 1] = d * g
            dq[k, 2] = d * (lin[k, j] - mul[k, j]) * g * (one - g)
        z0, z1, z2, z3 = dq[0, 0], dq[1, 0], dq[2, 0], dq[3, 0]
        a0, a1, a2, a3 = dq[0, 1], dq[1, 1], dq[2, 1], dq[3, 1]
        q0, q1, q2, q3 = dq[0, 2], dq[1, 2], dq[2, 2], dq[3, 2]
        for i in range(n_in):
            gV[j, i] += z0 * logs[r, i] + z1 * logs[r + 1, i] + z2 * logs[r + 2, i] + z3 * logs[r + 3, i]
            gW[j, i] += a0 * x[r, i] + a1 * x[r + 1, i] + a2 * x[r + 2, i] + a3 * x[r + 3, i]
        if own_gates:
            gB[j] += q0 + q1 + q2 + q3
            for i in range(n_in):
                gG[j, i] += q0 * x[r, i] + q1 * x[r + 1, i] + q2 * x[r + 2, i] + q3 * x[r + 3, i]
        else:
            shared0, shared1, shared2, shared3 = shared0 + q0, shared1 + q1, shared2 + q2, shared3 + q3
    if not own_gates:
        gB[0] += shared0 + shared1 + shared2 + shared3
        for i in range(n_in):
            gG[0, i] += shared0 * x[r, i] + shared1 * x[r + 1, i] + shared2 * x[r + 2, i] + shared3 * x[r + 3, i]


_FORWARD = {LINEAR: _linear_forward, NMU: _nmu_forward, NALU: _nalu_forward, LOG_LINEAR: _log_linear_forward}
_BACKWARD = {LINEAR: _linear_backward, NMU: _nmu_backward, NALU: _nalu_backward, LOG_LINEAR: _log_linear_backward}


def _forward(kind, inp, W, V, G, B, eps, out, lin, logs, mul, gate):
    """The forward function of layer ``kind``, a compile-time constant: a step is compiled with
    its own layers' code only (from compiled kernels only)."""
    raise TypeError("_forward is called from numba kernels only")


def _backward(kind, inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq):
    """The backward function of layer ``kind``, as :func:`_forward`."""
    raise TypeError("_backward is called from numba kernels only")


def _literal_kind(kind) -> int:
    if not isinstance(kind, types.IntegerLiteral):
        raise numba.errors.TypingError("a layer kind must be a compile-time constant")
    return kind.literal_value


@overload(_forward, inline="always")
def _forward_of_kind(kind, inp, W, V, G, B, eps, out, lin, logs, mul, gate):
    chosen = _FORWARD.get(_literal_kind(kind))
    if chosen is None:  # NONE: a second layer that is not there (the step never runs it)
        return lambda kind, inp, W, V, G, B, eps, out, lin, logs, mul, gate: None
    return lambda kind, inp, W, V, G, B, eps, out, lin, logs, mul, gate: chosen(
        inp, W, V, G, B, eps, out, lin, logs, mul, gate)


@overload(_backward, inline="always")
def _backward_of_kind(kind, inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix,
                      dq):
    chosen = _BACKWARD.get(_literal_kind(kind))
    if chosen is None:
        return lambda kind, inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, \
            dq: None
    return lambda kind, inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq: \
        chosen(inp, W, V, G, eps, lin, logs, mul, gate, dout, din, want_din, gW, gV, gG, gB, prefix, dq)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _vector(n, dtype):
    return np.empty(n, dtype)


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def workspace(batch, inputs, hidden, outputs, gates1, gates2, dtype):
    """The buffers one member's pass through the network uses (see :func:`fused_step`)."""
    logs1 = np.empty((batch, inputs), dtype)  # the first layer's, for the whole batch
    prefix1, din1 = _vector(inputs, dtype), _vector(inputs, dtype)  # din1: never read
    h, dh, lin1, mul1 = _vector(hidden, dtype), _vector(hidden, dtype), _vector(hidden, dtype), _vector(hidden, dtype)
    logs2, prefix2 = _vector(hidden, dtype), _vector(hidden, dtype)
    y, dy, lin2, mul2 = _vector(outputs, dtype), _vector(outputs, dtype), _vector(outputs, dtype), \
        _vector(outputs, dtype)
    gate1, dq1 = np.empty(max(gates1, 1), dtype), np.empty(max(gates1, 1), dtype)
    gate2, dq2 = np.empty(max(gates2, 1), dtype), np.empty(max(gates2, 1), dtype)
    # four rows at a time through the first layer
    h4, dh4, lin4, mul4 = (np.empty((4, hidden), dtype), np.empty((4, hidden), dtype), np.empty((4, hidden), dtype),
                           np.empty((4, hidden), dtype))
    gate4, dq4 = np.empty((4, max(gates1, 1)), dtype), np.empty((4, 3), dtype)
    return (h, y, dy, dh, lin1, mul1, gate1, dq1, logs1, prefix1, din1, lin2, mul2, gate2, dq2,
            logs2, prefix2, h4, dh4, lin4, mul4, gate4, dq4)


@numba.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
def _uses_logs(kind):
    return kind == NALU or kind == LOG_LINEAR


@numba.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
def _loss_row(kind2, h, target, scale, W2, V2, G2, B2, eps2, dh, gW2, gV2, gG2, gB2, work):
    """One row from the first layer's output ``h`` on: through the second layer (if any) and
    back to ``dh`` = dL/dh (``scale`` times the error at the output), adding the second
    layer's weight gradients; its squared error."""
    (_, y, dy, _, _, _, _, _, _, _, _, lin2, mul2, gate2, dq2, logs2, prefix2, _, _, _, _, _, _) = work
    two = kind2 != NONE
    total = h.dtype.type(0)
    if not two:
        for o in range(h.shape[0]):
            e = h[o] - target
            total += e * e
            dh[o] = scale * e
        return total
    if _uses_logs(kind2):
        _logs_of(h, eps2, logs2)
    _forward(kind2, h, W2, V2, G2, B2, eps2, y, lin2, logs2, mul2, gate2)
    for o in range(y.shape[0]):
        e = y[o] - target
        total += e * e
        dy[o] = scale * e
    _backward(kind2, h, W2, V2, G2, eps2, lin2, logs2, mul2, gate2, dy, dh, True, gW2, gV2, gG2, gB2, prefix2, dq2)
    return total


@numba.njit(cache=True, error_model="numpy", fastmath=FAST, inline="always")
def _train_rows(kind1, kind2, x, targets, W1, V1, G1, B1, eps1, W2, V2, G2, B2, eps2,
                gW1, gV1, gG1, gB1, gW2, gV2, gG2, gB2, work):
    """One member's batch ``x`` (batch, inputs) through layers of kinds ``kind1`` and ``kind2`` and
    back: the summed squared error, with the weight gradients of the mean added to the ``g*``
    arrays; ``work``: the buffers of :func:`workspace`."""
    (h, y, dy, dh, lin1, mul1, gate1, dq1, logs1, prefix1, din1, lin2, mul2, gate2, dq2,
     logs2, prefix2, h4, dh4, lin4, mul4, gate4, dq4) = work
    batch = x.shape[0]
    outputs = y.shape[0] if kind2 != NONE else h.shape[0]
    scale = x.dtype.type(2) / x.dtype.type(batch * outputs)  # d(mean squared error)/d(error)
    total = x.dtype.type(0)
    if _uses_logs(kind1):  # the whole batch's logs in one long vector loop
        _logs_of(x.reshape(-1), eps1, logs1.reshape(-1))
    first = 0
    if kind1 == LINEAR or kind1 == NALU:  # four rows at a time through the first layer, each on through the rest
        for r in range(0, batch - 3, 4):
            if kind1 == LINEAR:
                _linear_forward_4(x, r, W1, h4)
            else:
                _nalu_forward_4(x, logs1, r, W1, V1, G1, B1, h4, lin4, mul4, gate4)
            for k in range(4):
                total += _loss_row(kind2, h4[k], targets[r + k], scale, W2, V2, G2, B2, eps2, dh4[k],
                                   gW2, gV2, gG2, gB2, work)
            if kind1 == LINEAR:
                _linear_backward_4(x, r, dh4, gW1)
            else:
                _nalu_backward_4(x, logs1, r, G1, lin4, mul4, gate4, dh4, gW1, gV1, gG1, gB1, dq4)
        first = batch - batch % 4
    for r in range(first, batch):
        row = x[r]
        _forward(kind1, row, W1, V1, G1, B1, eps1, h, lin1, logs1[r], mul1, gate1)
        total += _loss_row(kind2, h, targets[r], scale, W2, V2, G2, B2, eps2, dh, gW2, gV2, gG2, gB2, work)
        _backward(kind1, row, W1, V1, G1, eps1, lin1, logs1[r], mul1, gate1, dh, din1, False,
                  gW1, gV1, gG1, gB1, prefix1, dq1)
    return total


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
        outputs = work[1].shape[0]
        for m in range(words.shape[0]):
            if m == 0 or streams[m] != streams[m - 1]:  # members of one stream in a row draw it once
                draw_stream(x, operands, words[m], row_blocks, a_masks[m], b_masks[m], spans[m], lows[m], highs[m],
                            ends[m], starts[m], counts[m])
            for r in range(batch):
                targets[r] = _target(ops[m], operands[r, 0], operands[r, 1])
            total = _train_rows(kind1, kind2, x, targets, W1[m], V1[m], G1[m], B1[m], eps1, W2[m], V2[m], G2[m],
                                B2[m], eps2, gW1[m], gV1[m], gG1[m], gB1[m], gW2[m], gV2[m], gG2[m], gB2[m], work)
            loss[m] = total / x.dtype.type(batch * outputs)

    return step
