"""Tests for nalm.philox: Philox4x32-10 and the uniform draws built on it.

The known answers are Random123's (kat_vectors, philox4x32_10); the layout of the draws is
recomputed here from single Philox blocks, as the module docstring states it.
"""
import itertools

import numpy as np
import pytest
import torch

from nalm.philox import Draws, philox4x32, philox_torch, uniform, uniform_torch

# Random123 1.09, examples/kat_vectors: philox4x32 10 rounds, (counter, key) -> output.
KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

# (seed, stream, step, first_row): small, past 2^32 in seed and step, and a later first row.
PLACES = [(0, 1, 0, 0), (7, 3, 12, 5), (2 ** 32 + 3, 2, 2 ** 33 + 7, 0), (2 ** 64 - 1, 2 ** 32 - 1, 2 ** 64 - 1, 1000)]
SHAPES = [(1,), (5,), (3, 1), (4, 3), (2, 5), (3, 7, 3), (6, 2, 2)]
DTYPES = [(np.float32, torch.float32, 24), (np.float64, torch.float64, 53)]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_known_answers_numba(counter, key, expected):
    assert philox4x32([counter], key)[0].tolist() == list(expected)


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_known_answers_torch(counter, key, expected):
    out = philox_torch(torch.tensor([counter], dtype=torch.int64), key)
    assert out[0].tolist() == list(expected)


def test_many_counters_at_once_equal_one_at_a_time():
    counters = np.array([[i, 3 * i, 2 ** 32 - 1 - i, 7] for i in range(9)], dtype=np.uint32)
    key = (0x12345678, 0x9ABCDEF0)
    together = philox4x32(counters, key)
    for row, counter in zip(together, counters):
        np.testing.assert_array_equal(row, philox4x32([counter], key)[0])
    np.testing.assert_array_equal(philox_torch(torch.as_tensor(counters.astype(np.int64)), key).numpy(),
                                  together.astype(np.int64))


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype, torch_dtype, bits", DTYPES)
def test_uniform_equals_uniform_torch_bit_for_bit(place, shape, dtype, torch_dtype, bits):
    draws = Draws(*place)
    u = uniform(draws, shape, dtype)
    t = uniform_torch(draws, shape, torch_dtype)
    assert u.shape == shape and u.dtype == dtype and tuple(t.shape) == shape and t.dtype == torch_dtype
    np.testing.assert_array_equal(t.numpy(), u)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("dtype, torch_dtype, bits", DTYPES)
def test_uniform_is_the_documented_layout(place, dtype, torch_dtype, bits):
    # row r takes blocks r·ceil(w·n/4)..., word k of a row is word k mod 4 of its block k div 4;
    # float32 keeps a word's top 23 bits, float64 the top 52 of two words (low word first)
    draws = Draws(*place)
    rows, columns = 3, 5
    words_per_value = 1 if dtype == np.float32 else 2
    per_row = -(-words_per_value * columns // 4)
    k0, k1, c1, c2, c3 = draws.seed % 2 ** 32, draws.stream, draws.step % 2 ** 32, draws.step // 2 ** 32, draws.seed // 2 ** 32
    expected = np.empty((rows, columns))
    for r in range(rows):
        blocks = [(draws.first_row + r) * per_row + b for b in range(per_row)]
        words = philox4x32([[b, c1, c2, c3] for b in blocks], (k0, k1)).ravel().tolist()
        for j in range(columns):
            if dtype == np.float32:
                k = words[j] >> 9
            else:
                k = ((words[2 * j + 1] << 32) | words[2 * j]) >> 12
            expected[r, j] = (2 * k + 1) * 2.0 ** -bits
    np.testing.assert_array_equal(uniform(draws, (rows, columns), dtype), expected.astype(dtype))


@pytest.mark.parametrize("dtype, torch_dtype, bits", DTYPES)
def test_draws_in_chunks_of_rows_equal_one_draw(dtype, torch_dtype, bits):
    draws = Draws(11, 2, step=2 ** 40 + 3)
    whole = uniform(draws, (23, 3, 5), dtype)
    chunks = [uniform(draws.rows(start), (min(6, 23 - start), 3, 5), dtype) for start in range(0, 23, 6)]
    np.testing.assert_array_equal(np.concatenate(chunks), whole)
    np.testing.assert_array_equal(uniform(draws.rows(4).rows(3), (2, 3, 5), dtype), whole[7:9])
    np.testing.assert_array_equal(uniform_torch(draws.rows(9), (4, 3, 5), torch_dtype).numpy(), whole[9:13])


@pytest.mark.parametrize("dtype, torch_dtype, bits", DTYPES)
def test_values_are_odd_multiples_of_half_a_grid_step_inside_the_unit_interval(dtype, torch_dtype, bits):
    u = uniform(Draws(5, 1, step=3), (20_000, 7), dtype).astype(np.float64)
    k = u * 2.0 ** bits
    assert np.array_equal(k, np.round(k)) and np.all(k % 2 == 1)
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002


def test_the_grid_ends_are_reached_and_never_passed():
    # float32: the largest word gives 1 - 2^-24, the smallest 2^-24 (all 2^23 values are odd multiples)
    from nalm.philox import unit_float32, unit_float64

    assert unit_float32(np.uint32(0)) == np.float32(2.0 ** -24)
    assert unit_float32(np.uint32(2 ** 32 - 1)) == np.float32(1 - 2.0 ** -24)
    assert unit_float64(np.uint32(0), np.uint32(0)) == 2.0 ** -53
    assert unit_float64(np.uint32(2 ** 32 - 1), np.uint32(2 ** 32 - 1)) == 1 - 2.0 ** -53


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_different_seeds_streams_and_steps_give_different_values(dtype):
    places = [Draws(*p) for p in itertools.product((0, 1, 2 ** 32), (1, 2), (0, 1, 2 ** 32))]
    draws = [uniform(d, (4, 6), dtype) for d in places]
    for (i, a), (j, b) in itertools.combinations(enumerate(draws), 2):
        assert not np.isin(a, b).any(), (places[i], places[j])  # not even one value in common
    np.testing.assert_array_equal(uniform(places[5], (4, 6), dtype), draws[5])  # and each is reproducible


def test_draws_refuse_what_does_not_fit_their_words():
    for bad in (dict(seed=-1), dict(seed=2 ** 64), dict(stream=2 ** 32), dict(step=-1), dict(step=2 ** 64),
                dict(first_row=2 ** 32), dict(seed=1.0), dict(seed=True)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Draws(**{"seed": 0, "stream": 1, **bad})
    with pytest.raises(ValueError, match="2\\^32 Philox blocks"):
        uniform(Draws(0, 1, first_row=2 ** 32 - 2), (3, 4), np.float32)
    with pytest.raises(ValueError, match="float32 or float64"):
        uniform(Draws(0, 1), (3,), np.float16)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("dtype, torch_dtype, bits", DTYPES)
def test_uniform_torch_on_cuda_equals_the_cpu_draws(place, dtype, torch_dtype, bits):
    draws = Draws(*place)
    for shape in ((257, 3), (64, 10, 7), (1000, 100)):
        on_device = uniform_torch(draws, shape, torch_dtype, device="cuda")
        assert on_device.device.type == "cuda"
        np.testing.assert_array_equal(on_device.cpu().numpy(), uniform(draws, shape, dtype))
        np.testing.assert_array_equal(on_device.cpu(), uniform_torch(draws, shape, torch_dtype))
