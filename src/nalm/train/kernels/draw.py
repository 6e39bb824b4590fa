"""Training data drawn where it is used (numba): each row of a batch is drawn (Philox,
:mod:`nalm.philox`), mapped to the task's range and reduced to its operands a and b while in
cache (:func:`draw_stream`), and a member's targets are computed from them (:func:`_targets`).

Drawing a row never uses fast-math (the kernels here say ``fastmath=False`` explicitly: numba
compiles a function without its own setting with the fast-math of the first caller, and the
fused step, :func:`nalm.train.kernels.step.fused_step`, allows it), and every kernel sums the
operands with the one function :func:`_operands`, so the fused step and :func:`draw_batch` see
the same numbers. The targets are the operations of :data:`nalm.tasks.targets.TARGETS`, each
compiled as it is written there, so the fused step trains on the targets that the numpy and
PyTorch paths compute from the same operands.
"""
from __future__ import annotations

import contextlib
import warnings

import numba
import numpy as np
from numba.core.errors import NumbaIRAssumptionWarning
from numba.extending import overload

from ...philox import draw_row
from ...tasks.targets import TARGETS, sqrt


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


# -- targets ---------------------------------------------------------------------------------
@overload(sqrt, jit_options={"fastmath": False, "error_model": "numpy"})
def _sqrt_compiled(a):
    """:func:`~nalm.tasks.targets.sqrt` compiled: numpy's sqrt."""
    return lambda a: np.sqrt(a)


OPS = tuple(TARGETS)
"""The target operations by index: operation ``op`` of the kernels is ``TARGETS[OPS[op]]``."""

# Each operation of TARGETS compiled as it is written there, without fast-math, and inlined into
# the one function that picks it (_targets): a step that is not in the cache compiles them, and
# every compiled function adds to that time. None of these is cached on disk: numba keys a
# function's cache on its own source file, and TARGETS lies in another, whose changes such a cache
# would not see (the step is cached, with TARGETS' source in its key: nalm.train.kernels.step).
_OPERATIONS = tuple(numba.njit(error_model="numpy", fastmath=False, inline="always")(operation)
                    for operation in TARGETS.values())


@numba.njit(error_model="numpy", fastmath=False, inline="always")
def _no_targets(op, operands, targets):
    """The end of :func:`_targets_of`'s chain: no operation is left for ``op``."""


def _targets_of(operations, inline="always"):
    """A compiled ``targets_of(op, operands, targets)``: ``targets[r]`` = operation ``op`` of
    ``operations`` of row r's operands a and b (``operands[r]``), that is the first operation where
    ``op`` is 0, else operation ``op - 1`` of the others.

    Functions that call each other rather than numba's literal_unroll over the tuple of operations:
    numba warns, at a first compile, that a tuple of functions is experimental, and silencing that
    around every call of the step costs a microsecond per step.
    """
    if not operations:
        return _no_targets
    first, others = operations[0], _targets_of(operations[1:])

    @numba.njit(error_model="numpy", fastmath=False, inline=inline)
    def targets_of(op, operands, targets):
        if op == 0:
            for r in range(targets.shape[0]):
                targets[r] = first(operands[r, 0], operands[r, 1])
        else:
            others(op - 1, operands, targets)

    return targets_of


_targets = _targets_of(_OPERATIONS, inline="never")
"""``_targets(op, operands, targets)``: the targets of operation ``OPS[op]`` (:func:`_targets_of`),
one compiled function called once per member."""
