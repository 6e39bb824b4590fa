"""Number words (Trask et al. 2018, section 4.3): the wording, the vocabulary and the split."""
import pytest

from nalm.tasks.numbers import LONGEST, PAD, SIZES, VOCABULARY, NumberSplit, encode, number_words, words


@pytest.mark.parametrize("n, text", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (21, "twenty one"), (99, "ninety nine"),
    (100, "one hundred"), (101, "one hundred and one"), (110, "one hundred and ten"), (115, "one hundred and fifteen"),
    (340, "three hundred and forty"), (515, "five hundred and fifteen"), (999, "nine hundred and ninety nine")])
def test_words(n, text):
    assert " ".join(words(n)) == text


def test_every_number_has_its_own_words_from_the_vocabulary():
    written = {tuple(words(n)) for n in range(1000)}
    assert len(written) == 1000
    used = {w for n in range(1000) for w in words(n)}
    assert used == set(VOCABULARY) and len(VOCABULARY) == 30
    assert max(len(words(n)) for n in range(1000)) == LONGEST
    with pytest.raises(ValueError, match="from 0 to 999"):
        words(1000)


def test_the_split_has_the_papers_sizes_and_covers_every_word_in_training():
    data = number_words()
    parts = [set(data.train.numbers), set(data.valid.numbers), set(data.test.numbers)]
    assert [len(p) for p in parts] == list(SIZES)
    assert set().union(*parts) == set(range(1000)) and sum(map(len, parts)) == 1000
    assert set(range(20)) <= parts[0]
    assert {w for n in parts[0] for w in words(int(n))} == set(VOCABULARY)
    assert data.fingerprint() == number_words().fingerprint()
    assert data.fingerprint() != number_words(seed=1).fingerprint()


def test_splits_hold_padded_word_indices():
    split = NumberSplit.of([515, 7])
    assert split.numbers.tolist() == [7, 515]
    assert split.lengths.tolist() == [1, 4]
    assert split.tokens[1].tolist() == encode(515) + [PAD]
    assert [VOCABULARY[i - 1] for i in split.tokens[1, :4]] == ["five", "hundred", "and", "fifteen"]
