"""Digit images (bundled and IDX-read MNIST) and digit-sequence tasks."""
import gzip

import numpy as np
import pytest

from nalm.tasks.digits import (MNIST_FILES, MNIST_MEAN, MNIST_STD, MNIST_VALIDATION, DigitSequenceTask, Split,
                               bundled_digits, load_mnist, read_idx)
from nalm.philox import Draws


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def fake_mnist(folder, train: int = MNIST_VALIDATION + 7, test: int = 11, compress: bool = False):
    rng = np.random.default_rng(0)
    arrays = {"train images": rng.integers(0, 256, (train, 28, 28)), "train labels": rng.integers(0, 10, train),
              "test images": rng.integers(0, 256, (test, 28, 28)), "test labels": rng.integers(0, 10, test)}
    for what, name in MNIST_FILES.items():
        write_idx(folder / name, arrays[what], compress)
    return arrays


def test_targets_are_running_counts_sums_and_products():
    labels = np.array([[3, 1, 3, 2]])
    count = DigitSequenceTask("count", 4, (4,)).targets(labels)
    assert count.shape == (1, 4, 10)
    assert count[0, -1].tolist() == [0, 1, 1, 2, 0, 0, 0, 0, 0, 0]
    assert count[0, 1, 3] == 1 and count[0, 2, 3] == 2
    assert DigitSequenceTask("sum", 4, (4,)).targets(labels)[0, :, 0].tolist() == [3, 4, 7, 9]
    assert DigitSequenceTask("prod", 4, (4,)).targets(labels)[0, :, 0].tolist() == [3, 3, 9, 18]


def test_task_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown operation 'div'"):
        DigitSequenceTask("div", 2, (2,))
    with pytest.raises(ValueError, match="positive integers"):
        DigitSequenceTask("sum", 0, (2,))
    with pytest.raises(ValueError, match="supervised"):
        DigitSequenceTask("sum", 2, (2,), supervised="first")


def test_indices_are_a_function_of_seed_and_step_only():
    task = DigitSequenceTask("sum", 10, (10,))
    split = Split(np.zeros((37, 8, 8), np.float32), np.arange(37) % 10)
    a = task.indices(split, 64, 10, Draws(3, 1, 5))
    assert a.shape == (64, 10) and a.min() >= 0 and a.max() < 37
    assert np.array_equal(a, task.indices(split, 64, 10, Draws(3, 1, 5)))
    assert not np.array_equal(a, task.indices(split, 64, 10, Draws(3, 1, 6)))
    assert not np.array_equal(a, task.indices(split, 64, 10, Draws(4, 1, 5)))
    assert len(np.unique(a)) == 37  # every image can be drawn


def test_bundled_digits_are_split_once_and_normalized():
    data = bundled_digits()
    assert (len(data.train), len(data.valid), len(data.test)) == (1258, 180, 359)
    assert data.image_size == 8 and data.train.images.dtype == np.float32
    assert abs(data.train.images.mean()) < 1e-5 and abs(data.train.images.std() - 1) < 1e-4
    assert data.fingerprint() == bundled_digits().fingerprint()
    assert set(data.test.labels) == set(range(10))
    only = data.train.only((1, 2))
    assert set(only.labels) == {1, 2} and len(only) == int(np.isin(data.train.labels, (1, 2)).sum())


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_is_read_from_its_idx_files(tmp_path, compress):
    arrays = fake_mnist(tmp_path, compress=compress)
    data = load_mnist(tmp_path)
    assert (len(data.train), len(data.valid), len(data.test)) == (7, MNIST_VALIDATION, 11)
    assert data.image_size == 28 and data.name == "mnist"
    assert np.array_equal(data.valid.labels, arrays["train labels"][7:])
    expected = (arrays["test images"][3] / 255 - MNIST_MEAN) / MNIST_STD
    assert np.allclose(data.test.images[3], expected, atol=1e-6)


def test_bad_mnist_folders_fail_naming_the_problem(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte .* not found"):
        load_mnist(tmp_path)
    fake_mnist(tmp_path)
    (tmp_path / MNIST_FILES["test labels"]).write_bytes(b"\0\0\x08\x01" + (12).to_bytes(4, "big") + bytes(12))
    with pytest.raises(ValueError, match="test images .* and labels .* do not match"):
        load_mnist(tmp_path)


def test_read_idx_checks_its_header(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(b"\0\0\x08\x01" + (5).to_bytes(4, "big") + bytes(3))
    with pytest.raises(ValueError, match="header says \\(5,\\), but the file holds 3"):
        read_idx(path)
