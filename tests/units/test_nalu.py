"""NALU and FauxNALU: the gate selects the additive or the log-space path, computed exactly."""
import math

import pytest
import torch

from nalm.units import NALU, FauxNALU
from nalm.units.nac import nac_w_optimal_r

F64 = torch.float64
BIG = 40.0  # tanh(40) == sigmoid(40) == 1.0 exactly in float64


def set_(param, value):
    with torch.no_grad():
        param.copy_(torch.as_tensor(value, dtype=param.dtype).expand_as(param))


def nalu_with(weights, logits, **options):
    """A NALU(in, out) with NAC weight ``weights`` (entries in {-1, 0, 1}) and gate logits G."""
    weights = torch.tensor(weights, dtype=F64)
    unit = NALU(weights.shape[1], weights.shape[0], dtype=F64, **options)
    set_(unit.W_hat, BIG * weights)
    set_(unit.M_hat, BIG)
    set_(unit.G, logits)
    return unit


def positive_inputs(n=500, low=1.0, high=1e3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=g, dtype=F64) * (high - low) + low


def rel_err(actual, expected):
    return ((actual - expected).abs() / expected.abs()).max().item()


def test_gate_is_sigmoid_of_x_times_g():
    torch.manual_seed(0)
    unit = NALU(3, 2, dtype=F64)
    x = torch.randn(5, 3, dtype=F64)
    torch.testing.assert_close(unit.gate_values(x), torch.sigmoid(x @ unit.G.detach().T),
                               rtol=1e-14, atol=1e-15)


def test_output_is_the_gated_mix_of_both_paths():
    torch.manual_seed(1)
    unit = NALU(3, 2, dtype=F64)
    x = torch.randn(7, 3, dtype=F64)
    w = torch.tanh(unit.W_hat.detach()) * torch.sigmoid(unit.M_hat.detach())
    g = torch.sigmoid(x @ unit.G.detach().T)
    a = x @ w.T
    m = torch.exp(torch.log(x.abs() + 1e-7) @ w.T)
    torch.testing.assert_close(unit(x), g * a + (1 - g) * m, rtol=1e-13, atol=1e-14)


def test_multiply_path_computes_a_times_b():
    unit = nalu_with([[1, 1]], logits=-BIG)  # sigma(-40 (a + b)) ~ 0: add path closed
    x = positive_inputs()
    assert rel_err(unit(x)[:, 0], x[:, 0] * x[:, 1]) < 1e-6
    torch.testing.assert_close(unit(torch.tensor([[3.0, 4.0]], dtype=F64)),
                               torch.tensor([[12.0]], dtype=F64), rtol=1e-6, atol=0)


def test_multiply_path_computes_a_over_b():
    unit = nalu_with([[1, -1]], logits=-BIG)
    x = positive_inputs(seed=1)
    assert rel_err(unit(x)[:, 0], x[:, 0] / x[:, 1]) < 1e-6


def test_add_path_computes_a_plus_b_and_a_minus_b_exactly():
    unit = nalu_with([[1, 1], [1, -1]], logits=BIG)  # sigma(40 (a + b)) == 1: multiply path closed
    x = positive_inputs(seed=2)
    y = unit(x)
    torch.testing.assert_close(y[:, 0], x[:, 0] + x[:, 1], rtol=1e-12, atol=0)
    torch.testing.assert_close(y[:, 1], x[:, 0] - x[:, 1], rtol=1e-12, atol=0)


def test_vector_gate_has_one_gate_per_output():
    unit = nalu_with([[1, 1], [1, 1]], logits=[[BIG, BIG], [-BIG, -BIG]])
    assert unit.G.shape == (2, 2)
    x = positive_inputs(seed=3)
    y = unit(x)
    torch.testing.assert_close(y[:, 0], x[:, 0] + x[:, 1], rtol=1e-12, atol=0)
    assert rel_err(y[:, 1], x[:, 0] * x[:, 1]) < 1e-6


def test_scalar_gate_is_shared_by_all_outputs():
    unit = nalu_with([[1, 1], [1, -1]], logits=-BIG, gate="scalar")
    assert unit.G.shape == (1, 2)
    x = positive_inputs(seed=4)
    y = unit(x)
    assert rel_err(y[:, 0], x[:, 0] * x[:, 1]) < 1e-6
    assert rel_err(y[:, 1], x[:, 0] / x[:, 1]) < 1e-6
    members = NALU(3, 4, gate="scalar", members=5)
    assert members.G.shape == (5, 1, 3)
    assert members(torch.rand(6, 3)).shape == (5, 6, 4)


@pytest.mark.parametrize("bias, path", [(BIG, "add"), (-BIG, "mul")])
def test_gate_bias_moves_the_gate(bias, path):
    unit = nalu_with([[1, 1]], logits=0.0, gate_bias=True)
    assert unit.gate_bias.shape == (1,)
    assert torch.equal(NALU(2, 3, gate_bias=True).gate_bias.detach(), torch.zeros(3))
    set_(unit.gate_bias, bias)
    x = positive_inputs(seed=5)
    expected = x[:, 0] + x[:, 1] if path == "add" else x[:, 0] * x[:, 1]
    assert rel_err(unit(x)[:, 0], expected) < 1e-6


def test_separate_weights_feed_separate_paths():
    unit = nalu_with([[1, -1]], logits=BIG, shared_weights=False)
    assert {"W_hat_mul", "M_hat_mul"} <= dict(unit.named_parameters()).keys()
    set_(unit.W_hat_mul, [[BIG, BIG]])
    set_(unit.M_hat_mul, BIG)
    x = positive_inputs(seed=6)
    torch.testing.assert_close(unit(x)[:, 0], x[:, 0] - x[:, 1], rtol=1e-12, atol=0)
    set_(unit.G, -BIG)
    assert rel_err(unit(x)[:, 0], x[:, 0] * x[:, 1]) < 1e-6
    assert torch.equal(unit.mul_weight, torch.tensor([[1.0, 1.0]], dtype=F64))
    assert torch.equal(unit.weight, torch.tensor([[1.0, -1.0]], dtype=F64))


def test_shared_weights_is_the_default():
    unit = NALU(2, 1)
    assert unit.shared_weights and set(dict(unit.named_parameters())) == {"G", "W_hat", "M_hat"}
    assert unit.mul_weight is not None and torch.equal(unit.mul_weight, unit.weight)


def test_eps_keeps_a_zero_input_finite():
    unit = nalu_with([[1, 1]], logits=-BIG, eps=1e-7)
    x = torch.tensor([[0.0, 5.0]], dtype=F64, requires_grad=True)
    y = unit(x)
    torch.testing.assert_close(y, torch.tensor([[5e-7]], dtype=F64), rtol=1e-6, atol=0)
    y.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_repr_lists_the_options():
    text = repr(NALU(3, 2, gate="scalar", gate_bias=True, shared_weights=False, eps=1e-6, members=4))
    for part in ("in_features=3", "out_features=2", "members=4", "gate='scalar'", "gate_bias=True",
                 "shared_weights=False", "eps=1e-06"):
        assert part in text


# -- FauxNALU ---------------------------------------------------------------------------------
def test_faux_nalu_add_path_is_a_linear_layer_with_bias():
    unit = FauxNALU(2, 1, dtype=F64)
    assert isinstance(unit.weight, torch.nn.Parameter)  # the ablation: W itself is trained
    set_(unit.weight, [[2.0, 3.0]])
    set_(unit.bias, [0.5])
    set_(unit.G, BIG)
    x = positive_inputs(seed=7)
    torch.testing.assert_close(unit(x)[:, 0], 2 * x[:, 0] + 3 * x[:, 1] + 0.5, rtol=1e-12, atol=0)


def test_faux_nalu_multiply_path_shares_the_linear_layer():
    unit = FauxNALU(2, 1, dtype=F64)
    set_(unit.weight, [[2.0, 1.0]])
    set_(unit.bias, [0.5])
    set_(unit.G, -BIG)
    x = positive_inputs(high=50.0, seed=8)
    expected = x[:, 0] ** 2 * x[:, 1] * math.exp(0.5)
    assert rel_err(unit(x)[:, 0], expected) < 1e-6


def assert_uniform(t, bound):
    """``t`` looks like a large sample of U[-bound, bound]."""
    assert t.abs().max() <= bound
    assert t.max() > 0.95 * bound and t.min() < -0.95 * bound
    assert abs(t.std().item() - bound / math.sqrt(3)) < 0.05 * bound


@pytest.mark.parametrize("init", ["blog", "stable-nalu"])
def test_faux_nalu_linear_layer_is_initialized_like_torch_linear(init):
    torch.manual_seed(9)
    unit = FauxNALU(50, 40, dtype=F64, init=init)
    assert_uniform(unit.weight.detach(), 1 / math.sqrt(50))  # kaiming_uniform_(a=sqrt(5))
    assert unit.bias.abs().max() <= 1 / math.sqrt(50) and unit.bias.abs().max() > 0.8 / math.sqrt(50)
    # the gate: the blog's kaiming_uniform_(a=√5) (fauxnalu.py:28), or Glorot's bound with gain 1
    assert_uniform(unit.G.detach(), 1 / math.sqrt(50) if init == "blog" else math.sqrt(6 / 90))


def test_faux_nalu_defaults_are_the_blogs():
    """vrxacs/NALU-pytorch models/fauxnalu.py:22,28: eps 1e-10, gate kaiming_uniform_(a=√5)."""
    unit = FauxNALU(2, 1)
    assert (unit.eps, unit.init) == (1e-10, "blog")


def test_nalu_matrices_default_to_stable_nalus_init():
    """NAC matrices U[-r, r] (stable-nalu nac.py:54-57), gate xavier_uniform_ gain 1
    (_abstract_nalu.py:90-92): bound √(6 / (in + out))."""
    torch.manual_seed(10)
    unit = NALU(50, 40, shared_weights=False, dtype=F64)
    assert (unit.eps, unit.init) == (1e-7, "stable-nalu")
    assert_uniform(unit.G.detach(), math.sqrt(6 / 90))
    for p in (unit.W_hat, unit.M_hat, unit.W_hat_mul, unit.M_hat_mul):
        assert_uniform(p.detach(), nac_w_optimal_r(50, 40))


def test_nalu_blog_init_draws_every_matrix_like_torch_linear():
    """vrxacs/NALU-pytorch models/nac.py:29-30 and models/nalu.py:31: kaiming_uniform_(a=√5)."""
    torch.manual_seed(10)
    unit = NALU(50, 40, shared_weights=False, dtype=F64, init="blog")
    for p in (unit.G, unit.W_hat, unit.M_hat, unit.W_hat_mul, unit.M_hat_mul):
        assert_uniform(p.detach(), 1 / math.sqrt(50))


def test_unknown_gate_is_rejected():
    for cls in (NALU, FauxNALU):
        with pytest.raises(ValueError, match="bogus"):
            cls(2, 1, gate="bogus")
