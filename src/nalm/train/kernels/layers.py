"""The fused layers (numba): for each layer kind, the forward and backward passes over a member's
whole batch that the fused step (:mod:`nalm.train.kernels.step`) runs, two layers per step.

A pass goes through every row of the batch at once (the first layer four rows at a time; the
second layer, the exponentials and the sigmoids in vector loops over the batch), adding the
member's gradient with respect to the layer's effective weights. Everything else (effective
weights from raw parameters, regularizers, optimizers) stays in PyTorch, whose autograd carries
those gradients back to the parameters; :func:`clamp_into` and :func:`clamp_gradient` clamp a
weight and mask its gradient as ``torch.clamp`` does. The layers allow reassociation (sums
vectorize) and contraction (fused multiply-add), so they match PyTorch's autograd to rounding,
not bit for bit.
"""
from __future__ import annotations

import numba
from numba import types
from numba.extending import overload

from .logexp import exps, log_magnitudes

# Layer kinds of the fused step (see :class:`nalm.units.base.KernelLayer`).
NONE, LINEAR, NMU, NALU, LOG_LINEAR = range(5)
KINDS = {"linear": LINEAR, "nmu": NMU, "nalu": NALU, "log-linear": LOG_LINEAR}

FAST = {"reassoc", "contract"}


# -- clamped weights (KernelLayer.weight_bounds) ------------------------------------------------
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


# -- the fused layers --------------------------------------------------------------------------
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
