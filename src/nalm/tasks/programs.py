"""Short programs, read character by character, to their values (after Trask et al. 2018,
section 4.4, who follow Zaremba & Sutskever's "Learning to Execute", 2014).

Two programs, each a target: ``add`` is ``a+b``; ``ifelse`` is ``a<b?a+c:a-c`` (an if-statement
with an addition and a subtraction). Training operands are the numbers 0-99 (two digits); test
sets hold operands of exactly 2, 3, 4 and 5 digits, so the test asks whether a model trained on
two-digit numbers evaluates longer ones.

>>> task = ProgramTask("ifelse")
>>> task.text(12, 30, 5), task.value(12, 30, 5), task.value(40, 30, 5)
('12<30?12+5:12-5', 17, 35)
>>> ProgramTask("add").text(7, 81, 0)
'7+81'
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..philox import Draws, uniform

CHARACTERS = "0123456789+-<?:"
"""The programs' characters; a character's index is its position plus one (0 pads)."""
PAD = 0
TRAIN_DIGITS = 2
TEST_DIGITS = (2, 3, 4, 5)
PROGRAMS = ("add", "ifelse")


@dataclass(frozen=True)
class ProgramTask:
    """One program (``add`` or ``ifelse``) and the operand sizes it is trained and tested on."""

    program: str
    train_digits: int = TRAIN_DIGITS
    test_digits: tuple[int, ...] = TEST_DIGITS

    def __post_init__(self) -> None:
        if self.program not in PROGRAMS:
            raise ValueError(f"unknown program {self.program!r}; known: {', '.join(PROGRAMS)}")

    def check_target(self, name: str) -> None:
        """Raise a ValueError unless ``name`` is this program, the one target it computes."""
        if name != self.program:
            raise ValueError(f"unknown target {name!r} of the {self.program} program")

    def text(self, a: int, b: int, c: int) -> str:
        return f"{a}+{b}" if self.program == "add" else f"{a}<{b}?{a}+{c}:{a}-{c}"

    def value(self, a: int, b: int, c: int) -> int:
        if self.program == "add":
            return a + b
        return a + c if a < b else a - c

    def operands(self, count: int, draws: Draws, digits: int | None = None) -> np.ndarray:
        """``(count, 3)`` operands: below 10^train_digits (``digits=None``, training), or of exactly
        ``digits`` digits (tests)."""
        low, high = (0, 10 ** self.train_digits) if digits is None else (10 ** (digits - 1), 10 ** digits)
        u = uniform(draws, (count, 3))
        return np.minimum(low + (u * (high - low)).astype(np.int64), high - 1)

    def encode(self, operands: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Character indices ``(n, longest)`` right-padded, lengths ``(n,)`` and values ``(n,)``."""
        texts = [self.text(*map(int, row)) for row in operands]
        longest = max(map(len, texts))
        tokens = np.full((len(texts), longest), PAD, dtype=np.int64)
        for i, text in enumerate(texts):
            tokens[i, :len(text)] = [CHARACTERS.index(ch) + 1 for ch in text]
        values = np.array([self.value(*map(int, row)) for row in operands], dtype=np.float64)
        return tokens, np.array([len(t) for t in texts], dtype=np.int64), values

    def describe(self) -> str:
        example = self.text(12, 30, 5)
        return (f"{self.program} ('{example}' = {self.value(12, 30, 5)}): operands 0-{10 ** self.train_digits - 1} "
                f"in training; tests of {', '.join(map(str, self.test_digits))}-digit operands")

    def to_dict(self) -> dict:
        return {"kind": "program", "program": self.program, "train_digits": self.train_digits,
                "test_digits": list(self.test_digits)}
