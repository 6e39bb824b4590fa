"""The fused training step (numba): each member's batch drawn into a buffer that stays in cache and
run through a network of up to two layers and back.

:func:`fused_step` draws a member's batch (:func:`nalm.train.kernels.draw.draw_stream`),
computes its targets and runs it through the network's two layers
(:mod:`nalm.train.kernels.layers`) and back while it is still in cache, adding the member's
gradient with respect to its layers' effective weights; :func:`workspace` makes the buffers of
that pass.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numba
import numpy as np

from ... import philox
from ...tasks import targets
from . import draw, layers, logexp
from .draw import _targets, draw_stream
from .layers import FAST, LOG_LINEAR, NALU, NONE, _first, _first_backward, _second
from .logexp import log_magnitudes


def _digest(*modules) -> int:
    """A 56-bit digest of the modules' source files."""
    sources = hashlib.sha256()
    for module in modules:
        sources.update(Path(module.__file__).read_bytes())
    return int.from_bytes(sources.digest()[:7], "little")


# numba keys a function's cache on its own source file (and its closure's values), but a step
# also compiles in code from other files: the layers, the drawing and TARGETS' operations,
# Philox's row drawer, the log. It closes over a digest of their sources, so that it is compiled
# again when one of them changes rather than loaded as compiled from the old code. (The layer
# functions, cached on their own, are keyed on layers.py only: an edit of logexp.py reaches them
# once layers.py changes or their cache is cleared.)
_COMPILED_IN = _digest(draw, layers, logexp, philox, targets)


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
    same stream, ``streams[m]``), computes its targets with operation ``ops[m]``
    (:data:`nalm.train.kernels.draw.OPS`) and runs its batch through layers with effective
    weights ``W`` (additive, or the only one), ``V`` (log-space path), ``G`` and ``B`` (gate),
    adding d(mean squared error)/d(weights) to the zeroed ``g*`` arrays; ``loss[m]`` is its MSE.
    The batch stays in cache (51 kB for 128 × 100 float32) between the two passes. ``x``,
    ``operands``, ``targets`` and ``work`` (:func:`workspace`) are the caller's buffers.

    Compiled without the runtime's reference counting (every buffer comes from the caller: the
    counts taken on the arrays passed to the inlined layer functions, on every row, were the
    larger part of a NALU step), and closing over integers only (the kinds and
    :data:`_COMPILED_IN`), so that it is cached on disk (a closure over functions was compiled
    again by every process).
    """
    compiled_in = _COMPILED_IN

    @numba.njit(cache=True, error_model="numpy", fastmath=FAST, _nrt=False)
    def step(streams, words, row_blocks, lows, highs, ends, starts, counts, a_masks, b_masks, spans, ops,
             W1, V1, G1, B1, eps1, W2, V2, G2, B2, eps2, loss, gW1, gV1, gG1, gB1, gW2, gV2, gG2, gB2,
             x, operands, targets, work):
        compiled_in  # (a closure variable only to key the cache: see _COMPILED_IN)
        for m in range(words.shape[0]):
            if m == 0 or streams[m] != streams[m - 1]:  # members of one stream in a row draw it once
                draw_stream(x, operands, words[m], row_blocks, a_masks[m], b_masks[m], spans[m], lows[m], highs[m],
                            ends[m], starts[m], counts[m])
            _targets(ops[m], operands, targets)
            loss[m] = _train_rows(kind1, kind2, x, targets, W1[m], V1[m], G1[m], B1[m], eps1, W2[m], V2[m], G2[m],
                                  B2[m], eps2, gW1[m], gV1[m], gG1[m], gB1[m], gW2[m], gV2[m], gG2[m], gB2[m], work)

    return step
