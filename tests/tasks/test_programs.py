"""Programs read character by character (trask2018-program): text, values, operand sizes, encoding."""
import numpy as np
import pytest

from nalm.philox import Draws
from nalm.tasks.programs import CHARACTERS, PAD, ProgramTask


def test_programs_and_their_values():
    add, ifelse = ProgramTask("add"), ProgramTask("ifelse")
    assert add.text(3, 45, 9) == "3+45" and add.value(3, 45, 9) == 48
    assert ifelse.text(3, 45, 9) == "3<45?3+9:3-9" and ifelse.value(3, 45, 9) == 12
    assert ifelse.value(50, 45, 9) == 41 and ifelse.value(45, 45, 9) == 36  # a < b is false at equality
    with pytest.raises(ValueError, match="unknown program 'mul'"):
        ProgramTask("mul")


def test_operands_have_the_asked_number_of_digits():
    task = ProgramTask("add")
    train = task.operands(500, Draws(0, 1, 3))
    assert train.min() >= 0 and train.max() <= 99 and len(np.unique(train)) > 90
    for digits in (2, 3, 5):
        test = task.operands(300, Draws(0, 3, digits), digits)
        assert {len(str(v)) for v in test.ravel()} == {digits}
    assert np.array_equal(task.operands(5, Draws(1, 1, 7)), task.operands(5, Draws(1, 1, 7)))


def test_encoding_pads_and_keeps_lengths_and_values():
    tokens, lengths, values = ProgramTask("ifelse").encode(np.array([[1, 2, 3], [100, 20, 7]]))
    assert lengths.tolist() == [len("1<2?1+3:1-3"), len("100<20?100+7:100-7")]
    assert values.tolist() == [4.0, 93.0]
    assert tokens.shape == (2, lengths.max()) and (tokens[0, lengths[0]:] == PAD).all()
    assert "".join(CHARACTERS[i - 1] for i in tokens[1]) == "100<20?100+7:100-7"
