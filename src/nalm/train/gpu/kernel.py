"""The Triton training kernel: one program per member, ``count`` training steps per launch.

A program keeps its member's weights and optimizer state in registers and, step after step,
draws the member's batch with nalm's Philox layout (:mod:`nalm.philox`), reduces each row to
its operands a and b, computes the target, runs the batch through up to two layers and back,
adds the sparsity regularizer's gradient at that step's weight, masks the gradient of clamped
weights, steps the optimizer and clips the weights to their bounds: the training loop's step
(:func:`nalm.train.train`) with the fused CPU step's data pass (:mod:`nalm.train.fused`), without
leaving the kernel. A member whose loss is not finite stops there, its weights and state as
they were, and reports the step.

Bit for bit the same as the CPU: the draws (``low + u·width`` in two roundings: the kernel is
launched with ``enable_fp_fusion=False``), the operands (summed in index order, each input
drawn again for it), the targets (correctly rounded division and square root) and the
optimizer's arithmetic given a gradient. The forward and backward passes sum in another order
than the CPU's, so losses, gradients and trained weights agree with it to float32 rounding.

Layer kinds (constexpr), numbered as the fused CPU step numbers them
(:mod:`nalm.train.kernels.layers`): ``LINEAR`` (x·Wᵀ, W clamped to [low, high]: the NAU) and
``NMU`` (Π (W x + 1 - W), W clamped), first or second; ``NONE`` for no second layer. Optimizers
numbered as :mod:`nalm.train.optim` numbers them. Everything here is float32.
"""
from __future__ import annotations

import triton
import triton.language as tl

from .. import optim
from ..kernels import layers

# Globals a kernel reads must be constexprs.
LINEAR, NMU = tl.constexpr(layers.LINEAR), tl.constexpr(layers.NMU)
ADAM, RMSPROP, SGD = tl.constexpr(optim.ADAM), tl.constexpr(optim.RMSPROP), tl.constexpr(optim.SGD)


@triton.jit
def _value(word, column, low, width, high, FULL: tl.constexpr):
    """A drawn word as its input: the centred float32 grid (top 23 bits k: (2k + 1)·2^-24), mapped
    to [low, low + width]; values of a row's last partial block (columns from FULL on) are also
    clamped to [low, high], as the CPU's general path maps them."""
    u = (word >> 9).to(tl.float32) * 1.1920928955078125e-07 + 5.960464477539063e-08
    x = low + u * width
    return tl.where(column >= FULL, tl.minimum(tl.maximum(x, low), high), x)


@triton.jit
def _operand(key, rows, row_blocks, lo, hi, c3, start, end, low, width, high, FULL: tl.constexpr):
    """The sum of each row's inputs in columns [start, end), in index order from 0 (as the CPU
    sums them), each drawn again from its Philox block."""
    total = tl.zeros(rows.shape, tl.float32)
    for block in range(start // 4, (end + 3) // 4):
        counter = (rows * row_blocks + block).to(tl.uint32)
        w0, w1, w2, w3 = tl.philox(key, counter, lo + tl.zeros_like(counter), hi + tl.zeros_like(counter),
                                   c3 + tl.zeros_like(counter))
        j = block * 4
        total = tl.where((j >= start) & (j < end), total + _value(w0, j, low, width, high, FULL), total)
        total = tl.where((j + 1 >= start) & (j + 1 < end), total + _value(w1, j + 1, low, width, high, FULL), total)
        total = tl.where((j + 2 >= start) & (j + 2 < end), total + _value(w2, j + 2, low, width, high, FULL), total)
        total = tl.where((j + 3 >= start) & (j + 3 < end), total + _value(w3, j + 3, low, width, high, FULL), total)
    return total


@triton.jit
def _inputs(key, rows, row_blocks, lo, hi, c3, low, width, high, B: tl.constexpr, D: tl.constexpr,
            FULL: tl.constexpr, BD4: tl.constexpr):
    """The inputs x (rows, 4·BD4; 0 beyond D and below row B) of batch ``rows``: each row's blocks
    drawn at once, their four words interleaved back into row order."""
    blocks = tl.arange(0, BD4)
    counter = (rows[:, None] * row_blocks + blocks[None, :]).to(tl.uint32)
    r0, r1, r2, r3 = tl.philox(key, counter, lo + tl.zeros_like(counter), hi + tl.zeros_like(counter),
                               c3 + tl.zeros_like(counter))
    words = tl.reshape(tl.join(tl.join(r0, r2), tl.join(r1, r3)), (rows.shape[0], 4 * BD4))
    cols = tl.arange(0, 4 * BD4)
    x = _value(words, cols[None, :], low, width, high, FULL)
    return tl.where((rows[:, None] < B) & (cols[None, :] < D), x, 0.0)


@triton.jit
def _targets(key, rows, row_blocks, lo, hi, c3, low, width, high, spans, op, FULL: tl.constexpr):
    """The targets of batch ``rows``: operation ``op`` of their operands, summed over the columns
    ``spans`` gives (a: [spans[0], spans[1]), b: [spans[2], spans[3]))."""
    a = _operand(key, rows, row_blocks, lo, hi, c3, tl.load(spans), tl.load(spans + 1), low, width, high, FULL)
    b = _operand(key, rows, row_blocks, lo, hi, c3, tl.load(spans + 2), tl.load(spans + 3), low, width, high, FULL)
    return _target(op, a, b)


@triton.jit
def draw_kernel(X, Y, keys, c3s, lows, widths, highs, spans, ops, step, row_blocks, B: tl.constexpr, D: tl.constexpr,
                FULL: tl.constexpr, BR: tl.constexpr, BD4: tl.constexpr):
    """Member ``program_id``'s batch of ``step`` as :func:`train_kernel` draws it: inputs into X
    (M, B, D) and targets into Y (M, B); the other arguments as there."""
    m = tl.program_id(0).to(tl.int64)
    step = step.to(tl.int64)
    cols = tl.arange(0, 4 * BD4)
    key, lo, hi, c3 = tl.load(keys + m), step.to(tl.uint32), (step >> 32).to(tl.uint32), tl.load(c3s + m).to(tl.uint32)
    low, width, high = tl.load(lows + m), tl.load(widths + m), tl.load(highs + m)
    for first in range(0, B, BR):
        rows = first + tl.arange(0, BR)
        x = _inputs(key, rows, row_blocks, lo, hi, c3, low, width, high, B, D, FULL, BD4)
        y = _targets(key, rows, row_blocks, lo, hi, c3, low, width, high, spans + 4 * m, tl.load(ops + m), FULL)
        inside = (rows[:, None] < B) & (cols[None, :] < D)
        tl.store(X + m * B * D + tl.where(inside, rows[:, None] * D + cols[None, :], 0), x, mask=inside)
        tl.store(Y + m * B + tl.where(rows < B, rows, 0), y, mask=rows < B)


@triton.jit
def _target(op, a, b):
    """Operation ``op`` of :data:`nalm.train.kernels.draw.OPS` (add, sub, mul, div, square, sqrt,
    identity), correctly rounded."""
    y = tl.where(op == 0, a + b, a)
    y = tl.where(op == 1, a - b, y)
    y = tl.where(op == 2, a * b, y)
    y = tl.where(op == 3, tl.div_rn(a, b), y)
    y = tl.where(op == 4, a * a, y)
    y = tl.where(op == 5, tl.sqrt_rn(a), y)
    return y


@triton.jit
def _clamp(w, low, high):
    """``w`` clamped to [low, high] as ``torch.clamp`` clamps (nan stays nan)."""
    return tl.where(w < low, low, tl.where(w > high, high, w))


@triton.jit
def _product(terms, axis: tl.constexpr):
    return tl.reduce(terms, axis, _multiply)


@triton.jit
def _multiply(a, b):
    return a * b


@triton.jit
def _before(product_left, before_left, product_right, before_right):
    """A scan step whose second part is the product of every factor before an element (and, in a
    reverse scan, after it): the exclusive products an NMU's gradient needs, zeros included."""
    return product_left * product_right, product_left * before_right


@triton.jit
def _sparsity(w, valid, lam, n):
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
def _optimize(w, g, s1, s2, rate, bias1, root_bias2, beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip,
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


@triton.jit(do_not_specialize=["start", "count"])
def train_kernel(
        W1, W2, S1, S2, state_columns, rates, keys, c3s, lows, widths, highs, spans, ops, frozen, Y,
        start, count, bias1s, root_bias2s, lambdas1, lambdas2, diverged_at, losses,
        row_blocks, samples, scale, beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip,
        low1, high1, low2, high2,
        B: tl.constexpr, BB: tl.constexpr, D: tl.constexpr, H: tl.constexpr, H2: tl.constexpr, FULL: tl.constexpr,
        BR: tl.constexpr, BD4: tl.constexpr, BH: tl.constexpr, KIND1: tl.constexpr, KIND2: tl.constexpr,
        OPTIMIZER: tl.constexpr,
        GRADIENTS: tl.constexpr = False):
    """Train member ``program_id`` for ``count`` steps from ``start``, unless ``frozen``.

    W1 (M, H, D) is the first layer's weight (kind ``KIND1``, clamped to [low1, high1]), W2 (M, 1, H)
    the second's (kind ``KIND2``, clamped to [low2, high2]); S1, S2 (M, state_columns) the
    optimizer's state slots, W1's in columns [0, H·D) and W2's after; ``rates`` (M,). Member m
    draws from Philox key ``keys[m]`` with counter (block, step mod 2^32, step div 2^32,
    ``c3s[m]``), row r from block ``r·row_blocks``, inputs in [lows, lows + widths] (``highs``);
    its operands sum columns [spans[m, 0], spans[m, 1]) and [spans[m, 2], spans[m, 3]), and its
    target is operation ``ops[m]``. Per step i of the launch: ``bias1s[i]``, ``root_bias2s[i]``
    (Adam's corrections) and the regularizers' weights ``lambdas1[i]``, ``lambdas2[i]``. Out:
    ``diverged_at[m]``, the first step whose loss was not finite (-1: none), and ``losses[m]``,
    the loss of its last step. ``Y`` (M, BB) is scratch: a step's targets, drawn for the whole
    batch at once. With ``GRADIENTS`` it takes one step's gradients into S1 instead, the
    weights untouched (:meth:`~nalm.train.gpu.trainer.TritonSteps.gradients`).

    Constexprs: B rows per batch (BB, the next power of two), D inputs (FULL: the columns before
    a row's last partial block of four), H hidden (H2: H, or 0 for one layer; BH a power of two
    ≥ 2), BR rows per tile, BD4 blocks per row (a power of two), ``KIND1`` and ``KIND2``
    (``LINEAR``, ``NMU``; any other ``KIND2``: no second layer), ``OPTIMIZER`` (``ADAM``,
    ``RMSPROP``, ``SGD``): :func:`nalm.train.gpu.trainer.constexprs` gives them.
    """
    m = tl.program_id(0).to(tl.int64)
    hs = tl.arange(0, BH)
    cols = tl.arange(0, 4 * BD4)
    valid1 = (hs[:, None] < H) & (cols[None, :] < D)
    at1 = tl.where(valid1, hs[:, None] * D + cols[None, :], 0)  # (masked-off addresses kept inside the arrays:
    # the interpreter reads them)
    w1 = tl.load(W1 + m * H * D + at1, mask=valid1, other=0.0)
    state = m * state_columns
    valid2 = hs < H2  # H2: 0 without a second layer
    at2 = tl.where(valid2, m * H + hs, 0)
    state2 = tl.where(valid2, state + H * D + hs, 0)
    w2 = tl.load(W2 + at2, mask=valid2, other=0.0)
    a1, v1 = tl.zeros_like(w1), tl.zeros_like(w1)
    a2, v2 = tl.zeros_like(w2), tl.zeros_like(w2)
    if OPTIMIZER != SGD:
        a1 = tl.load(S1 + state + at1, mask=valid1, other=0.0)
        a2 = tl.load(S1 + state2, mask=valid2, other=0.0)
    if OPTIMIZER == ADAM and not GRADIENTS:  # (GRADIENTS: the first slot only)
        v1 = tl.load(S2 + state + at1, mask=valid1, other=0.0)
        v2 = tl.load(S2 + state2, mask=valid2, other=0.0)
    rate = tl.load(rates + m)
    key = tl.load(keys + m)
    c3 = tl.load(c3s + m).to(tl.uint32)
    low, width, high = tl.load(lows + m), tl.load(widths + m), tl.load(highs + m)
    op = tl.load(ops + m)
    batch = tl.arange(0, BB)
    diverged = tl.full((), -1, tl.int64)
    loss = 0.0
    stop = tl.where(tl.load(frozen + m) != 0, 0, count)
    i = 0
    while i < stop:
        step = start.to(tl.int64) + i
        lo = step.to(tl.uint32)  # truncated: step mod 2^32
        hi = (step >> 32).to(tl.uint32)
        w1c = _clamp(w1, low1, high1)
        w2c = _clamp(w2, low2, high2)
        g1 = tl.zeros((BH, 4 * BD4), tl.float32)
        g2 = tl.zeros((BH,), tl.float32)
        squares = 0.0
        # The whole batch's targets at once, a row per thread, through Y (M, BB): the operands'
        # inputs are drawn again for them, once per step rather than once per tile.
        targets = _targets(key, batch, row_blocks, lo, hi, c3, low, width, high, spans + 4 * m, op, FULL)
        tl.debug_barrier()  # the last step's tiles have read their targets
        tl.store(Y + m * BB + batch, targets)
        tl.debug_barrier()
        for first in range(0, B, BR):
            rows = first + tl.arange(0, BR)
            in_batch = rows < B
            x = _inputs(key, rows, row_blocks, lo, hi, c3, low, width, high, B, D, FULL, BD4)
            y = tl.load(Y + m * BB + rows)
            if KIND1 == NMU:  # Π (W x + 1 - W); padded inputs give factors of 1
                factors = w1c[None, :, :] * x[:, None, :] + 1.0 - w1c[None, :, :]  # (BR, BH, columns)
                h = _product(factors, 2)
            else:
                h = tl.sum(x[:, None, :] * w1c[None, :, :], axis=2)  # (BR, BH)
            if KIND2 == NMU:  # Π (W h + 1 - W); padded inputs give factors of 1
                terms = w2c[None, :] * h + 1.0 - w2c[None, :]
                out = _product(terms, 1)
                others = _product(tl.where(hs[None, :, None] == hs[None, None, :], 1.0, terms[:, None, :]), 2)
            elif KIND2 == LINEAR:
                out = tl.sum(h * w2c[None, :], axis=1)
            else:
                out = tl.sum(tl.where(hs[None, :] == 0, h, 0.0), axis=1)
            error = tl.where(in_batch, out - y, 0.0)
            squares += tl.sum(error * error, axis=0)
            gy = error * scale
            if KIND2 == NMU:
                g2 += tl.sum(gy[:, None] * (h - 1.0) * others, axis=0)
                dh = gy[:, None] * w2c[None, :] * others
            elif KIND2 == LINEAR:
                g2 += tl.sum(gy[:, None] * h, axis=0)
                dh = gy[:, None] * w2c[None, :]
            else:
                dh = tl.where(hs[None, :] == 0, gy[:, None], 0.0)
            if KIND1 == NMU:  # dh/dW = (x - 1) · Π of the other factors
                ones = tl.full(factors.shape, 1.0, tl.float32)
                _, before = tl.associative_scan((factors, ones), 2, _before)
                _, after = tl.associative_scan((factors, ones), 2, _before, reverse=True)
                g1 += tl.sum(dh[:, :, None] * (x[:, None, :] - 1.0) * (before * after), axis=0)
            else:
                g1 += tl.sum(dh[:, :, None] * x[:, None, :], axis=0)
        mse = tl.div_rn(squares, samples)
        lam1 = tl.load(lambdas1 + i)
        r1, d1 = _sparsity(w1, valid1, lam1, tl.full((), H * D, tl.float32))
        g1 = tl.where((w1 >= low1) & (w1 <= high1), g1, 0.0) + d1
        loss = mse + tl.where(lam1 == 0, 0.0, lam1 * r1)
        if H2 > 0:
            lam2 = tl.load(lambdas2 + i)
            r2, d2 = _sparsity(w2[None, :], valid2[None, :], lam2, tl.full((), H, tl.float32))
            g2 = tl.where((w2 >= low2) & (w2 <= high2), g2, 0.0) + tl.sum(d2, axis=0)
            loss += tl.where(lam2 == 0, 0.0, lam2 * r2)
        finite = tl.abs(loss) < float("inf")
        if GRADIENTS:  # the step's gradients into the first state slot, the weights unchanged
            a1, a2 = g1, g2
        else:
            bias1, root_bias2 = tl.load(bias1s + i), tl.load(root_bias2s + i)
            n1, na1, nv1 = _optimize(w1, g1, a1, v1, rate, bias1, root_bias2, beta1, rest1, beta2, rest2, eps, alpha,
                                     rest_alpha, clip, OPTIMIZER)
            n2, na2, nv2 = _optimize(w2, g2, a2, v2, rate, bias1, root_bias2, beta1, rest1, beta2, rest2, eps, alpha,
                                     rest_alpha, clip, OPTIMIZER)
            w1 = tl.where(finite, tl.where(valid1, _clamp(n1, low1, high1), w1), w1)
            a1, v1 = tl.where(finite, na1, a1), tl.where(finite, nv1, v1)
            w2 = tl.where(finite, tl.where(valid2, _clamp(n2, low2, high2), w2), w2)
            a2, v2 = tl.where(finite, na2, a2), tl.where(finite, nv2, v2)
        diverged = tl.where(finite, diverged, step)
        stop = tl.where(finite, stop, 0)
        i += 1
    tl.store(W1 + m * H * D + at1, w1, mask=valid1)
    tl.store(W2 + at2, w2, mask=valid2)
    if OPTIMIZER != SGD or GRADIENTS:
        tl.store(S1 + state + at1, a1, mask=valid1)
        tl.store(S1 + state2, a2, mask=valid2)
    if OPTIMIZER == ADAM and not GRADIENTS:  # (GRADIENTS: the first slot only)
        tl.store(S2 + state + at1, v1, mask=valid1)
        tl.store(S2 + state2, v2, mask=valid2)
    tl.store(diverged_at + m, diverged)
    tl.store(losses + m, loss)
