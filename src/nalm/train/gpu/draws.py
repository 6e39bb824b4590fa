"""The Triton kernels' draws: each member's batch with nalm's Philox layout (:mod:`nalm.philox`),
its operands a and b and its target, bit for bit as the CPU draws them (``low + u·width`` in two
roundings: kernels that draw are launched with ``enable_fp_fusion=False``; operands summed in
index order, each input drawn again for them; correctly rounded division and square root).

:func:`draw_kernel` writes a population's batch out, for checks against the CPU's draws;
:func:`nalm.train.gpu.kernel.train_kernel` draws with the same functions where it trains.
"""
from __future__ import annotations

import triton
import triton.language as tl


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
