"""The Triton training kernel: one program per member, ``count`` training steps per launch.

A program keeps its member's parameters and optimizer state in registers and, step after
step, computes its layers' weights from their parameters, draws the member's batch
(:mod:`nalm.train.gpu.draws`), reduces each row to its operands a and b, computes the target,
runs the batch through up to two layers and back, carries the weights' gradients back to the
parameters, adds the sparsity regularizer's gradient at that step's weight, steps the optimizer
and clips clamped parameters to their bounds (:mod:`nalm.train.gpu.weights`): the training
loop's step (:func:`nalm.train.train`) with the fused CPU step's data pass
(:mod:`nalm.train.fused`), without leaving the kernel. A member whose loss is not finite stops
there, its weights and state as they were, and reports the step.

Bit for bit the same as the CPU: the draws, the operands, the targets and the optimizer's
arithmetic given a gradient. The forward and backward passes sum in another order than the
CPU's, and exp, log and tanh are Triton's (or computed from them), so losses, gradients and
trained weights agree with it to float32 rounding.

Layer kinds (constexpr), numbered as the fused CPU step numbers them
(:mod:`nalm.train.kernels.layers`): ``LINEAR`` (x·Wᵀ: NAU, NAC), ``NMU`` (Π (W x + 1 - W)) and
``LOG_LINEAR`` (exp(log(|x| + eps)·Wᵀ): NAC• and its variants), first or second; ``NALU``
(σ(x·Gᵀ) mixing the two, one W: NALU, G-NALU), first or second; ``NONE`` for no second layer. A
``LINEAR`` layer whose map is ``MCFC``, first or second, has its junction (inputs, outputs) as
P, a gate weight and bias per output as Q and G, and MC-FC's regularizer −λ·Σ mean(p²).
Everything here is float32.
"""
from __future__ import annotations

import triton
import triton.language as tl

from ..kernels import layers
from .draws import _inputs, _targets
from .weights import (CLAMP, MCFC, NAC, clamp, load_state, optimize, parameter_gradients, sigmoid, sparsity,
                      store_state, weight)

# Globals a kernel reads must be constexprs.
LINEAR, NMU, NALU = tl.constexpr(layers.LINEAR), tl.constexpr(layers.NMU), tl.constexpr(layers.NALU)
LOG_LINEAR = tl.constexpr(layers.LOG_LINEAR)


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
def _squares(p, valid, lam, n: tl.constexpr):
    """mean(p²) over the n valid parameters, and the gradient of -lam times it, as PyTorch's
    autograd computes it (MC-FC's regularizer term)."""
    r = tl.div_rn(tl.sum(tl.sum(tl.where(valid, p * p, 0.0), axis=1), axis=0), tl.full((), n, tl.float32))
    return r, tl.where(valid, tl.div_rn(-lam, tl.full((), n, tl.float32)) * (2.0 * p), 0.0)


@triton.jit
def _junction(r, w, b, valid, gates):
    """MC-FC's weight (outputs × inputs, ``valid``) from its junction ``r`` (laid out as the
    weight), its gate's weight ``w`` and bias ``b`` (one per output, where ``gates``): σ(w + b)
    times the softmax of each input's junction over the outputs; and the two factors."""
    logits = tl.where(valid, r, -float("inf"))
    top = tl.max(logits, axis=0)
    e = tl.where(valid, tl.exp(logits - tl.where(top > -float("inf"), top, 0.0)[None, :]), 0.0)
    total = tl.sum(e, axis=0)
    soft = tl.where(valid, e / tl.where(total > 0, total, 1.0)[None, :], 0.0)
    opened = sigmoid(tl.sum(tl.where(gates, w + b, 0.0), axis=1))
    return tl.where(valid, opened[:, None] * soft, 0.0), opened, soft


@triton.jit
def _junction_gradients(g, opened, soft, valid, gates):
    """The gradients of MC-FC's junction, and of its gate's weight and bias (the same), from the
    weight's ``g``: through the softmax over the outputs, and through σ."""
    through = tl.sum(tl.where(valid, g * soft, 0.0), axis=1) * (1.0 - opened) * opened
    ds = g * opened[:, None]
    dr = tl.where(valid, soft * (ds - tl.sum(tl.where(valid, ds * soft, 0.0), axis=0)[None, :]), 0.0)
    return dr, tl.where(gates, through[:, None], 0.0)


@triton.jit
def _update(p, g, a, v, finite, valid, low, high, rate, bias1, root_bias2, beta1, rest1, beta2, rest2, eps, alpha,
            rest_alpha, clip, MAP: tl.constexpr, OPTIMIZER: tl.constexpr):
    """One optimizer step of parameters ``p`` (clipped to [low, high] after it under ``CLAMP``),
    taken only where the step's loss is ``finite``."""
    n, na, nv = optimize(p, g, a, v, rate, bias1, root_bias2, beta1, rest1, beta2, rest2, eps, alpha, rest_alpha,
                         clip, OPTIMIZER)
    if MAP == CLAMP:
        n = clamp(n, low, high)
    return (tl.where(finite, tl.where(valid, n, p), p), tl.where(finite, na, a), tl.where(finite, nv, v))


@triton.jit(do_not_specialize=["start", "count"])
def train_kernel(
        P1, Q1, G1, P2, Q2, G2, S1, S2, state_columns, offsets, rates, keys, c3s, lows, widths, highs, spans, ops,
        frozen, Y,
        start, count, bias1s, root_bias2s, lambdas1, lambdas2, diverged_at, losses,
        row_blocks, samples, scale, beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip,
        low1, high1, low2, high2, eps1, eps2, scale1, scale2,
        B: tl.constexpr, BB: tl.constexpr, D: tl.constexpr, H: tl.constexpr, H2: tl.constexpr, FULL: tl.constexpr,
        BR: tl.constexpr, BD4: tl.constexpr, BH: tl.constexpr, KIND1: tl.constexpr, KIND2: tl.constexpr,
        MAP1: tl.constexpr, MAP2: tl.constexpr, OPTIMIZER: tl.constexpr,
        GRADIENTS: tl.constexpr = False):
    """Train member ``program_id`` for ``count`` steps from ``start``, unless ``frozen``.

    The first layer (kind ``KIND1``) has weight (M, H, D) from parameters P1 (and Q1: a NAC's M̂) by
    map ``MAP1`` (``CLAMP``: clamped to [low1, high1]), each scaled by ``scale1`` first, and a
    NALU's gate matrix ``scale1``·G1 (M, H, D); the second (kind ``KIND2``) weight (M, 1, H) from P2
    (and Q2) by ``MAP2``, scaled by ``scale2``, and a NALU's gate ``scale2``·G2 (M, 1, H); ``eps1``,
    ``eps2``: their logs' eps. S1, S2 (M, state_columns) are the optimizer's state slots as
    :class:`~nalm.train.optim.PopulationOptimizer` keeps them, P1's in the columns from
    ``offsets[0]``, Q1's, G1's, P2's, Q2's and G2's from ``offsets[1]`` to ``offsets[5]``; ``rates``
    (M,). Member m draws from Philox key ``keys[m]`` with counter (block, step mod 2^32, step div
    2^32, ``c3s[m]``), row r from block ``r·row_blocks``, inputs in [lows, lows + widths]
    (``highs``); its operands sum columns [spans[m, 0], spans[m, 1]) and [spans[m, 2], spans[m, 3]),
    and its target is operation ``ops[m]``. Per step i of the launch: ``bias1s[i]``,
    ``root_bias2s[i]`` (Adam's corrections) and the regularizers' weights ``lambdas1[i]``,
    ``lambdas2[i]`` (of each layer's first parameter). Out: ``diverged_at[m]``, the first step whose
    loss was not finite (-1: none), and ``losses[m]``, the loss of its last step. ``Y`` (M, BB) is
    scratch: a step's targets, drawn for the whole batch at once. With ``GRADIENTS`` it takes one
    step's gradients into S1 instead, the parameters untouched
    (:meth:`~nalm.train.gpu.trainer.TritonSteps.gradients`).

    Constexprs: B rows per batch (BB, the next power of two), D inputs (FULL: the columns before
    a row's last partial block of four), H hidden (H2: H, or 0 for one layer; BH a power of two
    ≥ 2), BR rows per tile, BD4 blocks per row (a power of two), ``KIND1`` (``LINEAR``, ``NMU``,
    ``LOG_LINEAR``, ``NALU``) and ``KIND2`` (the same; any other: no second layer), ``MAP1``, ``MAP2``
    and ``OPTIMIZER``: :func:`nalm.train.gpu.trainer.constexprs` gives them.
    """
    m = tl.program_id(0).to(tl.int64)
    hs = tl.arange(0, BH)
    cols = tl.arange(0, 4 * BD4)
    valid1 = (hs[:, None] < H) & (cols[None, :] < D)
    at1 = tl.where(valid1, hs[:, None] * D + cols[None, :], 0)  # (masked-off addresses kept inside the arrays:
    # the interpreter reads them)
    # Q1 and G1 as tiles like P1's: matrices like P1, or an MC-FC's gate weight and bias (one
    # number per output, in the tile's first column), its junction P1 (inputs, outputs).
    extra, at_extra, stride = valid1, at1, H * D
    if MAP1 == MCFC:
        at1 = tl.where(valid1, cols[None, :] * H + hs[:, None], 0)
        extra = (hs[:, None] < H) & (cols[None, :] == 0)
        at_extra, stride = tl.where(extra, hs[:, None] + 0 * cols[None, :], 0), H
    valid2 = hs < H2  # H2: 0 without a second layer
    at2 = tl.where(valid2, hs, 0)
    extra2, stride2 = valid2, H  # Q2 and G2: like P2, or an MC-FC's gate weight and bias (one output)
    if MAP2 == MCFC:
        extra2, stride2 = valid2 & (hs == 0), 1
    state = m * state_columns
    sp1, sq1, sg1 = state + tl.load(offsets), state + tl.load(offsets + 1), state + tl.load(offsets + 2)
    sp2, sq2, sg2 = state + tl.load(offsets + 3), state + tl.load(offsets + 4), state + tl.load(offsets + 5)
    p1 = tl.load(P1 + m * H * D + at1, mask=valid1, other=0.0)
    p2 = tl.load(P2 + m * H + at2, mask=valid2, other=0.0)
    ap1, vp1 = load_state(S1, S2, sp1 + at1, valid1, OPTIMIZER, GRADIENTS)
    ap2, vp2 = load_state(S1, S2, sp2 + at2, valid2, OPTIMIZER, GRADIENTS)
    q1, q2, g1p, g2p = p1, p2, p1, p2  # (parameters a layer does not have: unused)
    aq1, vq1, aq2, vq2, ag1, vg1, ag2, vg2 = ap1, vp1, ap2, vp2, ap1, vp1, ap2, vp2
    if MAP1 == NAC or MAP1 == MCFC:
        q1 = tl.load(Q1 + m * stride + at_extra, mask=extra, other=0.0)
        aq1, vq1 = load_state(S1, S2, sq1 + at_extra, extra, OPTIMIZER, GRADIENTS)
    if MAP2 == NAC or MAP2 == MCFC:
        q2 = tl.load(Q2 + m * stride2 + at2, mask=extra2, other=0.0)
        aq2, vq2 = load_state(S1, S2, sq2 + at2, extra2, OPTIMIZER, GRADIENTS)
    if KIND1 == NALU or MAP1 == MCFC:
        g1p = tl.load(G1 + m * stride + at_extra, mask=extra, other=0.0)
        ag1, vg1 = load_state(S1, S2, sg1 + at_extra, extra, OPTIMIZER, GRADIENTS)
    if KIND2 == NALU or MAP2 == MCFC:
        g2p = tl.load(G2 + m * stride2 + at2, mask=extra2, other=0.0)
        ag2, vg2 = load_state(S1, S2, sg2 + at2, extra2, OPTIMIZER, GRADIENTS)
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
        if MAP1 == MCFC:  # σ(w + b) times the junction's softmax over the outputs
            w1, t1, s1 = _junction(p1, q1, g1p, valid1, extra)
        else:
            w1, t1, s1 = weight(p1, q1, valid1, low1, high1, scale1, MAP1)
        if MAP2 == MCFC:  # one output: the softmax is 1
            w2 = tl.where(valid2, sigmoid(tl.sum(tl.where(extra2, q2 + g2p, 0.0), axis=0)), 0.0)
            t2, s2 = w2, w2
        else:
            w2, t2, s2 = weight(p2, q2, valid2, low2, high2, scale2, MAP2)
        gate1 = scale1 * g1p
        gate2 = tl.where(valid2, scale2 * g2p, 0.0)
        g1 = tl.zeros((BH, 4 * BD4), tl.float32)
        gg1 = tl.zeros((BH, 4 * BD4), tl.float32)
        g2 = tl.zeros((BH,), tl.float32)
        gg2 = tl.zeros((BH,), tl.float32)
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
                factors = w1[None, :, :] * x[:, None, :] + 1.0 - w1[None, :, :]  # (BR, BH, columns)
                h = _product(factors, 2)
            elif KIND1 == LOG_LINEAR:  # exp(log(|x| + eps)·Wᵀ); padded rows and inputs: logs of 0
                logs = tl.where(in_batch[:, None] & (cols[None, :] < D), tl.log(tl.abs(x) + eps1), 0.0)
                h = tl.exp(tl.sum(logs[:, None, :] * w1[None, :, :], axis=2))  # (BR, BH)
            elif KIND1 == NALU:  # g·(x·Wᵀ) + (1 - g)·exp(log(|x| + eps)·Wᵀ), g = σ(x·Gᵀ)
                logs = tl.where(in_batch[:, None] & (cols[None, :] < D), tl.log(tl.abs(x) + eps1), 0.0)
                added = tl.sum(x[:, None, :] * w1[None, :, :], axis=2)
                multiplied = tl.exp(tl.sum(logs[:, None, :] * w1[None, :, :], axis=2))
                gate = sigmoid(tl.sum(x[:, None, :] * gate1[None, :, :], axis=2))
                h = gate * added + (1.0 - gate) * multiplied
            else:
                h = tl.sum(x[:, None, :] * w1[None, :, :], axis=2)  # (BR, BH)
            if KIND2 == NMU:  # Π (W h + 1 - W); padded inputs give factors of 1
                terms = w2[None, :] * h + 1.0 - w2[None, :]
                out = _product(terms, 1)
                others = _product(tl.where(hs[None, :, None] == hs[None, None, :], 1.0, terms[:, None, :]), 2)
            elif KIND2 == LOG_LINEAR:
                logs2 = tl.where(valid2[None, :], tl.log(tl.abs(h) + eps2), 0.0)
                out = tl.exp(tl.sum(logs2 * w2[None, :], axis=1))
            elif KIND2 == LINEAR:
                out = tl.sum(h * w2[None, :], axis=1)
            elif KIND2 == NALU:
                logs2 = tl.where(valid2[None, :], tl.log(tl.abs(h) + eps2), 0.0)
                added2 = tl.sum(h * w2[None, :], axis=1)
                multiplied2 = tl.exp(tl.sum(logs2 * w2[None, :], axis=1))
                opened2 = sigmoid(tl.sum(h * gate2[None, :], axis=1))
                out = opened2 * added2 + (1.0 - opened2) * multiplied2
            else:
                out = tl.sum(tl.where(hs[None, :] == 0, h, 0.0), axis=1)
            error = tl.where(in_batch, out - y, 0.0)
            squares += tl.sum(error * error, axis=0)
            gy = error * scale
            if KIND2 == NMU:
                g2 += tl.sum(gy[:, None] * (h - 1.0) * others, axis=0)
                dh = gy[:, None] * w2[None, :] * others
            elif KIND2 == LOG_LINEAR:  # through exp (whose derivative is out), then log(|h| + eps)
                z = gy * out
                g2 += tl.sum(z[:, None] * logs2, axis=0)
                sign = tl.where(h > 0, 1.0, tl.where(h < 0, -1.0, 0.0))
                dh = tl.where(valid2[None, :], z[:, None] * w2[None, :] / (tl.abs(h) + eps2) * sign, 0.0)
            elif KIND2 == LINEAR:
                g2 += tl.sum(gy[:, None] * h, axis=0)
                dh = gy[:, None] * w2[None, :]
            elif KIND2 == NALU:  # both paths' share of the shared W, the gate's, and dL/dh through all three
                add2 = gy * opened2
                exp2 = gy * (1.0 - opened2) * multiplied2
                gate_2 = (gy * added2 - gy * multiplied2) * (1.0 - opened2) * opened2
                g2 += tl.sum(add2[:, None] * h + exp2[:, None] * logs2, axis=0)
                gg2 += tl.sum(gate_2[:, None] * h, axis=0)
                sign = tl.where(h > 0, 1.0, tl.where(h < 0, -1.0, 0.0))
                dh = add2[:, None] * w2[None, :] + gate_2[:, None] * gate2[None, :] + tl.where(
                    valid2[None, :], exp2[:, None] * w2[None, :] / (tl.abs(h) + eps2) * sign, 0.0)
            else:
                dh = tl.where(hs[None, :] == 0, gy[:, None], 0.0)
            if KIND1 == NMU:  # dh/dW = (x - 1) · Π of the other factors
                ones = tl.full(factors.shape, 1.0, tl.float32)
                _, before = tl.associative_scan((factors, ones), 2, _before)
                _, after = tl.associative_scan((factors, ones), 2, _before, reverse=True)
                g1 += tl.sum(dh[:, :, None] * (x[:, None, :] - 1.0) * (before * after), axis=0)
            elif KIND1 == LOG_LINEAR:  # dh/dW = h · log(|x| + eps)
                g1 += tl.sum((dh * h)[:, :, None] * logs[:, None, :], axis=0)
            elif KIND1 == NALU:  # both paths' share of the shared W, and the gate's
                through_add = dh * gate
                through_exp = dh * (1.0 - gate) * multiplied
                g1 += tl.sum(through_add[:, :, None] * x[:, None, :] + through_exp[:, :, None] * logs[:, None, :],
                             axis=0)
                through_gate = (dh * added - dh * multiplied) * (1.0 - gate) * gate
                gg1 += tl.sum(through_gate[:, :, None] * x[:, None, :], axis=0)
            else:
                g1 += tl.sum(dh[:, :, None] * x[:, None, :], axis=0)
        mse = tl.div_rn(squares, samples)
        lam1 = tl.load(lambdas1 + i)
        if MAP1 == MCFC:  # through the softmax to the junction, through σ to the gate's w and b
            gp1, gq1 = _junction_gradients(g1, t1, s1, valid1, extra)
            gg1 = gq1
            # -λ·(mean R² + mean w² + mean b²), its gradient as autograd computes it
            rj, dj = _squares(p1, valid1, lam1, H * D)
            rw, dw = _squares(q1, extra, lam1, H)
            rb, db = _squares(g1p, extra, lam1, H)
            gp1 += dj
            gq1 += dw
            gg1 += db
            loss = mse + tl.where(lam1 == 0, 0.0, -lam1 * (rj + rw + rb))
        else:
            gp1, gq1 = parameter_gradients(g1, p1, t1, s1, low1, high1, scale1, MAP1)
            gg1 = tl.where(valid1, gg1 * scale1, 0.0)
            r1, d1 = sparsity(p1, valid1, lam1, tl.full((), H * D, tl.float32))
            gp1 += d1
            loss = mse + tl.where(lam1 == 0, 0.0, lam1 * r1)
        if MAP2 == MCFC:  # one output: no gradient through the softmax; the gate's to w and b
            opened2 = tl.sum(tl.where(hs == 0, t2, 0.0), axis=0)
            gp2 = tl.zeros_like(g2)
            gq2 = tl.where(extra2, tl.sum(tl.where(valid2, g2, 0.0), axis=0) * (1.0 - opened2) * opened2, 0.0)
            gg2 = gq2
            lam2 = tl.load(lambdas2 + i)
            rj2, dj2 = _squares(p2[None, :], valid2[None, :], lam2, H)
            rw2, dw2 = _squares(q2[None, :], extra2[None, :], lam2, 1)
            rb2, db2 = _squares(g2p[None, :], extra2[None, :], lam2, 1)
            gp2 += tl.sum(dj2, axis=0)
            gq2 += tl.sum(dw2, axis=0)
            gg2 += tl.sum(db2, axis=0)
            loss += tl.where(lam2 == 0, 0.0, -lam2 * (rj2 + rw2 + rb2))
        else:
            gp2, gq2 = parameter_gradients(g2, p2, t2, s2, low2, high2, scale2, MAP2)
            gg2 = tl.where(valid2, gg2 * scale2, 0.0)
        if H2 > 0:
            if MAP2 != MCFC:
                lam2 = tl.load(lambdas2 + i)
                r2, d2 = sparsity(p2[None, :], valid2[None, :], lam2, tl.full((), H, tl.float32))
                gp2 += tl.sum(d2, axis=0)
                loss += tl.where(lam2 == 0, 0.0, lam2 * r2)
        finite = tl.abs(loss) < float("inf")
        if GRADIENTS:  # the step's gradients into the first state slot, the parameters unchanged
            ap1, aq1, ap2, aq2, ag1, ag2 = gp1, gq1, gp2, gq2, gg1, gg2
        else:
            bias1, root_bias2 = tl.load(bias1s + i), tl.load(root_bias2s + i)
            p1, ap1, vp1 = _update(p1, gp1, ap1, vp1, finite, valid1, low1, high1, rate, bias1, root_bias2, beta1,
                                   rest1, beta2, rest2, eps, alpha, rest_alpha, clip, MAP1, OPTIMIZER)
            p2, ap2, vp2 = _update(p2, gp2, ap2, vp2, finite, valid2, low2, high2, rate, bias1, root_bias2, beta1,
                                   rest1, beta2, rest2, eps, alpha, rest_alpha, clip, MAP2, OPTIMIZER)
            if MAP1 == NAC or MAP1 == MCFC:
                q1, aq1, vq1 = _update(q1, gq1, aq1, vq1, finite, extra, low1, high1, rate, bias1, root_bias2,
                                       beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip, MAP1, OPTIMIZER)
            if MAP2 == NAC or MAP2 == MCFC:
                q2, aq2, vq2 = _update(q2, gq2, aq2, vq2, finite, extra2, low2, high2, rate, bias1, root_bias2,
                                       beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip, MAP2, OPTIMIZER)
            if KIND1 == NALU or MAP1 == MCFC:
                g1p, ag1, vg1 = _update(g1p, gg1, ag1, vg1, finite, extra, low1, high1, rate, bias1, root_bias2,
                                        beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip, NAC,  # (unclamped)
                                        OPTIMIZER)
            if KIND2 == NALU or MAP2 == MCFC:
                g2p, ag2, vg2 = _update(g2p, gg2, ag2, vg2, finite, extra2, low2, high2, rate, bias1, root_bias2,
                                        beta1, rest1, beta2, rest2, eps, alpha, rest_alpha, clip, NAC,  # (unclamped)
                                        OPTIMIZER)
        diverged = tl.where(finite, diverged, step)
        stop = tl.where(finite, stop, 0)
        i += 1
    tl.store(P1 + m * H * D + at1, p1, mask=valid1)
    tl.store(P2 + m * H + at2, p2, mask=valid2)
    store_state(S1, S2, sp1 + at1, valid1, ap1, vp1, OPTIMIZER, GRADIENTS)
    store_state(S1, S2, sp2 + at2, valid2, ap2, vp2, OPTIMIZER, GRADIENTS)
    if MAP1 == NAC or MAP1 == MCFC:
        tl.store(Q1 + m * stride + at_extra, q1, mask=extra)
        store_state(S1, S2, sq1 + at_extra, extra, aq1, vq1, OPTIMIZER, GRADIENTS)
    if MAP2 == NAC or MAP2 == MCFC:
        tl.store(Q2 + m * stride2 + at2, q2, mask=extra2)
        store_state(S1, S2, sq2 + at2, extra2, aq2, vq2, OPTIMIZER, GRADIENTS)
    if KIND1 == NALU or MAP1 == MCFC:
        tl.store(G1 + m * stride + at_extra, g1p, mask=extra)
        store_state(S1, S2, sg1 + at_extra, extra, ag1, vg1, OPTIMIZER, GRADIENTS)
    if KIND2 == NALU or MAP2 == MCFC:
        tl.store(G2 + m * stride2 + at2, g2p, mask=extra2)
        store_state(S1, S2, sg2 + at2, extra2, ag2, vg2, OPTIMIZER, GRADIENTS)
    tl.store(diverged_at + m, diverged)
    tl.store(losses + m, loss)
