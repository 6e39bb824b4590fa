"""Counter-based random numbers: every draw is a pure function of where it sits.

Every number a task draws comes from Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel
Random Numbers: As Easy as 1, 2, 3", SC 2011), the generator of cuRAND and of PyTorch's CUDA
backend. Philox is a keyed bijection of a 128-bit counter, so a draw needs no state: the
value at row r, column j of the draws of (seed, stream, step) is computed directly. A member's
data never depends on which members share its population, the batch of step t is produced
without replaying steps 0..t-1 (so a run can resume mid-way exactly), and the same numbers
come out of the CPU kernels (numba) and the device code (PyTorch integer ops).

Where a draw sits (:data:`GENERATOR` is stored with every run):

* key ``(seed mod 2^32, stream)``; counter ``(block, step mod 2^32, step div 2^32, seed div 2^32)``;
* a row of ``n`` values starts at a block boundary: row r holds blocks
  ``r·ceil(w·n/4) ...``, where w is the words per value; word k of a row is word ``k mod 4`` of
  its block ``k div 4``;
* float32 takes one word per value, its top 23 bits k, and gives ``(2k + 1)·2^-24``;
  float64 takes two (low word first), the top 52 bits k of the 64, and gives ``(2k + 1)·2^-53``:
  the centred grid of odd multiples of half a grid step, symmetric about 1/2, never 0 or 1
  (with a grid that starts at 0, U[-2, 2] in float32 gave b = 0 once in 2^23 draws, and a/b
  was then infinite).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numba
from numba import types
from numba.extending import overload

if TYPE_CHECKING:
    import torch

GENERATOR = {"name": "philox4x32-10", "version": 1,
             "layout": "key (seed mod 2^32, stream), counter (block, step, seed div 2^32); rows start at a block; "
                       "float32 (2k+1)/2^24 from 23 bits of a word, float64 (2k+1)/2^53 from 52 bits of two"}
"""What draws every task's numbers, stored with each run. A report refuses to put runs drawn by
different generators in one table, and runs drawn otherwise never share a key in the store."""

# Salmon et al. 2011, section 5 (the multipliers and Weyl key increments of Philox4x32).
MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
KEY_INCREMENTS = (0x9E3779B9, 0xBB67AE85)
ROUNDS = 10

_M0, _M1 = np.uint64(MULTIPLIERS[0]), np.uint64(MULTIPLIERS[1])
_W0, _W1 = np.uint32(KEY_INCREMENTS[0]), np.uint32(KEY_INCREMENTS[1])
_LOW, _32 = np.uint64(0xFFFFFFFF), np.uint64(32)
_F32_SHIFT, _F64_SHIFT = np.uint32(9), np.uint64(12)
_F32_STEP, _F32_HALF = np.float32(2.0 ** -23), np.float32(2.0 ** -24)
_F64_STEP, _F64_HALF = 2.0 ** -52, 2.0 ** -53


@numba.njit(inline="always")
def philox_block(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1): four uint32 words."""
    c0, c1, c2, c3 = np.uint32(c0), np.uint32(c1), np.uint32(c2), np.uint32(c3)
    k0, k1 = np.uint32(k0), np.uint32(k1)
    for _ in range(ROUNDS):
        p0 = _M0 * np.uint64(c0)
        p1 = _M1 * np.uint64(c2)
        c0, c1, c2, c3 = (np.uint32(np.uint32(p1 >> _32) ^ c1 ^ k0), np.uint32(p1 & _LOW),
                          np.uint32(np.uint32(p0 >> _32) ^ c3 ^ k1), np.uint32(p0 & _LOW))
        k0 = np.uint32(k0 + _W0)
        k1 = np.uint32(k1 + _W1)
    return c0, c1, c2, c3


@numba.njit(inline="always")
def unit_float32(word):
    """One word → the centred float32 grid in (0, 1)."""
    return np.float32(word >> _F32_SHIFT) * _F32_STEP + _F32_HALF


@numba.njit(inline="always")
def unit_float64(low, high):
    """Two words → the centred float64 grid in (0, 1)."""
    bits = ((np.uint64(high) << _32) | np.uint64(low)) >> _F64_SHIFT
    return np.float64(bits) * _F64_STEP + _F64_HALF


@numba.njit(cache=True, fastmath=False)
def _philox_many(counters, key, out):
    for i in range(counters.shape[0]):
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = philox_block(
            counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3], key[0], key[1])


def philox4x32(counters, key) -> np.ndarray:
    """Philox4x32-10 of each row of ``counters`` (n, 4) under ``key`` (2,), as uint32 (n, 4).

    >>> [hex(w) for w in philox4x32([[0, 0, 0, 0]], [0, 0])[0]]  # Random123's first known answer
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    counters = np.ascontiguousarray(np.asarray(counters, dtype=np.uint32).reshape(-1, 4))
    out = np.empty_like(counters)
    _philox_many(counters, np.asarray(key, dtype=np.uint32).reshape(2), out)
    return out


@dataclass(frozen=True)
class Draws:
    """Where a set of draws sits: ``(seed, stream, step)`` and the first row.

    ``first_row`` lets a large set be drawn in chunks that equal the whole drawn at once.
    """

    seed: int
    stream: int
    step: int = 0
    first_row: int = 0

    def __post_init__(self) -> None:
        for name, bound in (("seed", 64), ("stream", 32), ("step", 64), ("first_row", 32)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value < 2 ** bound:
                raise ValueError(f"{name} must be an integer in [0, 2^{bound}), got {value!r}")

    def rows(self, start: int) -> "Draws":
        """The same draws from row ``start`` on."""
        return replace(self, first_row=self.first_row + start)

    def words(self) -> tuple[int, int, int, int, int]:
        """``(k0, k1, c1, c2, c3)``: the key and the fixed counter words."""
        return (self.seed & 0xFFFFFFFF, self.stream, self.step & 0xFFFFFFFF, self.step >> 32, self.seed >> 32)


def blocks_per_row(columns: int, dtype) -> int:
    """Philox blocks that one row of ``columns`` values takes (see the module docstring)."""
    words = columns * (2 if np.dtype(dtype) == np.float64 else 1)
    return (words + 3) // 4


@numba.njit(cache=True, fastmath=False)
def _to_range(u, lows, highs, ends, starts, count):
    """U(0, 1) → the range: as :meth:`nalm.tasks.ranges.Range.from_uniform`, in u's precision."""
    t = u * ends[count - 1]
    k = 0
    while k < count - 1 and ends[k] <= t:
        k += 1
    x = lows[k] + (t - starts[k])
    return min(max(x, lows[k]), highs[k])


def draw_row(row, k0, k1, c1, c2, c3, block, lows, highs, ends, starts, count):
    """Fill ``row`` with its values: Philox blocks ``block, block + 1, ...`` under key ``(k0, k1)``
    with counter words ``c1, c2, c3``, each value mapped to the range as
    :meth:`nalm.tasks.ranges.Range.from_uniform` maps it (in the row's precision); the compiled
    kernels of :mod:`nalm.train.kernels` and :func:`uniform` draw every row through it.

    Callable from compiled kernels only; it is compiled on its own, without fast-math, for
    the row's dtype (:func:`_row_drawer`), so every kernel that draws a row sees the same numbers.
    """
    raise TypeError("draw_row is called from numba kernels only")


@overload(draw_row, inline="always")
def _draw_row_for_dtype(row, k0, k1, c1, c2, c3, block, lows, highs, ends, starts, count):
    return _row_drawer(row.dtype == types.float32)


def _row_drawer(float32: bool):
    """The body of :func:`draw_row` for float32 (one word per value) or float64 (two)."""
    per_value = 1 if float32 else 2

    def drawer(row, k0, k1, c1, c2, c3, block, lows, highs, ends, starts, count):
        n = row.shape[0]
        full = (n * per_value) // 4  # blocks whose four words all go to this row
        first = 0
        if count == 1:  # low + u·(high - low), in one loop that vectorizes
            low, width = lows[0], ends[0]
            for b in range(full):
                w0, w1, w2, w3 = philox_block(block + b, c1, c2, c3, k0, k1)
                if float32:
                    row[4 * b] = low + unit_float32(w0) * width
                    row[4 * b + 1] = low + unit_float32(w1) * width
                    row[4 * b + 2] = low + unit_float32(w2) * width
                    row[4 * b + 3] = low + unit_float32(w3) * width
                else:
                    row[2 * b] = low + unit_float64(w0, w1) * width
                    row[2 * b + 1] = low + unit_float64(w2, w3) * width
            first = full * 4 // per_value
        for j in range(first, n):  # the rest: a row's last partial block, or a union of intervals
            b, lane = divmod(j * per_value, 4)
            w = philox_block(block + b, c1, c2, c3, k0, k1)
            if float32:  # (one statement per dtype: a shared variable would be typed float64)
                row[j] = _to_range(unit_float32(w[lane]), lows, highs, ends, starts, count)
            else:
                row[j] = _to_range(unit_float64(w[lane], w[min(lane + 1, 3)]), lows, highs, ends, starts, count)

    return drawer


@numba.njit(cache=True, fastmath=False)
def fill_rows(out, k0, k1, c1, c2, c3, first_row):
    """Fill the rows of ``out`` (rows, columns) with their U(0, 1) draws: :func:`draw_row` onto
    [0, 1], which maps u to 0 + u·1 = u exactly."""
    zero, one = np.zeros(1, out.dtype), np.ones(1, out.dtype)
    blocks = ((1 if out.itemsize == 4 else 2) * out.shape[1] + 3) // 4  # per row, as blocks_per_row
    for r in range(out.shape[0]):
        draw_row(out[r], k0, k1, c1, c2, c3, (first_row + r) * blocks, zero, one, one, zero, 1)


def check_blocks(draws: Draws, rows: int, columns: int, dtype) -> None:
    """Raise a ValueError when the rows would run past the 2^32 blocks of one (seed, stream, step)."""
    if (draws.first_row + rows) * blocks_per_row(columns, dtype) > 2 ** 32:
        raise ValueError(f"{draws.first_row + rows} rows of {columns} values exceed the 2^32 Philox blocks "
                         f"of one (seed, stream, step)")


def uniform(draws: Draws, shape, dtype=np.float64) -> np.ndarray:
    """Draws on the centred grid in (0, 1): rows along ``shape[0]``, the rest of each row flattened.

    >>> u = uniform(Draws(seed=0, stream=1), (2, 3), np.float32)
    >>> bool(((u > 0) & (u < 1)).all()), bool((uniform(Draws(0, 1, first_row=1), (1, 3), np.float32) == u[1:]).all())
    (True, True)
    """
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    dtype = np.dtype(dtype)
    rows, columns = shape[0], math.prod(shape[1:])
    check_blocks(draws, rows, columns, dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"uniform draws need float32 or float64, not {dtype}")
    out = np.empty((rows, columns), dtype=dtype)
    fill_rows(out, *draws.words(), draws.first_row)
    return out.reshape(shape)


# -- the same numbers from PyTorch integer ops, on any device --------------------------------
# (PyTorch is imported by the functions that use it: the tasks, and so `nalm list`, import this
# module without it.)
_MASK16, _MASK32 = 0xFFFF, 0xFFFFFFFF


def _mulhilo(a: int, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(high, low) 32-bit words of the 64-bit product of the constant a and uint32 values b
    held in int64, without overflowing int64: b is split into 16-bit halves."""
    b_high, b_low = b >> 16, b & _MASK16
    low_part = a * b_low  # < 2^48
    high_part = a * b_high  # < 2^48; the product is high_part·2^16 + low_part
    middle = (low_part >> 16) + (high_part & _MASK16)
    low = ((middle & _MASK16) << 16) | (low_part & _MASK16)
    high = (high_part >> 16) + (middle >> 16)
    return high & _MASK32, low


def philox_torch(counter: torch.Tensor, key) -> torch.Tensor:
    """Philox4x32-10 of ``counter`` (..., 4), uint32 values held in int64, on its device, under
    ``key`` (k0, k1): integers, or int64 tensors that broadcast against ``counter[..., 0]``."""
    import torch

    c0, c1, c2, c3 = counter.unbind(-1)
    k0, k1 = key
    for _ in range(ROUNDS):
        high0, low0 = _mulhilo(MULTIPLIERS[0], c0)
        high1, low1 = _mulhilo(MULTIPLIERS[1], c2)
        c0, c1, c2, c3 = high1 ^ c1 ^ k0, low1, high0 ^ c3 ^ k1, low0
        k0, k1 = (k0 + KEY_INCREMENTS[0]) & _MASK32, (k1 + KEY_INCREMENTS[1]) & _MASK32
    return torch.stack([c0, c1, c2, c3], dim=-1)


def uniform_torch(draws, shape, dtype=None, device="cpu") -> torch.Tensor:
    """What :func:`uniform` draws, computed with PyTorch on ``device`` (bit for bit the same), in
    ``dtype`` (``torch.float64`` by default).

    ``draws``: one :class:`Draws`, or a list of them that share ``first_row``, drawn at once
    (on a GPU, one set of kernels for a whole population): the result then has a leading
    dimension, one entry per draws.
    """
    import torch

    dtype = torch.float64 if dtype is None else dtype
    many = isinstance(draws, (list, tuple))
    batch = list(draws) if many else [draws]
    shape = tuple(int(s) for s in shape)
    rows, columns = shape[0], math.prod(shape[1:])
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    first_row = {d.first_row for d in batch}
    if len(first_row) != 1:
        raise ValueError("draws drawn at once must share first_row")
    for d in batch:
        check_blocks(d, rows, columns, np_dtype)
    per_row = blocks_per_row(columns, np_dtype)
    words = torch.tensor([d.words() for d in batch], dtype=torch.int64, device=device)[:, :, None, None]
    block = (torch.arange(rows, device=device, dtype=torch.int64)[:, None] + first_row.pop()) * per_row \
        + torch.arange(per_row, device=device, dtype=torch.int64)  # (rows, per_row)
    block = block.expand(len(batch), rows, per_row)
    counter = torch.stack([block, *(words[:, c].expand_as(block) for c in (2, 3, 4))], dim=-1)
    bits = philox_torch(counter, (words[:, 0], words[:, 1])).reshape(len(batch), rows, -1)
    if dtype == torch.float32:
        k = (bits[:, :, :columns] >> 9).to(torch.float32)
        out = k * 2.0 ** -23 + 2.0 ** -24
    else:
        pairs = bits[:, :, :2 * columns].reshape(len(batch), rows, columns, 2)
        k = (pairs[..., 1] << 20) | (pairs[..., 0] >> 12)  # the top 52 of the 64 bits
        out = k.to(torch.float64) * 2.0 ** -52 + 2.0 ** -53
    out = out.reshape(len(batch), *shape)
    return out if many else out[0]
