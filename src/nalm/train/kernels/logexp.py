"""A logarithm and an exponential that vectorize, for the compiled kernels (numba).

:func:`log_magnitudes` and :func:`exps` fill an array with the log of each value's magnitude and
with each value's exponential: computed from the float's bits (read with the intrinsics
:func:`_as_integer` and :func:`_as_float`) with a polynomial, in loops that LLVM vectorizes,
within 1 ulp of the correctly rounded result (tests/train/test_kernels.py); values whose result
is not a normal float go to the C library's. The fused layers (:mod:`nalm.train.kernels.layers`)
call them; they are callable from compiled kernels only.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic, overload


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
