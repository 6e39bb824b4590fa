"""G-NALU, NRU, NMRU, MC-FC and MulMCFC against float64 references written from their source code."""
import math

import numpy as np
import pytest
import torch

from nalm.tasks import StaticTask
from nalm.train import Member, PopulationData, TrainConfig, train_population
from nalm.units import GNALU, MCFC, NMRU, NRU, MulMCFC, evaluating

F64 = torch.float64
PHI = (1 + math.sqrt(5)) / 2


def inputs(n=64, d=3, seed=0, positive=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 3.0, (n, d)) * (1 if positive else rng.choice([-1.0, 1.0], (n, d)))
    return x


def set_(param, value):
    with torch.no_grad():
        param.copy_(torch.as_tensor(np.asarray(value), dtype=param.dtype))


def out(unit, x, training):
    unit.train(training)
    with torch.no_grad():
        return unit(torch.as_tensor(x, dtype=F64)).numpy()


# -- G-NALU (nalm-benchmark stable_nalu/functional/golden_ratio_base.py:4-6, layer/_abstract_nalu.py) --------
def golden_nalu_reference(x, w_hat, m_hat, g, eps=1e-7):
    tanh = lambda z: (PHI ** (2 * z) - 1) / (PHI ** (2 * z) + 1)  # noqa: E731
    sigmoid = lambda z: 1 / (1 + PHI ** (-z))  # noqa: E731
    w = tanh(w_hat) * sigmoid(m_hat)
    gate = sigmoid(x @ g.T)
    mul = PHI ** ((np.log(np.abs(x) + eps) @ w.T) / math.log(PHI))
    return gate * (x @ w.T) + (1 - gate) * mul


def test_golden_ratio_nalu_matches_its_reference():
    rng = np.random.default_rng(1)
    unit = GNALU(3, 2, dtype=F64)
    w_hat, m_hat, g = (rng.normal(0, 2, (2, 3)) for _ in range(3))
    set_(unit.W_hat, w_hat), set_(unit.M_hat, m_hat), set_(unit.G, g)
    x = inputs()
    np.testing.assert_allclose(out(unit, x, True), golden_nalu_reference(x, w_hat, m_hat, g), rtol=1e-12)
    np.testing.assert_allclose(unit.weight.detach().numpy(),
                               np.tanh(w_hat * math.log(PHI)) / (1 + PHI ** -m_hat), rtol=1e-14)


def test_golden_ratio_functions_are_flatter_than_the_natural_ones():
    unit = GNALU(1, 1, dtype=F64)
    set_(unit.W_hat, [[2.0]]), set_(unit.M_hat, [[2.0]])
    assert unit.weight.item() == pytest.approx(math.tanh(2 * math.log(PHI)) / (1 + PHI ** -2))
    assert unit.weight.item() < math.tanh(2) * torch.sigmoid(torch.tensor(2.0)).item()


def test_golden_ratio_gate_bias_is_inside_the_golden_sigmoid():
    unit = GNALU(2, 1, gate_bias=True, dtype=F64)
    set_(unit.G, [[0.3, -0.2]]), set_(unit.gate_bias, [1.5])
    x = torch.as_tensor(inputs(d=2), dtype=F64)
    expected = 1 / (1 + PHI ** -(x @ torch.tensor([0.3, -0.2], dtype=F64) + 1.5))
    torch.testing.assert_close(unit.gate_values(x)[:, 0], expected, rtol=1e-13, atol=0)


# -- NRU (nalm-division stable_nalu/functional/mnac.py:27-31, layer/reciprocal_nmu.py:88-107) ---------------
def nru_reference(x, w, training):
    share = np.tanh(1000 * w) ** 2 if training else np.abs(w)
    terms = np.sign(x)[:, None, :] * np.abs(x)[:, None, :] ** w[None] * share[None] + 1 - share[None]
    return terms.prod(-1)


@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
def test_nru_matches_its_reference(training):
    w = np.array([[1.0, -1.0, 0.0], [0.3, -0.0004, -0.7]])
    unit = NRU(3, 2, dtype=F64)
    set_(unit.W, w)
    x = inputs()
    np.testing.assert_allclose(out(unit, x, training), nru_reference(x, w, training), rtol=1e-12)


def test_nru_divides_and_its_weights_are_clipped_and_regularized():
    unit = NRU(2, 1, regularizer_scale=10.0, regularizer_start=0, regularizer_end=10, dtype=F64)
    set_(unit.W, [[1.0, -1.0]])
    np.testing.assert_allclose(out(unit, [[6.0, -4.0], [3.0, 0.5]], False), [[-1.5], [6.0]], rtol=1e-15)
    set_(unit.W, [[1.7, -0.25]])
    assert unit.regularization(5).item() == pytest.approx(5.0 * np.mean([abs(1 - 1.7), 0.25]))
    unit.project_()
    assert unit.W.tolist() == [[1.0, -0.25]]
    fresh = NRU(2, 1, members=500)  # the NAU's U[-r, r], r = min(0.5, √3·√(2/3)) = 0.5
    assert fresh.W.abs().max() <= 0.5 and fresh.W.min() < -0.49 and fresh.W.max() > 0.49


# -- NMRU (nalm-division stable_nalu/layer/concat_reciprocal_nmu_sign_retrieval.py:81-114) -------------------
def nmru_reference(x, w, training):
    eps = np.float32(np.finfo(np.float32).eps) if training else 0.0
    both = np.concatenate([x, 1 / (x + eps)], axis=1)
    magnitude = (np.abs(both)[:, None, :] * w[None] + 1 - w[None]).prod(-1)
    phase = np.pi * (both < 0)
    return magnitude * np.cos(phase @ w.T)


@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
def test_nmru_matches_its_reference(training):
    w = np.array([[1.0, 0.0, 0.0, 1.0], [0.4, 0.9, 0.05, 0.6]])
    unit = NMRU(2, 2, dtype=F64)
    set_(unit.W, w)
    x = inputs(d=2)
    np.testing.assert_allclose(out(unit, x, training), nmru_reference(x, w, training), rtol=1e-12)


def test_nmru_divides_with_signs_and_its_weights_are_clipped():
    unit = NMRU(2, 1, dtype=F64)
    assert unit.W.shape == (1, 4) and 0.25 <= unit.W.min() and unit.W.max() <= 0.75
    set_(unit.W, [[1.0, 0.0, 0.0, 1.0]])
    np.testing.assert_allclose(out(unit, [[6.0, -4.0], [-3.0, -0.5]], False), [[-1.5], [6.0]], rtol=1e-15)
    set_(unit.W, [[1.3, -0.2, 0.5, 1.0]])
    unit.project_()
    assert unit.W.tolist() == [[1.0, 0.0, 0.5, 1.0]]


# -- MC-FC and MulMCFC (nalm-benchmark stable_nalu/layer/mcfc.py:56-78, 116-119) ---------------------------
def mcfc_reference(x, r, gate_weight, gate_bias):
    junction = np.exp(r) / np.exp(r).sum(axis=1, keepdims=True)  # softmax over the outputs
    gate = 1 / (1 + np.exp(-(gate_weight[:, 0] + gate_bias)))
    return gate * (x @ junction)


def test_mcfc_and_mul_mcfc_match_their_reference():
    rng = np.random.default_rng(2)
    r, gate_weight, gate_bias = rng.normal(0, 1, (3, 2)), rng.normal(0, 1, (2, 1)), rng.normal(0, 1, 2)
    x = inputs(positive=True)
    unit = MCFC(3, 2, dtype=F64)
    set_(unit.R, r), set_(unit.gate_weight, gate_weight), set_(unit.gate_bias, gate_bias)
    np.testing.assert_allclose(out(unit, x, True), mcfc_reference(x, r, gate_weight, gate_bias), rtol=1e-13)
    mul = MulMCFC(3, 2, dtype=F64)
    set_(mul.R, r), set_(mul.gate_weight, gate_weight), set_(mul.gate_bias, gate_bias), set_(mul.bias, [0.1, -0.2])
    expected = np.exp(mcfc_reference(np.log(x), r, gate_weight, gate_bias) + [0.1, -0.2])
    np.testing.assert_allclose(out(mul, x, True), expected, rtol=1e-13)
    assert np.isnan(out(mul, -x, True)).all()  # no eps, no |x|: the reference's nan


def test_mcfc_regularizer_rewards_large_parameters_and_the_init_is_orthogonal():
    unit = MCFC(3, 2, regularizer_scale=10.0, regularizer_start=0, regularizer_end=100, dtype=F64)
    torch.testing.assert_close(unit.R.T @ unit.R, torch.eye(2, dtype=F64))
    assert unit.gate_bias.abs().max() == 0 and unit.gate_weight.norm(dim=0).item() == pytest.approx(1.0)
    squares = sum(p.pow(2).mean() for p in (unit.R, unit.gate_weight, unit.gate_bias))
    assert unit.regularization(50).item() == pytest.approx(-5.0 * squares.item())
    assert unit.regularization(0).item() == 0
    torch.testing.assert_close(MCFC(3, 3, dtype=F64).R, torch.eye(3, dtype=F64))


def test_one_output_mcfc_can_only_add():
    unit = MCFC(2, 1, dtype=F64)
    set_(unit.gate_bias, [40.0])
    np.testing.assert_allclose(unit.weight.detach().numpy(), [[1.0, 1.0]])


# -- evaluation mode -----------------------------------------------------------------------------------------
def test_evaluating_switches_to_eval_mode_and_back():
    unit = NRU(2, 1)
    with evaluating(unit):
        assert not unit.training
    assert unit.training
    unit.eval()
    with evaluating(unit):
        pass
    assert not unit.training


@pytest.mark.parametrize("model", ["nru", "nmru"])
def test_the_engine_evaluates_units_in_eval_mode(model):
    task = StaticTask(input_size=2, subset_ratio=0.5, overlap_ratio=0.0, placement="first")
    config = TrainConfig(iterations=0, hidden=None, eval_samples=256, dtype="float64")
    (result,) = train_population(model, [Member(0, "div", task)], config)
    net = config.load_network(model, task, result.weights)
    data = PopulationData([Member(0, "div", task)], batch_size=4, eval_samples=256, device="cpu", dtype=F64)
    (x, y), = list(data.eval_chunks("interpolation"))
    errors = {}
    for training in (True, False):
        net.train(training)
        with torch.no_grad():
            errors[training] = ((net(x[0]) - y[0]) ** 2).mean().item()
    # The modes differ by 3e-7 relative for the NMRU (its eps), by far more for the NRU.
    assert errors[True] != pytest.approx(errors[False], rel=1e-9)
    assert result.metrics["interpolation_mse"] == pytest.approx(errors[False], rel=1e-12)
