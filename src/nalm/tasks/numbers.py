"""Number words to numbers (Trask et al. 2018, section 4.3): "five hundred and fifteen" → 515.

The numbers 0-999 are written in British English, tens and units as two words ("twenty five";
the paper's "fifteen" and "and"), over a vocabulary of 30 words. They are split once, by a
fixed seed, into 169 training, 200 validation and 631 test numbers (the paper's sizes). The
training numbers hold every number 0-19, and every word appears in at least one of them
(the paper's rule), so that each test number is written in words a network has seen.

>>> words(515)
['five', 'hundred', 'and', 'fifteen']
>>> words(40), words(0), words(999)
(['forty'], ['zero'], ['nine', 'hundred', 'and', 'ninety', 'nine'])
>>> len(VOCABULARY)
30
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
VOCABULARY = UNITS + TENS + ("hundred", "and")
"""Every word of 0-999; a word's index is its position plus one (0 pads shorter sequences)."""
PAD = 0
LONGEST = 5  # "nine hundred and ninety nine"

SIZES = (169, 200, 631)
"""Training, validation and test numbers (Trask et al. 2018, section 4.3)."""
SPLIT_SEED = 0


def words(n: int) -> list[str]:
    """``n`` (0-999) in words."""
    if not isinstance(n, (int, np.integer)) or not 0 <= n <= 999:
        raise ValueError(f"numbers are written from 0 to 999, got {n!r}")
    hundreds, rest = divmod(int(n), 100)
    out = [] if hundreds == 0 else [UNITS[hundreds], "hundred"]
    if rest == 0:
        return out or ["zero"]
    if out:
        out.append("and")
    if rest < 20:
        return out + [UNITS[rest]]
    tens, units = divmod(rest, 10)
    return out + [TENS[tens - 2]] + ([UNITS[units]] if units else [])


def encode(n: int) -> list[int]:
    """``n``'s word indices (:data:`VOCABULARY` position + 1)."""
    return [VOCABULARY.index(word) + 1 for word in words(n)]


@dataclass(frozen=True, eq=False)
class NumberSplit:
    """Numbers, their word indices padded to :data:`LONGEST` ``(N, LONGEST)`` and their lengths ``(N,)``."""

    numbers: np.ndarray
    tokens: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, numbers) -> "NumberSplit":
        numbers = np.sort(np.asarray(numbers, dtype=np.int64))
        tokens = np.full((len(numbers), LONGEST), PAD, dtype=np.int64)
        lengths = np.empty(len(numbers), dtype=np.int64)
        for i, n in enumerate(numbers):
            code = encode(int(n))
            tokens[i, :len(code)] = code
            lengths[i] = len(code)
        return cls(numbers, tokens, lengths)

    def __len__(self) -> int:
        return len(self.numbers)


@dataclass(frozen=True, eq=False)
class NumberWords:
    """The three splits of 0-999."""

    train: NumberSplit
    valid: NumberSplit
    test: NumberSplit
    name: str = "number-words"

    def fingerprint(self) -> dict:
        return {"name": self.name, "sizes": [len(self.train), len(self.valid), len(self.test)],
                "train": self.train.numbers.tolist(), "split_seed": SPLIT_SEED}

    def describe(self) -> str:
        return (f"0-999 in words ({len(VOCABULARY)} words), {len(self.train)} training, {len(self.valid)} "
                f"validation, {len(self.test)} test numbers")


def number_words(seed: int = SPLIT_SEED) -> NumberWords:
    """The split: 0-19 and the first number (in a seeded random order) to use each word not yet
    covered go to training, then more numbers in that order up to 169; the next 200 are the
    validation numbers and the rest the test numbers."""
    order = np.random.default_rng(seed).permutation(1000)
    train = list(range(20))
    seen = {word for n in train for word in words(n)}
    for n in order:
        new = set(words(int(n))) - seen
        if new:
            train.append(int(n))
            seen |= new
    rest = [int(n) for n in order if n not in set(train)]
    fill = SIZES[0] - len(train)
    train += rest[:fill]
    valid, test = rest[fill:fill + SIZES[1]], rest[fill + SIZES[1]:]
    return NumberWords(NumberSplit.of(train), NumberSplit.of(valid), NumberSplit.of(test))


@dataclass(frozen=True)
class NumberWordsTask:
    """What the translation experiment trains: words in, the number out, after the last word."""

    def check_target(self, name: str) -> None:
        """Raise a ValueError unless ``name`` is ``number``, the one target of the task."""
        if name != "number":
            raise ValueError(f"unknown target {name!r} of the number-words task (its target is 'number')")

    def to_dict(self) -> dict:
        return {"kind": "number-words", "range": [0, 999], "sizes": list(SIZES), "split_seed": SPLIT_SEED,
                "vocabulary": len(VOCABULARY)}

    def describe(self) -> str:
        return (f"the numbers 0-999 in words → their value; {SIZES[0]} training numbers (0-19 and every word among "
                f"them), {SIZES[1]} validation, {SIZES[2]} test; the output after the last word is trained on")
