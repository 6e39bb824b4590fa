"""Sequences of digit images and what is computed over them (Trask et al. 2018, section 4.2;
Madsen & Johansen 2020, sequential MNIST).

The images are MNIST, read from its four standard IDX files (:func:`load_mnist`, no download),
or, without them, scikit-learn's bundled 8×8 digits (:func:`bundled_digits`), a substitute that
needs no network. Either way a :class:`DigitImages` holds three splits: training, validation
(model selection) and test (every reported number).

A :class:`DigitSequenceTask` says how sequences are made and what their targets are. The
sequences of a seed are drawn with replacement from a split, image indices being Philox draws
of ``(seed, stream, step)`` (:mod:`nalm.streams`): a member's data never depends on the
members trained beside it, and any step's batch is drawn directly.

>>> task = DigitSequenceTask("sum", train_length=3, test_lengths=(3, 30))
>>> labels = np.array([[2, 5, 1]])
>>> task.targets(labels)[0, :, 0]
array([2., 7., 8.])
>>> DigitSequenceTask("count", 2, (2,)).targets(np.array([[3, 3]]))[0, -1]
array([0., 0., 0., 2., 0., 0., 0., 0., 0., 0.])
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..philox import Draws, uniform

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
"""MNIST's pixel mean and standard deviation on [0, 1]: pytorch/examples mnist, which stable-nalu
(``stable_nalu/dataset/sequential_mnist.py:114-119``) and, by its comment, Trask et al. use."""

MNIST_VALIDATION = 5000
"""The last 5,000 training images are the validation split (stable-nalu
``stable_nalu/dataset/sequential_mnist.py:121-126``)."""

MNIST_FILES = {
    "train images": "train-images-idx3-ubyte", "train labels": "train-labels-idx1-ubyte",
    "test images": "t10k-images-idx3-ubyte", "test labels": "t10k-labels-idx1-ubyte",
}
IDX_TYPES = {0x08: np.uint8}  # the IDX element types MNIST uses (unsigned bytes)

BUNDLED_SPLIT = (0.7, 0.1, 0.2)
"""Training, validation and test shares of the 1,797 bundled digits, split once by a fixed
permutation (:data:`BUNDLED_SPLIT_SEED`), so every seed and every run sees the same splits."""
BUNDLED_SPLIT_SEED = 0


@dataclass(frozen=True, eq=False)
class Split:
    """Images normalized for the network, ``(N, H, W)`` float32, and their digits ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def only(self, digits: tuple[int, ...]) -> "Split":
        """The images of the given digits (Madsen & Johansen's product uses 1-9)."""
        keep = np.isin(self.labels, digits)
        return Split(self.images[keep], self.labels[keep])


@dataclass(frozen=True, eq=False)
class DigitImages:
    """The three splits of a digit data set and where it came from."""

    name: str  # "mnist" or "bundled-digits"
    train: Split
    valid: Split
    test: Split

    @property
    def image_size(self) -> int:
        return self.train.images.shape[-1]

    def fingerprint(self) -> dict:
        """What identifies the data in a stored run's config: the set, its split sizes and a
        hash of its labels and pixels."""
        digest = hashlib.sha1()
        for split in (self.train, self.valid, self.test):
            digest.update(split.labels.tobytes())
            digest.update(split.images.tobytes())
        return {"name": self.name, "image_size": self.image_size,
                "sizes": [len(self.train), len(self.valid), len(self.test)], "sha1": digest.hexdigest()}

    def describe(self) -> str:
        return (f"{self.name}: {self.image_size}×{self.image_size} images, {len(self.train):,} training, "
                f"{len(self.valid):,} validation, {len(self.test):,} test")


def bundled_digits() -> DigitImages:
    """scikit-learn's 1,797 8×8 digits (UCI optical digits; pixels 0-16), split 70/10/20 by a
    fixed permutation and normalized by the training split's pixel mean and deviation, as
    MNIST is by its own."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images, labels = data.images.astype(np.float32) / 16, data.target.astype(np.int64)
    order = np.random.default_rng(BUNDLED_SPLIT_SEED).permutation(len(labels))
    ends = np.cumsum([round(share * len(labels)) for share in BUNDLED_SPLIT[:2]])
    parts = np.split(order, ends)
    mean, std = images[parts[0]].mean(), images[parts[0]].std()
    return DigitImages("bundled-digits", *(Split((images[p] - mean) / std, labels[p]) for p in parts))


def load_mnist(folder: str | Path) -> DigitImages:
    """MNIST from its four IDX files in ``folder`` (each may be gzipped): training images
    0-54,999, validation 55,000-59,999, the 10,000 test images; pixels scaled to [0, 1] and
    normalized by :data:`MNIST_MEAN` and :data:`MNIST_STD`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--data {folder}: no such folder (it should hold MNIST's four IDX files)")
    arrays = {what: read_idx(find_idx(folder, name)) for what, name in MNIST_FILES.items()}
    for which in ("train", "test"):
        images, labels = arrays[f"{which} images"], arrays[f"{which} labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{folder}: MNIST {which} images {images.shape} and labels {labels.shape} do not match")
    normalize = lambda images: ((images.astype(np.float32) / 255 - MNIST_MEAN) / MNIST_STD)  # noqa: E731
    train, labels = normalize(arrays["train images"]), arrays["train labels"].astype(np.int64)
    cut = len(labels) - MNIST_VALIDATION
    return DigitImages("mnist", Split(train[:cut], labels[:cut]), Split(train[cut:], labels[cut:]),
                       Split(normalize(arrays["test images"]), arrays["test labels"].astype(np.int64)))


def find_idx(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz", folder / name.replace("-idx", ".idx")):
        if candidate.exists():
            return candidate
    raise ValueError(f"{folder}: {name} (or {name}.gz) not found; MNIST's IDX files are "
                     f"{', '.join(MNIST_FILES.values())}")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (LeCun's format: two zero bytes, a type byte, a dimension count, big-endian
    32-bit sizes, then the data), gzipped or not."""
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    start = 4 + 4 * dims
    if len(raw) - start != int(np.prod(shape)):
        raise ValueError(f"{path}: IDX header says {shape}, but the file holds {len(raw) - start} values")
    return np.frombuffer(raw, dtype=IDX_TYPES[raw[2]], offset=start).reshape(shape)


OPERATIONS = {"count", "sum", "prod"}


@dataclass(frozen=True)
class DigitSequenceTask:
    """Sequences of ``train_length`` images to train on, of each of ``test_lengths`` to test.

    Args:
        operation: ``'count'`` (how many of each digit so far, 10 outputs; Trask et al.'s MNIST
            Digit Counting), ``'sum'`` (the running sum; MNIST Digit Addition) or ``'prod'`` (the
            running product; Madsen & Johansen's sequential MNIST product).
        train_length, test_lengths: sequence lengths.
        digits: the digits sequences are made of (the product uses 1-9, so that it is not 0).
        supervised: ``'all'`` steps' running values are trained on, or the ``'last'`` only.
    """

    operation: str
    train_length: int
    test_lengths: tuple[int, ...]
    digits: tuple[int, ...] = tuple(range(10))
    supervised: str = "all"

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {self.operation!r}; known: {', '.join(sorted(OPERATIONS))}")
        for length in (self.train_length, *self.test_lengths):
            if not isinstance(length, int) or length < 1:
                raise ValueError(f"sequence lengths must be positive integers, got {length!r}")
        if self.supervised not in ("all", "last"):
            raise ValueError(f"supervised must be 'all' or 'last', got {self.supervised!r}")

    def check_target(self, name: str) -> None:
        """Raise a ValueError unless ``name`` is this task's operation, the one target it computes."""
        if name != self.operation:
            raise ValueError(f"unknown target {name!r} of a {self.operation} task")

    @property
    def outputs(self) -> int:
        """Values per step: 10 counts, or one number."""
        return 10 if self.operation == "count" else 1

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """The running values over ``labels`` ``(..., T)``: shape ``(..., T, outputs)``, float64."""
        if self.operation == "count":
            return np.cumsum(labels[..., None] == np.arange(10), axis=-2, dtype=np.float64)
        values = labels.astype(np.float64)
        running = np.cumsum(values, axis=-1) if self.operation == "sum" else np.cumprod(values, axis=-1)
        return running[..., None]

    def indices(self, split: Split, sequences: int, length: int, draws: Draws) -> np.ndarray:
        """``(sequences, length)`` indices into ``split``, uniform with replacement."""
        u = uniform(draws, (sequences, length))
        return np.minimum((u * len(split)).astype(np.int64), len(split) - 1)

    def describe(self) -> str:
        digits = "" if self.digits == tuple(range(10)) else f" of digits {''.join(map(str, self.digits))}"
        return (f"{self.operation} over sequences{digits}: trained on length {self.train_length} "
                f"({self.supervised} steps supervised), tested on lengths {', '.join(map(str, self.test_lengths))}")

    def to_dict(self) -> dict:
        return {"kind": "digit-sequence", "operation": self.operation, "train_length": self.train_length,
                "test_lengths": list(self.test_lengths), "digits": list(self.digits), "supervised": self.supervised}
