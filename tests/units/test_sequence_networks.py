"""The image and word networks of the data-set experiments: PyTorch equivalence, population
members equal to standalone networks, and the cells' arithmetic."""
import pytest
import torch

from nalm.units import seed_members_
from nalm.units.sequence import DigitSequenceNetwork, Embedding, WordsToNumberNetwork
from nalm.units.vision import LENET, SMALL, Conv2d, DigitCNN


def member_state(net, index: int) -> dict:
    return {name: p[index] for name, p in net.state_dict().items()}


def test_conv2d_is_torchs_conv2d():
    torch.manual_seed(3)
    ours = Conv2d(2, 5, 3, padding=1)
    torch.manual_seed(3)
    reference = torch.nn.Conv2d(2, 5, 3, padding=1)
    assert torch.equal(ours.weight, reference.weight) and torch.equal(ours.bias, reference.bias)
    x = torch.randn(4, 2, 8, 8)
    assert torch.allclose(ours(x), reference(x), atol=1e-6)


def test_conv2d_members_compute_what_they_compute_alone():
    population = Conv2d(3, 4, 3, padding=1, members=3, dtype=torch.float64)
    x = torch.randn(3, 5, 3, 8, 8, dtype=torch.float64)
    y = population(x)
    for m in range(3):
        alone = Conv2d(3, 4, 3, padding=1, dtype=torch.float64)
        alone.load_state_dict(member_state(population, m))
        assert torch.allclose(y[m], alone(x[m]), rtol=0, atol=1e-12)
    shared = population(x[0])
    assert torch.allclose(shared[2], population(x[0].expand(3, *x[0].shape))[2], rtol=0, atol=0)


@pytest.mark.parametrize("size, shape", [(8, SMALL), (28, LENET)])
def test_cnn_members_match_standalone_cnns(size, shape):
    population = DigitCNN(size, 10, members=2, dtype=torch.float64)
    seed_members_(population, [5, 9])
    images = torch.randn(6, size, size, dtype=torch.float64)
    out = population(images)
    assert out.shape == (2, 6, 10) and population.shape == shape
    torch.manual_seed(9)
    alone = DigitCNN(size, 10, dtype=torch.float64)
    assert torch.allclose(out[1], alone(images), rtol=0, atol=1e-12)


def test_cnn_rejects_images_too_small():
    with pytest.raises(ValueError, match="too small"):
        DigitCNN(8, 1, shape=LENET)


def set_cell(net, weight):
    with torch.no_grad():
        net.cell.W.copy_(torch.as_tensor(weight, dtype=net.cell.W.dtype).expand_as(net.cell.W))


@pytest.mark.parametrize("unit", ["nmu", "snmu", "nac-mul", "nac-mul-sigma", "nac-mul-nmu"])
def test_a_multiplicative_cell_starts_its_state_at_one(unit):  # stable-nalu network/sequential_mnist.py:45-56
    assert DigitSequenceNetwork(unit, image_size=8, outputs=1).initial_value == 1.0
    assert DigitSequenceNetwork("nau", image_size=8, outputs=1).initial_value == 0.0


def test_solved_unit_cells_accumulate_exactly():
    features = torch.tensor([[[2.0], [5.0], [1.0], [3.0]]], dtype=torch.float64)  # (B, T, 1)
    add = DigitSequenceNetwork("nau", image_size=8, outputs=1, dtype=torch.float64)
    set_cell(add, [[1.0, 1.0]])
    assert add.recur(features)[0, :, 0].tolist() == [2, 7, 8, 11]
    mul = DigitSequenceNetwork("nmu", image_size=8, outputs=1, dtype=torch.float64)
    set_cell(mul, [[1.0, 1.0]])
    assert mul.initial_value == 1.0 and mul.recur(features)[0, :, 0].tolist() == [2, 10, 10, 30]
    solved = DigitSequenceNetwork("solved", image_size=8, outputs=1, multiply=True, dtype=torch.float64)
    assert solved.recur(features)[0, :, 0].tolist() == [2, 10, 10, 30]
    assert list(solved.arithmetic_units()) == [] and float(solved.regularization(0)) == 0


def test_a_counting_nac_with_identity_blocks_counts():
    net = DigitSequenceNetwork("nac", image_size=8, outputs=10, dtype=torch.float64)
    with torch.no_grad():
        net.cell.W_hat.fill_(-40.0)
        net.cell.M_hat.fill_(-40.0)
        for i in range(10):
            net.cell.W_hat[i, i] = net.cell.W_hat[i, 10 + i] = 40.0
            net.cell.M_hat[i, i] = net.cell.M_hat[i, 10 + i] = 40.0
    one_hot = torch.nn.functional.one_hot(torch.tensor([[3, 3, 7]]), 10).double()
    counts = net.recur(one_hot)[0, -1]
    assert torch.allclose(counts, torch.tensor([0, 0, 0, 2, 0, 0, 0, 1, 0, 0], dtype=torch.float64))


@pytest.mark.parametrize("model", ["nau", "nalu", "lstm"])
def test_sequence_network_members_match_standalone_networks(model):
    population = DigitSequenceNetwork(model, image_size=8, outputs=1, members=3, dtype=torch.float64)
    seed_members_(population, [0, 1, 2])
    images = torch.randn(3, 4, 5, 8, 8, dtype=torch.float64)
    out = population(images)
    assert out.shape == (3, 4, 5, 1)
    torch.manual_seed(1)
    alone = DigitSequenceNetwork(model, image_size=8, outputs=1, dtype=torch.float64)
    assert torch.allclose(out[1], alone(images[1]), rtol=0, atol=1e-12)


def test_embedding_and_words_network_members_match_standalone():
    emb = Embedding(7, 3, members=2, dtype=torch.float64)
    ids = torch.tensor([[1, 6, 0], [2, 2, 5]])
    assert torch.equal(emb(ids)[1], emb.weight[1][ids[1]])
    with pytest.raises(ValueError, match="expected indices of shape \\(2, \\*\\)"):
        emb(torch.tensor([[1, 2, 3]]))
    population = WordsToNumberNetwork("nalu", vocabulary=31, embedding=4, hidden=4, members=2, dtype=torch.float64)
    seed_members_(population, [4, 8])
    ids = torch.tensor([[5, 29, 30, 16, 0], [3, 0, 0, 0, 0]])
    out = population(ids)
    assert out.shape == (2, 2, 5)
    torch.manual_seed(8)
    alone = WordsToNumberNetwork("nalu", vocabulary=31, embedding=4, hidden=4, dtype=torch.float64)
    assert torch.allclose(out[1], alone(ids), rtol=0, atol=1e-12)
