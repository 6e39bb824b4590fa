"""The Triton kernels' parameters: weights from trained parameters and back, the sparsity
regularizer, and the optimizer step, for one layer's parameters held in registers.

A layer's weight comes from one or two parameter arrays of its shape by a map (constexpr,
numbered as :data:`nalm.units.base.WEIGHT_MAPS` names them): ``CLAMP`` (the parameter clamped
to [low, high]: NAU, NMU, NAC•,NMU), ``NAC`` (tanh(p)·σ(q): NAC, NAC•) or ``SIGMOID`` (σ(p):
NAC•,σ); ``MCFC`` (a gate times a softmax: MC-FC) the training kernel computes itself.
Optimizers are numbered as :mod:`nalm.train.optim` numbers them. Everything here is float32.
"""
from __future__ import annotations

import triton
import triton.language as tl

from ...units.base import WEIGHT_MAPS
from .. import optim

# Globals a kernel reads must be constexprs.
CLAMP, NAC, SIGMOID, MCFC = (tl.constexpr(WEIGHT_MAPS.index(name)) for name in ("clamp", "nac", "sigmoid", "mcfc"))
ADAM, RMSPROP, SGD = tl.constexpr(optim.ADAM), tl.constexpr(optim.RMSPROP), tl.constexpr(optim.SGD)


@triton.jit
def clamp(w, low, high):
    """``w`` clamped to [low, high] as ``torch.clamp`` clamps (nan stays nan)."""
    return tl.where(w < low, low, tl.where(w > high, high, w))


@triton.jit
def sigmoid(x):
    """σ(x) = 1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def tanh(x):
    """tanh(x) to float32 rounding: from exp(-2|x|) where |x| ≥ 1/8, and below by its series (there
    1 - exp(-2|x|) would lose a small x's low bits). Triton's interpreter has no tanh of its own."""
    magnitude = tl.abs(x)
    e = tl.exp(-2.0 * magnitude)
    x2 = x * x
    series = magnitude * (1.0 + x2 * (-0.3333333333333333 + x2 * (0.13333333333333333 + x2 * -0.05396825396825397)))
    t = tl.where(magnitude < 0.125, series, (1.0 - e) / (1.0 + e))
    return tl.where(x < 0, -t, t)


@triton.jit
def weight(p, q, valid, low, high, scale, MAP: tl.constexpr):
    """The weight of parameters ``p`` (and ``q``, the NAC's M̂) by ``MAP``, 0 where not ``valid``,
    with the factors its backward pass needs: (w, tanh(scale·p), σ(scale·q)) for ``NAC``,
    (w, σ(scale·p), σ(scale·p)) for ``SIGMOID``, (w, w, w) for ``CLAMP`` (which has no scale)."""
    if MAP == NAC:
        t = tanh(scale * p)
        s = sigmoid(scale * q)
        w = t * s
    elif MAP == SIGMOID:
        s = sigmoid(scale * p)
        t = s
        w = s
    else:
        w = clamp(p, low, high)
        t = w
        s = w
    return tl.where(valid, w, 0.0), t, s


@triton.jit
def parameter_gradients(g, p, t, s, low, high, scale, MAP: tl.constexpr):
    """The gradients of ``p`` and ``q`` from the weight's gradient ``g`` and :func:`weight`'s
    factors, in the order PyTorch's autograd multiplies them (``CLAMP``: ``torch.clamp``'s
    backward, g where low ≤ p ≤ high; ``q``'s is ``p``'s where the map has no q)."""
    if MAP == NAC:
        gp = g * s * (1.0 - t * t) * scale
        gq = g * t * (1.0 - s) * s * scale
    elif MAP == SIGMOID:
        gp = g * (1.0 - s) * s * scale
        gq = gp
    else:
        gp = tl.where((p >= low) & (p <= high), g, 0.0)
        gq = gp
    return gp, gq


@triton.jit
def sparsity(w, valid, lam, n):
    """The sparsity regularizer mean(min(|W|, |1 - |W||)) over the n valid raw weights, and the
    gradient of lam times it, as PyTorch's autograd computes it (min's gradient split at a tie,
    |·|'s 0 at 0)."""
    magnitude = tl.abs(w)
    other = tl.abs(1.0 - magnitude)
    r = tl.div_rn(tl.sum(tl.sum(tl.where(valid, tl.minimum(magnitude, other), 0.0), axis=1), axis=0), n)
    sign = tl.where(w > 0, 1.0, tl.where(w < 0, -1.0, 0.0))
    away = tl.where(1.0 - magnitude > 0, -1.0, tl.where(1.0 - magnitude < 0, 1.0, 0.0))  # -sign(1 - |W|)
    slope = tl.where(magnitude < other, sign, tl.where(magnitude > other, away * sign, 0.0))
    return r, tl.where(valid, slope * tl.div_rn(lam, n), 0.0)


@triton.jit
def optimize(w, g, s1, s2, rate, bias1, root_bias2, beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip,
             OPTIMIZER: tl.constexpr):
    """One optimizer step of weights ``w`` from gradient ``g``: the new weights and state, operation
    for operation as :func:`nalm.train.optim._step_rows` computes them."""
    g = tl.where(g > clip, clip, tl.where(g < -clip, -clip, g))
    if OPTIMIZER == ADAM:
        s1 = s1 * beta1 + rest1 * g
        s2 = s2 * beta2 + rest2 * g * g
        w = w - tl.div_rn(tl.div_rn(rate, bias1) * s1, tl.div_rn(tl.sqrt_rn(s2), root_bias2) + eps)
    elif OPTIMIZER == RMSPROP:
        s1 = s1 * alpha + rest_alpha * g * g
        w = w - tl.div_rn(rate * g, tl.sqrt_rn(s1) + eps)
    else:  # sgd
        w = w - rate * g
    return w, s1, s2


@triton.jit
def load_state(S1, S2, at, valid, OPTIMIZER: tl.constexpr, GRADIENTS: tl.constexpr):
    """A parameter's optimizer state at offsets ``at`` of the state slots: Adam's two, RMSprop's
    one (zeros for the others)."""
    a = tl.zeros(at.shape, tl.float32)
    v = tl.zeros(at.shape, tl.float32)
    if OPTIMIZER != SGD:
        a = tl.load(S1 + at, mask=valid, other=0.0)
    if OPTIMIZER == ADAM and not GRADIENTS:  # (GRADIENTS: the first slot only)
        v = tl.load(S2 + at, mask=valid, other=0.0)
    return a, v


@triton.jit
def store_state(S1, S2, at, valid, a, v, OPTIMIZER: tl.constexpr, GRADIENTS: tl.constexpr):
    """:func:`load_state`'s inverse (with ``GRADIENTS``, ``a`` holds the gradient)."""
    if OPTIMIZER != SGD or GRADIENTS:
        tl.store(S1 + at, a, mask=valid)
    if OPTIMIZER == ADAM and not GRADIENTS:
        tl.store(S2 + at, v, mask=valid)
